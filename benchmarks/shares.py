"""Where a refresh's time went, by step, so the next bottleneck is visible (make bench, steps 3 and 4).

The run's own records say it: Dagster's step stats (start and end of each step, from the event
log in DAGSTER_HOME) and dbt's run_results.json of the run's target folder (each model's and
test's execution time). What no step covers (the process start, imports, planning the run)
is the process's wall time less the steps'.
"""

from __future__ import annotations

import json
import subprocess
import sys

from orchestration.dbt_cli import DBT_TARGET_DIR

# dbt nodes listed by name: the slowest few.
SLOWEST_NODES = 5


def run_step_seconds() -> tuple[str, dict[str, float]]:
    """(run id, seconds per step) of the newest run recorded in DAGSTER_HOME."""
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        (run,) = instance.get_runs(limit=1)
        stats = instance.get_run_step_stats(run.run_id)
    seconds = {
        stat.step_key: stat.end_time - stat.start_time
        for stat in sorted(stats, key=lambda s: s.start_time or 0)
        if stat.start_time is not None and stat.end_time is not None
    }
    return run.run_id, seconds


def dbt_node_seconds(run_id: str) -> dict[str, float]:
    """Each dbt node's execution seconds in the run's dbt build (its target folder)."""
    folders = sorted(DBT_TARGET_DIR.glob(f"warehouse_dbt_models-{run_id[:7]}-*"))
    results_file = folders[-1] / "run_results.json" if folders else None
    if results_file is None or not results_file.exists():
        return {}
    results = json.loads(results_file.read_text())["results"]
    return {result["unique_id"]: result["execution_time"] for result in results}


def one_run_shares(wall_seconds: float) -> dict:
    """The shares of one run's wall time: per Dagster step, outside the steps, and inside the
    dbt step its models, its data tests and its slowest nodes."""
    run_id, steps = run_step_seconds()
    nodes = dbt_node_seconds(run_id)
    models = sum(s for node, s in nodes.items() if node.startswith("model."))
    tests = sum(s for node, s in nodes.items() if node.startswith("test."))
    slowest = sorted(nodes.items(), key=lambda item: -item[1])[:SLOWEST_NODES]
    parts = {f"step {key}": seconds for key, seconds in steps.items()}
    parts["outside the steps (start, imports, planning)"] = max(0.0, wall_seconds - sum(steps.values()))
    return {
        "wall_seconds": round(wall_seconds, 2),
        "parts": {name: round(seconds, 2) for name, seconds in parts.items()},
        "dbt": {
            "models_seconds": round(models, 2),
            "data_tests_seconds": round(tests, 2),
            "slowest": {node.split(".", 2)[-1]: round(seconds, 2) for node, seconds in slowest},
        },
    }


def measured_shares(env: dict[str, str], wall_seconds: float) -> dict:
    """one_run_shares in a child with the run's environment (its DAGSTER_HOME, which the
    instance's dagster.yaml reads from the environment)."""
    command = [sys.executable, "-m", "benchmarks.shares", str(wall_seconds)]
    return json.loads(subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout)


def print_shares(title: str, shares: dict) -> None:
    wall = shares["wall_seconds"]
    print(f"\n{title}: where its {wall:.1f} s went")
    print(f"| {'part':<52} | {'seconds':>8} | {'share':>6} |")
    print(f"|{'-' * 54}|{'-' * 9}:|{'-' * 7}:|")
    rows = list(shares["parts"].items())
    dbt = shares["dbt"]
    rows += [("  dbt models (sum of node times)", dbt["models_seconds"])]
    rows += [("  dbt data tests (sum of node times)", dbt["data_tests_seconds"])]
    rows += [(f"  slowest: {name}", seconds) for name, seconds in dbt["slowest"].items()]
    for name, seconds in rows:
        print(f"| {name:<52} | {seconds:>8.1f} | {seconds / wall:>6.0%} |")


if __name__ == "__main__":
    print(json.dumps(one_run_shares(float(sys.argv[1]))))
