"""The reliability marts (docs/contract.md section 2b) as rows: one customer's routes over 30 days
(`marts.customer_endpoint_30d`, `error_breakdown_daily`), degraded routes (`endpoint_incidents`),
API version adoption (`api_version_exposure`, `client_adoption_daily`) and one customer's keys
(`key_daily_activity`). Every window ends on the as-of date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from orchestration.reports.queries import run_query

WINDOW_DAYS = 30


# Names the family in the "not built yet" error of run_query.
_MARTS = "reliability"


def window_start(as_of: dt.date, days: int = WINDOW_DAYS) -> dt.date:
    return as_of - dt.timedelta(days=days - 1)


# ------------------------------------------------------------------ one customer's routes


@dataclass(frozen=True)
class CustomerEndpoint:
    route: str
    method: str
    calls_30d: int
    share_of_org_calls_30d: float
    error_rate_30d: float | None
    server_error_rate_30d: float | None
    auth_errors_30d: int
    latency_p50_30d_ms: float | None
    latency_p95_30d_ms: float | None
    latency_p99_30d_ms: float | None
    last_call_at: dt.datetime | None


@dataclass(frozen=True)
class ErrorTypeCount:
    status_class: str
    error_type: str
    failed_calls: int


# ORDER BY clauses chosen from this fixed map by the --sort choice, never from user text.
CUSTOMER_SORT_ORDERS = {
    "calls": "calls_30d desc",
    "p95": "latency_p95_30d_ms desc nulls last",
    "p99": "latency_p99_30d_ms desc nulls last",
    "errors": "error_rate_30d desc nulls last",
}

_CUSTOMER_ENDPOINTS_SQL = """
select
    route,
    method,
    calls_30d,
    share_of_org_calls_30d,
    error_rate_30d,
    server_error_rate_30d,
    auth_errors_30d,
    latency_p50_30d_ms,
    latency_p95_30d_ms,
    latency_p99_30d_ms,
    last_call_at
from marts.customer_endpoint_30d
where organization_id = ?
order by {order}, calls_30d desc, route, method
limit ?
"""

_ERROR_TYPES_SQL = """
select status_class, error_type, cast(sum(failed_calls) as bigint) as failed_calls
from marts.error_breakdown_daily
where organization_id = ? and usage_date between ? and ?
group by status_class, error_type
order by failed_calls desc, status_class, error_type
limit ?
"""


def fetch_customer_endpoints(
    con: duckdb.DuckDBPyConnection, *, org: str, limit: int, sort: str = "calls"
) -> list[CustomerEndpoint]:
    sql = _CUSTOMER_ENDPOINTS_SQL.format(order=CUSTOMER_SORT_ORDERS[sort])
    return [CustomerEndpoint(*row) for row in run_query(con, sql, [org, limit], marts=_MARTS)]


def fetch_error_types(
    con: duckdb.DuckDBPyConnection, *, org: str, as_of: dt.date, limit: int = 5
) -> list[ErrorTypeCount]:
    rows = run_query(con, _ERROR_TYPES_SQL, [org, window_start(as_of), as_of, limit], marts=_MARTS)
    return [ErrorTypeCount(*row) for row in rows]


# ------------------------------------------------------------------------------ incidents


@dataclass(frozen=True)
class Incident:
    usage_date: dt.date
    route: str
    method: str
    kind: str
    calls: int
    latency_p95_ms: float | None
    baseline_latency_p95_ms: float | None
    server_error_rate: float | None
    baseline_server_error_rate: float | None
    affected_customers: int
    scope: str


_INCIDENTS_SQL = """
select
    usage_date,
    route,
    method,
    kind,
    calls,
    latency_p95_ms,
    baseline_latency_p95_ms,
    server_error_rate,
    baseline_server_error_rate,
    affected_customers,
    scope
from marts.endpoint_incidents
where
    usage_date between ? and ?
    and (cast(? as varchar) is null or scope = ?)
order by usage_date desc, affected_customers desc, route, method
"""


def fetch_incidents(
    con: duckdb.DuckDBPyConnection, *, as_of: dt.date, days: int, scope: str | None = None
) -> list[Incident]:
    rows = run_query(con, _INCIDENTS_SQL, [window_start(as_of, days), as_of, scope, scope], marts=_MARTS)
    return [Incident(*row) for row in rows]


# ------------------------------------------------------------------------ API versions


@dataclass(frozen=True)
class VersionAdoption:
    api_version: str
    customers_30d: int
    calls_30d: int
    share_of_calls_30d: float
    share_first_week: float | None  # share of calls in the window's first 7 days
    share_last_week: float | None  # share of calls in the 7 days ending on the as-of date


@dataclass(frozen=True)
class VersionCustomer:
    organization_id: str
    calls_30d: int
    share_of_org_calls_30d: float
    first_call_at: dt.datetime
    last_call_at: dt.datetime


_ADOPTION_SQL = """
with
exposure as (
    select api_version, count(*) as customers_30d, cast(sum(calls_30d) as bigint) as calls_30d
    from marts.api_version_exposure
    group by api_version
),

