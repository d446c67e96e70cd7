"""No killed run wedges the next one (issue: a SIGKILL left the writer pool's only slot held by a
run that stayed STARTED for ever). Under the production dagster.yaml (pipeline_env installs it):

- `dagster job execute` killed mid-load: the next `dagster job execute` frees the slot and runs;
- the daemon's sensor marks a killed run failed and frees its slot, so the run queue moves;
- a run that finds the slot held by a LIVE run waits with a message, gives up after
  REFRESH_WAIT_SECONDS, and stops at once on SIGTERM.

test_repeated_sigkill.py kills `apiwh run` in every phase, 20 times in a row.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg

from orchestration.defs.recovery import dead_run_sensor
from orchestration.warehouse import DUCKDB_WRITER_POOL
from tests.incremental_support import build_deliveries, generate_sample, land
from tests.support import APIWH, descendants

DAGSTER = str(Path(sys.executable).parent / "dagster")
EXECUTE = [DAGSTER, "job", "execute", "-m", "orchestration.definitions", "-j"]


def _slot_holders(dagster_home: Path) -> set[str]:
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        info = instance.event_log_storage.get_concurrency_info(DUCKDB_WRITER_POOL)
    return {slot.run_id for slot in info.claimed_slots}


def _status(dagster_home: Path, run_id: str) -> dg.DagsterRunStatus:
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        return instance.get_run_by_id(run_id).status


def _start_and_wait_for_slot(command: list[str], dagster_home: Path) -> tuple[subprocess.Popen, str]:
    """Start a writing run in its own process group; return once it holds the writer slot."""
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    deadline = time.time() + 180
    while time.time() < deadline:
        holders = _slot_holders(dagster_home)
        if holders:
            return process, holders.pop()
        assert process.poll() is None, process.stdout.read()
        time.sleep(0.1)
    raise AssertionError("the run never took the writer slot")


def _dbt_build_under(pid: int) -> int:
    """The `apiwh-dbt build` process a run started (waits for it, up to 3 minutes)."""
    deadline = time.time() + 180
    while time.time() < deadline:
        for child in descendants(pid):
            with contextlib.suppress(OSError):
                command = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
                if any(part.endswith(b"apiwh-dbt") for part in command) and b"build" in command:
                    return child
        time.sleep(0.05)
    raise AssertionError("the run never started its dbt build")


def _kill_group(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def _land_sample(pipeline_env: dict[str, Path], tmp_path: Path) -> None:
    land(pipeline_env["landing"], build_deliveries(generate_sample(tmp_path / "sample", orgs=2, days=14)))


def test_dagster_job_execute_after_a_killed_one_frees_the_slot_and_runs(pipeline_env, tmp_path: Path) -> None:
    _land_sample(pipeline_env, tmp_path)
    home = pipeline_env["dagster_home"]
    killed, killed_run = _start_and_wait_for_slot([*EXECUTE, "daily_refresh"], home)
    _kill_group(killed)
    assert _status(home, killed_run) == dg.DagsterRunStatus.STARTED  # what Dagster alone leaves

    # deliver_alerts writes the warehouse too, so it needs the same slot; it is the cheap job.
    after = subprocess.run(
        [*EXECUTE, "deliver_alerts"], capture_output=True, text=True, timeout=300, env=os.environ
    )
    assert after.returncode == 0, after.stdout[-3000:] + after.stderr[-3000:]
    assert f"recovered: run {killed_run[:8]} of daily_refresh" in after.stdout + after.stderr
    assert _status(home, killed_run) == dg.DagsterRunStatus.FAILURE
    assert _slot_holders(home) == set()


def test_the_daemon_sensor_frees_a_killed_runs_slot(pipeline_env, tmp_path: Path) -> None:
    _land_sample(pipeline_env, tmp_path)
    home = pipeline_env["dagster_home"]
    killed, killed_run = _start_and_wait_for_slot([APIWH, "run", "--no-deliver"], home)
    _kill_group(killed)

    with dg.DagsterInstance.from_config(str(home)) as instance:
        result = dead_run_sensor(dg.build_sensor_context(instance=instance))
    assert "marked 1 dead run(s) failed" in result.skip_message
    assert _status(home, killed_run) == dg.DagsterRunStatus.FAILURE
    assert _slot_holders(home) == set()
    # A second look finds nothing more to do.
    with dg.DagsterInstance.from_config(str(home)) as instance:
        again = dead_run_sensor(dg.build_sensor_context(instance=instance))
    assert again.skip_message == "no run was left behind by a dead process"


def test_a_live_holder_is_waited_for_up_to_the_limit_and_sigterm_stops_the_wait(
    pipeline_env, tmp_path: Path
) -> None:
    """Slow (about a minute) because it must be: the holder is a real run, and two more real runs
    meet it. The holder's data is small: its build is stopped for as long as the test needs."""
    _land_sample(pipeline_env, tmp_path)
    home = pipeline_env["dagster_home"]
    holder, holder_run = _start_and_wait_for_slot([APIWH, "run", "--no-deliver"], home)
    # Its dbt build is stopped, not killed: the run stays alive and holds the slot for as long as
    # the test needs, however fast the build (a faster one once ended before the others looked).
    # The run itself is not stopped: it might be stopped inside a write to Dagster's SQLite files,
    # which would block the others' own writes.
    dbt_build = _dbt_build_under(holder.pid)
    os.kill(dbt_build, signal.SIGSTOP)
    try:
        waiter = subprocess.Popen(
            [APIWH, "run", "--no-deliver"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        impatient = subprocess.Popen(
            [APIWH, "run", "--no-deliver"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "REFRESH_WAIT_SECONDS": "3"},
        )
        output = ""
        while "waiting for run" not in output:
            line = waiter.stdout.readline()
            assert line, f"the waiting run ended early: {output}"
            output += line
        waiter.send_signal(signal.SIGTERM)
        # At once, not after the holder ends; 30 s leaves room for a loaded machine.
        try:
            waiter.wait(timeout=30)
        except subprocess.TimeoutExpired:
            # Say what the waiter was doing: its state and signal masks, then its output.
            status = Path(f"/proc/{waiter.pid}/status").read_text()
            state = [line for line in status.splitlines() if line.startswith(("State", "Sig"))]
            waiter.kill()
            rest, _ = waiter.communicate(timeout=30)
            message = f"the waiting run ignored SIGTERM for 30 s: {state}\n{output}{rest}"
            raise AssertionError(message) from None
        assert waiter.returncode != 0 and holder.poll() is None
        impatient_stdout, impatient_stderr = impatient.communicate(timeout=120)
        assert impatient.returncode == 1
        assert f"waiting for run {holder_run[:8]}" in impatient_stdout + impatient_stderr
        assert "still holds the DuckDB writer after 3 s (REFRESH_WAIT_SECONDS)" in impatient_stderr
        assert "Traceback" not in impatient_stderr
    finally:
        os.kill(dbt_build, signal.SIGCONT)
        assert holder.wait(timeout=600) == 0, holder.stdout.read()
    assert _status(home, holder_run) == dg.DagsterRunStatus.SUCCESS
