"""The catalogue the sample is drawn from: plans, endpoints, errors, clients, networks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

DEFAULT_ORGS = 40
DEFAULT_DAYS = 120
DEFAULT_SEED = 7
DEFAULT_END_DATE = date(2026, 10, 31)
MIN_DAYS = 14

KNOWN_EVENT_TYPES = ("api_request", "quota_set", "key_issued", "key_revoked")

PLAN_SHARES = (("free", 0.42), ("pro", 0.36), ("enterprise", 0.22))
BASE_DAILY_CALLS = {"free": 8.0, "pro": 38.0, "enterprise": 135.0}
DEFAULT_LIMIT = {"free": 1_000, "pro": 10_000, "enterprise": 100_000}
BASE_ERROR_RATE = {"free": 0.03, "pro": 0.012, "enterprise": 0.006}
WEEKEND_FACTOR = {"free": 0.65, "pro": 0.45, "enterprise": 0.5}
# Chance that an organization skips a whole week (before the last two weeks): retention by plan.
WEEK_SKIP = {"free": 0.3, "pro": 0.1, "enterprise": 0.0}
TREND_WEIGHTS = {
    "free": {"steady": 0.22, "growing": 0.13, "declining": 0.05, "dormant": 0.48, "new": 0.12},
    "pro": {"steady": 0.38, "growing": 0.2, "declining": 0.1, "dormant": 0.2, "new": 0.12},
    "enterprise": {"steady": 0.55, "growing": 0.25, "declining": 0.1, "dormant": 0.04, "new": 0.06},
}
REQUIRED_TRENDS = ("steady", "growing", "declining", "dormant", "new")
NEXT_PLAN = {"free": "pro", "pro": "enterprise"}

# Roles of keys beyond an organization's first: traffic keys share the organization's calls,
# scripted keys follow their own onboarding story.
REQUIRED_KEY_ROLES = ("buggy", "abandoned", "trial", "dead", "secondary")
KEY_ROLE_WEIGHTS = {"secondary": 0.4, "trial": 0.2, "abandoned": 0.15, "dead": 0.1, "buggy": 0.15}
EXTRA_KEYS = {"free": (0, 1), "pro": (1, 2), "enterprise": (1, 3)}

# Last-month pct_of_cap targets for the quota archetypes, in order of priority (bands 100 with
# will_exceed, 95, 80 shown from 79.97, 50, 0, then more of each).
QUOTA_TARGETS = (112.0, 96.6, 79.97, 63.0, 31.0, 100.4, 86.0, 97.8, 55.0)


@dataclass(frozen=True)
class Endpoint:
    path: str  # with placeholders {n} digits, {uuid}, {hex24}, {hex16}
    method: str
    median_ms: float
    sigma: float
    weight: float
    response_bytes: int
    creates: bool = False


ENDPOINTS = (
    Endpoint("/v1/health", "GET", 3.0, 0.35, 0.6, 60),
    Endpoint("/v1/items", "GET", 45.0, 0.5, 2.0, 5200),
    Endpoint("/v1/search", "GET", 420.0, 0.6, 1.2, 14000),
    Endpoint("/v1/orders", "POST", 120.0, 0.45, 0.8, 900, creates=True),
    Endpoint("/v1/orders/{n}", "GET", 38.0, 0.45, 2.2, 1800),
    Endpoint("/v1/orders/{n}", "PUT", 95.0, 0.5, 0.4, 1800),
    Endpoint("/v1/orders/{n}", "DELETE", 60.0, 0.4, 0.15, 0),
    Endpoint("/v1/customers/{uuid}", "GET", 32.0, 0.4, 1.0, 1300),
    Endpoint("/v1/documents/{hex24}", "GET", 85.0, 0.55, 0.6, 22000),
    Endpoint("/v2/invoices/{n}/lines", "GET", 70.0, 0.5, 0.5, 3400),
    Endpoint("/v2/oauth2/token", "POST", 22.0, 0.3, 0.5, 700, creates=True),
    Endpoint("/v1/reports/export", "POST", 1400.0, 0.5, 0.12, 48000, creates=True),
    Endpoint("/v1/webhooks/{hex16}", "DELETE", 30.0, 0.3, 0.08, 0),
    Endpoint("/v1/users/me", "GET", 15.0, 0.3, 0.5, 400),
)
INCIDENT_PATHS = ("/v1/search", "/v1/orders", "/v1/orders/{n}", "/v1/documents/{hex24}")

CLIENT_ERRORS = ((400, "validation", 4), (401, "auth", 2), (403, "auth", 1), (404, "not_found", 3))
CLIENT_ERRORS_WRITE = ((409, "conflict", 1), (422, "validation", 3))
SERVER_ERRORS = ((500, "internal", 3), (502, "upstream", 2), (503, "unavailable", 2))
TIMEOUT_MS = 30_000.0

SDKS = (
    ("python", ("3.4.1", "3.5.0"), "CPython/3.12"),
    ("node", ("5.0.2", "5.1.0"), "Node.js/20.11"),
    ("go", ("1.8.0",), "go1.22"),
    ("java", ("2.11.0", "2.12.1"), "OpenJDK/21"),
    ("ruby", ("0.9.3",), "ruby/3.3"),
)
RAW_CLIENTS = ("curl/8.5.0", "PostmanRuntime/7.39.0", "python-requests/2.32.3")

# (country, gateway region, UTC offset of business hours, gateway city code, time style)
GEOS = (
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
IPV4_PREFIXES = ("192.0.2.", "198.51.100.", "203.0.113.")  # documentation ranges (RFC 5737)

# Local-hour activity profile (business hours peak).
HOUR_PROFILE = (
    0.15, 0.1, 0.08, 0.08, 0.1, 0.15, 0.3, 0.55, 0.85, 1.0, 1.0, 1.0,
    0.9, 1.0, 1.0, 1.0, 0.95, 0.8, 0.6, 0.45, 0.35, 0.3, 0.25, 0.2,
)  # fmt: skip

# Parquet column types: the same fields as the JSON lines, nested objects as structs.
PARQUET_COLUMNS = {
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
