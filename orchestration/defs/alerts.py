"""Dagster side of the alerts: the ledger asset, the delivery job and the two sensors.

- marts/alerts (in daily_refresh): insert the new keys of marts.alert_candidates into the ledger.
- deliver_alerts: send what is pending to the sinks, mark it; never fails because a sink did.
- deliver_alerts_after_refresh: after each successful daily_refresh, one deliver_alerts run
  (run key = the refresh run id, so a sensor re-evaluation never launches a second one).
- report_failed_refreshes: a failed daily_refresh is itself an alert, refresh_failed, recorded in
  the ledger and sent like any other (orchestration/alerts/refresh_failure.py; `apiwh run` reports
  its own failures the same way, with the same key, so a run both see is sent once).
- Check marts/alerts:no_dead_alerts fails while any alert is dead; it is evaluated by the asset
  and again by every delivery run.
Settings arrive as the resources `warehouse` and `alert_sinks` (orchestration/defs/resources.py).

No `from __future__ import annotations` here: Dagster inspects the context annotations.
"""

from pathlib import Path

import dagster as dg
import duckdb

from orchestration import build_state
from orchestration.alerts.delivery import deliver_pending
from orchestration.alerts.ledger import (
    Alert,
    list_alerts,
    record_new_alerts,
    revive_dead,
    utc_now,
)
from orchestration.alerts.names import with_display_names
from orchestration.alerts.refresh_failure import refresh_failed_alert, report_failed_run, secrets_of
from orchestration.alerts.render import REFRESH_FAILED
from orchestration.alerts.sinks import build_sinks
from orchestration.dashboard.organizations import load_directory
from orchestration.defs.resources import AlertSinksResource, WarehouseResource
from orchestration.errors import UsageError
from orchestration.run_summary import STEP_LABELS, root_error
from orchestration.settings import NEEDS_DUCKDB_MARTS, with_alert_routes
from orchestration.snapshot import publish_snapshot
from orchestration.warehouse import DUCKDB_WRITER_POOL, WAREHOUSE_WRITER_TAGS

ALERTS_ASSET_KEY = dg.AssetKey(["marts", "alerts"])
ALERT_CANDIDATES_ASSET_KEY = dg.AssetKey(["marts", "alert_candidates"])
NO_DEAD_ALERTS_CHECK = "no_dead_alerts"
MAX_KEYS_IN_METADATA = 50


def _key_list(keys: list[str]) -> dg.MetadataValue:
    shown = keys[:MAX_KEYS_IN_METADATA]
    more = len(keys) - len(shown)
    text = "\n".join(f"- `{key}`" for key in shown) or "none"
    return dg.MetadataValue.md(text + (f"\n- ... and {more} more" if more > 0 else ""))


def _dead_alerts_metadata(dead: list[Alert]) -> dict[str, object]:
    return {
        "dead_alerts": len(dead),
        "dead_alert_keys": _key_list([alert.alert_key for alert in dead]),
        "last_errors": dg.MetadataValue.md(
            "\n".join(f"- `{a.alert_key}`: {a.last_error}" for a in dead[:MAX_KEYS_IN_METADATA]) or "none"
        ),
    }


# Alerts of an as-of date after the data describe no real silence ("no API call for 1,158 days"):
# recorded dead, never sent, however the build was allowed (`apiwh run --allow-future-as-of`, or
# the dbt step's allow_future_as_of config in the UI).
FUTURE_AS_OF_HELD_BACK = "held back: recorded with AS_OF after the last day with calls (--allow-future-as-of)"


