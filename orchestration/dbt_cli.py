"""Running dbt from this project: the executable, `dbt parse`, and the per-run target folders.

No Dagster here: the CLI and the tests parse the project without loading the code location;
orchestration/defs/dbt_project.py wraps the same folder as dagster-dbt's DbtProject.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

from orchestration.dbt_child import portable_vars
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


# dbt reparses the whole project (about 3 CPU seconds more) when the vars or the profile differ
# from its saved state's: a new as-of date, another price list (another warehouse folder no
# longer: dbt_child.portable_vars). One state is kept per set of vars and target, so runs that
# alternate between settings (tests side by side, a replay, an AS_OF run between daily ones)
# each find their own.
PARSE_STATES_DIR = DBT_TARGET_DIR / "parse_states"
KEEP_PARSE_STATES = 16
PARTIAL_PARSE_FILE = "partial_parse.msgpack"


def parse_state_path(dbt_vars_json: str, target: str) -> Path:
    # Keyed as dbt sees the vars: relative to the warehouse's folder (dbt_child.portable_vars).
    portable = portable_vars(dbt_vars_json, target)[1]
    digest = hashlib.sha256(f"{target}\0{portable}".encode()).hexdigest()[:16]
    return PARSE_STATES_DIR / f"{digest}.msgpack"


def new_run_target(name: str, state: Path) -> Path:
    """A fresh target folder for one build, seeded with `state` when a build with the same vars
    kept one. dagster-dbt then leaves it alone (it copies target/partial_parse.msgpack, the last
    `dbt parse`, only into a folder without one)."""
    run_target = DBT_TARGET_DIR / f"{name}-{uuid.uuid4().hex[:7]}"
    run_target.mkdir(parents=True)
    if state.is_file():
        shutil.copyfile(state, run_target / PARTIAL_PARSE_FILE)
    return run_target


def keep_parse_state(run_target: Path, state: Path) -> None:
    """Keep a finished build's parse state for the next build with the same vars. Swapped in with
    a rename, so a build starting meanwhile reads the old state or the new one, never half."""
    built = run_target / PARTIAL_PARSE_FILE
    if not built.is_file():
        return
    state.parent.mkdir(parents=True, exist_ok=True)
    staged = state.with_name(f".{state.name}.{os.getpid()}")
    shutil.copyfile(built, staged)
    os.replace(staged, state)
    kept = sorted(state.parent.glob("*.msgpack"), key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in kept[KEEP_PARSE_STATES:]:
        stale.unlink(missing_ok=True)


def release_dbt_duckdb_connection() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process.

    dbt run in-process (dbtRunner: `apiwh alerts replay`) leaves dbt-duckdb holding the file,
    with its own settings, until the process ends: it would hold the writer lock and refuse
    the next connection ("different configuration"). Closing it here hands the file back.
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
