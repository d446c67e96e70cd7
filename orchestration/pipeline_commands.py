"""`apiwh run`, `apiwh deliver`, `apiwh publish` and `apiwh dev`: the pipeline from the terminal.

`run` and `deliver` execute the Dagster jobs daily_refresh and deliver_alerts in this process,
recorded in DAGSTER_HOME like any run (the UI lists them). The terminal gets a few progress
lines and a short summary; Dagster's and dbt's full logs go to a file the summary names.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from orchestration import build_state
from orchestration.alerts.config import AlertSettings
from orchestration.dbt_child import die_with_parent
from orchestration.dbt_cli import DBT_EXECUTABLE, MANIFEST_PATH, parse_project
from orchestration.dbt_warm_start import start_warm_dbt, stop_warm_dbt
from orchestration.errors import UsageError, UserError
from orchestration.plans import read_plan_catalogue
from orchestration.privacy.retention import kept_days
from orchestration.run_summary import JobOutcome, render_delivery, render_refresh
from orchestration.settings import (
    DBT_PROJECT_DIR,
    PROJECT_ROOT,
    Settings,
    dagster_home_setting,
    environment_with,
    load_alert_settings,
    load_settings,
    with_alert_routes,
)
from orchestration.snapshot import publish_snapshot
from orchestration.warehouse import connect

# The instance config `make` copies into DAGSTER_HOME (one DuckDB writer, telemetry off).
DAGSTER_YAML = PROJECT_ROOT / "dagster_home" / "dagster.yaml"
DBT_SOURCES = ("models", "macros", "tests", "dbt_project.yml")
# Step (op) names of daily_refresh: the raw load and the dbt build.
RAW_STEP, DBT_STEP = "raw__events", "warehouse_dbt_models"


def ensure_dagster_home() -> Path:
    """DAGSTER_HOME from the environment, else .dagster/ in the project (as `make` does), with
    the project's dagster.yaml (telemetry and the pop-up off, one DuckDB writer)."""
    home = dagster_home_setting().resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        shutil.copyfile(DAGSTER_YAML, config)
    return home


def ensure_fresh_manifest(settings: Settings) -> None:
    """`dbt parse` when the manifest is missing or older than a model, macro or test, so the
    run never works from models that are not the ones on disk."""
    manifest = MANIFEST_PATH
    newest = 0.0
    for name in DBT_SOURCES:
        path = DBT_PROJECT_DIR / name
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        newest = max([newest, *(p.stat().st_mtime for p in files)])
    if not manifest.exists() or manifest.stat().st_mtime < newest:
        parse_project(settings)


def _log_path(settings: Settings, job_name: str) -> Path:
    import datetime as dt

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return settings.data_dir / "logs" / f"{job_name}-{stamp}.log"


def _prepare(settings: Settings) -> tuple[AlertSettings, Path]:
    # Settings errors (AS_OF, WAREHOUSE_PATH) surfaced by load_settings before we get here; the
    # alert settings are checked now too, rather than inside the run.
    alerts = with_alert_routes(load_alert_settings(settings))
    if not settings.raw_data_dir.is_dir():
        raise UsageError(f"RAW_DATA_DIR {settings.raw_data_dir} is not a folder")
    home = ensure_dagster_home()
    ensure_fresh_manifest(settings)
    return alerts, home


