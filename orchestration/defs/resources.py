"""The resources assets and ops receive: the warehouse, dbt and the alert sinks.

Settings reach them once, from orchestration/settings.py, when the definitions load; the Dagster
UI shows each field, and tests pass resources built from their own values. Secrets (the IP hash
salt when set, the webhook URL and secret) go in as `dg.EnvVar`, so the UI shows the variable's
name, never its value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource
from pydantic import Field

from orchestration.alerts.config import AlertSettings
from orchestration.alerts.sinks import Sink, build_sinks
from orchestration.dbt_cli import DBT_EXECUTABLE, dbt_vars
from orchestration.settings import (
    DBT_PROJECT_DIR,
    DEFAULT_IP_HASH_SALT,
    DEFAULT_MEMORY_LIMIT,
    Settings,
)
from orchestration.warehouse import connect


def _optional_path(text: str | None) -> Path | None:
    return Path(text) if text else None


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse a run writes, and the inputs it reads (docs/contract.md section 3)."""

    warehouse_path: str = Field(description="The live DuckDB file (WAREHOUSE_PATH).")
    raw_data_dir: str = Field(description="The landing folder of raw event files (RAW_DATA_DIR).")
    as_of: str | None = Field(default=None, description="The as-of date, YYYY-MM-DD (AS_OF).")
    ip_hash_salt: str = Field(default=DEFAULT_IP_HASH_SALT, description="Salt of network.ip hashes.")
    organizations_file: str | None = Field(default=None, description="ORGANIZATIONS_FILE (CSV).")
    plans_file: str | None = Field(default=None, description="The plan catalogue (PLANS_FILE).")
    duckdb_memory_limit: str = Field(default=DEFAULT_MEMORY_LIMIT, description="DUCKDB_MEMORY_LIMIT.")
    warehouse_engine: str = Field(default="duckdb", description="duckdb or spark (WAREHOUSE_ENGINE).")
    landing_dir: str | None = Field(
        default=None, description="Raw tables as Parquet, for Spark (LANDING_DIR)."
    )

    @classmethod
    def from_settings(cls, settings: Settings, *, salt_from_env: bool = False) -> WarehouseResource:
        return cls(
            warehouse_path=str(settings.warehouse_path),
            raw_data_dir=str(settings.raw_data_dir),
            as_of=settings.as_of.isoformat() if settings.as_of else None,
            ip_hash_salt=dg.EnvVar("IP_HASH_SALT") if salt_from_env else settings.ip_hash_salt,
            organizations_file=str(settings.organizations_file) if settings.organizations_file else None,
            plans_file=str(settings.plans_file) if settings.plans_file else None,
            duckdb_memory_limit=settings.duckdb_memory_limit,
            warehouse_engine=settings.warehouse_engine,
            landing_dir=str(settings.landing_dir) if settings.landing_dir else None,
        )

    @property
    def settings(self) -> Settings:
        return Settings(
            raw_data_dir=Path(self.raw_data_dir),
            warehouse_path=Path(self.warehouse_path),
            as_of=dt.date.fromisoformat(self.as_of) if self.as_of else None,
            ip_hash_salt=self.ip_hash_salt,
            organizations_file=_optional_path(self.organizations_file),
            plans_file=_optional_path(self.plans_file),
            duckdb_memory_limit=self.duckdb_memory_limit,
            warehouse_engine=self.warehouse_engine,
            landing_dir=_optional_path(self.landing_dir),
        )

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A writing connection to the live file, closed when the block ends (even on error)."""
        with connect(Path(self.warehouse_path), memory_limit=self.duckdb_memory_limit) as con:
            yield con

    @contextmanager
    def connect_snapshot(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection to the published snapshot (no lock on the live file)."""
        with connect(self.settings.snapshot_path, read_only=True) as con:
            yield con

    def dbt_vars(self) -> str:
        """This run's warehouse file, as-of date and plans, as dbt `--vars` (never os.environ)."""
        return dbt_vars(self.settings)


class AlertSinksResource(dg.ConfigurableResource):
    """Where alerts go (a JSON-lines file always, a webhook when set) and the retry policy."""

    jsonl_path: str = Field(description="The JSON-lines file sink (ALERT_FILE_PATH).")
    webhook_url: str | None = Field(default=None, description="ALERT_WEBHOOK_URL.")
    webhook_secret: str | None = Field(default=None, description="ALERT_WEBHOOK_SECRET (signs bodies).")
    webhook_format: str = Field(default="json", description="json or slack (ALERT_WEBHOOK_FORMAT).")
    timeout_seconds: float = Field(default=10.0, description="ALERT_WEBHOOK_TIMEOUT_SECONDS.")
    max_attempts: int = Field(default=8, description="Attempts before an alert is dead.")
    backoff_seconds: float = Field(default=60.0, description="First retry delay.")
    backoff_max_seconds: float = Field(default=3600.0, description="Longest retry delay.")

    @classmethod
    def from_settings(cls, alerts: AlertSettings, *, secrets_from_env: bool = False) -> AlertSinksResource:
        def secret(name: str, value: str | None) -> str | None:
            return dg.EnvVar(name) if secrets_from_env and value else value

        return cls(
            jsonl_path=str(alerts.jsonl_path),
            webhook_url=secret("ALERT_WEBHOOK_URL", alerts.webhook_url),
            webhook_secret=secret("ALERT_WEBHOOK_SECRET", alerts.webhook_secret),
            webhook_format=alerts.webhook_format,
            timeout_seconds=alerts.timeout_seconds,
            max_attempts=alerts.max_attempts,
            backoff_seconds=alerts.backoff_seconds,
            backoff_max_seconds=alerts.backoff_max_seconds,
        )

    @property
    def alert_settings(self) -> AlertSettings:
        return AlertSettings(
            jsonl_path=Path(self.jsonl_path),
            webhook_url=(self.webhook_url or "").strip() or None,
            webhook_secret=self.webhook_secret or None,
            webhook_format=self.webhook_format,
            timeout_seconds=self.timeout_seconds,
            max_attempts=self.max_attempts,
            backoff_seconds=self.backoff_seconds,
            backoff_max_seconds=self.backoff_max_seconds,
        )

    def sinks(self) -> list[Sink]:
        return build_sinks(self.alert_settings)


def dbt_resource() -> DbtCliResource:
    # dagster-dbt looks for `dbt` on PATH: hand it ours, which dies with the run (dbt_child.py).
    return DbtCliResource(project_dir=str(DBT_PROJECT_DIR), dbt_executable=str(DBT_EXECUTABLE))


def build_resources(
    settings: Settings, alerts: AlertSettings, *, secrets_from_env: bool = False
) -> dict[str, dg.ConfigurableResource]:
    """The resources every asset, op and sensor of the location uses, keyed as they ask for them.

    `secrets_from_env`: the code location (settings came from the environment) passes the
    secrets as EnvVar; tests pass plain values.
    """
    salt_from_env = secrets_from_env and settings.ip_hash_salt != DEFAULT_IP_HASH_SALT
    return {
        "warehouse": WarehouseResource.from_settings(settings, salt_from_env=salt_from_env),
        "dbt": dbt_resource(),
        "alert_sinks": AlertSinksResource.from_settings(alerts, secrets_from_env=secrets_from_env),
    }
