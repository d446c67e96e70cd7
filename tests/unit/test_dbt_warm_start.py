"""The warm `apiwh-dbt` (orchestration/dbt_warm_start.py), with real processes: a stand-in for
the run starts the warm process and then the launcher, as `apiwh run` and dagster-dbt do."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestration.settings import DBT_PROJECT_DIR

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")

# The run: starts the warm process, then does `mode`; prints what the test checks as one JSON
# line.
RUN = """
import json, os, signal, socket, subprocess, sys, time
from orchestration import dbt_warm_start
from orchestration.dbt_cli import DBT_EXECUTABLE

mode, project = sys.argv[1], sys.argv[2]
warm = dbt_warm_start.start_warm_dbt(DBT_EXECUTABLE)
# Wait until it has imported dbt (DuckDB's library is in), as a run's load gives it time to: a
# launcher that comes before it listens runs dbt itself.
deadline = time.time() + 60
while "duckdb" not in open(f"/proc/{warm.pid}/maps").read() and time.time() < deadline:
    time.sleep(0.05)
time.sleep(0.2)
out = {}
if mode == "stranger":  # the run itself is no sibling of the warm process
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.connect(dbt_warm_start._address(os.getpid()))
    out["refused"] = connection.recv(1) == b""
    out["warm_alive"] = warm.poll() is None
    dbt_warm_start.stop_warm_dbt(warm)
    out["warm_exit"] = warm.returncode
else:
    env = {**os.environ, "DBT_PROFILES_DIR": project}
    args = ["parse", "--no-partial-parse"] if mode == "killed" else ["list", "--resource-type", "source"]
    args += ["--target-path", os.getcwd()]  # the test's folder: the project's target/ stays as it is
    if mode == "usage error":
        args.append("--no-such-option")
    launcher = subprocess.Popen(
        [str(DBT_EXECUTABLE), *args, "--log-format", "json"],
        cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    if mode == "killed":  # once the warm process has taken the build over, before it ends
        time.sleep(1)
        launcher.send_signal(signal.SIGKILL)
    stdout, stderr = launcher.communicate(timeout=120)
    out.update(launcher_exit=launcher.returncode, stdout=stdout, stderr=stderr)
    out["warm_exit"] = warm.wait(timeout=30)
print(json.dumps(out))
"""


def _run(mode: str, tmp_path: Path) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", RUN, mode, str(DBT_PROJECT_DIR)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.splitlines()[-1])


def _messages(stdout: str) -> list[str]:
    return [json.loads(line)["info"]["msg"] for line in stdout.splitlines() if line.startswith("{")]


def test_the_warm_process_runs_the_launchers_command_with_its_streams_folder_and_environment(
    tmp_path: Path,
) -> None:
    """The launcher's folder and DBT_PROFILES_DIR (dbt finds the project and its profile only
    with both), its stdout (dbt's JSON log, what dagster-dbt reads) and its exit code; the warm
    process did the work (it exits 0 itself: an unused one is killed)."""
    outcome = _run("list", tmp_path)
    assert outcome["launcher_exit"] == 0, outcome["stderr"]
    sources = [msg for msg in _messages(outcome["stdout"]) if msg.startswith("source:")]
    assert sorted(sources) == [
        "source:api_usage_warehouse.raw.event_rejects",
        "source:api_usage_warehouse.raw.events",
        "source:api_usage_warehouse.raw.loaded_files",
    ]
    assert outcome["stderr"] == ""
    assert outcome["warm_exit"] == 0


def test_dbts_exit_code_reaches_the_launcher(tmp_path: Path) -> None:
    outcome = _run("usage error", tmp_path)
    assert outcome["launcher_exit"] == 2
    assert "No such option '--no-such-option'" in outcome["stderr"]
    assert outcome["warm_exit"] == 2


def test_the_warm_process_dies_with_its_launcher(tmp_path: Path) -> None:
    """A killed launcher (its run cancelled) closes the socket: dbt must not go on writing."""
    outcome = _run("killed", tmp_path)
    assert outcome["launcher_exit"] == -9
    assert outcome["warm_exit"] == -9


def test_a_process_that_is_not_a_sibling_is_refused(tmp_path: Path) -> None:
    outcome = _run("stranger", tmp_path)
    assert outcome == {"refused": True, "warm_alive": True, "warm_exit": -9}


def test_without_a_warm_process_the_launcher_runs_dbt_itself() -> None:
    from orchestration.dbt_warm_start import run_in_warm_process

    assert run_in_warm_process(["list"]) is None


def test_the_warm_process_ends_when_its_run_died_before_it_could_ask_to() -> None:
    """A run that dies within the warm process's first moments (before prctl): the process must
    not wait for ever, re-parented (it knows its run's pid from its arguments)."""
    run = (
        "import os\n"
        "from orchestration import dbt_warm_start\n"
        "from orchestration.dbt_cli import DBT_EXECUTABLE\n"
        "print(dbt_warm_start.start_warm_dbt(DBT_EXECUTABLE).pid, flush=True)\n"
        "os._exit(0)\n"
    )
    result = subprocess.run([sys.executable, "-c", run], capture_output=True, text=True, check=True)
    pid = int(result.stdout)
    warm = Path(f"/proc/{pid}/status")
    deadline = time.time() + 30
    while warm.exists() and "State:\tZ" not in warm.read_text() and time.time() < deadline:
        time.sleep(0.1)
    left = warm.exists() and "State:\tZ" not in warm.read_text()
    if left:
        os.kill(pid, signal.SIGKILL)  # not left behind by a failing test
    assert not left
