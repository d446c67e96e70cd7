"""The figures of one customer: its days, endpoints, keys, alerts and plans (SQL, values bound).

Used by the customer's dashboard page and by its report, so both show the same numbers. Every
query is filtered on the one organization id it is given.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

from orchestration.dashboard.queries import fetch, fetch_one, has_mart, window_start

# ---------------------------------------------------------------------- one customer

_CUSTOMER_TOTALS_SQL = """
select
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
from marts.customer_daily_usage
where organization_id = ? and usage_date between ? and ?
"""

# Per route and method over a window, from marts.customer_endpoint_daily (docs/contract.md 2b).
_CUSTOMER_ENDPOINTS_SQL = """
select
    route,
    method,
    cast(sum(calls) as bigint) as calls,
    sum(client_errors + server_errors) / sum(calls) as error_rate,
    cast(sum(server_errors) as bigint) as server_errors,
    median(latency_p95_ms) as median_day_p95_ms,
    max(latency_p95_ms) as slowest_day_p95_ms
from marts.customer_endpoint_daily
where organization_id = ? and usage_date between ? and ?
group by all
order by calls desc, route, method
limit ?
"""

_PLAN_HISTORY_SQL = """
with
days as (
    select
        usage_date,
        plan_id,
        lag(plan_id) over (order by usage_date) as previous_plan_id,
        row_number() over (order by usage_date) as day_number
    from marts.customer_daily_usage
    where organization_id = ? and usage_date <= ?
)
select usage_date as from_date, plan_id, previous_plan_id
from days
where day_number = 1 or plan_id is distinct from previous_plan_id
order by from_date
"""

_KEYS_SQL = """
select
    api_key_id,
    developer_id,
    plan_id,
    key_issued_at,
    first_call_at,
    first_success_at,
    furthest_step
from marts.onboarding_funnel
where organization_id = ?
order by key_issued_at, api_key_id
"""

_KEY_ACTIVITY_SQL = """
select
    api_key_id,
    cast(sum(calls) as bigint) as calls_30d,
    max(usage_date) as last_active_date,
    bool_or(is_usage_spike) as had_usage_spike,
    bool_or(is_ip_spread) as had_ip_spread
from marts.key_daily_activity
where organization_id = ? and usage_date between ? and ?
group by all
"""

_ALERTS_SQL = """
select alert_key, alert_type, threshold, as_of_date, created_at, delivered_at, detail
from marts.alerts
where organization_id = ?
order by as_of_date desc, created_at desc, alert_key
limit ?
"""


def customer_totals(
    con: duckdb.DuckDBPyConnection, organization_id: str, start: dt.date, end: dt.date
) -> dict[str, Any]:
    return fetch_one(con, _CUSTOMER_TOTALS_SQL, [organization_id, start, end])


# The 30 days ending on the as-of date, exact over the window's calls (docs/contract.md 2b).
_CUSTOMER_ENDPOINTS_30D_SQL = """
select
    route,
    method,
    calls_30d as calls,
    error_rate_30d as error_rate,
    cast(round(server_error_rate_30d * calls_30d) as bigint) as server_errors,
    latency_p95_30d_ms as window_p95_ms,
    latency_p99_30d_ms as window_p99_ms
from marts.customer_endpoint_30d
where organization_id = ?
order by calls desc, route, method
limit ?
"""

_ERRORS_BY_TYPE_SQL = """
select
    status_class,
    error_type,
    cast(sum(failed_calls) as bigint) as failed_calls
from marts.error_breakdown_daily
where organization_id = ? and usage_date between ? and ?
group by all
order by failed_calls desc, status_class, error_type
"""


def customer_endpoints(
    con: duckdb.DuckDBPyConnection,
    organization_id: str,
    start: dt.date,
    end: dt.date,
    *,
    as_of: dt.date,
    limit: int = 10,
) -> list[dict[str, Any]] | None:
    """The organization's busiest routes in the period; None without the per-customer marts.

    Over the 30 days ending on the as-of date the percentiles are exact over the window's calls
    (window_p95_ms); over another period they are the median and slowest day's p95.
    """
    if (start, end) == (window_start(as_of), as_of) and has_mart(con, "customer_endpoint_30d"):
        return fetch(con, _CUSTOMER_ENDPOINTS_30D_SQL, [organization_id, limit])
    if not has_mart(con, "customer_endpoint_daily"):
        return None
    return fetch(con, _CUSTOMER_ENDPOINTS_SQL, [organization_id, start, end, limit])


def errors_by_type(
    con: duckdb.DuckDBPyConnection, organization_id: str, start: dt.date, end: dt.date
) -> list[dict[str, Any]] | None:
    """Failed calls by status class and error type; None without marts.error_breakdown_daily."""
    if not has_mart(con, "error_breakdown_daily"):
        return None
    return fetch(con, _ERRORS_BY_TYPE_SQL, [organization_id, start, end])


def plan_history(con: duckdb.DuckDBPyConnection, organization_id: str, end: dt.date) -> list[dict[str, Any]]:
    return fetch(con, _PLAN_HISTORY_SQL, [organization_id, end])


def customer_keys(
    con: duckdb.DuckDBPyConnection, organization_id: str, as_of: dt.date
) -> list[dict[str, Any]]:
    keys = fetch(con, _KEYS_SQL, [organization_id])
    if has_mart(con, "key_daily_activity"):
        activity = {
            row["api_key_id"]: row
            for row in fetch(con, _KEY_ACTIVITY_SQL, [organization_id, window_start(as_of), as_of])
        }
        for key in keys:
            key.update(activity.get(key["api_key_id"], {"calls_30d": 0}))
    return keys


def customer_alerts(
    con: duckdb.DuckDBPyConnection, organization_id: str, *, limit: int = 20
) -> list[dict[str, Any]]:
    if not has_mart(con, "alerts"):
        return []
    return fetch(con, _ALERTS_SQL, [organization_id, limit])
