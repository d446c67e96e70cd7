"""The dbt project as dagster-dbt sees it. Built when the definitions load, never at import
(DbtProject reads dbt_project.yml and the environment when constructed)."""

from __future__ import annotations

from orchestration.dbt_cli import MANIFEST_PATH, dbt_vars
from orchestration.defs.dagster_dbt_api import DbtProject
from orchestration.errors import UsageError
from orchestration.settings import DBT_PROJECT_DIR, Settings


def warehouse_dbt_project(settings: Settings) -> DbtProject:
    # Parsed with the vars the runs pass, so their builds parse partially (orchestration/dbt_cli.py).
    return DbtProject(
        project_dir=DBT_PROJECT_DIR,
        prepare_project_cli_args=["parse", "--quiet", "--vars", dbt_vars(settings)],
    )


def prepared_manifest(settings: Settings) -> str:
    """The manifest the dbt assets are built from: re-parsed under `dagster dev` (prepare_if_dev),
    otherwise the one `make` or `apiwh run` wrote; never parsed here behind the user's back."""
    project = warehouse_dbt_project(settings)
    project.prepare_if_dev()
    if not project.manifest_path.exists():
        raise UsageError(
            f"no dbt manifest at {MANIFEST_PATH}: run `make dbt_project/target/manifest.json` "
            "(or `apiwh run`, which parses the project first)"
        )
    return str(project.manifest_path)
