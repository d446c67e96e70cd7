"""The figures of customers: their days, endpoints, keys, alerts and plans (SQL, values bound).

Used by the customer pages and by the customer report, so both show the same numbers. Every
query takes the list of organization ids it may read and returns each one's rows, keyed by id
(an id without rows gets an empty list). A report asks for its one customer, so it can carry
nothing of another; the dashboard asks for a few thousand customers at once, because a query
costs DuckDB a few milliseconds whatever its size: ten per page, over 27,000 pages, was most of a
100M-event refresh.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import duckdb

from orchestration.dashboard.queries import fetch_by_organization, has_mart, window_start

Rows = list[dict[str, Any]]

_DAILY_SQL = """
select *
from marts.customer_daily_usage
where list_contains(?::varchar[], organization_id) and usage_date between ? and ?
order by organization_id, usage_date
"""

# One row per organization asked for, zeros (and nulls) when it has no day in the period.
_TOTALS_SQL = """
select
    wanted.organization_id,
    cast(coalesce(sum(calls), 0) as bigint) as calls,
    cast(coalesce(sum(successful_calls), 0) as bigint) as successful_calls,
    cast(coalesce(sum(client_errors), 0) as bigint) as client_errors,
    cast(coalesce(sum(server_errors), 0) as bigint) as server_errors,
    cast(coalesce(sum(rate_limited_calls), 0) as bigint) as rate_limited_calls,
    sum(client_errors + server_errors) / nullif(sum(calls), 0) as error_rate,
    median(latency_p50_ms) as median_day_p50_ms,
    median(latency_p95_ms) as median_day_p95_ms,
    median(latency_p99_ms) as median_day_p99_ms,
    max(latency_p95_ms) as slowest_day_p95_ms,
    max_by(usage_date, latency_p95_ms) as slowest_day,
    count(*) filter (where calls > 0) as active_days,
    max_by(plan_id, usage_date) as plan_id
from unnest(?::varchar[]) as wanted(organization_id)
left join marts.customer_daily_usage as daily
    on daily.organization_id = wanted.organization_id and daily.usage_date between ? and ?
group by wanted.organization_id
"""

# The 30 days ending on the as-of date, exact over the window's calls (docs/contract.md 2b).
_ENDPOINTS_30D_SQL = """
select
    organization_id,
    route,
    method,
    calls_30d as calls,
    error_rate_30d as error_rate,
    cast(round(server_error_rate_30d * calls_30d) as bigint) as server_errors,
    latency_p95_30d_ms as window_p95_ms,
    latency_p99_30d_ms as window_p99_ms
from marts.customer_endpoint_30d
where list_contains(?::varchar[], organization_id)
qualify row_number() over (partition by organization_id order by calls desc, route, method) <= ?
order by organization_id, calls desc, route, method
"""

# Per route and method over another period, from marts.customer_endpoint_daily (contract 2b).
_ENDPOINTS_SQL = """
select
    organization_id,
    route,
    method,
    cast(sum(calls) as bigint) as calls,
    sum(client_errors + server_errors) / sum(calls) as error_rate,
    cast(sum(server_errors) as bigint) as server_errors,
    median(latency_p95_ms) as median_day_p95_ms,
    max(latency_p95_ms) as slowest_day_p95_ms
from marts.customer_endpoint_daily
where list_contains(?::varchar[], organization_id) and usage_date between ? and ?
group by organization_id, route, method
qualify row_number() over (partition by organization_id order by sum(calls) desc, route, method) <= ?
order by organization_id, calls desc, route, method
"""

_ERRORS_BY_TYPE_SQL = """
select
    organization_id,
    status_class,
    error_type,
    cast(sum(failed_calls) as bigint) as failed_calls
from marts.error_breakdown_daily
where list_contains(?::varchar[], organization_id) and usage_date between ? and ?
group by all
order by organization_id, failed_calls desc, status_class, error_type
"""

_PLAN_HISTORY_SQL = """
with
days as (
    select
        organization_id,
        usage_date,
        plan_id,
        lag(plan_id) over (partition by organization_id order by usage_date) as previous_plan_id,
        row_number() over (partition by organization_id order by usage_date) as day_number
    from marts.customer_daily_usage
    where list_contains(?::varchar[], organization_id) and usage_date <= ?
)
select organization_id, usage_date as from_date, plan_id, previous_plan_id
from days
where day_number = 1 or plan_id is distinct from previous_plan_id
order by organization_id, from_date
"""

_KEYS_SQL = """
select
    organization_id,
    api_key_id,
    developer_id,
    plan_id,
    key_issued_at,
    first_call_at,
    first_success_at,
    furthest_step
