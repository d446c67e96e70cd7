"""Runtime settings: the one module that reads the environment, when asked (never at import time).

docs/contract.md section 3 names the variables; defaults make `make run` work from a fresh clone.
The CLI reads them once per command; the Dagster code location once per load, and hands them to
assets and ops as resources (orchestration/defs/resources.py), so nothing else reads os.environ.
A new setting takes two edits: a Settings field and its reading in load_settings; the warehouse
resource is generated from the fields (tests/unit/test_settings_reach_assets.py checks it).
"""

from __future__ import annotations

import dataclasses
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
# A landed file changed this recently may still be being written: it waits for a later run.
# The bundled sample is complete as committed: nothing to wait for (reads_the_sample).
DEFAULT_LANDING_SETTLE_SECONDS = 60.0
# The bundled sample and its plan catalogue: what a bare `apiwh run` (and `make run`) read.
SAMPLE_DIR = PROJECT_ROOT / "seeds"
SAMPLE_PLANS_FILE = SAMPLE_DIR / "plans.csv"
SAMPLE_ORGANIZATIONS_FILE = SAMPLE_DIR / "organizations.csv"
# Past either, a landed file is rejected whole, read no further (orchestration/loading/limits.py);
# a daily file of the 100M-event benchmark is 1.1M lines, about 0.7 GB.
DEFAULT_MAX_DECOMPRESSED_BYTES = 4 * 1024**3
DEFAULT_MAX_LINES = 50_000_000
# How long a run waits for a live run that holds the DuckDB writer (orchestration/run_recovery.py);
# a full refresh of 100M events takes about half an hour here.
DEFAULT_REFRESH_WAIT_SECONDS = 3600.0
# The longest window a model reads calls over, ending on the as-of date (customer_endpoint_30d,
# customer_usage_summary, platform_window_usage): raw retention keeps at least these days, so
# every window stays whole.
MIN_RAW_RETENTION_DAYS = 30


class SettingsError(UsageError, ValueError):
    """A setting from the environment is unusable; the message says which and why."""


@dataclass(frozen=True)
class Settings:
    raw_data_dir: Path
    warehouse_path: Path
    as_of: dt.date | None = None
    # load_settings' default too when IP_HASH_SALT is unset (ip_salt_warning flags it).
    ip_hash_salt: str = DEFAULT_IP_HASH_SALT
    # Optional CSV organization_id, display_name, primary_contact_email (docs/contract.md section 3).
    organizations_file: Path | None = None
    # Optional plan catalogue CSV (docs/contract.md section 2b); None prices nothing.
    plans_file: Path | None = None
    duckdb_memory_limit: str = DEFAULT_MEMORY_LIMIT
    # Where dbt builds the models: duckdb (the warehouse file) or spark (docs/scaling.md).
    warehouse_engine: str = "duckdb"
    # The raw tables as Parquet, for Spark (orchestration/loading/landing.py); env LANDING_DIR.
    landing_dir: Path | None = None
    # Files modified within this many seconds are left for the next run: LANDING_SETTLE_SECONDS,
    # 60 s when unset; 0 here, like load_directory, for code that builds Settings itself.
    landing_settle_seconds: float = 0.0
    # Past either, a file is rejected whole (MAX_FILE_DECOMPRESSED_BYTES, MAX_FILE_LINES).
    max_file_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES
    max_file_lines: int = DEFAULT_MAX_LINES
    # REFRESH_WAIT_SECONDS: a run waiting for another live run's writer slot gives up after this.
    refresh_wait_seconds: float = DEFAULT_REFRESH_WAIT_SECONDS
    # Retention per field class (docs/governance.md): the days, ending on the as-of date, whose
    # call payloads (RAW_RETENTION_DAYS) and IP hashes (IP_HASH_RETENTION_DAYS) are kept; None
    # keeps them until erased.
    raw_retention_days: int | None = None
    ip_hash_retention_days: int | None = None

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


