"""The reliability marts (docs/contract.md sections 2b and 2c) as rows, plain selects of mart
columns: one customer's routes and failed calls by error type over 30 days
(`marts.customer_endpoint_30d`, `error_breakdown_30d`), degraded routes and the customers each one
hit (`endpoint_incidents`, `endpoint_incident_customers`), who calls an API version, read from the
api.version header or the path (`api_version_exposure`), and one customer's keys
(`key_activity_30d`, day by day `key_daily_activity`). Every window ends on the as-of date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from orchestration.reports.queries import run_query, select_list

WINDOW_DAYS = 30

# Names the family in the "not built yet" error of run_query.
_MARTS = "reliability"


def window_start(as_of: dt.date, days: int = WINDOW_DAYS) -> dt.date:
    return as_of - dt.timedelta(days=days - 1)


# ------------------------------------------------------------------ one customer's routes


@dataclass(frozen=True)
class CustomerEndpoint:
    """A row of marts.customer_endpoint_30d."""

    organization_id: str
    route: str
    method: str
    calls_30d: int
    share_of_org_calls_30d: float
    error_rate_30d: float | None
    server_error_rate_30d: float | None
    failed_calls_30d: int
    server_errors_30d: int
    auth_errors_30d: int
    latency_p50_30d_ms: float | None
    latency_p95_30d_ms: float | None
    latency_p99_30d_ms: float | None
    active_days_30d: int
    last_call_at: dt.datetime | None


# ORDER BY clauses chosen from this fixed map by the --sort choice, never from user text.
CUSTOMER_SORT_ORDERS = {
    "calls": "calls_30d desc",
    "p95": "latency_p95_30d_ms desc nulls last",
    "p99": "latency_p99_30d_ms desc nulls last",
    "errors": "error_rate_30d desc nulls last",
}

_CUSTOMER_ENDPOINTS_SQL = f"""
select {select_list(CustomerEndpoint)}
from marts.customer_endpoint_30d
where organization_id = ?
order by {{order}}, calls_30d desc, route, method
limit ?
"""


def fetch_customer_endpoints(
    con: duckdb.DuckDBPyConnection, *, org: str, limit: int | None, sort: str = "calls"
) -> list[CustomerEndpoint]:
    sql = _CUSTOMER_ENDPOINTS_SQL.format(order=CUSTOMER_SORT_ORDERS[sort])
    return [CustomerEndpoint(*row) for row in run_query(con, sql, [org, limit], marts=_MARTS)]


@dataclass(frozen=True)
class ErrorType:
    """A row of marts.error_breakdown_30d: one organization's failed calls of a class and type."""

    organization_id: str
    status_class: str
    error_type: str
    failed_calls_30d: int
    failed_days_30d: int
    last_failed_date: dt.date


_ERROR_TYPES_SQL = f"""
select {select_list(ErrorType)}
from marts.error_breakdown_30d
where organization_id = ?
order by failed_calls_30d desc, status_class, error_type
limit ?
"""


def fetch_error_types(con: duckdb.DuckDBPyConnection, *, org: str, limit: int | None = 5) -> list[ErrorType]:
    """One organization's failed calls by status class and error type over 30 days, most first."""
    return [ErrorType(*row) for row in run_query(con, _ERROR_TYPES_SQL, [org, limit], marts=_MARTS)]


# ------------------------------------------------------------------------------ incidents


@dataclass(frozen=True)
class Incident:
    """A row of marts.endpoint_incidents."""

    usage_date: dt.date
    route: str
    method: str
    kind: str
    calls: int
    server_errors: int
    latency_p95_ms: float | None
    baseline_latency_p95_ms: float | None
    server_error_rate: float | None
    baseline_server_error_rate: float | None
    baseline_days: int
    affected_customers: int
    scope: str


@dataclass(frozen=True)
class IncidentCustomer:
    """A row of marts.endpoint_incident_customers: an organization an incident hit."""

    usage_date: dt.date
    route: str
    method: str
    organization_id: str
    calls: int
    server_errors: int
    slow_calls: int
    latency_p95_ms: float | None


# Incidents in the window, of a scope, and (with an organization) only those that hit it.
_INCIDENT_FILTER = """
    incidents.usage_date between ? and ?
    and (cast(? as varchar) is null or incidents.scope = ?)
    and (
        cast(? as varchar) is null or exists (
            select 1 from marts.endpoint_incident_customers as hit
            where
                hit.route = incidents.route
                and hit.method = incidents.method
                and hit.usage_date = incidents.usage_date
                and hit.organization_id = ?
        )
    )
"""

_INCIDENTS_SQL = f"""
select {select_list(Incident, "incidents")}
from marts.endpoint_incidents as incidents
where {_INCIDENT_FILTER}
order by incidents.usage_date desc, incidents.affected_customers desc, incidents.route, incidents.method
"""

_INCIDENT_CUSTOMERS_SQL = f"""
select {select_list(IncidentCustomer, "customers")}
from marts.endpoint_incident_customers as customers
inner join marts.endpoint_incidents as incidents
    on
        customers.route = incidents.route
        and customers.method = incidents.method
        and customers.usage_date = incidents.usage_date
where {_INCIDENT_FILTER}
order by
    customers.usage_date desc, incidents.affected_customers desc, customers.route, customers.method,
    customers.calls desc, customers.organization_id
"""


