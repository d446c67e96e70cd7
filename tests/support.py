"""Helpers for tests that need a real warehouse: contract-format event builders, a real load
with the project's loader, and a real `dbt build` in a subprocess against a temporary file."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

import duckdb

from orchestration.loading import load_directory
from orchestration.settings import DBT_PROJECT_DIR, load_alert_settings, load_settings
from orchestration.warehouse import connect

DBT = str(Path(sys.executable).parent / "dbt")
APIWH = str(Path(sys.executable).parent / "apiwh")
TEST_SALT = "test-salt"


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


def load_events(landing: Path, warehouse: Path) -> None:
    con = connect(warehouse)
    try:
        load_directory(con, landing, salt=TEST_SALT)
    finally:
        con.close()


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


def run_dbt(
    warehouse: Path,
    *args: str,
    as_of: str | None = None,
    check: bool = True,
    plans_file: Path | None = None,
) -> subprocess.CompletedProcess:
    """`dbt <args>` in dbt_project/ against `warehouse`, with private target and log folders.
    No plan catalogue unless `plans_file` is given (make exports the sample's)."""
    scratch = warehouse.parent
    env = {
        **os.environ,
        "WAREHOUSE_PATH": str(warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    env.pop("AS_OF", None)
    env.pop("PLANS_FILE", None)
    if as_of:
        env["AS_OF"] = as_of
    if plans_file is not None:
        env["PLANS_FILE"] = str(plans_file)
    command = [
        DBT,
        *args,
        "--target-path",
        str(scratch / "dbt_target"),
        "--log-path",
        str(scratch / "dbt_logs"),
    ]
    completed = subprocess.run(
        command, cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, timeout=900
    )
    if check and completed.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} failed ({completed.returncode}):\n{completed.stdout[-6000:]}\n"
            f"{completed.stderr[-3000:]}"
        )
    return completed


def build_warehouse(
    tmp_path: Path,
    events: Sequence[dict | str],
    *,
    as_of: str | None = None,
    select: str | None = None,
    file_name: str = "events.ndjson",
    plans_file: Path | None = None,
) -> Path:
    """Write events, load them with the real loader, run `dbt build`; return the DuckDB path."""
    landing = tmp_path / "landing"
    write_ndjson(landing / file_name, events)
    warehouse = tmp_path / "wh" / "warehouse.duckdb"
    load_events(landing, warehouse)
    args = ["build"] + (["--select", select] if select else [])
    run_dbt(warehouse, *args, as_of=as_of, plans_file=plans_file)
    return warehouse


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
