"""Running dbt from this project: the executable, `dbt parse`, and the per-run target folders.

No Dagster here: the CLI and the tests parse the project without loading the code location;
orchestration/defs/dbt_project.py wraps the same folder as dagster-dbt's DbtProject.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from orchestration.settings import DBT_PROJECT_DIR, Settings, SettingsError, load_settings

# dagster-dbt looks for `dbt` on PATH; ours is beside this interpreter and is dbt that dies with
# the run that started it (orchestration/dbt_child.py).
DBT_EXECUTABLE = Path(sys.executable).parent / "apiwh-dbt"
DBT_TARGET_DIR = DBT_PROJECT_DIR / "target"
MANIFEST_PATH = DBT_TARGET_DIR / "manifest.json"

# dagster-dbt writes one target/ sub-folder per run and never removes them.
KEEP_RUN_TARGETS = 5


def dbt_vars(settings: Settings) -> str:
    """What dbt needs from a run, as `--vars` JSON: profiles.yml and the models read these, with
    the environment as fallback for a hand-run dbt. Parse and build pass the same, so dbt's
    partial parsing (which compares vars) keeps working."""
    values = {
        "warehouse_path": str(settings.warehouse_path),
        "duckdb_memory_limit": settings.duckdb_memory_limit,
        "as_of": settings.as_of.isoformat() if settings.as_of else "",
        "plans_file": str(settings.plans_file) if settings.plans_file else "",
        "landing_dir": str(settings.landing_dir) if settings.landing_dir else "",
    }
    return json.dumps(values, sort_keys=True)


def parse_project(settings: Settings | None = None) -> None:
    """`dbt parse`: writes target/manifest.json from the current models (with the vars of
    `settings`, when given, so the next build of the same settings parses partially)."""
    args = [str(DBT_EXECUTABLE), "parse", "--quiet"]
    if settings is not None:
        args += ["--vars", dbt_vars(settings)]
    subprocess.run(args, cwd=DBT_PROJECT_DIR, check=True)


def prune_run_targets(keep: int = KEEP_RUN_TARGETS) -> None:
    if not DBT_TARGET_DIR.is_dir():
        return
    run_dirs = sorted(
        (p for p in DBT_TARGET_DIR.iterdir() if p.is_dir() and (p / "manifest.json").exists()),
        key=lambda p: p.stat().st_mtime,
    )
    for stale in run_dirs[:-keep] if keep else run_dirs:
        shutil.rmtree(stale, ignore_errors=True)


def keep_parse_state(run_target: Path) -> None:
    """Keep a finished build's partial-parse state for the next build.

    dagster-dbt gives every build a fresh target folder seeded with target/partial_parse.msgpack.
    dbt reparses the whole project when the vars or profile differ from that state's (another
    warehouse path, a new as-of date: ~10 s more), so a run whose settings differ from the last
    `dbt parse` would pay it on every build. Swapped in with a rename: readers see one or the other.
    """
    state = run_target / "partial_parse.msgpack"
    if not state.is_file():
        return
    staged = DBT_TARGET_DIR / f".partial_parse.{os.getpid()}.msgpack"
    shutil.copyfile(state, staged)
    os.replace(staged, DBT_TARGET_DIR / "partial_parse.msgpack")


def release_dbt_duckdb_connection() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process.

    dagster-dbt fetches row counts and column types through the dbt adapter in this process;
    dbt-duckdb then keeps the file open (with its own settings) until the process ends, which
    would hold the writer lock and refuse the next step's connection ("different
    configuration"). Closing it here hands the file back.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        environment = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
        if environment is not None:
            environment.close()


def parse_for_make() -> None:
    """`make dbt_project/target/manifest.json`: parse with the run's vars; with a bad setting,
    parse without them and leave the one-line error to the `apiwh` command that follows."""
    try:
        settings = load_settings()
    except SettingsError:
        settings = None
    parse_project(settings)


if __name__ == "__main__":
    parse_for_make()
