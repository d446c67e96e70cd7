"""Deterministic sample data: contract-format API events (docs/contract.md section 1) with real dirt.

`generate()` writes a landing folder of daily files (mostly `.ndjson.gz`, one plain `.ndjson`, one
`.jsonl`, exactly one `.parquet`) for `orgs` organizations over the `days` ending on `end_date`.
The same arguments always give byte-identical files: the only source of randomness is
`random.Random(seed)`, gzip headers carry no time or name, and Parquet is written by DuckDB on one
thread in a fixed row order.

What the data is shaped to show (the marts' every enum value occurs on `end_date`):
- organizations on free / pro / enterprise with trend archetypes (steady, growing, declining,
  dormant, new), signups spread over many ISO weeks, retention best on enterprise, worst on free;
- quotas set at signup (0 = unlimited for some), raised on upgrades (one mid-month), and tuned
  on the last month so the threshold bands 0 / 50 / 80 / 95 / 100 all occur, some over the cap;
- API keys with onboarding stories (never a success, a short trial, a buggy integration that
  never has an error-free day, healthy keys), a few revoked and rotated;
- endpoints with their own latency, raw ids in paths, gateway routes on some events, incidents,
  rate-limit and client-error bursts;
- dirt: redeliveries (same event_id, identical line), client retries (same idempotency_key, new
  event_id), non-UTC and offset-less times, late arrivals, unknown fields and event types,
  blank lines and a handful of malformed lines (NDJSON files only).
"""

from __future__ import annotations

import argparse
import bisect
import calendar
import gzip
import json
import math
import random
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb

DEFAULT_ORGS = 40
DEFAULT_DAYS = 120
DEFAULT_SEED = 7
DEFAULT_END_DATE = date(2026, 10, 31)
MIN_DAYS = 14

KNOWN_EVENT_TYPES = ("api_request", "quota_set", "key_issued", "key_revoked")

# ---------------------------------------------------------------------------------------------
# Catalogue: plans, endpoints, clients, networks
# ---------------------------------------------------------------------------------------------

_PLAN_SHARES = (("free", 0.42), ("pro", 0.36), ("enterprise", 0.22))
_BASE_DAILY_CALLS = {"free": 8.0, "pro": 38.0, "enterprise": 135.0}
_DEFAULT_LIMIT = {"free": 1_000, "pro": 10_000, "enterprise": 100_000}
_BASE_ERROR_RATE = {"free": 0.03, "pro": 0.012, "enterprise": 0.006}
_WEEKEND_FACTOR = {"free": 0.65, "pro": 0.45, "enterprise": 0.5}
# Chance that an organization skips a whole week (before the last two weeks): retention by plan.
_WEEK_SKIP = {"free": 0.3, "pro": 0.1, "enterprise": 0.0}
_TREND_WEIGHTS = {
    "free": {"steady": 0.22, "growing": 0.13, "declining": 0.05, "dormant": 0.48, "new": 0.12},
    "pro": {"steady": 0.38, "growing": 0.2, "declining": 0.1, "dormant": 0.2, "new": 0.12},
    "enterprise": {"steady": 0.55, "growing": 0.25, "declining": 0.1, "dormant": 0.04, "new": 0.06},
}
_REQUIRED_TRENDS = ("steady", "growing", "declining", "dormant", "new")
_NEXT_PLAN = {"free": "pro", "pro": "enterprise"}

# Roles of keys beyond an organization's first: traffic keys share the organization's calls,
# scripted keys follow their own onboarding story.
_REQUIRED_KEY_ROLES = ("buggy", "abandoned", "trial", "dead", "secondary")
_KEY_ROLE_WEIGHTS = {"secondary": 0.4, "trial": 0.2, "abandoned": 0.15, "dead": 0.1, "buggy": 0.15}
_EXTRA_KEYS = {"free": (0, 1), "pro": (1, 2), "enterprise": (1, 3)}

# Last-month pct_of_cap targets for the quota archetypes, in order of priority (bands 100 with
# will_exceed, 95, 80 shown from 79.97, 50, 0, then more of each).
_QUOTA_TARGETS = (112.0, 96.6, 79.97, 63.0, 31.0, 100.4, 86.0, 97.8, 55.0)


@dataclass(frozen=True)
class _Endpoint:
    path: str  # with placeholders {n} digits, {uuid}, {hex24}, {hex16}
    method: str
    median_ms: float
    sigma: float
    weight: float
    response_bytes: int
    creates: bool = False


_ENDPOINTS = (
    _Endpoint("/v1/health", "GET", 3.0, 0.35, 0.6, 60),
    _Endpoint("/v1/items", "GET", 45.0, 0.5, 2.0, 5200),
    _Endpoint("/v1/search", "GET", 420.0, 0.6, 1.2, 14000),
    _Endpoint("/v1/orders", "POST", 120.0, 0.45, 0.8, 900, creates=True),
    _Endpoint("/v1/orders/{n}", "GET", 38.0, 0.45, 2.2, 1800),
    _Endpoint("/v1/orders/{n}", "PUT", 95.0, 0.5, 0.4, 1800),
    _Endpoint("/v1/orders/{n}", "DELETE", 60.0, 0.4, 0.15, 0),
    _Endpoint("/v1/customers/{uuid}", "GET", 32.0, 0.4, 1.0, 1300),
    _Endpoint("/v1/documents/{hex24}", "GET", 85.0, 0.55, 0.6, 22000),
    _Endpoint("/v2/invoices/{n}/lines", "GET", 70.0, 0.5, 0.5, 3400),
    _Endpoint("/v2/oauth2/token", "POST", 22.0, 0.3, 0.5, 700, creates=True),
    _Endpoint("/v1/reports/export", "POST", 1400.0, 0.5, 0.12, 48000, creates=True),
    _Endpoint("/v1/webhooks/{hex16}", "DELETE", 30.0, 0.3, 0.08, 0),
    _Endpoint("/v1/users/me", "GET", 15.0, 0.3, 0.5, 400),
)
_INCIDENT_PATHS = ("/v1/search", "/v1/orders", "/v1/orders/{n}", "/v1/documents/{hex24}")

_CLIENT_ERRORS = ((400, "validation", 4), (401, "auth", 2), (403, "auth", 1), (404, "not_found", 3))
_CLIENT_ERRORS_WRITE = ((409, "conflict", 1), (422, "validation", 3))
_SERVER_ERRORS = ((500, "internal", 3), (502, "upstream", 2), (503, "unavailable", 2))
_TIMEOUT_MS = 30_000.0

_SDKS = (
    ("python", ("3.4.1", "3.5.0"), "CPython/3.12"),
    ("node", ("5.0.2", "5.1.0"), "Node.js/20.11"),
    ("go", ("1.8.0",), "go1.22"),
    ("java", ("2.11.0", "2.12.1"), "OpenJDK/21"),
    ("ruby", ("0.9.3",), "ruby/3.3"),
)
_RAW_CLIENTS = ("curl/8.5.0", "PostmanRuntime/7.39.0", "python-requests/2.32.3")