def ip_salt_warning(settings: Settings) -> str | None:
    """The one verdict on a weak salt: the public default or none at all lets anyone reverse the
    IPv4 hashes by trying all 2^32 addresses (README "Privacy"). None when the salt is secret."""
    if settings.ip_hash_salt == DEFAULT_IP_HASH_SALT:
        what = "the public default"
    elif not settings.ip_hash_salt.strip():
        what = "empty"
    else:
        return None
    return (
        f"IP_HASH_SALT is {what}: client IP hashes can be reversed by brute force; "
        "set a secret salt (README Privacy)"
    )


# `make run` writes the checkout's secret salt here (Makefile); a bare `apiwh run` uses it too,
# so one warehouse never mixes hashes of two salts.
CHECKOUT_SALT_FILE = PROJECT_ROOT / ".ip-hash-salt"


def ip_hash_salt_is_a_variable() -> bool:
    """Whether the salt came from IP_HASH_SALT (not the checkout's file or the default)."""
    return "IP_HASH_SALT" in os.environ


def _ip_hash_salt() -> str:
    if "IP_HASH_SALT" in os.environ:
        return os.environ["IP_HASH_SALT"]
    try:
        return CHECKOUT_SALT_FILE.read_text().strip() or DEFAULT_IP_HASH_SALT
    except OSError:
        return DEFAULT_IP_HASH_SALT


def _path_from_env(name: str, default: Path) -> Path:
    value = os.environ.get(name, "").strip()
    path = Path(value) if value else default
    if not path.is_absolute():
        path = Path.cwd() / path
    return path


def raw_data_dir_setting() -> Path:
    """RAW_DATA_DIR, else the sample in seeds/: where new raw files are read from."""
    return _path_from_env("RAW_DATA_DIR", SAMPLE_DIR)


def reads_the_sample(raw_data_dir: Path) -> bool:
    return raw_data_dir.resolve() == SAMPLE_DIR.resolve()


def _organizations_file(raw_data_dir: Path) -> Path | None:
    """ORGANIZATIONS_FILE; set but empty, none; unset, the sample's names and contacts for the
    sample (so its pages and notes show names, as a real deployment's do) and none for other data."""
    if not os.environ.get("ORGANIZATIONS_FILE", "").strip():
        sample = "ORGANIZATIONS_FILE" not in os.environ and reads_the_sample(raw_data_dir)
        return SAMPLE_ORGANIZATIONS_FILE if sample else None
    return _path_from_env("ORGANIZATIONS_FILE", PROJECT_ROOT)


def _plans_file(raw_data_dir: Path) -> Path | None:
    """PLANS_FILE; set but empty, no catalogue; unset, the sample's catalogue for the sample
    (so `apiwh run` and `make run` price it the same) and none for other data."""
    if "PLANS_FILE" not in os.environ:
        return SAMPLE_PLANS_FILE if reads_the_sample(raw_data_dir) else None
    if not os.environ["PLANS_FILE"].strip():
        return None
    plans_file = _path_from_env("PLANS_FILE", PROJECT_ROOT)
    if not plans_file.is_file():
        raise SettingsError(f"PLANS_FILE {plans_file}: no such file")
    return plans_file


