"""The dbt project as Dagster sees it. Importable without a manifest (docs/design.md)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.settings import DBT_PROJECT_DIR

# dagster-dbt looks for `dbt` on PATH; the one beside this interpreter is the one we installed.
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"

warehouse_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR)

# dagster-dbt writes one target/ sub-folder per run and never removes them.
KEEP_RUN_TARGETS = 5


def ensure_manifest() -> Path:
    """Parse the dbt project once when no manifest exists yet (a fresh clone).

    `dagster dev` re-parses on its own (prepare_if_dev); this covers `dagster job execute`
    and tests on a checkout where `dbt parse` has not run.
    """
    if not warehouse_dbt_project.manifest_path.exists():
        parse_project()
    return warehouse_dbt_project.manifest_path


def parse_project() -> None:
    """`dbt parse`: writes target/manifest.json from the current models."""
    subprocess.run([str(DBT_EXECUTABLE), "parse", "--quiet"], cwd=DBT_PROJECT_DIR, check=True)


def prune_run_targets(keep: int = KEEP_RUN_TARGETS) -> None:
    target = warehouse_dbt_project.project_dir / warehouse_dbt_project.target_path
    if not target.is_dir():
        return
    run_dirs = sorted(
        (p for p in target.iterdir() if p.is_dir() and (p / "manifest.json").exists()),
        key=lambda p: p.stat().st_mtime,
    )
    for stale in run_dirs[:-keep] if keep else run_dirs:
        shutil.rmtree(stale, ignore_errors=True)


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