def _incident_params(as_of: dt.date, days: int, scope: str | None, org: str | None) -> list:
    return [window_start(as_of, days), as_of, scope, scope, org, org]


def fetch_incidents(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: dt.date,
    days: int,
    scope: str | None = None,
    org: str | None = None,
) -> list[Incident]:
    params = _incident_params(as_of, days, scope, org)
    return [Incident(*row) for row in run_query(con, _INCIDENTS_SQL, params, marts=_MARTS)]


def fetch_incident_customers(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: dt.date,
    days: int,
    scope: str | None = None,
    org: str | None = None,
) -> list[IncidentCustomer]:
    """Every organization each of those incidents hit (all of them, not only `org`)."""
    params = _incident_params(as_of, days, scope, org)
    return [IncidentCustomer(*row) for row in run_query(con, _INCIDENT_CUSTOMERS_SQL, params, marts=_MARTS)]


# ------------------------------------------------------------------------ API versions

# Where the version is read, and the mart that holds it: the api.version header
# (marts.api_version_exposure) or the path's major version (marts.api_path_version_exposure).
VERSION_MARTS = {"header": "marts.api_version_exposure", "path": "marts.api_path_version_exposure"}
VERSION_SOURCES = tuple(VERSION_MARTS)


@dataclass(frozen=True)
class VersionCustomer:
    """A row of marts.api_version_exposure or api_path_version_exposure: an organization's calls
    with one API version, read from the api.version header or from the path (/v1/... -> v1)."""

    version_source: str
    api_version: str
    organization_id: str
    calls_30d: int
    share_of_org_calls_30d: float
    first_call_at: dt.datetime
    last_call_at: dt.datetime


def _version_customers_sql(version_source: str) -> str:
    return f"""
select {select_list(VersionCustomer)}
from {VERSION_MARTS[version_source]}
where cast(? as varchar) is null or api_version = ?
order by api_version, calls_30d desc, organization_id
limit ?
"""


def fetch_version_customers(
    con: duckdb.DuckDBPyConnection, *, version_source: str, api_version: str | None, limit: int | None
) -> list[VersionCustomer]:
    """Who called each API version of a source (or only `api_version`) over 30 days; none for a
    source that is not one."""
    if version_source not in VERSION_MARTS:
        return []
    rows = run_query(
        con, _version_customers_sql(version_source), [api_version, api_version, limit], marts=_MARTS
    )
    return [VersionCustomer(*row) for row in rows]


def fetch_known_versions(con: duckdb.DuckDBPyConnection, *, version_source: str) -> list[str]:
    """The API versions of a source called in the 30 days."""
    if version_source not in VERSION_MARTS:
        return []
    sql = f"select distinct api_version from {VERSION_MARTS[version_source]} order by 1"
    rows = run_query(con, sql, [], marts=_MARTS)
    return [version for (version,) in rows]


# ------------------------------------------------------------------- one customer's keys


@dataclass(frozen=True)
class KeyActivity:
    """A row of marts.key_activity_30d: one key's 30 days, its last day and its flagged days."""

    organization_id: str
    api_key_id: str
    calls_30d: int
    active_days_30d: int
    last_call_date: dt.date
    last_day_calls: int
    last_day_median_calls_prior_28d: float | None
    last_day_spike_ratio: float | None
    last_day_distinct_ip_hashes: int
    last_day_median_ip_hashes_prior_28d: float | None
    max_distinct_countries_30d: int
    auth_errors_30d: int
    failed_calls_30d: int
    new_routes_30d: int
    spike_days_30d: int
    last_spike_date: dt.date | None
    ip_spread_days_30d: int
    last_ip_spread_date: dt.date | None
    as_of_date: dt.date


_KEYS_SQL = f"""
select {select_list(KeyActivity)}
from marts.key_activity_30d
where organization_id = ?
order by calls_30d desc, api_key_id
limit ?
"""


def fetch_keys(con: duckdb.DuckDBPyConnection, *, org: str, limit: int | None) -> list[KeyActivity]:
    """One organization's keys over the 30 days, the busiest first."""
    return [KeyActivity(*row) for row in run_query(con, _KEYS_SQL, [org, limit], marts=_MARTS)]


@dataclass(frozen=True)
class KeyDay:
    """A row of marts.key_daily_activity: one key's day."""

    usage_date: dt.date
    api_key_id: str
    calls: int
    median_calls_prior_28d: float | None
    spike_ratio: float | None
    distinct_ip_hashes: int
    median_ip_hashes_prior_28d: float | None
    distinct_countries: int
    auth_errors: int
    failed_calls: int
    new_routes: int
    is_usage_spike: bool
    is_ip_spread: bool


_KEY_DAYS_SQL = f"""
select {select_list(KeyDay)}
from marts.key_daily_activity
where organization_id = ? and usage_date between ? and ?
order by usage_date desc, calls desc, api_key_id
limit ?
"""


def fetch_key_days(
    con: duckdb.DuckDBPyConnection, *, org: str, as_of: dt.date, limit: int | None
) -> list[KeyDay]:
    """One organization's keys, day by day over the 30 days, the newest day first."""
    params = [org, window_start(as_of), as_of, limit]
    return [KeyDay(*row) for row in run_query(con, _KEY_DAYS_SQL, params, marts=_MARTS)]