@dg.asset(
    key=ALERTS_ASSET_KEY,
    deps=[ALERT_CANDIDATES_ASSET_KEY],
    pool=DUCKDB_WRITER_POOL,
    group_name="marts",
    kinds={"duckdb", "python"},
    check_specs=[
        dg.AssetCheckSpec(
            NO_DEAD_ALERTS_CHECK,
            asset=ALERTS_ASSET_KEY,
            description=(
                "Fails while any alert is dead (its delivery failed ALERT_MAX_ATTEMPTS times); "
                "revive with the deliver_alerts job's revive_dead config once the sink is fixed."
            ),
        )
    ],
    description=(
        "The alert ledger: one row per alert_key ever detected in marts.alert_candidates, "
        "inserted once (on conflict do nothing) and then delivered by the deliver_alerts job."
    ),
)
def alerts_ledger_asset(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    if warehouse.settings.warehouse_engine == "spark":
        context.log.warning(f"alert ledger skipped: it {NEEDS_DUCKDB_MARTS}")
        skipped = {"skipped": f"it {NEEDS_DUCKDB_MARTS}"}
        check = dg.AssetCheckResult(check_name=NO_DEAD_ALERTS_CHECK, passed=True, metadata=skipped)
        return dg.MaterializeResult(metadata=skipped, check_results=[check])
    with warehouse.connect() as con:
        future = build_state.as_of_after_the_data(con, warehouse.settings.as_of) is not None
        result = record_new_alerts(con, now=utc_now(), held_back=FUTURE_AS_OF_HELD_BACK if future else None)
        dead = list_alerts(con, statuses=["dead"])
    context.log.info(
        f"recorded {len(result.new_keys)} new alert(s); {result.pending} pending, "
        f"{result.dead} dead, {result.total} in the ledger"
    )
    return dg.MaterializeResult(
        metadata={
            "new_alerts": len(result.new_keys),
            "new_alert_keys": _key_list(result.new_keys),
            "pending_alerts": result.pending,
            "dead_alerts": result.dead,
            "total_alerts": result.total,
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=NO_DEAD_ALERTS_CHECK,
                asset_key=ALERTS_ASSET_KEY,
                passed=not dead,
                metadata=_dead_alerts_metadata(dead),
            )
        ],
    )


class DeliverAlertsConfig(dg.Config):
    revive_dead: bool = False
    """First give every dead alert a fresh set of attempts (after fixing the receiver)."""


@dg.op(
    pool=DUCKDB_WRITER_POOL,
    description="Send every pending alert whose retry time has come to the sinks; mark it.",
)
def deliver_pending_alerts(
    context: dg.OpExecutionContext,
    config: DeliverAlertsConfig,
    warehouse: WarehouseResource,
    alert_sinks: AlertSinksResource,
) -> None:
    settings = warehouse.settings
    alert_settings = alert_sinks.alert_settings
    if not settings.warehouse_path.exists():
        context.log.info(f"no warehouse at {settings.warehouse_path} yet: nothing to deliver")
        return
    try:  # ALERT_ROUTES_FILE is read now, so a file changed since the location loaded counts
        alert_settings = with_alert_routes(alert_settings)
    except UsageError as exc:  # one line naming the file and the line; nothing was sent
        raise dg.Failure(description=str(exc)) from None
    sinks = with_display_names(build_sinks(alert_settings), load_directory(settings.organizations_file))
    context.log.info(f"sinks: {', '.join(sink.name for sink in sinks)}")
    with warehouse.connect() as con:
        revived = revive_dead(con, now=utc_now()) if config.revive_dead else 0
        if config.revive_dead:
            context.log.info(f"revived {revived} dead alert(s)")
        report = deliver_pending(
            con,
            sinks,
            now=utc_now(),
            max_attempts=alert_settings.max_attempts,
            backoff_seconds=alert_settings.backoff_seconds,
            backoff_max_seconds=alert_settings.backoff_max_seconds,
            log=context.log.info,
        )
        dead = list_alerts(con, statuses=["dead"])
        # Readers (apiwh alerts) see the published snapshot: refresh it so that it shows the
        # new delivery states rather than those of the last daily_refresh.
        if (report.due or revived) and settings.snapshot_path.exists():
            try:
                publish_snapshot(con, settings.snapshot_path)
                context.log.info(f"republished {settings.snapshot_path} with the new states")
            except (OSError, duckdb.Error) as exc:  # the deliveries are recorded all the same
                context.log.warning(f"could not republish the snapshot: {exc}")

    (context.log.warning if report.failed or report.deferred else context.log.info)(report.summary())
    context.log_event(
        dg.AssetObservation(
            asset_key=ALERTS_ASSET_KEY,
            metadata={
                "due": report.due,
                "delivered": len(report.delivered),
                "delivered_keys": _key_list(report.delivered),
                "failed_will_retry": len(report.retrying),
                "died": len(report.died),
                "deferred": len(report.deferred),
                "pending_alerts": report.pending_after,
                "dead_alerts": report.dead_after,
            },
        )
    )
    context.log_event(
        dg.AssetCheckEvaluation(
            asset_key=ALERTS_ASSET_KEY,
            check_name=NO_DEAD_ALERTS_CHECK,
            passed=not dead,
            metadata=_dead_alerts_metadata(dead),
        )
    )