# (country, gateway region, UTC offset of business hours, gateway city code, time style)
_GEOS = (
    ("DE", "eu-central-1", 2, "fra", "eu"),
    ("FR", "eu-west-3", 2, "fra", "eu"),
    ("NL", "eu-central-1", 2, "ams", "eu"),
    ("GB", "eu-west-2", 1, "lhr", "utc"),
    ("US", "us-east-1", -4, "iad", "utc"),
    ("US", "us-east-2", -5, "chi", "us"),
    ("CA", "ca-central-1", -4, "yyz", "utc"),
    ("BR", "sa-east-1", -3, "gru", "utc"),
    ("IN", "ap-south-1", 5, "bom", "utc"),
    ("JP", "ap-northeast-1", 9, "nrt", "utc"),
    ("AU", "ap-southeast-2", 10, "syd", "utc"),
)
_IPV4_PREFIXES = ("192.0.2.", "198.51.100.", "203.0.113.")  # documentation ranges (RFC 5737)

# Local-hour activity profile (business hours peak).
_HOUR_PROFILE = (
    0.15, 0.1, 0.08, 0.08, 0.1, 0.15, 0.3, 0.55, 0.85, 1.0, 1.0, 1.0,
    0.9, 1.0, 1.0, 1.0, 0.95, 0.8, 0.6, 0.45, 0.35, 0.3, 0.25, 0.2,
)  # fmt: skip

# Parquet column types: the same fields as the JSON lines, nested objects as structs.
_PARQUET_COLUMNS = {
    "event_id": "VARCHAR",
    "event_type": "VARCHAR",
    "event_time": "VARCHAR",
    "received_at": "VARCHAR",
    "consumer": (
        "STRUCT(organization_id VARCHAR, developer_id VARCHAR, application_id VARCHAR, "
        "api_key_id VARCHAR, plan_id VARCHAR)"
    ),
    "request_id": "VARCHAR",
    "idempotency_key": "VARCHAR",
    "api": "STRUCT(method VARCHAR, endpoint VARCHAR, route VARCHAR, version VARCHAR)",
    "result": "STRUCT(status_code INTEGER, error_type VARCHAR, cache_status VARCHAR)",
    "timings": "STRUCT(request_duration_ms DOUBLE, upstream_ms DOUBLE)",
    "bytes": "STRUCT(request BIGINT, response BIGINT)",
    "network": "STRUCT(ip VARCHAR, country VARCHAR, region VARCHAR)",
    "client": "STRUCT(sdk_version VARCHAR, user_agent VARCHAR)",
    "quota": "STRUCT(monthly_call_limit BIGINT, plan_id VARCHAR, reason VARCHAR)",
    "key": "STRUCT(label VARCHAR, scopes VARCHAR[])",
    "gateway": "STRUCT(node VARCHAR, build VARCHAR)",
    "schema_version": "INTEGER",
}


# ---------------------------------------------------------------------------------------------
# Public result
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Internal model
# ---------------------------------------------------------------------------------------------


@dataclass
class _Key:
    key_id: str
    org: _Org
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
class _Org:
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
    endpoints: list[_Endpoint]
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
    keys: list[_Key] = field(default_factory=list)
    skipped_weeks: set[int] = field(default_factory=set)
    has_quota: bool = True
    unlimited: bool = False

    def plan_at(self, at: datetime) -> str:
        if self.upgrade_at is not None and at >= self.upgrade_at and self.upgrade_plan:
            return self.upgrade_plan
        return self.plan


@dataclass
class _Record:
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


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


def _hex(rng: random.Random, chars: int) -> str:
    return f"{rng.getrandbits(chars * 4):0{chars}x}"


def _uuid4(rng: random.Random) -> str:
    value = rng.getrandbits(128)
    value = (value & ~(0xF << 76)) | (0x4 << 76)
    value = (value & ~(0x3 << 62)) | (0x2 << 62)
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit = math.exp(-lam)
    k, p = 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _weighted(rng: random.Random, options: tuple[tuple[int, str, int], ...]) -> tuple[int, str]:
    total = sum(w for _, _, w in options)
    pick = rng.random() * total
    for status, kind, weight in options:
        pick -= weight
        if pick < 0:
            return status, kind
    return options[-1][0], options[-1][1]


def _last_sunday(year: int, month: int) -> date:
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() + 1) % 7)


def _nth_sunday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(6 - first.weekday()) % 7 + 7 * (n - 1))


def _eu_offset(at: datetime) -> int:
    """Central European offset (CET/CEST): summer time between the last Sundays of Mar and Oct."""
    start = datetime.combine(_last_sunday(at.year, 3), time(1), UTC)
    end = datetime.combine(_last_sunday(at.year, 10), time(1), UTC)
    return 2 if start <= at < end else 1


def _us_central_offset(at: datetime) -> int:
    """US Central offset (CST/CDT): daylight time from 2nd Sunday of Mar to 1st Sunday of Nov."""
    start = datetime.combine(_nth_sunday(at.year, 3, 2), time(8), UTC)
    end = datetime.combine(_nth_sunday(at.year, 11, 1), time(7), UTC)
    return -5 if start <= at < end else -6


def _render_time(at: datetime, style: str) -> str:
    if style == "naive":
        return at.replace(tzinfo=None).isoformat(timespec="milliseconds")
    if style in ("eu", "us"):
        hours = _eu_offset(at) if style == "eu" else _us_central_offset(at)
        return at.astimezone(timezone(timedelta(hours=hours))).isoformat(timespec="milliseconds")
    return at.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def _template(path: str) -> str:
    return (
        path.replace("{n}", "{id}")
        .replace("{uuid}", "{id}")
        .replace("{hex24}", "{id}")
        .replace("{hex16}", "{id}")
    )


