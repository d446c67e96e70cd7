"""The Dagster code location: `dagster dev -m orchestration.definitions` (docs/contract.md section 3).

The one composition root: every Dagster object comes from orchestration/defs/, and the settings
enter here, read once when Dagster loads the location (never at import: `defs` is lazy).
"""

from __future__ import annotations

import dagster as dg

from orchestration.alerts.config import AlertSettings
from orchestration.defs.alerts import (
    ALERTS_ASSET_KEY,
    alerts_ledger_asset,
    build_alert_sensors,
    deliver_alerts_job,
)
from orchestration.defs.dashboard import dashboard
from orchestration.defs.dbt import build_dbt_assets
from orchestration.defs.dbt_project import prepared_manifest
from orchestration.defs.digests import DIGEST_JOBS, DIGEST_SCHEDULES
from orchestration.defs.jobs import daily_refresh, daily_refresh_schedule
from orchestration.defs.raw import raw_events
from orchestration.defs.recovery import dead_run_sensor, writer_executor
from orchestration.defs.resources import build_resources
from orchestration.defs.retention import retention
from orchestration.defs.snapshot import build_published_snapshot
from orchestration.settings import Settings, load_alert_settings, load_settings


def build_definitions(
    settings: Settings, alerts: AlertSettings, *, secrets_from_env: bool = False
) -> dg.Definitions:
    """Everything the location holds, wired to resources made from these settings."""
    dbt_models = build_dbt_assets(prepared_manifest(settings))
    marts_keys = [key for key in dbt_models.keys if key.path[0] == "marts"]
    # Published after the ledger, so analysts see the alerts of the same run.
    published_snapshot = build_published_snapshot([*marts_keys, ALERTS_ASSET_KEY])
    return dg.Definitions(
        assets=[raw_events, dbt_models, alerts_ledger_asset, published_snapshot, dashboard, retention],
        jobs=[daily_refresh, deliver_alerts_job, *DIGEST_JOBS],
        schedules=[daily_refresh_schedule, *DIGEST_SCHEDULES],
        sensors=[*build_alert_sensors(daily_refresh), dead_run_sensor],
        # Every job runs in process, after freeing the writer slots of dead runs.
        executor=writer_executor.configured({"wait_seconds": settings.refresh_wait_seconds}),
        resources=build_resources(settings, alerts, secrets_from_env=secrets_from_env),
    )


def definitions_from_environment() -> dg.Definitions:
    """The settings from the environment (orchestration/settings.py), read once, right now."""
    settings = load_settings()
    return build_definitions(settings, load_alert_settings(settings), secrets_from_env=True)


@dg.definitions
def defs() -> dg.Definitions:
    return definitions_from_environment()
