"""The refresh job and its schedule (the delivery job and the sensors are in defs/alerts.py)."""

from __future__ import annotations

import dagster as dg

from orchestration.warehouse import WAREHOUSE_WRITER_TAGS

# No partitions: each run loads what is new and rebuilds what depends on it. In-process (the
# location's executor, defs/recovery.py), so steps run one after another and only one of them
# ever holds the DuckDB file.
daily_refresh = dg.define_asset_job(
    name="daily_refresh",
    selection=dg.AssetSelection.all(),
    tags=WAREHOUSE_WRITER_TAGS,
    description="Load new raw files, build every model and mart, record alerts, publish.",
)

daily_refresh_schedule = dg.ScheduleDefinition(
    name="daily_refresh_schedule",
    job=daily_refresh,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
