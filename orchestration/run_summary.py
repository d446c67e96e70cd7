"""Say in a few lines what a Dagster job run from the terminal did (`apiwh run`, `apiwh deliver`).

The figures come from the runs' own asset metadata (counted in SQL by the assets), gathered into
a JobOutcome by orchestration/job_execution.py, which executes the job; this module only words
the summary, with no Dagster import.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestration.alerts.config import AlertSettings
from orchestration.settings import PROJECT_ROOT, Settings, ip_salt_warning, prices_off_reason

STEP_LABELS = {
    "raw__events": "load raw files",
    "warehouse_dbt_models": "dbt build",
    "marts__alerts": "record alerts",
    "marts__published_snapshot": "publish snapshot",
    "reports__dashboard": "write dashboard",
    "raw__retention": "apply retention",
    "deliver_pending_alerts": "deliver alerts",
}


@dataclass
class JobOutcome:
    job_name: str
    run_id: str
    success: bool
    seconds: float
    # asset key ("raw/events") -> metadata values of its materialization / observation
    materialized: dict[str, dict[str, Any]] = field(default_factory=dict)
    observed: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed_checks: list[str] = field(default_factory=list)
    failed_step: str | None = None
    error: str | None = None


# ------------------------------------------------------------------------- words


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to the project when inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        try:
            return str(path.relative_to(PROJECT_ROOT))
        except ValueError:
            return str(path)


def _n(value: Any) -> str:
    return f"{int(value or 0):,}"


def _failure_line(outcome: JobOutcome, log_path: Path) -> str:
    where = f" at step {outcome.failed_step}" if outcome.failed_step else ""
    return (
        f"{outcome.job_name} failed{where} after {outcome.seconds:.0f} s: {outcome.error or 'see the log'}\n"
        f"Full log: {_shown(log_path)}"
    )


def _delivery_phrase(delivery: JobOutcome, alert_settings: AlertSettings) -> str:
    if not delivery.success:
        return f"delivery failed ({delivery.error}); `apiwh deliver` retries"
    figures = delivery.observed.get("marts/alerts", {})
    if alert_settings.routes is not None:
        routed = " and the routes' destinations"  # ALERT_ROUTES_FILE: `apiwh alerts` says which
    else:
        routed = " and the webhook" if alert_settings.webhook_url else ""
    sinks = _shown(alert_settings.jsonl_path) + routed
    text = f"{_n(figures.get('delivered'))} delivered to {sinks}"
    retry = int(figures.get("failed_will_retry") or 0) + int(figures.get("deferred") or 0)
    if retry:
        text += f", {retry:,} to retry (`apiwh deliver`)"
    if figures.get("dead_alerts"):
        text += f", {_n(figures.get('dead_alerts'))} dead (`apiwh deliver --revive-dead`)"
    return text


def _salt_line(settings: Settings) -> list[str]:
    warning = ip_salt_warning(settings)
    return [f"  warning {warning}"] if warning else []


def _prices_line(settings: Settings) -> list[str]:
    reason = prices_off_reason(settings)
    return [f"  prices  off: {reason}"] if reason else []


def render_refresh(
    outcome: JobOutcome,
    *,
    settings: Settings,
    alert_settings: AlertSettings,
    log_path: Path,
    delivery: JobOutcome | None,
    failure_alert: str | None = None,
) -> str:
    """`failure_alert`: what became of the refresh_failed alert of a failed run (one line, from
    orchestration/alerts/refresh_failure.py)."""
    if not outcome.success:
        alert_line = [f"  alert   {failure_alert}"] if failure_alert else []
        return "\n".join([_failure_line(outcome, log_path), *alert_line, *_salt_line(settings)])
    from orchestration.readers import read_as_of
    from orchestration.warehouse import connect

    raw = outcome.materialized.get("raw/events", {})
    alerts = outcome.materialized.get("marts/alerts", {})
    snapshot = outcome.materialized.get("marts/published_snapshot", {})
    as_of: dt.date | None = None
    if settings.snapshot_path.exists():
        with connect(settings.snapshot_path, read_only=True) as con:
            as_of = read_as_of(con)
    lines = [
        f"daily_refresh succeeded in {outcome.seconds:.0f} s (run {outcome.run_id[:8]}). "
        f"Full log: {_shown(log_path)}",
        f"  files   {_n(raw.get('files_loaded'))} loaded, {_n(raw.get('files_empty'))} empty, "
        f"{_n(raw.get('files_failed'))} failed, {_n(raw.get('files_skipped'))} already loaded"
        + (
            f", {_n(raw['files_settling'])} still being written (next run)"
            if raw.get("files_settling")
            else ""
        )
        + f" (from {_shown(settings.raw_data_dir)})",
        f"  events  {_n(raw.get('events_loaded'))} loaded, {_n(raw.get('lines_rejected'))} lines "
        f"rejected (`apiwh rejects`); {_n(raw.get('total_events'))} in raw.events",
    ]
    checks = (
        "all checks passed"
        if not outcome.failed_checks
        else f"{len(outcome.failed_checks)} check(s) failed: " + ", ".join(outcome.failed_checks[:3])
    )
    lines.append(
        f"  marts   {_n(snapshot.get('tables'))} tables published to {_shown(settings.snapshot_path)}, "
        f"as-of date {as_of.isoformat() if as_of else 'none'}; {checks}"
    )
    alert_line = f"  alerts  {_n(alerts.get('new_alerts'))} new"
    if delivery is not None:
        alert_line += ", " + _delivery_phrase(delivery, alert_settings)
    elif alerts.get("pending_alerts"):
        alert_line += f", {_n(alerts.get('pending_alerts'))} pending: `apiwh deliver` sends them"
    lines.append(alert_line + " (`apiwh alerts`)")
    return "\n".join(lines + _prices_line(settings) + _salt_line(settings))


def render_delivery(outcome: JobOutcome, *, alert_settings: AlertSettings, log_path: Path) -> str:
    if not outcome.success:
        return _failure_line(outcome, log_path)
    figures = outcome.observed.get("marts/alerts", {})
    if not figures:
        return f"Nothing to deliver: no warehouse yet. Full log: {_shown(log_path)}"
    return (
        f"deliver_alerts: {_n(figures.get('due'))} due, {_delivery_phrase(outcome, alert_settings)}; "
        f"{_n(figures.get('pending_alerts'))} pending, {_n(figures.get('dead_alerts'))} dead now. "
        f"Full log: {_shown(log_path)}"
    )


def root_error(event: Any) -> str:
    """A failed step's error as `apiwh run` and the refresh_failed alert word it: the user's
    error rather than Dagster's wrapper, on one line."""
    data = event.step_failure_data
    error = data.error if data is not None else None
    while error is not None and error.cause is not None:  # the user's error, not the wrapper
        error = error.cause
    if error is None:
        return "unknown error"
    message = " ".join(error.message.split())
    # Python's own rendering starts with the class's qualified name: said once, short.
    qualified, _, rest = message.partition(": ")
    if qualified.split(".")[-1] == error.cls_name:
        message = rest
    if error.cls_name == "Failure":  # raised on purpose, with a sentence for the user
        return message[:400]
    return f"{error.cls_name}: {message}"[:400]
