"""Execute a Dagster job of the code location in this process (`apiwh run`, `apiwh deliver`),
its logs in a file and step progress on the terminal, and gather what it did into a JobOutcome
for orchestration/run_summary.py to word. The CLI imports this module only when it runs a job,
so every other command starts without loading Dagster (tests/unit/test_layout.py).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

import dagster as dg
import yaml

from orchestration.alerts.config import AlertSettings
from orchestration.definitions import build_definitions
from orchestration.run_recovery import wait_for_writer_pool
from orchestration.run_summary import STEP_LABELS, JobOutcome, root_error
from orchestration.settings import Settings


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


def _say_to(terminal: TextIO) -> Callable[[str], None]:
    def say(message: str) -> None:
        print(f"  {message}", file=terminal, flush=True)
        print(f"{message}", file=sys.stderr, flush=True)  # fd 2 is the log file here

    return say


def _values(metadata: Mapping[str, Any]) -> dict[str, Any]:
    return {key: getattr(value, "value", value) for key, value in metadata.items()}


def open_instance(home: Path) -> dg.DagsterInstance:
    """The Dagster instance of `home`, as `DagsterInstance.from_config` opens it, except that
    the event log's folder is given here: dagster.yaml names it by `env: DAGSTER_HOME`, which a
    bare `.venv/bin/apiwh run` (no make, no variable) has not set."""
    from dagster._core.instance.ref import InstanceRef  # from_config's own way, with overrides

    config = yaml.safe_load((home / "dagster.yaml").read_text(encoding="utf-8")) or {}
    storage = config.get("event_log_storage")
    overrides = {}
    if isinstance(storage, dict) and (storage.get("config") or {}).get("dagster_home") == {
        "env": "DAGSTER_HOME"
    }:
        overrides["event_log_storage"] = {
            **storage,
            "config": {**storage["config"], "dagster_home": str(home)},
        }
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home), overrides=overrides))


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
    dg.JobDefinition).
    """
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
        with open_instance(dagster_home) as instance:
            # A run killed earlier may still hold the writer pool: free it, or wait for a live one.
            wait_for_writer_pool(
                instance, timeout_seconds=settings.refresh_wait_seconds, say=_say_to(terminal)
            )
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
            outcome.error = root_error(event)
            break
    return outcome
