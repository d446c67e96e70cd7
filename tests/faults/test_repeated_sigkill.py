"""Crash safety under incremental state and the instance config users run (the writer pool and
the run queue of dagster_home/dagster.yaml): `apiwh run` is SIGKILLed at random moments in every
phase (the raw load, the incremental dbt build, and the alerts, snapshot and dashboard steps after
it), at least 20 times in a row, with new files landing between the kills. Each killed run leaves
its pool slot behind; the next run frees it (orchestration/run_recovery.py). Then a run goes to
completion, no event is counted twice, and every mart equals a clean full build from the same
files."""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

from tests.incremental_support import build_deliveries, differences, generate_sample, land, marts_rows
from tests.support import APIWH, api_request, apiwh, load_events, query, run_dbt, running

SEED = 11
# What the run's own log says when each phase starts (orchestration/defs, Dagster's step events),
# and how long after it the kill may land (an incremental build of this data takes longer).
PHASES = {
    "load": ("loading new files from", (0.0, 0.8)),
    "dbt": ("dbt build: incremental", (0.5, 7.0)),
    "after dbt": ("marts__alerts - STEP_START", (0.0, 4.0)),
}
# The kills each phase gets, 20 in all: a kill after dbt costs a whole dbt build first, so it
# gets fewer. A run that ends before its kill lands is tried again in the same phase.
KILLS = {"load": 8, "dbt": 9, "after dbt": 3}
# The order of the phases: a new file lands before each run, so every kind of kill meets a new
# day's load or build.
ROTATION = ("load", "dbt", "load", "dbt", "after dbt", "load", "dbt")


def _bulk_day(day: int, n: int) -> bytes:
    """A file big enough that its load takes a moment: n calls of one organization on one day."""
    lines = []
    for i in range(n):
        event = api_request(
            "org_bulk", f"2026-10-{day:02d}T{i % 24:02d}:{i % 60:02d}:00Z", event_id=f"bulk-{day}-{i}"
        )
        lines.append(json.dumps(event))
    return ("\n".join(lines) + "\n").encode()


def _calls_on(day: int, attempt: int) -> bytes:
    events = [
        api_request("org_extra", f"2026-10-{day:02d}T12:{i:02d}:00Z", event_id=f"extra-{attempt}-{i}")
        for i in range(5)
    ]
    return ("\n".join(json.dumps(e) for e in events) + "\n").encode()


def _newest_log(logs: Path, since: float) -> Path | None:
    if not logs.is_dir():
        return None
    candidates = [p for p in logs.glob("daily_refresh-*.log") if p.stat().st_mtime >= since]
    return max(candidates, key=lambda p: p.stat().st_mtime, default=None)


def _children(pid: int) -> list[int]:
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        return [int(c) for task in tasks for c in (task / "children").read_text().split()]
    except OSError:  # the process has just ended
        return []


def _wait_gone(pids: list[int], seconds: float) -> list[int]:
    deadline = time.time() + seconds
    while time.time() < deadline:
        alive = [pid for pid in pids if running(pid)]
        if not alive:
            return []
        time.sleep(0.05)
    return alive


def _run_and_kill(rng: random.Random, logs: Path, phase: str) -> int:
    """Start `apiwh run`, wait until it is in `phase` (its log says so), kill it a random moment
    later. Returns the exit code (-9 when the kill landed, 0 when the run had already ended).
    A killed run leaves no process behind: its dbt child dies with it and frees the warehouse."""
    marker, (earliest, latest) = PHASES[phase]
    started = time.time()
    process = subprocess.Popen(
        [APIWH, "run", "--no-deliver"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = started + 300
    while process.poll() is None and time.time() < deadline:
        log = _newest_log(logs, started - 1)
        if log is not None and marker in log.read_text(errors="replace"):
            time.sleep(rng.uniform(earliest, latest))
            break
        time.sleep(0.05)
    assert time.time() < deadline, f"the run never reached the {phase} phase: a dead run blocked it?"
    if process.poll() is None:
        children = _children(process.pid)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        left = _wait_gone(children, 10)
        assert not left, f"a killed run left {left} running"
    return process.wait(timeout=60)


def _no_active_runs(env: dict[str, Path]) -> bool:
    import dagster as dg

    with dg.DagsterInstance.from_config(str(env["dagster_home"])) as instance:
        active = instance.get_run_records(
            dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED])
        )
        slots = instance.event_log_storage.get_concurrency_info("duckdb_writer").claimed_slots
    return not active and not slots


def test_repeated_sigkills_then_a_full_run_count_every_event_once(pipeline_env, tmp_path: Path) -> None:
    """Slow (8 to 14 minutes, with the other workers beside it) because it must be: 20 real
    `apiwh run` processes killed in turn, each after a real load or dbt build has started, then a
    clean full build to compare with."""
    landing, warehouse = pipeline_env["landing"], pipeline_env["warehouse"]
    logs = warehouse.parent / "logs"
    rng = random.Random(SEED)
    deliveries = build_deliveries(generate_sample(tmp_path / "sample"))
    rng.shuffle(deliveries)
    # Redeliveries land after their originals here too, so the first loaded copy is the same one
    # the full build keeps.
    names = [d.name for d in deliveries]
    for d in [d for d in deliveries if d.after]:
        if names.index(d.name) < names.index(d.after):
            deliveries.remove(d)
            deliveries.append(d)
            names = [x.name for x in deliveries]
    bulk = {f"bulk-2026-10-{day:02d}.ndjson": _bulk_day(day, 20_000) for day in (12, 19, 26)}

    # A first complete run, so later runs build incrementally.
    land(landing, deliveries[:8])
    assert apiwh(os.environ, "run", "--no-deliver").returncode == 0
    pending = deliveries[8:]

    kills = dict.fromkeys(PHASES, 0)
    attempts = 0
    phases = itertools.cycle(ROTATION)
    while kills != KILLS and attempts < 3 * sum(KILLS.values()):
        attempts += 1
        batch, pending = pending[:1], pending[1:]
        land(landing, batch)
        # Always something new, or the run would skip dbt: a few calls on a random day (often late).
        day = rng.randint(3, 30)
        (landing / f"extra-{attempts}.ndjson").write_bytes(_calls_on(day, attempts))
        phase = next(p for p in phases if kills[p] < KILLS[p])
        if phase == "load" and bulk:
            name, content = bulk.popitem()
            (landing / name).write_bytes(content)
        if _run_and_kill(rng, logs, phase) == -signal.SIGKILL:
            kills[phase] += 1
    assert kills == KILLS, f"{kills} in {attempts} attempts"

    land(landing, pending)
    for name, content in bulk.items():
        (landing / name).write_bytes(content)
    final = apiwh(os.environ, "run", "--no-deliver")
    assert final.returncode == 0, final.stdout + final.stderr
    # Every killed run was found dead and its slot freed; none is left active in Dagster.
    assert _no_active_runs(pipeline_env)

    # No event counted twice: the calls in the marts are the distinct api_request ids loaded.
    assert query(warehouse, "select sum(calls) from marts.customer_daily_usage") == query(
        warehouse, "select count(distinct event_id) from raw.events where event_type = 'api_request'"
    )
    # And the marts equal a clean full build from the same files.
    clean = tmp_path / "clean" / "warehouse.duckdb"
    load_events(landing, clean)
    run_dbt(clean, "run")
    problems = differences(marts_rows(warehouse), marts_rows(clean))
    assert not problems, f"kills {kills}:\n" + "\n".join(problems)