def _dumps(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


# ---------------------------------------------------------------------------------------------
# The builder
# ---------------------------------------------------------------------------------------------


class _Builder:
    def __init__(self, *, orgs: int, days: int, seed: int, end_date: date) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.n_orgs = orgs
        self.days = days
        self.end_date = end_date
        self.start_date = end_date - timedelta(days=days - 1)
        self.window_start = datetime.combine(self.start_date, time(0), UTC)
        self.window_end = datetime.combine(end_date, time(0), UTC) + timedelta(days=1)
        self.records: list[_Record] = []
        self.orgs: list[_Org] = []
        self.incidents: dict[int, list[tuple[int, int, str]]] = {}
        self.retries = 0

    # -- time helpers ---------------------------------------------------------------------

    def day_start(self, day: int) -> datetime:
        return self.window_start + timedelta(days=day)

    def day_of(self, at: datetime) -> int:
        return (at.date() - self.start_date).days

    def business_time(self, org: _Org, day: int) -> datetime:
        hour = self.rng.choices(range(24), cum_weights=org.hour_cum_weights)[0]
        ms = hour * 3_600_000 + int(self.rng.random() * 3_600_000)
        return self.day_start(day) + timedelta(milliseconds=ms)

    # -- organizations and keys ------------------------------------------------------------

    def plan_organizations(self) -> None:
        rng, days = self.rng, self.days
        plans: list[str] = []
        for plan, share in _PLAN_SHARES:
            plans += [plan] * max(1 if self.n_orgs >= 3 else 0, round(share * self.n_orgs))
        while len(plans) < self.n_orgs:
            plans.append("pro")
        plans = plans[: self.n_orgs]
        rng.shuffle(plans)

        trends = []
        for i, plan in enumerate(plans):
            if i < len(_REQUIRED_TRENDS):
                trends.append(_REQUIRED_TRENDS[i])
            else:
                weights = _TREND_WEIGHTS[plan]
                trends.append(rng.choices(list(weights), weights=list(weights.values()))[0])
        # Legacy organizations (keys issued before the data starts: in no cohort).
        legacy_left = self.n_orgs // 20
        used_ids: set[str] = set()
        for i, (plan, trend) in enumerate(zip(plans, trends, strict=True)):
            org_id = f"org_{_hex(rng, 6)}"
            while org_id in used_ids:
                org_id = f"org_{_hex(rng, 6)}"
            used_ids.add(org_id)
            country, region, offset, city, style = rng.choice(_GEOS)
            legacy = legacy_left > 0 and i >= len(_REQUIRED_TRENDS) and trend == "steady"
            if legacy:
                legacy_left -= 1
            signup, until = self._lifecycle(plan, trend, legacy)
            base = _BASE_DAILY_CALLS[plan] * math.exp(rng.gauss(0, 0.55))
            if trend == "declining":
                base = max(base, 38.0)
            if rng.random() < 0.2:
                ips = [f"2001:db8:{rng.randint(1, 0xFFFF):x}::{rng.randint(1, 0xFFFF):x}"]
                ips += [f"{rng.choice(_IPV4_PREFIXES)}{rng.randint(1, 254)}"]
            else:
                n_ips = rng.randint(1, 3)
                ips = [f"{rng.choice(_IPV4_PREFIXES)}{rng.randint(1, 254)}" for _ in range(n_ips)]
            hour_weights = [_HOUR_PROFILE[(h + offset) % 24] for h in range(24)]
            endpoints = [e for e in _ENDPOINTS if rng.random() < 0.75 or e.path == "/v1/items"]
            ep_weights = [e.weight * math.exp(rng.gauss(0, 0.6)) for e in endpoints]
            if rng.random() < 0.25:  # a monitoring probe hammering the health check
                ep_weights = [
                    w * 6 if e.path == "/v1/health" else w for e, w in zip(endpoints, ep_weights, strict=True)
                ]
            org = _Org(
                index=i,
                org_id=org_id,
                plan=plan,
                trend=trend,
                signup_day=signup,
                active_until=until,
                base_calls=base,
                error_rate=_BASE_ERROR_RATE[plan] * math.exp(rng.gauss(0, 0.5)),
                country=country,
                region=region,
                local_offset=offset,
                city=city,
                time_style=style,
                ips=ips,
                hour_cum_weights=_cumulative(hour_weights),
                endpoints=endpoints,
                endpoint_cum_weights=_cumulative(ep_weights),
                order_ids=[rng.randint(1000, 999_999) for _ in range(40)],
                uuids=[_uuid4(rng) for _ in range(12)],
                hex24=[_hex(rng, 24) for _ in range(10)],
                hex16=[_hex(rng, 16) for _ in range(4)],
                developers=[f"dev_{_hex(rng, 6)}" for _ in range(rng.randint(1, 3))],
                applications=[f"app_{_hex(rng, 6)}" for _ in range(rng.randint(1, 2))],
                legacy=legacy,
            )
            skip = _WEEK_SKIP[plan]
            for week in range(org.signup_day // 7 + 1, (days - 14) // 7):
                if rng.random() < skip:
                    org.skipped_weeks.add(week)
            self.orgs.append(org)
        self._plan_upgrades()

    def _lifecycle(self, plan: str, trend: str, legacy: bool) -> tuple[int, int]:
        rng, days = self.rng, self.days
        if legacy:
            return 0, days
        if trend == "new":
            return rng.randint(days - 13, days - 3), days
        if trend == "dormant":
            signup = rng.randint(0, max(0, days - 40))
            mean_weeks = {"free": 2.5, "pro": 5.0, "enterprise": 8.0}[plan]
            life = 8 + int(rng.expovariate(1 / (mean_weeks * 7)))
            return signup, max(signup + 2, min(signup + life, days - 8))
        return rng.randint(0, max(0, days - 35)), days

    def _plan_upgrades(self) -> None:
        rng, days = self.rng, self.days
        candidates = [
            o for o in self.orgs if o.plan in _NEXT_PLAN and o.trend in ("steady", "growing") and not o.legacy
        ]
        # One upgrade in the last month (quota raised mid-month): the busiest eligible organization.
        month_start_day = (self.end_date.replace(day=1) - self.start_date).days
        month_days = self.end_date.day
        busiest = sorted(candidates, key=lambda o: (-o.base_calls, o.index))
        monthly = next((o for o in busiest if month_days >= 12 and o.signup_day < month_start_day - 20), None)
        picked = 0
        for org in ([monthly] if monthly else []) + [o for o in candidates if o is not monthly]:
            if picked >= max(1, self.n_orgs // 10):
                break
            if org is monthly:
                org.upgrade_day = month_start_day + int(month_days * 0.55)
                org.upgrade_kind = "month"
            elif org.signup_day + 14 <= days - 25:
                org.upgrade_day = rng.randint(org.signup_day + 14, days - 25)
                org.upgrade_kind = "window"
            else:
                continue
            org.upgrade_plan = _NEXT_PLAN[org.plan]
            org.upgrade_at = self.business_time(org, org.upgrade_day)
            picked += 1

    def plan_keys(self) -> None:
        rng = self.rng
        role_queue = list(_REQUIRED_KEY_ROLES)
        for org in self.orgs:
            org.signup_at = self.business_time(org, org.signup_day)
            sdk = self._client(org)
            first = _Key(
                key_id=f"key_{_hex(rng, 12)}",
                org=org,
                developer_id=org.developers[0],
                application_id=org.applications[0],
                role="legacy" if org.legacy else "primary",
                issued_at=None if org.legacy else org.signup_at,
                weight=1.0,
                sdk_version=sdk[0],
                user_agent=sdk[1],
            )
            if org.legacy:
                first.first_call_at = self.window_start
            else:
                first.initial_errors = rng.choice((0, 0, 1, 2, 3))
                delay_h = min(72.0, rng.expovariate(1 / 4.0))
                first.first_call_at = org.signup_at + timedelta(hours=delay_h)
            org.keys.append(first)
            lo, hi = _EXTRA_KEYS[org.plan]
            for _ in range(rng.randint(lo, hi)):
                if role_queue and org.trend in ("steady", "growing") and not org.legacy:
                    role = role_queue.pop(0)
                else:
                    role = rng.choices(list(_KEY_ROLE_WEIGHTS), weights=list(_KEY_ROLE_WEIGHTS.values()))[0]
                self._add_key(org, role)
            if org.legacy:
                # A second legacy key, also never issued within the data.
                self._add_key(org, "legacy")

    def _client(self, org: _Org) -> tuple[str | None, str | None]:
        rng = self.rng
        if rng.random() < 0.2:
            return None, rng.choice(_RAW_CLIENTS)
        lang, versions, runtime = rng.choice(_SDKS)
        version = rng.choice(versions)
        return version, f"apiwh-{lang}/{version} ({runtime}; {org.region})"

    def _add_key(self, org: _Org, role: str) -> None:
        rng = self.rng
        sdk = self._client(org)
        key = _Key(
            key_id=f"key_{_hex(rng, 12)}",
            org=org,
            developer_id=rng.choice(org.developers),
            application_id=rng.choice(org.applications),
            role=role,
            issued_at=None,
            sdk_version=sdk[0],
            user_agent=sdk[1],
        )
        last_day = min(org.active_until, self.days) - 1
        # Scripted keys play out before the last two weeks so they do not bend the trends.
        script_end = min(last_day, self.days - 15) if org.trend != "new" else last_day
        script_len = {"buggy": 17, "trial": 6, "abandoned": 2}.get(role, 0)
        if role == "legacy":
            key.first_call_at = self.window_start + timedelta(days=rng.randint(0, 20))
            key.weight = rng.uniform(0.2, 0.5)
        elif role in ("buggy", "trial", "abandoned"):
            lo, hi = org.signup_day + 1, script_end - script_len
            if hi < lo:
                role = key.role = "dead"
            else:
                key.issued_at = self.business_time(org, rng.randint(lo, hi))
        if role in ("dead", "secondary"):
            lo = org.signup_day + (1 if role == "dead" else 3)
            hi = last_day if role == "dead" else min(last_day, org.signup_day + 45)
            if hi < lo:
                return
            key.issued_at = self.business_time(org, rng.randint(lo, hi))
        if role == "secondary":
            key.weight = rng.uniform(0.15, 0.6)
            key.initial_errors = rng.choice((0, 1, 2))
            key.first_call_at = key.issued_at + timedelta(hours=rng.expovariate(1 / 6.0))
            # Some secondary keys are rotated: revoked, and a new one takes over.
            revoke_day = rng.randint(self.day_of(key.issued_at) + 10, self.days + 40)
            if rng.random() < 0.35 and revoke_day < last_day - 1:
                key.revoked_at = self.business_time(org, revoke_day)
                if key.revoked_at <= key.first_call_at:
                    key.revoked_at = key.first_call_at + timedelta(days=1)
                successor = _Key(
                    key_id=f"key_{_hex(rng, 12)}",
                    org=org,
                    developer_id=key.developer_id,
                    application_id=key.application_id,
                    role="secondary",
                    issued_at=key.revoked_at - timedelta(minutes=rng.randint(5, 120)),
                    weight=key.weight,
                    sdk_version=key.sdk_version,
                    user_agent=key.user_agent,
                )
                successor.first_call_at = successor.issued_at + timedelta(minutes=3)
                org.keys.append(key)
                org.keys.append(successor)
                return
        if role in ("dead", "abandoned") and rng.random() < 0.5 and key.issued_at is not None:
            revoke = key.issued_at + timedelta(days=rng.randint(3, 20), hours=rng.randint(0, 8))
            if revoke < self.window_end:
                key.revoked_at = revoke
        org.keys.append(key)

    # -- calls ---------------------------------------------------------------------------

    def plan_incidents(self) -> None:
        rng = self.rng
        for _ in range(max(1, self.days // 40)):
            day = rng.randint(0, self.days - 1)
            start = rng.randint(0, 22) * 3_600_000
            end = start + rng.randint(1, 3) * 3_600_000
            self.incidents.setdefault(day, []).append((start, end, rng.choice(_INCIDENT_PATHS)))

    def volume(self, org: _Org, day: int) -> float:
        days = self.days
        if day < org.signup_day or day >= org.active_until:
            return 0.0
        if day // 7 in org.skipped_weeks:
            return 0.0
        lam = org.base_calls
        if org.upgrade_day is not None and org.upgrade_kind == "window" and day >= org.upgrade_day:
            lam *= 2.0
        weekday = self.day_start(day).weekday()
        if weekday >= 5:
            lam *= _WEEKEND_FACTOR[org.plan]
        age = day - org.signup_day
        if age < 7:  # ramping up while integrating
            lam *= 0.3 + 0.1 * age
        if org.trend == "growing" and day >= days - 21:
            lam *= 1.065 ** (day - (days - 21))
        elif org.trend == "declining" and day >= days - 7:
            lam *= 0.22
        elif org.trend == "dormant":
            to_end = org.active_until - day
            if to_end <= 10:
                lam *= 0.3 + 0.07 * to_end
        return lam * math.exp(self.rng.gauss(0, 0.2))

    def generate_calls(self) -> None:
        for org in self.orgs:
            traffic = [k for k in org.keys if k.role in ("primary", "secondary", "legacy")]
            for day in range(org.signup_day, min(org.active_until, self.days)):
                self._traffic_day(org, traffic, day)
            for key in org.keys:
                if key.role in ("buggy", "trial", "abandoned"):
                    self._scripted(org, key)
                if key.revoked_at is not None and key.role in ("secondary", "abandoned"):
                    self._after_revoke(org, key)

    def _traffic_day(self, org: _Org, traffic: list[_Key], day: int) -> None:
        rng = self.rng
        n = _poisson(rng, self.volume(org, day))
        day_start = self.day_start(day)
        day_end = day_start + timedelta(days=1)
        keys = [
            k
            for k in traffic
            if k.first_call_at is not None
            and k.first_call_at < day_end
            and (k.revoked_at is None or k.revoked_at > day_start)
        ]
        if not keys or n == 0:
            return
        burst = None
        p_burst = 0.03 if org.plan != "free" else 0.015
        if rng.random() < p_burst:
            kind = rng.choice(("rate_limit", "client_errors", "server_errors"))
            start = rng.randint(6, 18) * 3_600_000 - org.local_offset * 3_600_000
            start = max(0, min(start, 20 * 3_600_000))
            burst = (kind, start, start + rng.randint(1, 4) * 3_600_000)
        hours = rng.choices(range(24), cum_weights=org.hour_cum_weights, k=n)
        times = sorted(h * 3_600_000 + int(rng.random() * 3_600_000) for h in hours)
        if burst is not None and burst[0] == "rate_limit":
            # A client loop hammering the API: a wall of 429s inside the window.
            extra = 20 + _poisson(rng, max(10.0, n * 0.6))
            times = sorted(times + [rng.randint(burst[1], burst[2] - 1) for _ in range(extra)])
        incidents = self.incidents.get(day, [])
        for ms in times:
            at = day_start + timedelta(milliseconds=ms)
            eligible = [
                k for k in keys if k.first_call_at <= at and (k.revoked_at is None or at < k.revoked_at)
            ]
            if not eligible:
                continue
            key = (
                eligible[0]
                if len(eligible) == 1
                else rng.choices(eligible, weights=[k.weight for k in eligible])[0]
            )
            endpoint = self._endpoint(org)
            forced: tuple[int, str] | None = None
            if key.calls_made < key.initial_errors:
                forced = (401, "auth") if rng.random() < 0.6 else (400, "validation")
            elif burst is not None and burst[1] <= ms < burst[2]:
                if burst[0] == "rate_limit" and rng.random() < 0.85:
                    forced = (429, "rate_limit")
                elif burst[0] == "client_errors" and rng.random() < 0.6:
                    forced = _weighted(rng, _CLIENT_ERRORS + _CLIENT_ERRORS_WRITE)
                elif burst[0] == "server_errors" and rng.random() < 0.5:
                    forced = _weighted(rng, _SERVER_ERRORS)
            if forced is None:
                for start, end, path in incidents:
                    if start <= ms < end and endpoint.path == path and rng.random() < 0.7:
                        forced = rng.choice(((503, "unavailable"), (502, "upstream"), (504, "timeout")))
            self._call(org, key, at, endpoint, forced)

    def _scripted(self, org: _Org, key: _Key) -> None:
        rng = self.rng
        assert key.issued_at is not None
        issued_day = self.day_of(key.issued_at)
        if key.role == "abandoned":
            at = key.issued_at + timedelta(minutes=rng.randint(2, 90))
            for _ in range(rng.randint(2, 8)):
                status = rng.choice(((401, "auth"), (401, "auth"), (403, "auth"), (400, "validation")))
                self._call(org, key, at, self._endpoint(org), status)
                at += timedelta(minutes=rng.expovariate(1 / 40.0))
        elif key.role == "trial":
            total = rng.randint(8, 70)
            span = rng.randint(1, 5)
            first = key.issued_at + timedelta(minutes=rng.randint(20, 300))
            times = sorted(first + timedelta(seconds=rng.random() * span * 86_400) for _ in range(total - 1))
            for i, at in enumerate([first, *times]):
                forced = (401, "auth") if i == 0 and rng.random() < 0.4 else None
                self._call(org, key, at, self._endpoint(org), forced)
        elif key.role == "buggy":
            # Every day at least one failing call: >= 100 calls, never an error-free day.
            for day in range(issued_day + 1, issued_day + 1 + rng.randint(12, 16)):
                times = sorted(self.business_time(org, day) for _ in range(rng.randint(9, 14)))
                for i, at in enumerate(times):
                    forced = None
                    if i == 0:
                        forced = (422, "validation")
                    elif rng.random() < 0.25:
                        forced = _weighted(rng, _CLIENT_ERRORS_WRITE + _SERVER_ERRORS)
                    self._call(org, key, at, self._endpoint(org), forced)

    def _after_revoke(self, org: _Org, key: _Key) -> None:
        """A client that did not rotate in time: a few 401s with the revoked key."""
        rng = self.rng
        assert key.revoked_at is not None
        if self.day_of(key.revoked_at) >= min(org.active_until, self.days) - 1:
            return
        at = key.revoked_at
        for _ in range(rng.randint(1, 3)):
            at += timedelta(minutes=rng.randint(1, 50))
            self._call(org, key, at, self._endpoint(org), (401, "auth"))

    def _endpoint(self, org: _Org) -> _Endpoint:
        idx = bisect.bisect_right(org.endpoint_cum_weights, self.rng.random() * org.endpoint_cum_weights[-1])
        return org.endpoints[min(idx, len(org.endpoints) - 1)]

    def _path(self, org: _Org, endpoint: _Endpoint) -> str:
        rng = self.rng
        path = endpoint.path
        if "{n}" in path:
            path = path.replace("{n}", str(rng.choice(org.order_ids)))
        if "{uuid}" in path:
            path = path.replace("{uuid}", rng.choice(org.uuids))
        if "{hex24}" in path:
            path = path.replace("{hex24}", rng.choice(org.hex24))
        if "{hex16}" in path:
            path = path.replace("{hex16}", rng.choice(org.hex16))
        return path

    def _status(self, org: _Org, endpoint: _Endpoint) -> tuple[int, str | None]:
        rng = self.rng
        roll = rng.random()
        if roll < org.error_rate:
            options = _CLIENT_ERRORS + (_CLIENT_ERRORS_WRITE if endpoint.method != "GET" else ())
            return _weighted(rng, options)
        if roll < org.error_rate + 0.0015:
            return _weighted(rng, _SERVER_ERRORS)
        if endpoint.method == "GET" and roll > 0.985:
            return 304, None
        if endpoint.creates:
            return 201, None
        if endpoint.method == "DELETE":
            return 204, None
        return 200, None

    def _call(
        self,
        org: _Org,
        key: _Key,
        at: datetime,
        endpoint: _Endpoint,
        forced: tuple[int, str] | None,
        *,
        idempotency_key: str | None = None,
        attempt: int = 1,
    ) -> None:
        rng = self.rng
        if at >= self.window_end:
            return
        key.calls_made += 1
        status, error_type = forced if forced is not None else self._status(org, endpoint)
        method = endpoint.method
        writes = method != "GET"
        if writes and idempotency_key is None and rng.random() < 0.8:
            idempotency_key = f"idem_{_hex(rng, 16)}"
        # Latency: the endpoint's own distribution; errors are fast, timeouts hit the limit.
        cache = None
        if status == 504:
            duration = _TIMEOUT_MS + rng.random() * 50
        elif status in (401, 403, 429):
            duration = rng.uniform(0.8, 6.0)
        elif 400 <= status < 500:
            duration = rng.uniform(4.0, 25.0)
        elif status == 503:
            duration = rng.uniform(1.0, 5.0)
        else:
            duration = endpoint.median_ms * math.exp(rng.gauss(0, endpoint.sigma))
            if method == "GET" and status < 400 and rng.random() < 0.5:
                cache = "hit" if rng.random() < 0.35 else "miss"
                if cache == "hit":
                    duration *= 0.12
        duration = round(duration, 1)
        style = org.time_style
        roll = rng.random()
        if roll < 0.03:
            style = "naive"
        elif style != "utc" and roll < 0.25:
            style = "utc"
        api: dict[str, Any] = {"method": method.lower() if rng.random() < 0.02 else method}
        roll = rng.random()
        if roll < 0.003:
            api["route"] = _template(endpoint.path)  # gateway knows the route, no raw path
        else:
            api["endpoint"] = self._path(org, endpoint)
            if roll < 0.15:
                api["route"] = _template(endpoint.path)
            elif roll < 0.153:
                api["route"] = ""
        api["version"] = "2026-06-01" if endpoint.path.startswith("/v2") else "2025-11-15"
        result: dict[str, Any] = {"status_code": status}
        if error_type is not None:
            result["error_type"] = error_type
        if cache is not None:
            result["cache_status"] = cache
        timings: dict[str, Any] = {"request_duration_ms": duration}
        if cache != "hit" and status not in (401, 403, 429, 503) and rng.random() < 0.6:
            timings["upstream_ms"] = round(duration * rng.uniform(0.55, 0.92), 1)
        payload: dict[str, Any] = {
            "consumer": {
                "organization_id": org.org_id,
                "developer_id": key.developer_id,
                "application_id": key.application_id,
                "api_key_id": key.key_id,
            },
        }
        if rng.random() < 0.95:
            payload["consumer"]["plan_id"] = org.plan_at(at)
        if rng.random() < 0.5:
            payload["request_id"] = f"req_{_hex(rng, 8)}"
        if idempotency_key is not None:
            payload["idempotency_key"] = idempotency_key
        payload["api"] = api
        payload["result"] = result
        payload["timings"] = timings
        if rng.random() < 0.92:
            if status >= 400:
                response = rng.randint(90, 320)
            elif status in (204, 304):
                response = 0
            else:
                response = int(endpoint.response_bytes * math.exp(rng.gauss(0, 0.4)))
            request = int(rng.uniform(150, 4000)) if writes else 0
            payload["bytes"] = {"request": request, "response": response}
        network: dict[str, Any] = {}
        if rng.random() < 0.93:
            network["ip"] = rng.choice(org.ips)
        network["country"] = org.country
        network["region"] = org.region
        payload["network"] = network
        if key.sdk_version is not None or key.user_agent is not None:
            client: dict[str, Any] = {}
            if key.sdk_version is not None:
                client["sdk_version"] = key.sdk_version
            client["user_agent"] = key.user_agent
            payload["client"] = client
        if rng.random() < 0.1:
            payload["gateway"] = {"node": f"edge-{org.city}-{rng.randint(1, 4)}", "build": "2026.08.3"}
        if style == "naive":
            payload["schema_version"] = 1
        record = _Record(
            at=at,
            event_type="api_request",
            payload=payload,
            org_id=org.org_id,
            style=style,
            status=status,
            key_id=key.key_id,
            is_retry=attempt > 1,
        )
        self.records.append(record)
        # A failed write with an idempotency key is retried by the client: new event, same key.
        if (
            idempotency_key is not None
            and (status == 429 or status >= 500)
            and attempt < 4
            and rng.random() < 0.75
        ):
            self.retries += 1
            backoff = rng.uniform(1, 60) if status == 429 else rng.uniform(0.5, 8) * attempt
            retry_at = at + timedelta(milliseconds=int(duration) + int(backoff * 1000))
            retry_status = None if rng.random() < 0.85 else (status, error_type or "internal")
            if retry_at < self.window_end:
                self._call(
                    org,
                    key,
                    retry_at,
                    endpoint,
                    retry_status,
                    idempotency_key=idempotency_key,
                    attempt=attempt + 1,
                )
            else:
                self.retries -= 1

    # -- key, quota and other events ----------------------------------------------------

    def key_events(self) -> None:
        for org in self.orgs:
            for key in org.keys:
                for kind, at in (("key_issued", key.issued_at), ("key_revoked", key.revoked_at)):
                    if at is None or at >= self.window_end:
                        continue
                    consumer = {
                        "organization_id": org.org_id,
                        "developer_id": key.developer_id,
                        "application_id": key.application_id,
                        "api_key_id": key.key_id,
                        "plan_id": org.plan_at(at),
                    }
                    payload: dict[str, Any] = {"consumer": consumer}
                    if kind == "key_issued":
                        scopes = ["read"] if self.rng.random() < 0.3 else ["read", "write"]
                        payload["key"] = {"label": f"{key.role}-{key.key_id[-4:]}", "scopes": scopes}
                    self.records.append(_Record(at=at, event_type=kind, payload=payload, org_id=org.org_id))

    def _quota(self, org: _Org, at: datetime, limit: int, plan: str, reason: str) -> None:
        payload = {
            "consumer": {"organization_id": org.org_id, "plan_id": plan},
            "quota": {"monthly_call_limit": limit, "plan_id": plan, "reason": reason},
        }
        self.records.append(_Record(at=at, event_type="quota_set", payload=payload, org_id=org.org_id))

    def quota_events(self) -> None:
        """Quotas at signup and upgrade, then the last month tuned so every band occurs."""
        rng = self.rng
        month_start = datetime.combine(self.end_date.replace(day=1), time(0), UTC)
        used: Counter[str] = Counter()
        used_before: Counter[str] = Counter()
        by_org = {o.org_id: o for o in self.orgs}
        for rec in self.records:
            if rec.event_type == "api_request" and rec.at >= month_start:
                used[rec.org_id] += 1
                org = by_org[rec.org_id]
                if org.upgrade_kind == "month" and org.upgrade_at and rec.at < org.upgrade_at:
                    used_before[rec.org_id] += 1
        # Which organizations have a quota at all: legacy ones and a few others have none.
        for i, org in enumerate(self.orgs):
            org.has_quota = not org.legacy and not (i >= 5 and rng.random() < 0.06)
            org.unlimited = org.plan == "enterprise" and rng.random() < 0.4
        candidates = [
            o
            for o in self.orgs
            if o.has_quota and o.upgrade_day is None and o.trend != "new" and used[o.org_id] >= 150
        ]
        rng.shuffle(candidates)
        targets = dict(zip((o.org_id for o in candidates), _QUOTA_TARGETS, strict=False))
        # Quota 0 means none: some enterprise contracts are unlimited (at least one organization).
        untuned = [o for o in self.orgs if o.has_quota and o.org_id not in targets and o.upgrade_day is None]
        if untuned and not any(o.unlimited for o in untuned):
            max(untuned, key=lambda o: (o.plan == "enterprise", -o.index)).unlimited = True
        for org in self.orgs:
            if not org.has_quota:
                continue
            assert org.signup_at is not None
            at = org.signup_at + timedelta(seconds=rng.randint(5, 120))
            # Organizations the last month is tuned for get a negotiated quota at signup.
            if org.upgrade_kind == "month" and org.upgrade_at is not None and org.upgrade_plan:
                # Near the cap in mid-month, then upgraded and raised: the upsell moment.
                first_limit = _limit_for(max(1, used_before[org.org_id]), 97.0)
                self._quota(org, at, first_limit, org.plan, "signup")
                final_limit = max(_limit_for(max(1, used[org.org_id]), 58.0), first_limit + 1)
                self._quota(org, org.upgrade_at, final_limit, org.upgrade_plan, "upgrade")
            elif org.org_id in targets:
                limit = _limit_for(used[org.org_id], targets[org.org_id])
                self._quota(org, at, limit, org.plan, "signup")
                if targets[org.org_id] > 100:
                    self._throttle_over_cap(org.org_id, month_start, limit)
            else:
                limit = 0 if org.unlimited else _DEFAULT_LIMIT[org.plan]
                self._quota(org, at, limit, org.plan, "signup")
                if org.upgrade_at is not None and org.upgrade_plan is not None:
                    limit = _DEFAULT_LIMIT[org.upgrade_plan]
                    self._quota(org, org.upgrade_at, limit, org.upgrade_plan, "upgrade")

    def _throttle_over_cap(self, org_id: str, month_start: datetime, limit: int) -> None:
        """Past its cap an organization's calls start failing with 429 quota_exceeded."""
        calls = sorted(
            (r for r in self.records if r.org_id == org_id and r.event_type == "api_request"
             and r.at >= month_start),
            key=lambda r: r.at,
        )  # fmt: skip
        for rec in calls[limit:]:
            if self.rng.random() < 0.5:
                rec.status = 429
                result = rec.payload["result"]
                result.clear()
                result.update({"status_code": 429, "error_type": "quota_exceeded"})

    def other_events(self) -> None:
        """A few events of types the marts ignore (kept, never counted)."""
        rng = self.rng
        for i in range(3):
            org = self.orgs[rng.randrange(len(self.orgs))]
            day = rng.randint(org.signup_day, self.days - 1)
            at = self.business_time(org, day)
            if i < 2:
                payload: dict[str, Any] = {
                    "consumer": {"organization_id": org.org_id},
                    "note": {"text": "invoice adjusted", "amount_cents": rng.randint(100, 90_000)},
                }
                kind = "billing_note"
            else:
                payload = {
                    "consumer": {"organization_id": org.org_id},
                    "webhook": {"url_host": "hooks.example.com", "status_code": 200},
                }
                kind = "webhook_delivery"
            self.records.append(_Record(at=at, event_type=kind, payload=payload, org_id=org.org_id))

    # -- ids, arrival, files -----------------------------------------------------------------

    def finalize(self) -> None:
        rng = self.rng
        for i, rec in enumerate(self.records):
            rec.seq = i
        self.records.sort(key=lambda r: (r.at, r.seq))
        for n, rec in enumerate(self.records, start=1):
            rec.event_id = f"evt_{self.seed}_{n:08d}"
            roll = rng.random()
            if roll < 0.03:
                rec.received = None
            elif roll < 0.033 and rec.at + timedelta(hours=70) < self.window_end:
                rec.received = rec.at + timedelta(hours=rng.uniform(20, 70))  # a late batch
            else:
                # The collector stamps a whole batch when it flushes (every 10 s).
                lag = rec.at + timedelta(milliseconds=int(rng.expovariate(1 / 400.0)) + 5)
                rec.received = (
                    lag + timedelta(microseconds=-lag.microsecond) + timedelta(seconds=10 - lag.second % 10)
                )

    def body(self, rec: _Record) -> dict[str, Any]:
        body: dict[str, Any] = {
            "event_id": rec.event_id,
            "event_type": rec.event_type,
            "event_time": _render_time(rec.at, rec.style),
        }
        if rec.received is not None:
            body["received_at"] = _render_time(rec.received, "utc")
        body.update(rec.payload)
        return body


def _cumulative(weights: list[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def _band(pct: float) -> int:
    for band in (100, 95, 80, 50):
        if pct >= band:
            return band
    return 0


def _limit_for(used: int, target_pct: float) -> int:
    """A monthly limit putting `used` at about `target_pct` (same band once rounded to 0.1)."""
    exact = max(1, math.ceil(used * 100 / target_pct))
    want = _band(round(target_pct, 1))
    if want > _band(target_pct):
        # Just under a band that rounding reaches (79.96% shows as 80.0): find such a limit.
        low = want - 0.05
        for limit in range(math.floor(used * 100 / low), math.ceil(used * 100 / want) - 1, -1):
            pct = 100 * used / limit
            if low <= pct < want and round(pct, 1) == want:
                return limit
        return max(1, math.ceil(used * 100 / (want + 3)))
    for step in (1000, 500, 100, 50, 10):
        nice = max(step, round(exact / step) * step)
        pct = round(100 * used / nice, 1)
        if _band(pct) == want and abs(pct - target_pct) <= 1.5:
            return nice
    return exact


# ---------------------------------------------------------------------------------------------
# Malformed lines (NDJSON only)
# ---------------------------------------------------------------------------------------------


def _malformed_lines(b: _Builder, day: int, org: _Org) -> list[tuple[str, str]]:
    """(reason, raw line) for each deliberate contract breach; fresh ids, never a real event."""
    rng = b.rng
    key = org.keys[0]

    def event(n: int, **over: Any) -> dict[str, Any]:
        at = b.business_time(org, day)
        body: dict[str, Any] = {
            "event_id": f"evt_{b.seed}_bad{n:02d}",
            "event_type": "api_request",
            "event_time": _render_time(at, "utc"),
            "consumer": {"organization_id": org.org_id, "api_key_id": key.key_id},
            "api": {"method": "GET", "endpoint": f"/v1/orders/{rng.randint(1000, 9999)}"},
            "result": {"status_code": 200},
            "timings": {"request_duration_ms": 41.5},
        }
        body.update(over)
        return body

    missing_org = event(3)
    missing_org["consumer"] = {"api_key_id": key.key_id}
    missing_id = event(8)
    del missing_id["event_id"]
    key_event = event(10, event_type="key_issued")
    key_event["consumer"] = {"organization_id": org.org_id}
    for name in ("api", "result", "timings"):
        del key_event[name]
    missing_method = event(11)
    missing_method["api"] = {"endpoint": "/v1/items"}
    return [
        ("invalid_json", _dumps(event(1))[:-1].replace('"event_type"', "event_type") + "}"),
        ("truncated", _dumps(event(2))[:70]),
        ("missing_organization_id", _dumps(missing_org)),
        ("status_code_out_of_range", _dumps(event(4, result={"status_code": 999}))),
        ("status_code_not_integer", _dumps(event(5, result={"status_code": "abc"}))),
        ("negative_duration", _dumps(event(6, timings={"request_duration_ms": -12.5}))),
        ("not_an_object", "42"),
        ("missing_event_id", _dumps(missing_id)),
        ("unparseable_event_time", _dumps(event(9, event_time="yesterday at noon"))),
        ("missing_api_key_id", _dumps(key_event)),
        ("missing_method", _dumps(missing_method)),
        ("not_an_object", '["api_request", "evt_x"]'),
    ]


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def _file_plan(b: _Builder) -> dict[int, tuple[str, str]]:
    """Day index -> (relative path, format). One Parquet file covers three days."""
    days = b.days
    parquet_first = days // 4
    parquet_days = {parquet_first, parquet_first + 1, parquet_first + 2}
    plan: dict[int, tuple[str, str]] = {}
    d0 = b.start_date + timedelta(days=parquet_first)
    d2 = d0 + timedelta(days=2)
    parquet_path = f"{d0:%Y}/{d0:%m}/events-{d0.isoformat()}_{d2.isoformat()}.parquet"
    for day in range(days):
        d = b.start_date + timedelta(days=day)
        folder = f"{d:%Y}/{d:%m}"
        if day in parquet_days:
            plan[day] = (parquet_path, "parquet")
        elif day == days // 8:  # plain files on quiet early days keep the sample small
            plan[day] = (f"{folder}/events-{d.isoformat()}.ndjson", "ndjson")
        elif day == days // 8 + 1:
            plan[day] = (f"{folder}/events-{d.isoformat()}.jsonl", "jsonl")
        else:
            plan[day] = (f"{folder}/events-{d.isoformat()}.ndjson.gz", "ndjson.gz")
    return plan


def _write_parquet(path: Path, bodies: list[dict[str, Any]]) -> None:
    select_list = ", ".join(
        "cast(timezone('UTC', cast(event_time as timestamptz)) as timestamp) as event_time"
        if name == "event_time"
        else name
        for name in _PARQUET_COLUMNS
    )
    for body in bodies:
        unknown = set(body) - set(_PARQUET_COLUMNS)
        if unknown:
            raise ValueError(f"field(s) {sorted(unknown)} missing from the Parquet schema")
    with tempfile.TemporaryDirectory(prefix="apiwh-gen-") as tmp:
        staging = Path(tmp) / "rows.ndjson"
        staging.write_text("".join(_dumps(b) + "\n" for b in bodies), encoding="utf-8")
        con = duckdb.connect()
        try:
            con.execute("set threads = 1")
            con.execute("set TimeZone = 'UTC'")
            struct_spec = "{" + ", ".join(f"'{n}': '{k}'" for n, k in _PARQUET_COLUMNS.items()) + "}"
            # The type spec is ours; COPY cannot bind its target, so the path is quoted as a literal.
            target = "'" + path.as_posix().replace("'", "''") + "'"
            con.execute(
                f"copy (select {select_list} from read_json(?, format = 'newline_delimited', "
                f"columns = {struct_spec})) to {target} (format parquet, compression zstd)",
                [staging.as_posix()],
            )
        finally:
            con.close()


def generate(out_dir: Path, *, orgs: int, days: int, seed: int, end_date: date) -> GenerationSummary:
    """Write the sample landing folder into `out_dir` and say what was written."""
    if orgs < 1:
        raise ValueError("orgs must be at least 1")
    if days < MIN_DAYS:
        raise ValueError(f"days must be at least {MIN_DAYS}")
    b = _Builder(orgs=orgs, days=days, seed=seed, end_date=end_date)
    b.plan_organizations()
    b.plan_keys()
    b.plan_incidents()
    b.generate_calls()
    b.key_events()
    b.quota_events()
    b.other_events()
    b.finalize()
    rng = b.rng
    plan = _file_plan(b)

    # Bucket records into files by arrival day; lines carry a sort key (arrival, sequence).
    files: dict[str, list[tuple[datetime, int, str | dict[str, Any]]]] = {}
    formats: dict[str, str] = {}
    for path, fmt in plan.values():
        files.setdefault(path, [])
        formats[path] = fmt
    last_day = days - 1
    json_days = [d for d in range(days) if plan[d][1] != "parquet"]
    unknown_ok = set(json_days)
    types: Counter[str] = Counter()
    retries = 0
    duplicates = 0
    for rec in b.records:
        arrival = rec.received or rec.at
        day = min(b.day_of(arrival), last_day)
        if rec.event_type not in KNOWN_EVENT_TYPES and day not in unknown_ok:
            day = json_days[bisect.bisect_left(json_days, day) % len(json_days)]
        path = plan[day][0]
        body = b.body(rec)
        types[rec.event_type] += 1
        retries += rec.is_retry
        files[path].append((arrival, rec.seq, body))
        if rng.random() < 0.004:  # the collector redelivers it: same id, identical payload
            duplicates += 1
            later = arrival + timedelta(minutes=rng.uniform(1, 240))
            dup_day = min(b.day_of(later), last_day)
            if (plan[dup_day][1] == "parquet") != (plan[day][1] == "parquet"):
                dup_day, later = day, arrival + timedelta(seconds=rng.uniform(1, 60))
            files[plan[dup_day][0]].append((later, rec.seq, body))

    # Malformed and blank lines in a few NDJSON files, spread over the window.
    malformed_reasons: Counter[str] = Counter()
    malformed_by_path: Counter[str] = Counter()
    blank_by_path: Counter[str] = Counter()
    targets = sorted({days // 8, days // 2, (days * 2) // 3, days - 2} & set(json_days))
    org = b.orgs[0]
    bad = _malformed_lines(b, targets[0], org)
    for i, (reason, line) in enumerate(bad):
        day = targets[i % len(targets)]
        path = plan[day][0]
        at = b.day_start(day) + timedelta(milliseconds=rng.randint(0, 86_399_999))
        files[path].append((at, -1 - i, line))
        malformed_reasons[reason] += 1
        malformed_by_path[path] += 1
    for day in (days // 8, days - 2):
        path = plan[day][0]
        at = b.day_start(day) + timedelta(milliseconds=rng.randint(0, 86_399_999))
        files[path].append((at, -100 - day, ""))
        blank_by_path[path] += 1

    out_dir.mkdir(parents=True, exist_ok=True)
    summaries: list[FileSummary] = []
    for path in sorted(files):
        entries = sorted(files[path], key=lambda e: (e[0], e[1]))
        target = out_dir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        fmt = formats[path]
        records = sum(1 for e in entries if isinstance(e[2], dict))
        if fmt == "parquet":
            _write_parquet(target, [e[2] for e in entries if isinstance(e[2], dict)])
        else:
            text = "".join((_dumps(e[2]) if isinstance(e[2], dict) else e[2]) + "\n" for e in entries)
            data = text.encode("utf-8")
            if fmt == "ndjson.gz":
                data = gzip.compress(data, compresslevel=9, mtime=0)
            target.write_bytes(data)
        summaries.append(
            FileSummary(
                path=path,
                file_format=fmt,
                records=records,
                malformed_lines=malformed_by_path[path],
                blank_lines=blank_by_path[path],
                size_bytes=target.stat().st_size,
            )
        )
    return GenerationSummary(
        out_dir=out_dir,
        orgs=orgs,
        days=days,
        seed=seed,
        start_date=b.start_date,
        end_date=end_date,
        files=tuple(summaries),
        events_by_type=dict(sorted(types.items())),
        redelivered_duplicates=duplicates,
        client_retries=retries,
        malformed_lines=sum(malformed_reasons.values()),
        blank_lines=sum(blank_by_path.values()),
        malformed_reasons=dict(sorted(malformed_reasons.items())),
    )


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------


def format_summary(summary: GenerationSummary) -> str:
    lines = [
        f"wrote {len(summary.files)} files ({summary.total_bytes / 1e6:.1f} MB) to {summary.out_dir}",
        f"  {summary.orgs} organizations, {summary.days} days "
        f"{summary.start_date.isoformat()} .. {summary.end_date.isoformat()}, seed {summary.seed}",
        "  files by format: " + ", ".join(f"{k} {v}" for k, v in summary.files_by_format.items()),
        "  events by type: " + ", ".join(f"{k} {v}" for k, v in summary.events_by_type.items()),
        f"  redelivered duplicates {summary.redelivered_duplicates}, client retries "
        f"{summary.client_retries}, malformed lines {summary.malformed_lines}, blank lines "
        f"{summary.blank_lines}",
    ]
    for f in summary.files:
        extra = ""
        if f.malformed_lines or f.blank_lines:
            extra = f"  (+{f.malformed_lines} malformed, +{f.blank_lines} blank)"
        lines.append(f"  {f.path:<48} {f.file_format:<9} {f.records:>7} events{extra}")
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    from orchestration.errors import UsageError

    try:
        summary = generate(
            Path(args.out), orgs=args.orgs, days=args.days, seed=args.seed, end_date=args.end_date
        )
    except ValueError as exc:  # arguments the generator cannot honour (e.g. too few days)
        raise UsageError(str(exc)) from exc
    print(format_summary(summary))
    return 0


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {value}")
    return value


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from exc


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="write deterministic sample raw events (contract format, with dirt) to a folder",
        description="Write deterministic sample API events: same arguments, same bytes.",
    )
    parser.add_argument("--orgs", type=_at_least_one, default=DEFAULT_ORGS, help="organizations (40)")
    parser.add_argument("--days", type=_at_least_one, default=DEFAULT_DAYS, help="days of data (120)")
    parser.add_argument("--out", required=True, help="output folder, e.g. seeds/")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed (7)")
    parser.add_argument(
        "--end-date",
        type=_iso_date,
        default=DEFAULT_END_DATE,
        help="last day of data, YYYY-MM-DD (2026-10-31)",
    )
    parser.set_defaults(func=_run)
