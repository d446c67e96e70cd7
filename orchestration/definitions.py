"""The Dagster code location: `dagster dev -m orchestration.definitions` (docs/contract.md section 3)."""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.alerts.dagster_defs import (
    ALERTS_ASSET_KEY,
    alerts_ledger_asset,
    build_alert_sensors,
    deliver_alerts_job,
)
from orchestration.assets import build_dbt_assets, build_published_snapshot, raw_events
from orchestration.dashboard.asset import dashboard
from orchestration.dbt_project import DBT_EXECUTABLE, warehouse_dbt_project
from orchestration.warehouse import WAREHOUSE_WRITER_TAGS


def build_definitions() -> dg.Definitions:
    dbt_models = build_dbt_assets()
    marts_keys = [key for key in dbt_models.keys if key.path[0] == "marts"]
    # Published after the ledger, so analysts see the alerts of the same run.
    published_snapshot = build_published_snapshot([*marts_keys, ALERTS_ASSET_KEY])

    # No partitions: each run loads what is new and rebuilds what depends on it. In-process, so
    # steps run one after another and only one of them ever holds the DuckDB file.
    daily_refresh = dg.define_asset_job(
        name="daily_refresh",
        selection=dg.AssetSelection.all(),
        executor_def=dg.in_process_executor,
        tags=WAREHOUSE_WRITER_TAGS,
        description="Load new raw files, build every model and mart, record alerts, publish.",
    )
    daily_schedule = dg.ScheduleDefinition(
        name="daily_refresh_schedule",
        job=daily_refresh,
        cron_schedule="0 6 * * *",
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    return dg.Definitions(
        assets=[raw_events, dbt_models, alerts_ledger_asset, published_snapshot, dashboard],
        jobs=[daily_refresh, deliver_alerts_job],
        schedules=[daily_schedule],
        sensors=build_alert_sensors(daily_refresh),
        resources={
            "dbt": DbtCliResource(project_dir=warehouse_dbt_project, dbt_executable=str(DBT_EXECUTABLE))
        },
    )


defs = build_definitions()