def cmd_run(args: argparse.Namespace) -> int:
    settings = load_settings()
    if settings.plans_file is not None:
        # A bad catalogue is one line naming the file and the line, before any work.
        read_plan_catalogue(settings.plans_file)
    alerts, home = _prepare(settings)
    print(
        f"Refreshing {settings.warehouse_path} from {settings.raw_data_dir}"
        + (f" with AS_OF={settings.as_of.isoformat()}" if settings.as_of else "")
        + (" (full refresh)" if args.full_refresh else ""),
        flush=True,
    )
    step_config = {
        "full_refresh": args.full_refresh,
        "allow_future_as_of": args.allow_future_as_of,
        "allow_history_loss": args.allow_history_loss,
    }
    run_config = {"ops": {DBT_STEP: {"config": step_config}}} if any(step_config.values()) else {}
    deliver = not (args.no_deliver or args.allow_future_as_of)
    # Nothing new (a look at file stats and the build record, no Dagster needed): the run
    # records the load and the models' "up to date" observations, without planning the
    # alerts, snapshot, dashboard and dbt tests it would only skip (each planned step or check
    # is a database write in DAGSTER_HOME: most of a no-op run's cost).
    quiet = not args.full_refresh and build_state.nothing_new(
        settings.warehouse_path,
        settings.raw_data_dir,
        settings.as_of,
        settings.plans_file,
        retention=kept_days(settings),
    )
    # One log file for runs with nothing new, each replacing the last: a run every few minutes
    # adds no file to data/logs/.
    if quiet:
        log_path = settings.data_dir / "logs" / "daily_refresh-nothing-new.log"
        log_path.unlink(missing_ok=True)
    else:
        log_path = _log_path(settings, "daily_refresh")
    # dbt imports while Dagster does and the files load (dbt_warm_start.py); not for nothing new.
    warm_dbt = None if quiet else start_warm_dbt(DBT_EXECUTABLE)
    try:
        # Here, not at the top: the other commands start without loading Dagster.
        from orchestration.job_execution import execute_job

        refresh = execute_job(
            settings,
            alerts,
            "daily_refresh",
            log_path,
            dagster_home=home,
            run_config=run_config,
            subset=load_and_models_only if quiet else None,
        )
    finally:
        stop_warm_dbt(warm_dbt)
    delivery: JobOutcome | None = None
    # With nothing new, no alert was recorded: a delivery run only if one is waiting for a retry.
    if refresh.success and deliver and not (quiet and not _alerts_due(settings)):
        delivery = execute_job(settings, alerts, "deliver_alerts", log_path, dagster_home=home)
    failure_alert = None
    if not refresh.success:  # a failed refresh is itself an alert (refresh_failed)
        from orchestration.alerts.refresh_failure import report_refresh_failure

        failure_alert = report_refresh_failure(settings, alerts, refresh, log_path, deliver=deliver)
    print(
        render_refresh(
            refresh,
            settings=settings,
            alert_settings=alerts,
            log_path=log_path,
            delivery=delivery,
            failure_alert=failure_alert,
        )
    )
    if refresh.success and args.allow_future_as_of:
        print(
            "  note    --allow-future-as-of: this run's new alerts were recorded dead and not delivered"
            " (`apiwh alerts --dead` lists them)"
        )
    if not refresh.success:
        return 1
    return 0 if delivery is None or delivery.success else 1


def _alerts_due(settings: Settings) -> bool:
    from orchestration.alerts.ledger import due_alerts, utc_now

    with connect(settings.warehouse_path) as con:
        return bool(due_alerts(con, now=utc_now()))


def load_and_models_only(job: Any) -> Any:
    """daily_refresh narrowed to the raw load (with its checks) and the dbt step (no tests):
    for a refresh with nothing new, where the dbt step observes every model as up to date."""
    steps = {a.node_def.name: a for a in job.asset_layer.asset_graph.assets_defs if a.is_executable}
    raw, models = steps[RAW_STEP], steps[DBT_STEP]
    return job.get_subset(
        asset_selection=set(raw.keys) | set(models.keys), asset_check_selection=set(raw.check_keys)
    )


def cmd_deliver(args: argparse.Namespace) -> int:
    from orchestration.job_execution import execute_job

    settings = load_settings()
    alerts = with_alert_routes(load_alert_settings(settings))
    home = ensure_dagster_home()
    if not settings.warehouse_path.exists():
        raise UserError(f"no warehouse at {settings.warehouse_path}: run `apiwh run` first")
    log_path = _log_path(settings, "deliver_alerts")
    run_config = (
        {"ops": {"deliver_pending_alerts": {"config": {"revive_dead": True}}}} if args.revive_dead else {}
    )
    outcome = execute_job(
        settings, alerts, "deliver_alerts", log_path, dagster_home=home, run_config=run_config
    )
    print(render_delivery(outcome, alert_settings=alerts, log_path=log_path))
    return 0 if outcome.success else 1


def cmd_publish(args: argparse.Namespace) -> int:
    settings = load_settings()
    if not settings.warehouse_path.exists():
        raise UserError(f"no warehouse at {settings.warehouse_path}: run `apiwh run` first")
    with connect(settings.warehouse_path, memory_limit=settings.duckdb_memory_limit) as con:
        counts = publish_snapshot(con, settings.snapshot_path)
        rows = con.execute("select as_of_date from intermediate.int_as_of_date").fetchall()
    as_of = f"as-of date {rows[0][0]}" if rows else "no as-of date yet"
    print(f"Published {len(counts)} table(s), {as_of}, to {settings.snapshot_path}")
    return 0


