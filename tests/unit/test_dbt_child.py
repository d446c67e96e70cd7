"""dbt started by a run dies with the run (orchestration/dbt_child.py): a real parent process is
SIGKILLed and its child must not outlive it, or it would keep the warehouse locked."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestration.dbt_cli import DBT_EXECUTABLE

CHILD = "from orchestration.dbt_child import die_with_parent; die_with_parent(); import time; time.sleep(120)"


def _spawn_parent(child_code: str) -> tuple[subprocess.Popen, int]:
    """A parent that starts `child_code` and waits; returns the parent and the child's pid."""
    parent_code = (
        "import subprocess, sys, time\n"
        f"child = subprocess.Popen([sys.executable, '-c', {child_code!r}])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", parent_code], stdout=subprocess.PIPE, text=True)
    return parent, int(parent.stdout.readline())


def _alive_after(pid: int, seconds: float) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        status = Path(f"/proc/{pid}/status")
        if not status.exists() or "State:\tZ" in status.read_text():
            return False
        time.sleep(0.05)
    return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux only")
def test_the_child_is_killed_when_its_parent_is() -> None:
    parent, child = _spawn_parent(CHILD)
    time.sleep(1.0)  # the child has run die_with_parent
    assert _alive_after(child, 0.2)
    parent.send_signal(signal.SIGKILL)
    parent.wait(timeout=10)
    assert not _alive_after(child, 10)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux only")
def test_a_plain_child_would_outlive_it() -> None:
    """The control: without die_with_parent the orphan goes on (so the test above can fail)."""
    parent, child = _spawn_parent("import time; time.sleep(120)")
    time.sleep(1.0)
    parent.send_signal(signal.SIGKILL)
    parent.wait(timeout=10)
    try:
        assert _alive_after(child, 2)
    finally:
        os.kill(child, signal.SIGKILL)


def test_the_pipeline_runs_dbt_through_the_wrapper() -> None:
    assert DBT_EXECUTABLE.name == "apiwh-dbt" and DBT_EXECUTABLE.exists()
    version = subprocess.run([str(DBT_EXECUTABLE), "--version"], capture_output=True, text=True, timeout=120)
    assert version.returncode == 0 and "duckdb" in version.stdout