def prices_off_reason(settings: Settings) -> str | None:
    """Why the run has no plan catalogue (None when it has one), for the run summary."""
    if settings.plans_file is not None:
        return None
    effect = "upgrade_opportunities is empty and quota_outlook has no next plan or prices"
    if "PLANS_FILE" in os.environ:
        return f"PLANS_FILE is set empty: {effect}"
    return f"PLANS_FILE is not set for this data: {effect} (seeds/plans.csv shows the format)"


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
    raw_data_dir = raw_data_dir_setting()
    settle_default = 0.0 if reads_the_sample(raw_data_dir) else DEFAULT_LANDING_SETTLE_SECONDS
    settings = Settings(
        raw_data_dir=raw_data_dir,
        warehouse_path=warehouse_path,
        as_of=as_of,
        ip_hash_salt=_ip_hash_salt(),
        organizations_file=_organizations_file(raw_data_dir),
        plans_file=_plans_file(raw_data_dir),
        warehouse_engine=_engine_from_env(),
        landing_dir=_path_from_env("LANDING_DIR", warehouse_path.parent / "landing"),
        duckdb_memory_limit=os.environ.get("DUCKDB_MEMORY_LIMIT", "").strip() or DEFAULT_MEMORY_LIMIT,
        landing_settle_seconds=_number("LANDING_SETTLE_SECONDS", settle_default, minimum=0),
        max_file_decompressed_bytes=int(
            _number("MAX_FILE_DECOMPRESSED_BYTES", DEFAULT_MAX_DECOMPRESSED_BYTES, minimum=1, integer=True)
        ),
        max_file_lines=int(_number("MAX_FILE_LINES", DEFAULT_MAX_LINES, minimum=1, integer=True)),
        refresh_wait_seconds=_number("REFRESH_WAIT_SECONDS", DEFAULT_REFRESH_WAIT_SECONDS, minimum=0),
        raw_retention_days=_retention_days(
            "RAW_RETENTION_DAYS", MIN_RAW_RETENTION_DAYS, "the 30-day marts read the calls of 30 days"
        ),
        # The key-sharing alert reads the as-of date's hashes; every other IP figure is per day.
        ip_hash_retention_days=_retention_days("IP_HASH_RETENTION_DAYS", 1, "the as-of date is kept"),
    )
    retained = settings.raw_retention_days is not None or settings.ip_hash_retention_days is not None
    if retained and settings.warehouse_engine == "spark":
        raise SettingsError(
            "RAW_RETENTION_DAYS and IP_HASH_RETENTION_DAYS apply to the DuckDB warehouse only: with "
            "WAREHOUSE_ENGINE=spark the staged calls live in Spark's catalogue, which they do not prune"
        )
    return settings


def _retention_days(name: str, minimum: int, why: str) -> int | None:
    """A retention setting in days: unset or empty keeps everything."""
    if not os.environ.get(name, "").strip():
        return None
    days = int(_number(name, 0, minimum=0, integer=True))
    if days < minimum:
        raise SettingsError(f"{name} must be at least {minimum} ({why}), got {days}")
    return days


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


def with_alert_routes(alerts: AlertSettings) -> AlertSettings:
    """`alerts` with ALERT_ROUTES_FILE read and checked, with the variables its destinations name
    and the SMTP_* settings (unchanged when unset). Read when delivery starts and by `apiwh run`
    and `apiwh deliver` before any work; a bad file raises RoutesFileError, one line naming the
    file and the line (orchestration/alerts/routes.py)."""
    text = os.environ.get("ALERT_ROUTES_FILE", "").strip()
    if not text:
        return alerts
    from orchestration.alerts.routes import load_routes  # the destinations' modules, only when used

    path = Path(text) if Path(text).is_absolute() else Path.cwd() / text
    routes = load_routes(
        path,
        environ=os.environ,
        has_webhook=alerts.webhook_url is not None,
        timeout_seconds=alerts.timeout_seconds,
        shown_as=text,
    )
    return dataclasses.replace(alerts, routes=routes)


def debug_enabled() -> bool:
    """APIWH_DEBUG set: the CLI shows tracebacks instead of one-line errors."""
    return bool(os.environ.get("APIWH_DEBUG"))


def dagster_home_setting() -> Path:
    """DAGSTER_HOME, else .dagster/ in the project (as `make` sets it)."""
    return Path(os.environ.get("DAGSTER_HOME") or PROJECT_ROOT / ".dagster")


def user_cache_dir() -> Path:
    """This user's cache of what the warehouse can make again (XDG_CACHE_HOME, else ~/.cache)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "api-usage-warehouse"


def environment_with(**overrides: str) -> dict[str, str]:
    """This process's environment plus `overrides`, for a child process (os.environ untouched)."""
    return {**os.environ, **overrides}
