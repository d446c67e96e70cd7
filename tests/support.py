"""The tests' kit: contract-format event builders, the one test environment (warehouse_env),
the one loader (load_events), the one dbt runner (run_dbt), `apiwh` in a subprocess, and
warehouses built from events or by `apiwh run`."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from orchestration.dbt_cli import PARTIAL_PARSE_FILE, keep_parse_state, parse_state_path
from orchestration.dbt_cli import dbt_vars as run_vars
from orchestration.loading import LoadReport, load_directory
from orchestration.settings import Settings, load_alert_settings, load_settings
from orchestration.warehouse import connect
from tests.dbt_server import DbtServer

DBT = str(Path(sys.executable).parent / "dbt")
# This worker's dbt process, started by the first run_dbt.
DBT_SERVER = DbtServer()
APIWH = str(Path(sys.executable).parent / "apiwh")
TEST_SALT = "test-salt"
# Settings a developer's shell may carry into a test: never inherited (warehouse_env).
OUTSIDE_SETTINGS = ("ALERT_", "AS_OF", "PLANS_FILE", "ORGANIZATIONS_FILE")


def _event_id(event_id: str | None) -> str:
    return event_id or f"evt_{uuid.uuid4().hex[:16]}"


def api_request(
    org: str,
    at: str,
    *,
    status: int = 200,
    endpoint: str = "/v1/items",
    method: str = "GET",
    key: str | None = "key_1",
    duration_ms: float = 100.0,
    event_id: str | None = None,
    plan: str | None = None,
    response_bytes: int | None = None,
    **extra,
) -> dict:
    event = {
        "event_id": _event_id(event_id),
        "event_type": "api_request",
        "event_time": at,
        "consumer": {"organization_id": org, "api_key_id": key, "plan_id": plan},
        "api": {"method": method, "endpoint": endpoint},
        "result": {"status_code": status},
        "timings": {"request_duration_ms": duration_ms},
    }
    if response_bytes is not None:
        event["bytes"] = {"response": response_bytes}
    event.update(extra)
    return event


def quota_set(org: str, at: str, limit: int, *, plan: str | None = None, event_id: str | None = None) -> dict:
    return {
        "event_id": _event_id(event_id),
        "event_type": "quota_set",
        "event_time": at,
        "consumer": {"organization_id": org},
        "quota": {"monthly_call_limit": limit, "plan_id": plan},
    }


def key_issued(
    org: str,
    at: str,
    key: str,
    *,
    developer: str | None = "dev_1",
    plan: str | None = None,
    event_id: str | None = None,
) -> dict:
    return {
        "event_id": _event_id(event_id),
        "event_type": "key_issued",
        "event_time": at,
        "consumer": {
            "organization_id": org,
            "developer_id": developer,
            "api_key_id": key,
            "plan_id": plan,
        },
    }


def write_ndjson(path: Path, events: Sequence[dict | str]) -> Path:
    """Events as NDJSON; a str item is written as a raw line (for malformed input)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for event in events:
            handle.write(event if isinstance(event, str) else json.dumps(event))
            handle.write("\n")
    return path


def warehouse_path(root: Path) -> Path:
    """Where the warehouse of a test's root lives: data/ as in the checkout `make run` uses."""
    return root / "data" / "warehouse.duckdb"


