"""Real processes and real kills: a load killed with SIGKILL resumes with no loss and no
duplicates; a second writer fails clearly instead of corrupting or double loading."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT
from orchestration.warehouse import WarehouseBusyError, connect
from tests.support import (
    APIWH,
    api_request,
    apiwh,
    dbt_command,
    load_events,
    query,
    run_dbt,
    warehouse_path,
    write_ndjson,
)


def _write_big_file(path: Path, n: int) -> None:
    template = api_request("org_big", "2026-10-01T10:00:00Z", event_id="X")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        for i in range(n):
            template["event_id"] = f"big-{i}"
            handle.write(json.dumps(template) + "\n")


def test_sigkill_during_a_load_then_rerun_loads_everything_once(pipeline_env) -> None:
    landing, warehouse = pipeline_env["landing"], pipeline_env["warehouse"]
    write_ndjson(landing / "a_small.ndjson", [api_request("o", "2026-10-01T00:00:00Z") for _ in range(5)])
    _write_big_file(landing / "b_big.ndjson", 250_000)
    _write_big_file(landing / "c_big.ndjson.partial", 10)  # an upload in progress: never loaded
    env = dict(os.environ)

    process = subprocess.Popen(
        [APIWH, "load"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    # Progress is printed as each file commits: once the small file is in, the big one is loading.
    progress = process.stderr.readline()
    assert "a_small.ndjson: loaded" in progress, progress
    time.sleep(1.0)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    process.stderr.close()
    assert process.returncode == -signal.SIGKILL

    # The kill landed in the middle of the big file: it is not in, the small one fully is.
    assert query(warehouse, "select path, events from raw.loaded_files order by path") == [
        ("a_small.ndjson", 5)
    ]
    assert query(warehouse, "select source_file, count(*) from raw.events group by 1") == [
        ("a_small.ndjson", 5)
    ]

    rerun = apiwh(env, "load")
    assert rerun.returncode == 0, rerun.stderr
    assert query(warehouse, "select source_file, count(*) from raw.events group by 1 order by 1") == [
        ("a_small.ndjson", 5),
        ("b_big.ndjson", 250_000),
    ]
    assert query(warehouse, "select count(*) from raw.loaded_files") == [(2,)]
    again = apiwh(env, "load")
    assert "0 file(s) loaded" in again.stdout and "2 already loaded" in again.stdout


def test_a_second_writer_fails_clearly_and_nothing_is_loaded_twice(pipeline_env) -> None:
    landing, warehouse = pipeline_env["landing"], pipeline_env["warehouse"]
    write_ndjson(landing / "day.ndjson", [api_request("o", "2026-10-01T00:00:00Z") for _ in range(3)])
    holder = connect(warehouse)  # e.g. a run in progress in another process
    try:
        blocked = apiwh(os.environ, "load")
    finally:
        holder.close()
    assert blocked.returncode == 1  # the input was fine; the file was busy
    assert f"is in use by process {os.getpid()} (" in blocked.stderr  # names the holder: this test
    assert "Traceback" not in blocked.stderr

    assert apiwh(os.environ, "load").returncode == 0
    assert query(warehouse, "select count(*) from raw.events") == [(3,)]


def test_connect_names_the_busy_file(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.duckdb"
    script = (
        "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
        "print('ready', flush=True); time.sleep(60)"
    )
    holder = subprocess.Popen([sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        try:
            connect(path)
        except WarehouseBusyError as exc:
            assert str(path) in str(exc)
        else:
            raise AssertionError("a second writer was let in")
    finally:
        holder.kill()
        holder.wait()
    connect(path).close()  # free again once the holder is gone


def test_sigkill_during_dbt_build_leaves_every_mart_whole(tmp_path: Path) -> None:
    """Over a minute: a full dbt build of the sample, then a second one killed part way, then
    every mart read back whole."""
    warehouse = warehouse_path(tmp_path)
    load_events(PROJECT_ROOT / "seeds", warehouse)
    run_dbt(warehouse, "build")
    marts = [
        r[0] for r in query(warehouse, "select table_name from duckdb_tables() where schema_name = 'marts'")
    ]
    counts = {m: query(warehouse, f"select count(*) from marts.{m}")[0][0] for m in marts}

    command, env = dbt_command(warehouse, "build")
    build = subprocess.Popen(
        command,
        cwd=DBT_PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # Kill once dbt is creating marts, i.e. in the middle of the run.
    for line in build.stdout:
        if "START sql table model marts." in line:
            break
    build.send_signal(signal.SIGKILL)
    build.wait(timeout=30)
    build.stdout.close()
    assert build.returncode == -signal.SIGKILL  # killed, not finished

    # Every mart is there, whole: each table is swapped in by one transaction.
    assert {m: query(warehouse, f"select count(*) from marts.{m}")[0][0] for m in marts} == counts
    run_dbt(warehouse, "build")
    assert {m: query(warehouse, f"select count(*) from marts.{m}")[0][0] for m in marts} == counts