from marts.onboarding_funnel
where list_contains(?::varchar[], organization_id)
order by organization_id, key_issued_at, api_key_id
"""

_KEY_ACTIVITY_SQL = """
select
    organization_id,
    api_key_id,
    cast(sum(calls) as bigint) as calls_30d,
    max(usage_date) as last_active_date,
    bool_or(is_usage_spike) as had_usage_spike,
    bool_or(is_ip_spread) as had_ip_spread
from marts.key_daily_activity
where list_contains(?::varchar[], organization_id) and usage_date between ? and ?
group by all
"""

_ALERTS_SQL = """
select organization_id, alert_key, alert_type, threshold, as_of_date, created_at, delivered_at, detail
from marts.alerts
where list_contains(?::varchar[], organization_id)
qualify row_number() over (
    partition by organization_id order by as_of_date desc, created_at desc, alert_key
) <= ?
order by organization_id, as_of_date desc, created_at desc, alert_key
"""


def customer_daily(
    con: duckdb.DuckDBPyConnection, organization_ids: Sequence[str], start: dt.date, end: dt.date
) -> dict[str, Rows]:
    """Each organization's days in marts.customer_daily_usage, oldest first."""
    return fetch_by_organization(con, _DAILY_SQL, organization_ids, [start, end])


def customer_totals(
    con: duckdb.DuckDBPyConnection, organization_ids: Sequence[str], start: dt.date, end: dt.date
) -> dict[str, dict[str, Any]]:
    """Each organization's sums and latency over the period (zeros when it made no call)."""
    grouped = fetch_by_organization(con, _TOTALS_SQL, organization_ids, [start, end])
    return {organization_id: rows[0] for organization_id, rows in grouped.items()}


def customer_endpoints(
    con: duckdb.DuckDBPyConnection,
    organization_ids: Sequence[str],
    start: dt.date,
    end: dt.date,
    *,
    as_of: dt.date,
    limit: int = 10,
) -> dict[str, Rows] | None:
    """Each organization's busiest routes in the period; None without the per-customer marts.

    Over the 30 days ending on the as-of date the percentiles are exact over the window's calls
    (window_p95_ms); over another period they are the median and slowest day's p95.
    """
    if (start, end) == (window_start(as_of), as_of) and has_mart(con, "customer_endpoint_30d"):
        return fetch_by_organization(con, _ENDPOINTS_30D_SQL, organization_ids, [limit])
    if not has_mart(con, "customer_endpoint_daily"):
        return None
    return fetch_by_organization(con, _ENDPOINTS_SQL, organization_ids, [start, end, limit])


def errors_by_type(
    con: duckdb.DuckDBPyConnection, organization_ids: Sequence[str], start: dt.date, end: dt.date
) -> dict[str, Rows] | None:
    """Failed calls by status class and error type; None without marts.error_breakdown_daily."""
    if not has_mart(con, "error_breakdown_daily"):
        return None
    return fetch_by_organization(con, _ERRORS_BY_TYPE_SQL, organization_ids, [start, end])


def plan_history(
    con: duckdb.DuckDBPyConnection, organization_ids: Sequence[str], end: dt.date
) -> dict[str, Rows]:
    return fetch_by_organization(con, _PLAN_HISTORY_SQL, organization_ids, [end])


def customer_keys(
    con: duckdb.DuckDBPyConnection, organization_ids: Sequence[str], as_of: dt.date
) -> dict[str, Rows]:
    """Each organization's keys, with their last 30 days' activity when that mart exists."""
    keys = fetch_by_organization(con, _KEYS_SQL, organization_ids)
    if has_mart(con, "key_daily_activity"):
        activity = fetch_by_organization(
            con, _KEY_ACTIVITY_SQL, organization_ids, [window_start(as_of), as_of]
        )
        for organization_id, own in keys.items():
            by_key = {row["api_key_id"]: row for row in activity[organization_id]}
            for key in own:
                key.update(by_key.get(key["api_key_id"], {"calls_30d": 0}))
    return keys


def customer_alerts(
    con: duckdb.DuckDBPyConnection, organization_ids: Sequence[str], *, limit: int = 20
) -> dict[str, Rows]:
    """Each organization's latest alerts, newest first (none before alerts are recorded)."""
    if not has_mart(con, "alerts"):
        return {organization_id: [] for organization_id in organization_ids}
    return fetch_by_organization(con, _ALERTS_SQL, organization_ids, [limit])
