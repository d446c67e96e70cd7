"""Run a command and measure its wall time, its CPU time and the peak resident memory of its
whole tree. CPU seconds are what a shared machine distorts least: other work slows the wall
clock, not the CPU a step needs.

Linux only: /proc is polled every 50 ms, summing the RSS of the process and all descendants
(dagster runs dbt in a child process, so the parent's own peak would understate it).
"""

from __future__ import annotations

import os
import resource
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Measured:
    seconds: float
    peak_rss_mb: float
    returncode: int
    cpu_seconds: float = 0.0  # user + system of the process and every descendant it waited for


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _tree_rss_bytes(root: int) -> int:
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        try:
            resident_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        total += resident_pages * _PAGE
        stack += _children(pid)
    return total


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_measured(command: list[str], *, env: dict[str, str], log: Path) -> Measured:
    """Run `command` to completion with output to `log`; never raises on a failed command."""
    peak = 0
    cpu_before = _children_cpu_seconds()
    with log.open("w") as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        done = threading.Event()

        def poll() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _tree_rss_bytes(process.pid))
                done.wait(0.05)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        returncode = process.wait()
        seconds = time.perf_counter() - start
        done.set()
        poller.join()
    return Measured(seconds, peak / 1e6, returncode, _children_cpu_seconds() - cpu_before)