daily as (
    select
        api_version,
        sum(calls) filter (where usage_date between ? and ?) as calls_first_week,
        sum(calls) filter (where usage_date between ? and ?) as calls_last_week
    from marts.client_adoption_daily
    group by api_version
),

shares as (
    select
        exposure.api_version,
        exposure.customers_30d,
        exposure.calls_30d,
        exposure.calls_30d / sum(exposure.calls_30d) over () as share_of_calls_30d,
        daily.calls_first_week / sum(daily.calls_first_week) over () as share_first_week,
        daily.calls_last_week / sum(daily.calls_last_week) over () as share_last_week
    from exposure
    left join daily on exposure.api_version = daily.api_version
)

select * from shares
order by calls_30d desc, api_version
"""

_VERSION_CUSTOMERS_SQL = """
select organization_id, calls_30d, share_of_org_calls_30d, first_call_at, last_call_at
from marts.api_version_exposure
where api_version = ?
order by calls_30d desc, organization_id
limit ?
"""

_KNOWN_VERSIONS_SQL = """
select distinct api_version from marts.client_adoption_daily
"""


def fetch_version_adoption(con: duckdb.DuckDBPyConnection, *, as_of: dt.date) -> list[VersionAdoption]:
    first = window_start(as_of)
    weeks = [first, first + dt.timedelta(days=6), window_start(as_of, 7), as_of]
    rows = run_query(con, _ADOPTION_SQL, weeks, marts=_MARTS)
    return [VersionAdoption(*row) for row in rows]


def fetch_version_customers(
    con: duckdb.DuckDBPyConnection, *, api_version: str, limit: int
) -> list[VersionCustomer]:
    return [
        VersionCustomer(*row)
        for row in run_query(con, _VERSION_CUSTOMERS_SQL, [api_version, limit], marts=_MARTS)
    ]


def fetch_known_versions(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [version for (version,) in run_query(con, _KNOWN_VERSIONS_SQL, marts=_MARTS)]


# ------------------------------------------------------------------- one customer's keys


@dataclass(frozen=True)
class KeyActivity:
    api_key_id: str
    calls_30d: int
    active_days_30d: int
    last_day: dt.date
    last_day_calls: int
    median_calls_prior_28d: float | None
    spike_ratio: float | None
    last_day_ip_hashes: int
    median_ip_hashes_prior_28d: float | None
    max_countries_30d: int
    auth_errors_30d: int
    new_routes_30d: int
    usage_spike_days: int
    last_usage_spike: dt.date | None
    ip_spread_days: int
    last_ip_spread: dt.date | None


_KEYS_SQL = """
select
    api_key_id,
    cast(sum(calls) as bigint) as calls_30d,
    count(*) as active_days_30d,
    max(usage_date) as last_day,
    max_by(calls, usage_date) as last_day_calls,
    max_by(median_calls_prior_28d, usage_date) as median_calls_prior_28d,
    max_by(spike_ratio, usage_date) as spike_ratio,
    max_by(distinct_ip_hashes, usage_date) as last_day_ip_hashes,
    max_by(median_ip_hashes_prior_28d, usage_date) as median_ip_hashes_prior_28d,
    max(distinct_countries) as max_countries_30d,
    cast(sum(auth_errors) as bigint) as auth_errors_30d,
    cast(sum(new_routes) as bigint) as new_routes_30d,
    count(*) filter (where is_usage_spike) as usage_spike_days,
    max(usage_date) filter (where is_usage_spike) as last_usage_spike,
    count(*) filter (where is_ip_spread) as ip_spread_days,
    max(usage_date) filter (where is_ip_spread) as last_ip_spread
from marts.key_daily_activity
where organization_id = ? and usage_date between ? and ?
group by api_key_id
order by calls_30d desc, api_key_id
"""


def fetch_keys(con: duckdb.DuckDBPyConnection, *, org: str, as_of: dt.date) -> list[KeyActivity]:
    return [
        KeyActivity(*row)
        for row in run_query(con, _KEYS_SQL, [org, window_start(as_of), as_of], marts=_MARTS)
    ]
