"""The Dagster code location: `dagster dev -m orchestration.definitions` (CONTRACT.md section 3)."""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.assets import build_dbt_assets, build_published_snapshot, raw_events
from orchestration.dbt_project import DBT_EXECUTABLE, warehouse_dbt_project

# Runs with this tag queue behind each other (dagster.yaml: run tag concurrency limit 1), so a
# scheduled refresh and a manual one never race for the DuckDB file.
WAREHOUSE_WRITER_TAGS = {"warehouse_writer": "duckdb"}


def build_definitions() -> dg.Definitions:
    dbt_models = build_dbt_assets()
    marts_keys = [key for key in dbt_models.keys if key.path[0] == "marts"]
    published_snapshot = build_published_snapshot(marts_keys)

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
        assets=[raw_events, dbt_models, published_snapshot],
        jobs=[daily_refresh],
        schedules=[daily_schedule],
        resources={
            "dbt": DbtCliResource(project_dir=warehouse_dbt_project, dbt_executable=str(DBT_EXECUTABLE))
        },
    )


defs = build_definitions()
