"""Runtime settings: the one module that reads the environment, when asked (never at import time).

docs/contract.md section 3 names the variables; defaults make `make run` work from a fresh clone.
The CLI reads them once per command; the Dagster code location once per load, and hands them to
assets and ops as resources (orchestration/defs/resources.py), so nothing else reads os.environ.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from orchestration.alerts.config import (
    ALERTS_FILE_NAME,
    DEFAULT_BACKOFF_MAX_SECONDS,
    DEFAULT_BACKOFF_SECONDS,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_TIMEOUT_SECONDS,
    WEBHOOK_FORMATS,
    AlertSettings,
)
from orchestration.errors import UsageError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

# Documented default so a fresh clone works; production sets its own (README "Privacy").
DEFAULT_IP_HASH_SALT = "api-usage-warehouse-default-salt"
# Bounded memory on big loads: DuckDB spills to <file>.tmp/ past this (default: 80% of RAM).
DEFAULT_MEMORY_LIMIT = "2GB"


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
    duckdb_memory_limit: str = DEFAULT_MEMORY_LIMIT
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


def raw_data_dir_setting() -> Path:
    """RAW_DATA_DIR, else the sample in seeds/: where new raw files are read from."""
    return _path_from_env("RAW_DATA_DIR", PROJECT_ROOT / "seeds")


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
        raw_data_dir=raw_data_dir_setting(),
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
        duckdb_memory_limit=os.environ.get("DUCKDB_MEMORY_LIMIT", "").strip() or DEFAULT_MEMORY_LIMIT,
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


def _number(name: str, default: float, *, minimum: float, integer: bool = False) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text) if integer else float(text)
    except ValueError as exc:
        kind = "an integer" if integer else "a number"
        raise SettingsError(f"{name} must be {kind}, got {text!r}") from exc
    if value < minimum:
        raise SettingsError(f"{name} must be >= {minimum}, got {text!r}")
    return value


def load_alert_settings(settings: Settings) -> AlertSettings:
    """Sinks and retry policy from the environment; the JSON-lines file defaults to
    <warehouse dir>/alerts.jsonl (ALERT_FILE_PATH overrides it)."""
    file_text = os.environ.get("ALERT_FILE_PATH", "").strip()
    jsonl_path = Path(file_text) if file_text else settings.data_dir / ALERTS_FILE_NAME
    if not jsonl_path.is_absolute():
        jsonl_path = Path.cwd() / jsonl_path
    url = os.environ.get("ALERT_WEBHOOK_URL", "").strip() or None
    if url is not None and not url.lower().startswith(("http://", "https://")):
        raise SettingsError("ALERT_WEBHOOK_URL must be an http:// or https:// URL")
    webhook_format = os.environ.get("ALERT_WEBHOOK_FORMAT", "").strip().lower() or "json"
    if webhook_format not in WEBHOOK_FORMATS:
        raise SettingsError(
            f"ALERT_WEBHOOK_FORMAT must be one of {', '.join(WEBHOOK_FORMATS)}, got {webhook_format!r}"
        )
    backoff = _number("ALERT_BACKOFF_SECONDS", DEFAULT_BACKOFF_SECONDS, minimum=0)
    return AlertSettings(
        jsonl_path=jsonl_path,
        webhook_url=url,
        webhook_secret=os.environ.get("ALERT_WEBHOOK_SECRET") or None,
        webhook_format=webhook_format,
        timeout_seconds=_number("ALERT_WEBHOOK_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS, minimum=0.001),
        max_attempts=int(_number("ALERT_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS, minimum=1, integer=True)),
        backoff_seconds=backoff,
        backoff_max_seconds=max(
            backoff,
            _number("ALERT_BACKOFF_MAX_SECONDS", DEFAULT_BACKOFF_MAX_SECONDS, minimum=0),
        ),
    )


def debug_enabled() -> bool:
    """APIWH_DEBUG set: the CLI shows tracebacks instead of one-line errors."""
    return bool(os.environ.get("APIWH_DEBUG"))


def dagster_home_setting() -> Path:
    """DAGSTER_HOME, else .dagster/ in the project (as `make` sets it)."""
    return Path(os.environ.get("DAGSTER_HOME") or PROJECT_ROOT / ".dagster")


def environment_with(**overrides: str) -> dict[str, str]:
    """This process's environment plus `overrides`, for a child process (os.environ untouched)."""
    return {**os.environ, **overrides}
