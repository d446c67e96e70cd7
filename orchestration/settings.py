"""Runtime settings, read from the environment when asked (never at import time).

docs/contract.md section 3 names the variables; defaults make `make run` work from a fresh clone.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from orchestration.errors import UsageError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

# Documented default so a fresh clone works; production sets its own (README "Privacy").
DEFAULT_IP_HASH_SALT = "api-usage-warehouse-default-salt"


class SettingsError(UsageError, ValueError):
    """A setting from the environment is unusable; the message says which and why."""


@dataclass(frozen=True)
class Settings:
    raw_data_dir: Path
    warehouse_path: Path
    as_of: dt.date | None
    ip_hash_salt: str
    # Optional CSV organization_id, display_name, primary_contact_email (docs/contract.md section 3).
    organizations_file: Path | None = None
    # Optional plan catalogue CSV (docs/contract.md section 2b); None prices nothing.
    plans_file: Path | None = None
    # Where dbt builds the models: duckdb (the warehouse file) or spark (README "Scaling out").
    warehouse_engine: str = "duckdb"
    # The raw tables as Parquet, for Spark (orchestration/loading/landing.py); env LANDING_DIR.
    landing_dir: Path | None = None

    @property
    def dbt_target(self) -> str:
        """The profile target of the engine (dbt_project/profiles.yml)."""
        return "spark" if self.warehouse_engine == "spark" else "local"

    @property
    def data_dir(self) -> Path:
        return self.warehouse_path.parent

    @property
    def snapshot_path(self) -> Path:
        """Published copy of the marts that readers (CLI, analysts) open, never the live file."""
        return self.data_dir / "published" / "warehouse.duckdb"

    @property
    def dashboard_dir(self) -> Path:
        """The static dashboard the pipeline regenerates after each refresh."""
        return self.data_dir / "dashboard"


def _path_from_env(name: str, default: Path) -> Path:
    value = os.environ.get(name, "").strip()
    path = Path(value) if value else default
    if not path.is_absolute():
        path = Path.cwd() / path
    return path


def load_settings() -> Settings:
    as_of_text = os.environ.get("AS_OF", "").strip()
    as_of = None
    if as_of_text:
        try:
            as_of = dt.date.fromisoformat(as_of_text)
        except ValueError as exc:
            raise SettingsError(f"AS_OF must be a date as YYYY-MM-DD, got {as_of_text!r}") from exc
    warehouse_path = _path_from_env("WAREHOUSE_PATH", PROJECT_ROOT / "data" / "warehouse.duckdb")
    if warehouse_path.name != "warehouse.duckdb":
        # dbt names the database after the file stem; another stem breaks relation names.
        raise SettingsError(
            f"WAREHOUSE_PATH must be a file named warehouse.duckdb, got {warehouse_path.name!r}: "
            "dbt takes the database name from the file name and the parsed project (manifest) "
            f"expects 'warehouse'; put the file in the folder you want instead ({warehouse_path.parent}"
            "/warehouse.duckdb)"
        )
    plans_file = None
    if os.environ.get("PLANS_FILE", "").strip():
        plans_file = _path_from_env("PLANS_FILE", PROJECT_ROOT)
        if not plans_file.is_file():
            raise SettingsError(f"PLANS_FILE {plans_file}: no such file")
    return Settings(
        raw_data_dir=_path_from_env("RAW_DATA_DIR", PROJECT_ROOT / "seeds"),
        warehouse_path=warehouse_path,
        as_of=as_of,
        ip_hash_salt=os.environ.get("IP_HASH_SALT", DEFAULT_IP_HASH_SALT),
        organizations_file=(
            _path_from_env("ORGANIZATIONS_FILE", PROJECT_ROOT)
            if os.environ.get("ORGANIZATIONS_FILE", "").strip()
            else None
        ),
        plans_file=plans_file,
        warehouse_engine=_engine_from_env(),
        landing_dir=_path_from_env("LANDING_DIR", warehouse_path.parent / "landing"),
    )


WAREHOUSE_ENGINES = ("duckdb", "spark")
# What the DuckDB-reading steps say when the models are built on Spark.
NEEDS_DUCKDB_MARTS = (
    "reads the marts from the DuckDB warehouse file; with WAREHOUSE_ENGINE=spark the marts live in "
    "Spark's catalogue (schema marts): point this step at them or copy them to DuckDB first"
)


def _engine_from_env() -> str:
    engine = os.environ.get("WAREHOUSE_ENGINE", "").strip().lower() or "duckdb"
    if engine not in WAREHOUSE_ENGINES:
        raise SettingsError(f"WAREHOUSE_ENGINE must be one of {', '.join(WAREHOUSE_ENGINES)}, got {engine!r}")
    return engine