def cmd_dev(args: argparse.Namespace) -> int:
    settings = load_settings()
    home = ensure_dagster_home()
    ensure_fresh_manifest(settings)
    dagster = Path(sys.executable).parent / "dagster"
    command = [str(dagster), "dev", "-m", "orchestration.definitions", "-h", args.host, "-p", str(args.port)]
    # The child gets DAGSTER_HOME, and this interpreter's bin/ first on PATH so that
    # prepare_if_dev's `dbt parse` finds our dbt; this process's environment stays untouched.
    # The salt as a variable, so the UI shows its name, never the value (defs/resources.py).
    env = environment_with(DAGSTER_HOME=str(home), IP_HASH_SALT=settings.ip_hash_salt)
    env["PATH"] = os.pathsep.join([str(DBT_EXECUTABLE.parent), env.get("PATH", "")])
    # `dagster dev` warns at each start that `dg dev` supersedes it; dg is not part of the pinned
    # Dagster (a separate package, with a project layout of its own), so the warning is noise.
    env["PYTHONWARNINGS"] = ",".join(
        filter(None, [env.get("PYTHONWARNINGS"), "ignore:Function `dev_command` is superseded"])
    )
    print(f"Dagster UI on http://{args.host}:{args.port} (Ctrl-C stops it)", flush=True)
    # Its own process group (webserver, daemon, code server), told to stop when this process
    # ends however it ends: SIGTERM or Ctrl-C here stop the whole tree (stop_process_group).
    child = subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env=env,
        start_new_session=True,
        preexec_fn=functools.partial(die_with_parent, signal.SIGTERM),
    )
    with _stop_requests() as stopped:
        while child.poll() is None and not stopped:
            time.sleep(0.2)
    if child.poll() is None:
        stop_process_group(child)
    return 0 if stopped else child.returncode


DEV_STOP_SECONDS = 8.0


@contextlib.contextmanager
def _stop_requests() -> Iterator[list[int]]:
    """SIGTERM and SIGINT recorded (in the yielded list) instead of ending this process at once."""
    received: list[int] = []
    handlers = {
        number: signal.signal(number, lambda n, _: received.append(n))
        for number in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        yield received
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)


def stop_process_group(child: subprocess.Popen, seconds: float = DEV_STOP_SECONDS) -> None:
    """SIGTERM to the child's whole group, then SIGKILL to what is left after `seconds`."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        child.poll()
        try:
            os.killpg(child.pid, 0)  # anyone left in the group?
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)
    child.wait(timeout=10)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from exc
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 1 to 65535, got {value}")
    return value


def register_run(subparsers: argparse._SubParsersAction) -> None:
    run = subparsers.add_parser(
        "run",
        help="load new files, build every mart, record and deliver alerts (the daily_refresh job)",
        description=(
            "Run the daily_refresh job in this process: load new files from RAW_DATA_DIR, dbt "
            "build, record alerts, publish the snapshot; then deliver_alerts. Prints progress and "
            "a short summary; the full log goes to <warehouse folder>/logs/."
        ),
    )
    run.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild incremental models from scratch (dbt build --full-refresh)",
    )
    run.add_argument(
        "--allow-history-loss",
        action="store_true",
        help="let a full rebuild drop the days past retention from every mart (refused otherwise:"
        " raw no longer holds their calls; docs/governance.md)",
    )
    run.add_argument(
        "--no-deliver",
        action="store_true",
        help="record alerts but leave them pending (apiwh deliver sends them)",
    )
    run.add_argument(
        "--allow-future-as-of",
        action="store_true",
        help="build even when AS_OF is after the last day with calls (refused otherwise); alerts are"
        " recorded, not delivered",
    )
    run.set_defaults(func=cmd_run)


def register_publish(subparsers: argparse._SubParsersAction) -> None:
    publish = subparsers.add_parser(
        "publish",
        help="republish the snapshot readers use (after a hand-run dbt build)",
        description="Copy the marts of the live warehouse into the published snapshot.",
    )
    publish.set_defaults(func=cmd_publish)


def register_deliver(subparsers: argparse._SubParsersAction) -> None:
    deliver = subparsers.add_parser(
        "deliver",
        help="send pending alerts to the file sink and the webhook (the deliver_alerts job)",
    )
    deliver.add_argument(
        "--revive-dead",
        action="store_true",
        help="first give dead alerts a fresh set of attempts (after fixing the receiver)",
    )
    deliver.set_defaults(func=cmd_deliver)


def register_dev(subparsers: argparse._SubParsersAction) -> None:
    dev = subparsers.add_parser("dev", help="the Dagster UI (dagster dev), offline, telemetry off")
    dev.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    dev.add_argument("--port", type=_port, default=3000, help="port (default 3000)")
    dev.set_defaults(func=cmd_dev)
