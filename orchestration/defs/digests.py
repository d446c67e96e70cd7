"""Dagster side of the digests: two jobs and their schedules (orchestration/alerts/digests.py).

- daily_sales_digest (every day, 08:00 UTC): the accounts that crossed a quota threshold since
  the last daily digest, recorded as `digest:daily:<day>` and delivered.
- weekly_cs_digest (Mondays, 08:00 UTC): the ISO week just ended, `digest:weekly:<year>-W<ww>`.
Each run records its digest once (a rerun of the period keeps the first row and sends nothing
new), then delivers every pending alert like deliver_alerts, and republishes the snapshot. The
schedule passes the tick's day, so a late run still records the period it was meant for.

No `from __future__ import annotations` here: Dagster inspects the context annotations.
"""

import datetime as dt

import dagster as dg

from orchestration.alerts.digests import record_and_deliver, republish
from orchestration.alerts.names import with_display_names
from orchestration.alerts.sinks import build_sinks
from orchestration.dashboard.organizations import load_directory
from orchestration.defs.resources import AlertSinksResource, WarehouseResource
from orchestration.errors import UsageError
from orchestration.settings import NEEDS_DUCKDB_MARTS, with_alert_routes
from orchestration.warehouse import DUCKDB_WRITER_POOL, WAREHOUSE_WRITER_TAGS


class DigestConfig(dg.Config):
    day: str | None = None
    """The digest's day, YYYY-MM-DD (weekly: the ISO week that ended before it); default today, UTC."""


def _record_and_deliver(
    context: dg.OpExecutionContext,
    kind: str,
    config: DigestConfig,
    warehouse: WarehouseResource,
    alert_sinks: AlertSinksResource,
) -> None:
    settings = warehouse.settings
    if settings.warehouse_engine == "spark":
        context.log.warning(f"{kind} digest skipped: it {NEEDS_DUCKDB_MARTS}")
        return
    if not settings.warehouse_path.exists():
        context.log.info(f"no warehouse at {settings.warehouse_path} yet: no digest")
        return
    day = dt.date.fromisoformat(config.day) if config.day else dt.datetime.now(dt.UTC).date()
    try:  # the routes decide where a digest goes, as deliver_alerts reads them (defs/alerts.py)
        alert_settings = with_alert_routes(alert_sinks.alert_settings)
    except UsageError as exc:  # one line naming the file and the line; nothing was sent
        raise dg.Failure(description=str(exc)) from None
    sinks = with_display_names(build_sinks(alert_settings), load_directory(settings.organizations_file))
    with warehouse.connect() as con:
        run = record_and_deliver(
            con,
            kind,
            day,
            sinks=sinks,
            alert_settings=alert_settings,
            data_dir=settings.data_dir,
            log=context.log.info,
        )
        problem = republish(con, settings.snapshot_path)
    if problem:
        context.log.warning(problem)
    (context.log.warning if run.delivery.failed else context.log.info)(run.summary())


@dg.op(pool=DUCKDB_WRITER_POOL, description="Record the daily sales digest once for its day; deliver.")
def record_daily_sales_digest(
    context: dg.OpExecutionContext,
    config: DigestConfig,
    warehouse: WarehouseResource,
    alert_sinks: AlertSinksResource,
) -> None:
    _record_and_deliver(context, "daily", config, warehouse, alert_sinks)


@dg.op(pool=DUCKDB_WRITER_POOL, description="Record the weekly CS digest once for its ISO week; deliver.")
def record_weekly_cs_digest(
    context: dg.OpExecutionContext,
    config: DigestConfig,
    warehouse: WarehouseResource,
    alert_sinks: AlertSinksResource,
) -> None:
    _record_and_deliver(context, "weekly", config, warehouse, alert_sinks)


@dg.job(
    name="daily_sales_digest",
    tags=WAREHOUSE_WRITER_TAGS,
    description="The accounts that crossed a quota threshold since the last daily digest, to sales.",
)
def daily_sales_digest_job() -> None:
    record_daily_sales_digest()


@dg.job(
    name="weekly_cs_digest",
    tags=WAREHOUSE_WRITER_TAGS,
    description=(
        "The week for customer success: movers, new churn risks and failing integrations, "
        "incidents, stuck onboarding keys, last month's quota outcomes."
    ),
)
def weekly_cs_digest_job() -> None:
    record_weekly_cs_digest()


def _day_request(context: dg.ScheduleEvaluationContext, op_name: str) -> dg.RunRequest:
    day = context.scheduled_execution_time.astimezone(dt.UTC).date().isoformat()
    return dg.RunRequest(run_key=f"{op_name}:{day}", run_config={"ops": {op_name: {"config": {"day": day}}}})


@dg.schedule(
    name="daily_sales_digest_schedule",
    job=daily_sales_digest_job,
    cron_schedule="0 8 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def daily_sales_digest_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    return _day_request(context, "record_daily_sales_digest")


@dg.schedule(
    name="weekly_cs_digest_schedule",
    job=weekly_cs_digest_job,
    cron_schedule="0 8 * * 1",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def weekly_cs_digest_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    return _day_request(context, "record_weekly_cs_digest")


DIGEST_JOBS = [daily_sales_digest_job, weekly_cs_digest_job]
DIGEST_SCHEDULES = [daily_sales_digest_schedule, weekly_cs_digest_schedule]
