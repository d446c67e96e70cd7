"""What the generator builds (organizations, keys, events) and what it reports back."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from orchestration.sample_data.catalogue import Endpoint


@dataclass(frozen=True)
class FileSummary:
    """One written file: `records` are lines/rows holding a valid event (redeliveries included)."""

    path: str  # relative to out_dir, with forward slashes
    file_format: str  # ndjson.gz, ndjson, jsonl, parquet
    records: int
    malformed_lines: int
    blank_lines: int
    size_bytes: int

    @property
    def lines(self) -> int:
        return self.records + self.malformed_lines + self.blank_lines


@dataclass(frozen=True)
class PlantedSignals:
    """Who each planted reliability signal belongs to (None: the sample is too small for it)."""

    degraded_route: str
    degraded_method: str
    spike_route: str
    usage_spike_org: str | None
    usage_spike_key: str | None
    key_sharing_org: str | None
    key_sharing_key: str | None
    failing_org: str | None


@dataclass(frozen=True)
class GenerationSummary:
    out_dir: Path
    orgs: int
    days: int
    seed: int
    start_date: date
    end_date: date
    files: tuple[FileSummary, ...]
    # Distinct valid events (unique event_id) per event_type, unknown types included.
    events_by_type: dict[str, int]
    redelivered_duplicates: int  # extra copies written (same event_id, identical payload)
    client_retries: int  # api_request events repeating an earlier idempotency_key
    malformed_lines: int
    blank_lines: int
    malformed_reasons: dict[str, int] = field(default_factory=dict)
    planted: PlantedSignals | None = None

    @property
    def total_events(self) -> int:
        return sum(self.events_by_type.values())

    @property
    def total_records(self) -> int:
        return sum(f.records for f in self.files)

    @property
    def total_bytes(self) -> int:
        return sum(f.size_bytes for f in self.files)

    @property
    def files_by_format(self) -> dict[str, int]:
        return dict(sorted(Counter(f.file_format for f in self.files).items()))


@dataclass
class Key:
    key_id: str
    org: Org
    developer_id: str
    application_id: str
    role: str  # primary, secondary, trial, abandoned, buggy, dead, legacy
    issued_at: datetime | None  # None: issued before the data starts (no key_issued event)
    first_call_at: datetime | None = None
    revoked_at: datetime | None = None
    weight: float = 1.0
    initial_errors: int = 0
    calls_made: int = 0
    sdk_version: str | None = None
    user_agent: str | None = None


@dataclass
class Org:
    index: int
    org_id: str
    plan: str
    trend: str
    signup_day: int
    active_until: int  # first day index without calls (days for active organizations)
    base_calls: float
    error_rate: float
    country: str
    region: str
    local_offset: int
    city: str
    time_style: str
    ips: list[str]
    hour_cum_weights: list[float]
    endpoints: list[Endpoint]
    endpoint_cum_weights: list[float]
    order_ids: list[int]
    uuids: list[str]
    hex24: list[str]
    hex16: list[str]
    developers: list[str]
    applications: list[str]
    legacy: bool = False
    upgrade_day: int | None = None
    upgrade_plan: str | None = None
    upgrade_kind: str | None = None  # "window" (default limits) or "month" (tuned limits)
    upgrade_at: datetime | None = None
    signup_at: datetime | None = None
    keys: list[Key] = field(default_factory=list)
    skipped_weeks: set[int] = field(default_factory=set)
    has_quota: bool = True
    unlimited: bool = False

    def plan_at(self, at: datetime) -> str:
        if self.upgrade_at is not None and at >= self.upgrade_at and self.upgrade_plan:
            return self.upgrade_plan
        return self.plan


@dataclass
class Record:
    """One valid event before ids are assigned and lines are rendered."""

    at: datetime  # UTC
    event_type: str
    payload: dict[str, Any]
    org_id: str
    style: str = "utc"  # how event_time is written: utc, naive, eu, us
    received: datetime | None = None
    seq: int = 0
    event_id: str = ""
    status: int | None = None
    key_id: str | None = None
    is_retry: bool = False
    endpoint: Endpoint | None = None  # api_request only: what was called