@dg.job(
    name="deliver_alerts",
    tags=WAREHOUSE_WRITER_TAGS,
    description=(
        "Send every alert not yet delivered (file sink, webhook) and mark it; failed sends are "
        "retried on later runs with backoff and never fail this job."
    ),
)
def deliver_alerts_job() -> None:
    deliver_pending_alerts()


def _failed_step_and_error(context: dg.RunFailureSensorContext) -> tuple[str | None, str]:
    """The first failed step (as `apiwh run` names it) and its root error, the user's error
    rather than Dagster's wrapper, as orchestration/job_execution.py words them."""
    for event in context.get_step_failure_events():
        if event.step_failure_data is not None and event.step_failure_data.error is not None:
            return STEP_LABELS.get(event.step_key or "", event.step_key), root_error(event)
    return None, context.failure_event.message or "run failed"


def _run_log_path(instance: dg.DagsterInstance, run_id: str) -> str | None:
    """Where the local compute log manager keeps the run's logs, when that folder exists."""
    root = getattr(instance, "root_directory", None)
    folder = Path(root) / "storage" / run_id if root else None
    return str(folder) if folder is not None and folder.is_dir() else None


def build_alert_sensors(daily_refresh_job) -> list[dg.SensorDefinition]:  # noqa: ANN001
    """The sensors watching `daily_refresh_job` (a job or an asset job definition)."""
    refresh_name = daily_refresh_job.name

    @dg.run_status_sensor(
        name="deliver_alerts_after_refresh",
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitored_jobs=[daily_refresh_job],
        request_job=deliver_alerts_job,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="After each successful daily_refresh, one deliver_alerts run.",
    )
    def deliver_alerts_after_refresh(context: dg.RunStatusSensorContext):
        run = context.dagster_run
        if run.job_name != refresh_name or run.status != dg.DagsterRunStatus.SUCCESS:
            return dg.SkipReason(f"run {run.run_id} of {run.job_name} is {run.status.value}")
        return dg.RunRequest(run_key=run.run_id, tags={"alerts/refresh_run_id": run.run_id})

    @dg.run_failure_sensor(
        name="report_failed_refreshes",
        monitored_jobs=[daily_refresh_job],
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Records a failed daily_refresh as a refresh_failed alert and sends it through the "
            "alert sinks (file, webhook); one per run."
        ),
    )
    def report_failed_refreshes(
        context: dg.RunFailureSensorContext,
        warehouse: WarehouseResource,
        alert_sinks: AlertSinksResource,
    ):
        run = context.dagster_run
        if run.job_name != refresh_name or run.status != dg.DagsterRunStatus.FAILURE:
            return dg.SkipReason(f"run {run.run_id} of {run.job_name} is {run.status.value}")
        settings, alert_settings = warehouse.settings, alert_sinks.alert_settings
        try:  # the routes decide where it goes, as for any alert
            alert_settings = with_alert_routes(alert_settings)
        except UsageError as exc:  # reporting never fails: the file and the webhook, as without routes
            context.log.warning(f"{exc}; sending the {REFRESH_FAILED} alert without routes")
        step, error = _failed_step_and_error(context)
        alert = refresh_failed_alert(
            run_id=run.run_id,
            failed_step=step,
            error=error,
            failed_at=utc_now(),
            log_path=_run_log_path(context.instance, run.run_id),
            job_name=run.job_name,
            secrets=secrets_of(settings, alert_settings),
        )
        status = report_failed_run(settings, alert_settings, alert)
        context.log.info(f"run {run.run_id}: {status}")
        return None

    return [deliver_alerts_after_refresh, report_failed_refreshes]
