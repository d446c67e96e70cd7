"""The resources assets and ops receive: the warehouse, dbt and the alert sinks.

Settings reach them once, from orchestration/settings.py, when the definitions load. The warehouse
resource's fields are generated from the Settings dataclass, so a new setting needs no edit here;
the Dagster UI shows each field, and tests pass resources built from their own values. Secrets
(the IP hash salt when set, the webhook URL and secret) go in as `dg.EnvVar`, so the UI shows the
variable's name, never its value.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

import dagster as dg
import duckdb
from pydantic import Field, create_model

from orchestration.alerts.config import AlertSettings
from orchestration.alerts.sinks import Sink, build_sinks
from orchestration.dbt_cli import DBT_EXECUTABLE, dbt_vars
from orchestration.defs.dagster_dbt_api import DbtCliResource
from orchestration.settings import (
    DBT_PROJECT_DIR,
    DEFAULT_IP_HASH_SALT,
    Settings,
    ip_hash_salt_is_a_variable,
)
from orchestration.warehouse import connect

# Dagster config holds plain values: these Settings types travel as text and come back typed.
_AS_TEXT: dict[type, tuple[Callable[[Any], str], Callable[[str], Any]]] = {
    Path: (str, Path),
    dt.date: (dt.date.isoformat, dt.date.fromisoformat),
}
_PLAIN = (str, int, float, bool)


def _value_kind(hint: Any) -> tuple[type, bool]:
    """The one type a Settings field holds, and whether it may be None."""
    members = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    kinds = [member for member in members if member is not type(None)]
    if len(kinds) != 1 or kinds[0] not in (*_AS_TEXT, *_PLAIN):
        raise TypeError(f"Settings field type {hint} has no Dagster config form: add it to _AS_TEXT")
    return kinds[0], len(kinds) < len(members)


# Every Settings field, with the type it holds: the resource below has exactly these fields.
_SETTING_KINDS = {name: _value_kind(hint)[0] for name, hint in typing.get_type_hints(Settings).items()}


def _to_config(kind: type, value: Any) -> Any:
    return value if value is None or kind not in _AS_TEXT else _AS_TEXT[kind][0](value)


def _from_config(kind: type, value: Any) -> Any:
    return value if value is None or kind not in _AS_TEXT else _AS_TEXT[kind][1](value)


def _config_fields() -> dict[str, Any]:
    """One config field per Settings field, its default the dataclass's (required when it has none)."""
    hints = typing.get_type_hints(Settings)
    config_fields: dict[str, Any] = {}
    for setting in dataclasses.fields(Settings):
        kind, optional = _value_kind(hints[setting.name])
        config_type: Any = str if kind in _AS_TEXT else kind
        default = ... if setting.default is dataclasses.MISSING else _to_config(kind, setting.default)
        config_fields[setting.name] = (
            config_type | None if optional else config_type,
            Field(default=default, description=f"{setting.name.upper()} (orchestration/settings.py)"),
        )
    return config_fields


class _WarehouseResourceBase(dg.ConfigurableResource):
    """What the warehouse resource does; its fields, one per Settings field, are added below."""

    @classmethod
    def from_settings(cls, settings: Settings, *, salt_from_env: bool = False) -> Self:
        values = {name: _to_config(kind, getattr(settings, name)) for name, kind in _SETTING_KINDS.items()}
        if salt_from_env:
            # The UI shows the variable's name; the run reads its value.
            values["ip_hash_salt"] = dg.EnvVar("IP_HASH_SALT")
        return cls(**values)

    @property
    def settings(self) -> Settings:
        return Settings(
            **{name: _from_config(kind, getattr(self, name)) for name, kind in _SETTING_KINDS.items()}
        )

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A writing connection to the live file, closed when the block ends (even on error)."""
        settings = self.settings
        with connect(settings.warehouse_path, memory_limit=settings.duckdb_memory_limit) as con:
            yield con

    @contextmanager
    def connect_snapshot(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection to the published snapshot (no lock on the live file)."""
        with connect(self.settings.snapshot_path, read_only=True) as con:
            yield con

    def dbt_vars(self) -> str:
        """This run's warehouse file, as-of date and plans, as dbt `--vars` (never os.environ)."""
        return dbt_vars(self.settings)


# Built from Settings' fields, so a new setting reaches every asset with no edit here.
WarehouseResource = create_model(
    "WarehouseResource",
    __base__=_WarehouseResourceBase,
    __module__=__name__,
    __doc__="The DuckDB warehouse a run writes, and the inputs it reads (docs/contract.md section 3).",
    **_config_fields(),
)


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


class WarehouseDbtCliResource(DbtCliResource):
    """dagster-dbt's resource without the dbt adapter it opens in the run's own process.

    dagster-dbt opens one only to query the warehouse after dbt exits (row counts, column
    types), and on DuckDB to hold the events back until dbt frees the file. Opening it loads
    dbt's project, profile and macros a second time: about 1.5 CPU seconds a run, and dbt-duckdb
    then keeps the file open. The assets count rows over their own connection instead
    (orchestration/defs/dbt.py), so dbt's only process is its own.
    """

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None


def dbt_resource() -> DbtCliResource:
    # dagster-dbt looks for `dbt` on PATH: hand it ours, which dies with the run (dbt_child.py).
    return WarehouseDbtCliResource(project_dir=str(DBT_PROJECT_DIR), dbt_executable=str(DBT_EXECUTABLE))


def build_resources(
    settings: Settings, alerts: AlertSettings, *, secrets_from_env: bool = False
) -> dict[str, dg.ConfigurableResource]:
    """The resources every asset, op and sensor of the location uses, keyed as they ask for them.

    `secrets_from_env`: the code location (settings came from the environment) passes the
    secrets as EnvVar; tests pass plain values.
    """
    # An EnvVar only when the variable is set: the salt may come from the checkout's
    # .ip-hash-salt file instead (orchestration/settings.py), which `apiwh dev` exports.
    salt_from_env = (
        secrets_from_env and settings.ip_hash_salt != DEFAULT_IP_HASH_SALT and ip_hash_salt_is_a_variable()
    )
    return {
        "warehouse": WarehouseResource.from_settings(settings, salt_from_env=salt_from_env),
        "dbt": dbt_resource(),
        "alert_sinks": AlertSinksResource.from_settings(alerts, secrets_from_env=secrets_from_env),
    }
