"""Dead runs never block the next refresh.

A run killed outright (SIGKILL, the OOM killer, a power cut) cannot tell Dagster it ended: it
stays STARTED for ever and keeps the `duckdb_writer` pool's only slot, so every later run waits
for it (and under the daemon, the run queue does too). Before a writing run asks for the pool,
and every half minute under the daemon (defs/recovery.py), the runs Dagster thinks are active are
checked against the processes that ran them: a run whose process is gone is marked failed and its
pool slots are freed. A slot held by a live run is waited for, with a message, up to
REFRESH_WAIT_SECONDS.

A run's process is the pid Dagster writes on every event (the run worker under the daemon, the
`apiwh run` process in-process). A pid that now belongs to a process started after the run is a
reused pid, so the run is dead too. Pids are judged on this machine: DAGSTER_HOME (SQLite) is
local to it, as is the DuckDB file.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from orchestration.errors import UserError
from orchestration.process_stat import stat_fields
from orchestration.warehouse import DUCKDB_WRITER_POOL, WAREHOUSE_WRITER_TAGS

# STARTING and CANCELING runs can die too; QUEUED and NOT_STARTED runs have no process yet.
_ACTIVE = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
# A run launched by the daemon has no event of its own until its worker starts: give it this
# long before a missing worker counts as dead.
WORKER_START_GRACE_SECONDS = 180.0
# The process may start a moment after Dagster stamps the run's start time (clock ticks).
_PID_REUSE_SLACK_SECONDS = 2.0
POLL_SECONDS = 2.0


class RefreshWaitTimeout(UserError, TimeoutError):
    """A live run kept the writer pool for longer than the wait allows."""


@dataclass(frozen=True)
class DeadRun:
    run_id: str
    job_name: str
    pid: int | None

    def describe(self) -> str:
        process = f"process {self.pid} is gone" if self.pid else "its worker never started"
        return f"run {self.run_id[:8]} of {self.job_name} was left running by a killed process ({process})"


def _boot_time() -> float:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise OSError("no btime in /proc/stat")


def process_start_time(pid: int) -> float | None:
    """When process `pid` started (epoch seconds), or None when it no longer runs (a zombie
    has exited too: only its parent has not collected it yet)."""
    try:
        fields = stat_fields(pid)
    except OSError:  # not Linux: existence only
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return 0.0
    if fields is None or fields[0] in ("Z", "X"):
        return None
    return _boot_time() + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def run_process_id(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The pid on the run's newest event that carries one."""
    records = instance.get_records_for_run(run_id, ascending=False, limit=50).records
    for record in records:
        event = record.event_log_entry.dagster_event
        if event is not None and event.pid:
            return event.pid
    return None


def _is_dead(instance: dg.DagsterInstance, record: dg.RunRecord, now: float) -> tuple[bool, int | None]:
    pid = run_process_id(instance, record.dagster_run.run_id)
    if pid is None:
        created = record.create_timestamp.timestamp()
        return now - created > WORKER_START_GRACE_SECONDS, None
    started = process_start_time(pid)
    if started is None:
        return True, pid
    run_started = record.start_time or record.create_timestamp.timestamp()
    return started > run_started + _PID_REUSE_SLACK_SECONDS, pid


def recover_dead_runs(instance: dg.DagsterInstance, *, exclude: str | None = None) -> list[DeadRun]:
    """Mark every active run whose process is gone as failed and free its pool slots; also
    free slots still claimed by runs that already ended. Returns the runs it recovered."""
    now = time.time()
    recovered = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=_ACTIVE)):
        run = record.dagster_run
        if run.run_id == exclude:
            continue
        dead, pid = _is_dead(instance, record, now)
        if not dead:
            continue
        found = DeadRun(run.run_id, run.job_name, pid)
        instance.report_run_failed(run, message=f"{found.describe()}; marked failed by the next run")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        recovered.append(found)
    for run_id in _slot_holders(instance) - {exclude}:
        held_by = instance.get_run_by_id(run_id)
        if held_by is None or held_by.status not in _ACTIVE:
            instance.event_log_storage.free_concurrency_slots_for_run(run_id)
    return recovered


def _slot_holders(instance: dg.DagsterInstance) -> set[str]:
    if not instance.event_log_storage.supports_global_concurrency_limits:
        return set()
    info = instance.event_log_storage.get_concurrency_info(DUCKDB_WRITER_POOL)
    return {slot.run_id for slot in info.claimed_slots} | {step.run_id for step in info.pending_steps}


def _writers_ahead(instance: dg.DagsterInstance, me: str | None) -> list[str]:
    """Runs to wait for: other active warehouse writers (whole runs, since the pool is claimed
    step by step and two runs would otherwise interleave their steps), and any slot holder. A
    run that has started waits only for runs started before it, so two never wait for each
    other."""
    records = instance.get_run_records(dg.RunsFilter(statuses=_ACTIVE, tags=WAREHOUSE_WRITER_TAGS))
    mine = next((r for r in records if r.dagster_run.run_id == me), None)
    ahead = [
        r.dagster_run.run_id
        for r in records
        if r.dagster_run.run_id != me and (mine is None or r.storage_id < mine.storage_id)
    ]
    return ahead + sorted(_slot_holders(instance) - {me, *ahead})


def wait_for_writer_pool(
    instance: dg.DagsterInstance,
    *,
    timeout_seconds: float,
    say: Callable[[str], None],
    exclude: str | None = None,
) -> list[DeadRun]:
    """Recover dead runs, then wait while a live run writes the warehouse (`exclude`: the run
    that is waiting, when it has started). Plain sleeps, so SIGINT and SIGTERM stop the wait at
    once. Raises RefreshWaitTimeout past the timeout."""
    recovered = recover_dead_runs(instance, exclude=exclude)
    for run in recovered:
        say(f"recovered: {run.describe()}; marked it failed and freed its pool slot")
    deadline = time.monotonic() + timeout_seconds
    announced = None
    while True:
        holders = _writers_ahead(instance, exclude)
        if not holders:
            return recovered
        holder = holders[0]
        if holder != announced:
            say(
                f"waiting for run {holder[:8]} (it holds the DuckDB writer) to finish; "
                f"giving up after {timeout_seconds:.0f} s (REFRESH_WAIT_SECONDS)"
            )
            announced = holder
        if time.monotonic() > deadline:
            raise RefreshWaitTimeout(
                f"run {holder} still holds the DuckDB writer after {timeout_seconds:.0f} s "
                "(REFRESH_WAIT_SECONDS): let it finish, or stop it in the Dagster UI"
            )
        time.sleep(POLL_SECONDS)
        recovered += recover_dead_runs(instance, exclude=exclude)
