"""Run a Dagster job in this process with its logs in a file, and say in a few lines what it did.

The figures come from the runs' own asset metadata (counted in SQL by the assets); this module
only executes the job, shows progress and words the summary.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from orchestration.alerts.config import AlertSettings
from orchestration.settings import PROJECT_ROOT, Settings

STEP_LABELS = {
    "raw__events": "load raw files",
    "warehouse_dbt_models": "dbt build",
    "marts__alerts": "record alerts",
    "marts__published_snapshot": "publish snapshot",
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


class _ProgressHandler(logging.Handler):
    """One line per finished step on the terminal (dbt counts the assets it built)."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(level=logging.DEBUG)
        self.stream = stream
        self.started: dict[str, float] = {}
        self.built: dict[str, int] = {}
        self.interactive = stream.isatty()

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if event is None:
            return
        step = event.step_key or ""
        label = STEP_LABELS.get(step, step)
        kind = event.event_type_value
        if kind == "STEP_START":
            self.started[step] = time.monotonic()
            self.built[step] = 0
        elif kind == "ASSET_MATERIALIZATION":
            self.built[step] = self.built.get(step, 0) + 1
            if self.interactive and self.built[step] > 1:
                self.stream.write(f"\r  ... {label}: {self.built[step]} assets")
                self.stream.flush()
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            seconds = time.monotonic() - self.started.get(step, time.monotonic())
            built = self.built.get(step, 0)
            what = f", {built} assets" if built > 1 else ""
            state = "done" if kind == "STEP_SUCCESS" else "FAILED"
            line = f"  {state:<6} {label} ({seconds:.0f} s{what})"
            # On a terminal, overwrite the "... n assets" counter line.
            self.stream.write(f"\r{line}\033[K\n" if self.interactive else f"{line}\n")
            self.stream.flush()


@contextlib.contextmanager
def _output_to(log_path: Path) -> Iterator[TextIO]:
    """Everything written to fds 1 and 2 (Dagster, dbt, subprocesses) goes to the log file;
    the yielded stream is the terminal's stderr, for progress."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(2), "w", buffering=1)
    with log_path.open("a") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield terminal
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)
            terminal.close()


def _values(metadata: Mapping[str, Any]) -> dict[str, Any]:
    return {key: getattr(value, "value", value) for key, value in metadata.items()}


def _root_error(event: Any) -> str:
    data = event.step_failure_data
    error = data.error if data is not None else None
    while error is not None and error.cause is not None:  # the user's error, not the wrapper
        error = error.cause
    if error is None:
        return "unknown error"
    message = " ".join(error.message.split())
    return f"{error.cls_name}: {message}"[:400]


def execute_job(
    settings: Settings,
    alerts: AlertSettings,
    job_name: str,
    log_path: Path,
    *,
    dagster_home: Path,
    run_config: Mapping[str, Any] | None = None,
    subset: Callable[[Any], Any] | None = None,
) -> JobOutcome:
    """Execute `job_name` of the code location in this process, recorded in `dagster_home`.

    `subset` narrows the job definition to the steps this run needs (it gets and returns a
    dg.JobDefinition). The one place outside orchestration/defs/ that imports Dagster, inside
    this function only, so the rest of the CLI starts without it (tests/unit/test_layout.py).
    """
    import dagster as dg

    from orchestration.definitions import build_definitions

    defs = build_definitions(settings, alerts, secrets_from_env=True)

    started = time.monotonic()
    # dbt, run in this process for row counts, changes the working directory: put it back.
    working_directory = os.getcwd()
    with _output_to(log_path) as terminal, contextlib.chdir(working_directory):
        progress = _ProgressHandler(terminal)
        file_handler = logging.StreamHandler(sys.stderr)  # fd 2 is the log file here
        file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))

        @dg.logger(description="The run's log file, and step progress on the terminal.")
        def run_log(init_context: dg.InitLoggerContext) -> logging.Logger:
            log = logging.getLogger(f"apiwh.{init_context.run_id}")
            log.setLevel(logging.DEBUG)
            log.propagate = False
            log.handlers = [file_handler, progress]
            return log

        job = defs.resolve_job_def(job_name)
        if subset is not None:
            job = subset(job)
        job = job.with_logger_defs({"run_log": run_log})
        config = {**(run_config or {}), "loggers": {"run_log": {}}}
        with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
            result = job.execute_in_process(run_config=config, instance=instance, raise_on_error=False)
    outcome = JobOutcome(
        job_name=job_name,
        run_id=result.run_id,
        success=result.success,
        seconds=time.monotonic() - started,
    )
    for event in result.get_asset_materialization_events():
        outcome.materialized[event.asset_key.to_user_string()] = _values(
            event.step_materialization_data.materialization.metadata
        )
    for event in result.get_asset_observation_events():
        observation = event.asset_observation_data.asset_observation
        outcome.observed[observation.asset_key.to_user_string()] = _values(observation.metadata)
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed and evaluation.asset_key != dg.AssetKey(["raw", "events"]):
            outcome.failed_checks.append(f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}")
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            outcome.failed_step = STEP_LABELS.get(event.step_key or "", event.step_key)
            outcome.error = _root_error(event)
            break
    return outcome


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
    sinks = _shown(alert_settings.jsonl_path) + (" and the webhook" if alert_settings.webhook_url else "")
    text = f"{_n(figures.get('delivered'))} delivered to {sinks}"
    retry = int(figures.get("failed_will_retry") or 0) + int(figures.get("deferred") or 0)
    if retry:
        text += f", {retry:,} to retry (`apiwh deliver`)"
    if figures.get("dead_alerts"):
        text += f", {_n(figures.get('dead_alerts'))} dead (`apiwh deliver --revive-dead`)"
    return text


def render_refresh(
    outcome: JobOutcome,
    *,
    settings: Settings,
    alert_settings: AlertSettings,
    log_path: Path,
    delivery: JobOutcome | None,
) -> str:
    if not outcome.success:
        return _failure_line(outcome, log_path)
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
        f"{_n(raw.get('files_failed'))} failed, {_n(raw.get('files_skipped'))} already loaded "
        f"(from {_shown(settings.raw_data_dir)})",
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
    return "\n".join(lines)


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