def warehouse_env(root: Path, **extra: str) -> dict[str, str]:
    """The one environment the tests run `apiwh`, dbt and Dagster in: this process's, without the
    settings a developer's shell may carry, with the landing folder, warehouse and Dagster home
    under `root` (the layout of a checkout), and `extra` on top."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(OUTSIDE_SETTINGS)}
    env.update(
        RAW_DATA_DIR=str(root / "landing"),
        WAREHOUSE_PATH=str(warehouse_path(root)),
        DAGSTER_HOME=str(root / "dagster_home"),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        LANDING_SETTLE_SECONDS="0",  # a test's files are complete when written
    )
    return env | extra


def set_environment(monkeypatch: pytest.MonkeyPatch, env: Mapping[str, str]) -> None:
    """Make this process's environment `env` (monkeypatch restores it), for the CLI and Dagster
    called in process."""
    for name in set(os.environ) - set(env):
        monkeypatch.delenv(name)
    for name, value in env.items():
        if os.environ.get(name) != value:
            monkeypatch.setenv(name, value)


def use_warehouse(monkeypatch: pytest.MonkeyPatch, warehouse: Path, **extra: str) -> Path:
    """This process's environment pointed at `warehouse` (see warehouse_env)."""
    set_environment(
        monkeypatch, warehouse_env(warehouse.parent.parent, WAREHOUSE_PATH=str(warehouse), **extra)
    )
    return warehouse


def copy_warehouse(source: Path, root: Path) -> Path:
    """A copy of a built warehouse under `root`, for a test that changes it."""
    copy = warehouse_path(root)
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, copy)
    return copy


def load_events(landing: Path, warehouse: Path | duckdb.DuckDBPyConnection, **options) -> LoadReport:
    """The project's loader (the raw/events asset's) on `landing`, with the test salt: into an
    open connection, or into the warehouse file at that path (opened and closed here)."""
    if isinstance(warehouse, duckdb.DuckDBPyConnection):
        return load_directory(warehouse, landing, salt=TEST_SALT, **options)
    with connect(warehouse) as con:
        return load_directory(con, landing, salt=TEST_SALT, **options)


def apiwh(
    env: Mapping[str, str], *args: str, extra: Mapping[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """`apiwh <args>` in a real subprocess, as a user runs it, with `extra` added to `env`."""
    return subprocess.run(
        [APIWH, *args],
        env={**env, **(extra or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
    )


def dbt_command(
    warehouse: Path, *args: str, as_of: str | None = None, plans_file: Path | None = None
) -> tuple[list[str], dict[str, str]]:
    """`dbt <args>` against `warehouse`, with target and log folders beside it: the command line
    and its environment (run it in DBT_PROJECT_DIR). No plan catalogue unless `plans_file` is
    given (make exports the sample's)."""
    settings = {"AS_OF": as_of, "PLANS_FILE": str(plans_file) if plans_file else None}
    env = warehouse_env(
        warehouse.parent.parent,
        WAREHOUSE_PATH=str(warehouse),
        **{name: value for name, value in settings.items() if value},
    )
    scratch = warehouse.parent
    # As a pipeline run builds (orchestration/defs/dbt.py): unit tests prove the model code and
    # run once, in `make dbt-unit`, not in every test's build.
    no_unit_tests = ["--exclude-resource-type", "unit_test"] if args[:1] == ("build",) else []
    command = [
        DBT,
        *args,
        *no_unit_tests,
        "--target-path",
        str(scratch / "dbt_target"),
        "--log-path",
        str(scratch / "dbt_logs"),
    ]
    return command, env


def run_dbt(
    warehouse: Path,
    *args: str,
    as_of: str | None = None,
    check: bool = True,
    plans_file: Path | None = None,
    test_scope: str | None = None,
) -> subprocess.CompletedProcess:
    """The tests' one dbt runner: `dbt <args>` in this worker's dbt process (tests/dbt_server.py),
    as `apiwh run` runs it: the run's settings as vars, apiwh-dbt's arguments, starting from the
    parse state a run with the same vars kept (orchestration/dbt_cli.py), with target and log
    folders beside the warehouse. No plan catalogue unless `plans_file` is given (make exports
    the sample's). `test_scope='all'` has data tests read every row (dbt_project/macros/test_scope.sql)."""
    dbt_vars = run_vars(
        Settings(
            raw_data_dir=warehouse.parent / "landing",
            warehouse_path=warehouse,
            as_of=dt.date.fromisoformat(as_of) if as_of else None,
            plans_file=plans_file,
            landing_dir=warehouse.parent / "landing",
        )
    )
    if test_scope is not None:
        dbt_vars = json.dumps({**json.loads(dbt_vars), "test_scope": test_scope}, sort_keys=True)
    target, state = warehouse.parent / "dbt_target", parse_state_path(dbt_vars, "local")
    target.mkdir(parents=True, exist_ok=True)
    if state.is_file():  # over this folder's own, which may hold another as-of date's vars
        shutil.copyfile(state, target / PARTIAL_PARSE_FILE)
    # As a pipeline run builds (orchestration/defs/dbt.py): unit tests prove the model code and
    # run once, in `make dbt-unit`, not in every test's build.
    no_unit_tests = ["--exclude-resource-type", "unit_test"] if args[:1] == ("build",) else []
    command = [*args, *no_unit_tests, "--vars", dbt_vars, "--target", "local"]
    command += ["--target-path", str(target), "--log-path", str(warehouse.parent / "dbt_logs")]
    env = warehouse_env(warehouse.parent.parent, WAREHOUSE_PATH=str(warehouse))
    completed = DBT_SERVER.run(command, env, manifest_key=state.name)
    if check and completed.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} failed ({completed.returncode}):\n{completed.stdout[-6000:]}\n"
            f"{completed.stderr[-3000:]}"
        )
    keep_parse_state(target, state)
    return completed


def build_warehouse(
    root: Path,
    events: Sequence[dict | str],
    *,
    as_of: str | None = None,
    select: str | None = None,
    file_name: str = "events.ndjson",
    plans_file: Path | None = None,
) -> Path:
    """Write events to root/landing, load them with the real loader, run `dbt build`; return the
    DuckDB path (warehouse_path(root), so warehouse_env(root) points at it)."""
    landing = root / "landing"
    write_ndjson(landing / file_name, events)
    warehouse = warehouse_path(root)
    load_events(landing, warehouse)
    args = ["build"] + (["--select", select] if select else [])
    run_dbt(warehouse, *args, as_of=as_of, plans_file=plans_file)
    return warehouse


@dataclass(frozen=True)
class BuiltWarehouse:
    """A warehouse built by `apiwh run` in a real subprocess, and the environment it ran in."""

    root: Path
    env: dict[str, str]
    run: subprocess.CompletedProcess

    @property
    def warehouse(self) -> Path:
        return Path(self.env["WAREHOUSE_PATH"])

    def apiwh(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return apiwh(self.env, *args, **kwargs)


def apiwh_run(root: Path, **extra: str) -> BuiltWarehouse:
    """`apiwh run` in root, as a newcomer runs it, with warehouse_env(root, **extra); it must succeed."""
    env = warehouse_env(root, **extra)
    run = apiwh(env, "run", cwd=root)
    assert run.returncode == 0, run.stdout + run.stderr
    return BuiltWarehouse(root=root, env=env, run=run)


def query(warehouse: Path, sql: str, params: Sequence = ()) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def resources_from_env() -> dict:
    """The code location's resources, made from this test's environment (monkeypatched) the way
    the location makes them; tests hand them to materialize / execute_in_process directly."""
    from orchestration.defs.resources import build_resources

    settings = load_settings()
    return build_resources(settings, load_alert_settings(settings))


def load_script(name: str):
    """A module of scripts/ (they are run as files, not imported as a package)."""
    path = Path(__file__).resolve().parent.parent / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, from /proc (children of children too)."""
    found, pending = [], [pid]
    while pending:
        for task in Path(f"/proc/{pending.pop()}/task").glob("*"):
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:  # the process has just ended
                continue
            found += children
            pending += children
    return found


def running(pid: int) -> bool:
    """Whether `pid` still runs: a zombie (ended, not yet reaped by whoever inherited it) does not."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def command_of(pid: int) -> str:
    """The command line of `pid`, for a failure message ("" once it has ended)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""
