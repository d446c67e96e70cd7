"""Every figure the dashboard and the report show, read from the published marts with SQL.

Values are always bound (`?`), never formatted into SQL. Each function returns plain rows (dicts)
so the pages and the tests compare the same numbers. Aggregation stays here, in the engine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import duckdb

from orchestration.warehouse import table_exists

WINDOW_DAYS = 30


def fetch(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    cursor = con.execute(sql, list(params))
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def fetch_one(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> dict[str, Any]:
    found = fetch(con, sql, params)
    return found[0] if found else {}


def fetch_by_organization(
    con: duckdb.DuckDBPyConnection, sql: str, organization_ids: Sequence[str], params: Sequence[Any] = ()
) -> dict[str, list[dict[str, Any]]]:
    """Rows of `sql`, which takes the id list as its first parameter, split by organization_id
    (dropped from each row); every id asked for is a key, with no rows if it has none."""
    wanted = list(organization_ids)
    grouped: dict[str, list[dict[str, Any]]] = {organization_id: [] for organization_id in wanted}
    for row in fetch(con, sql, [wanted, *params]):
        grouped[row.pop("organization_id")].append(row)
    return grouped


def has_mart(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return table_exists(con, "marts", table)


# ------------------------------------------------------------------ header of every page


def data_health(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """As-of date, refresh time, files failed, lines rejected, late events."""
    return fetch_one(con, "select * from marts.data_health")


def window_start(as_of: dt.date, days: int = WINDOW_DAYS) -> dt.date:
    return as_of - dt.timedelta(days=days - 1)


# ------------------------------------------------------------------------------ overview

_PLATFORM_DAILY_SQL = """
select * from marts.platform_daily_usage
where usage_date between ? and ?
order by usage_date
"""

_PLATFORM_TOTALS_SQL = """
select
    cast(sum(calls) as bigint) as calls,
    cast(sum(calls_2xx) as bigint) as calls_2xx,
    cast(sum(calls_3xx) as bigint) as calls_3xx,
    cast(sum(client_errors) as bigint) as client_errors,
    cast(sum(server_errors) as bigint) as server_errors,
    sum(client_errors + server_errors) / nullif(sum(calls), 0) as error_rate,
    median(latency_p50_ms) as median_day_p50_ms,
    median(latency_p95_ms) as median_day_p95_ms,
    median(latency_p99_ms) as median_day_p99_ms,
    max(latency_p95_ms) as slowest_day_p95_ms
from marts.platform_daily_usage
where usage_date between ? and ?
"""

_TREND_COUNTS_SQL = """
select trend, count(*) as customers
from marts.customer_usage_summary
group by all
order by customers desc, trend
"""

# Route and method over a window: sums, the error rate of the sums, and the daily p95's
# median and worst day (exact daily percentiles; a window percentile needs the raw calls).
_ENDPOINTS_WINDOW_SQL = """
select
    route,
    method,
    cast(sum(calls) as bigint) as calls,
    sum(client_errors + server_errors) / sum(calls) as error_rate,
    median(latency_p95_ms) as median_day_p95_ms,
    max(latency_p95_ms) as slowest_day_p95_ms,
    max(distinct_customers) as peak_daily_customers
from marts.endpoint_daily_performance
where usage_date between ? and ?
group by all
order by {order}, route, method
limit ?
"""


def platform_daily(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> list[dict[str, Any]]:
    return fetch(con, _PLATFORM_DAILY_SQL, [window_start(as_of), as_of])


def platform_totals(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> dict[str, Any]:
    return fetch_one(con, _PLATFORM_TOTALS_SQL, [window_start(as_of), as_of])


def trend_counts(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    return fetch(con, _TREND_COUNTS_SQL)


def top_endpoints(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, *, limit: int, by: str = "calls"
) -> list[dict[str, Any]]:
    order = {"calls": "calls desc", "p95": "slowest_day_p95_ms desc nulls last, calls desc"}[by]
    return fetch(con, _ENDPOINTS_WINDOW_SQL.format(order=order), [window_start(as_of), as_of, limit])


# ----------------------------------------------------------------------------- customers

# The action flag, first match wins, in the seeds' words: integration failing (docs/contract.md 2b:
# 100+ calls in 7 days, half of them failed), dormant, check in (declining, or quiet for 2+
# days), upsell (growing, or 80%+ of the quota / projected over it).
_CUSTOMERS_SQL = """
with
summary as (
    select * from marts.customer_usage_summary
),
last_7_days as (
    select
        organization_id,
        sum(calls) as calls_7d,
        sum(client_errors + server_errors) / nullif(sum(calls), 0) as error_rate_7d
    from marts.customer_daily_usage
    where usage_date between ? - interval 6 day and ?
    group by all
),
last_30_days as (
    select
        organization_id,
        sum(client_errors + server_errors) / nullif(sum(calls), 0) as error_rate_30d,
        median(latency_p95_ms) as median_day_p95_ms,
        max(latency_p95_ms) as slowest_day_p95_ms
    from marts.customer_daily_usage
    where usage_date between ? and ?
    group by all
),
quota_today as (
    select organization_id, pct_of_cap, will_exceed, days_to_cap
    from marts.quota_utilization
    where usage_date = ?
)
select
    summary.*,
    last_7_days.error_rate_7d,
    last_30_days.error_rate_30d,
    last_30_days.median_day_p95_ms,
    last_30_days.slowest_day_p95_ms,
    quota_today.pct_of_cap,
    case
        when last_7_days.calls_7d >= 100 and last_7_days.error_rate_7d >= 0.5
            then 'integration_failing'
        when summary.trend = 'dormant' then 'dormant'
        when summary.trend = 'declining' or summary.days_since_last_call >= 2 then 'check_in'
        when summary.trend = 'growing' or quota_today.pct_of_cap >= 80 or quota_today.will_exceed
            then 'upsell'
    end as action_flag
from summary
left join last_7_days using (organization_id)
left join last_30_days using (organization_id)
left join quota_today using (organization_id)
where (cast(? as varchar) is null or summary.organization_id = ?)
order by summary.rank_30d
limit ?
"""

_DAILY_CALLS_MANY_SQL = """
select organization_id, usage_date, calls
from marts.customer_daily_usage
where list_contains(?::varchar[], organization_id) and usage_date between ? and ?
order by organization_id, usage_date
"""


def customers(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, *, limit: int | None = None, org: str | None = None
) -> list[dict[str, Any]]:
    start = window_start(as_of)
    return fetch(con, _CUSTOMERS_SQL, [as_of, as_of, start, as_of, as_of, org, org, limit])


def daily_calls_for(
    con: duckdb.DuckDBPyConnection, organization_ids: list[str], as_of: dt.date
) -> dict[str, list[dict[str, Any]]]:
    return fetch_by_organization(con, _DAILY_CALLS_MANY_SQL, organization_ids, [window_start(as_of), as_of])


def all_organization_ids(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        row["organization_id"]
        for row in fetch(
            con, "select organization_id from marts.customer_usage_summary order by organization_id"
        )
    ]


# --------------------------------------------------------------------------------- quota

# Action labels as in the quota table the sales team asked for: CRITICAL (95%+ or the cap
# within 2 days), UPSELL NOW (80%+ or projected over the cap), warm (60%+), ok.
_QUOTA_SQL = """
select
    *,
    case
        when pct_of_cap >= 95 or days_to_cap <= 2 then 'CRITICAL'
        when pct_of_cap >= 80 or will_exceed then 'UPSELL NOW'
        when pct_of_cap >= 60 then 'warm'
        else 'ok'
    end as action_label,
    last_day(usage_date) as month_end_date,
    cast(strftime(last_day(usage_date), '%d') as integer) as days_in_month,
    cast(strftime(usage_date, '%d') as integer) as day_of_month,
    round(100.0 * projected_eom / monthly_call_limit, 1) as projected_pct_of_cap
from marts.quota_utilization
where usage_date = ? and (cast(? as varchar[]) is null or list_contains(?::varchar[], organization_id))
order by days_to_cap asc nulls last, pct_of_cap desc, organization_id
"""

_QUOTA_MONTH_SQL = """
select organization_id, usage_date, used_today, used_mtd, monthly_call_limit, pct_of_cap, projected_eom
from marts.quota_utilization
where list_contains(?::varchar[], organization_id)
  and billing_month = date_trunc('month', cast(? as date)) and usage_date <= ?
order by organization_id, usage_date
"""


def quota_accounts(
    con: duckdb.DuckDBPyConnection, on_date: dt.date, organization_ids: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """The quota rows of on_date, soonest to hit the cap first: everyone's, or these ids'."""
    wanted = None if organization_ids is None else list(organization_ids)
    return fetch(con, _QUOTA_SQL, [on_date, wanted, wanted])


def quota_month(
    con: duckdb.DuckDBPyConnection, organization_ids: Sequence[str], on_date: dt.date
) -> dict[str, list[dict[str, Any]]]:
    """Each organization's quota rows from the first of on_date's month through on_date."""
    return fetch_by_organization(con, _QUOTA_MONTH_SQL, organization_ids, [on_date, on_date])


_UPGRADES_SQL = """
select * from marts.upgrade_opportunities
where (cast(? as varchar) is null or organization_id = ?)
"""


def upgrade_opportunities(
    con: duckdb.DuckDBPyConnection, org: str | None = None
) -> dict[str, dict[str, Any]]:
    """marts.upgrade_opportunities by organization (empty without a plan catalogue)."""
    if not has_mart(con, "upgrade_opportunities"):
        return {}
    return {row["organization_id"]: row for row in fetch(con, _UPGRADES_SQL, [org, org])}


# ------------------------------------------------------------------- endpoints page

_ENDPOINT_HEATMAP_SQL = """
with
top_routes as (
    select route, method
    from marts.endpoint_daily_performance
    where usage_date between ? and ?
    group by all
    order by sum(calls) desc, route, method
    limit ?
)
select
    performance.method || ' ' || performance.route as endpoint,
    performance.usage_date,
    performance.calls,
    performance.error_rate,
    performance.latency_p95_ms
from marts.endpoint_daily_performance as performance
inner join top_routes using (route, method)
where performance.usage_date between ? and ?
order by endpoint, usage_date
"""

# Who a route affects: the organizations calling it in the window, most calls first.
_ENDPOINT_CUSTOMERS_SQL = """
select
    route,
    method,
    organization_id,
    cast(sum(calls) as bigint) as calls,
    sum(client_errors + server_errors) / sum(calls) as error_rate,
    max(latency_p95_ms) as slowest_day_p95_ms
from marts.customer_endpoint_daily
where usage_date between ? and ? and list_contains(?::varchar[], method || ' ' || route)
group by all
order by route, method, calls desc, organization_id
"""


def endpoint_heatmap(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, *, routes: int = 15
) -> list[dict[str, Any]]:
    start = window_start(as_of)
    return fetch(con, _ENDPOINT_HEATMAP_SQL, [start, as_of, routes, start, as_of])


def endpoint_customers(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, endpoints: list[str]
) -> dict[str, list[dict[str, Any]]] | None:
    """By "METHOD route": the organizations calling it; None without customer_endpoint_daily."""
    if not has_mart(con, "customer_endpoint_daily"):
        return None
    by_endpoint: dict[str, list[dict[str, Any]]] = {name: [] for name in endpoints}
    for row in fetch(con, _ENDPOINT_CUSTOMERS_SQL, [window_start(as_of), as_of, endpoints]):
        by_endpoint[f"{row['method']} {row['route']}"].append(row)
    return by_endpoint


# ------------------------------------------------------------------ onboarding page

_FUNNEL_SQL = """
select
    cohort_week,
    keys_issued,
    reached_first_success,
    reached_hundred_calls,
    reached_error_free_day
from marts.onboarding_funnel_weekly
order by cohort_week
"""

_RETENTION_SQL = """
select
    cohort_week,
    weeks_since_signup,
    cast(sum(cohort_size) as bigint) as cohort_size,
    cast(sum(active_customers) as bigint) as active_customers,
    sum(active_customers) / nullif(sum(cohort_size), 0) as retention_rate,
    bool_and(is_complete_week) as is_complete_week
from marts.cohort_retention
group by all
order by cohort_week, weeks_since_signup
"""


def funnel(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    return fetch(con, _FUNNEL_SQL)


def retention(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    return fetch(con, _RETENTION_SQL)


_INCIDENTS_SQL = """
select route, method, usage_date, kind, scope, affected_customers, latency_p95_ms, baseline_latency_p95_ms,
    server_error_rate, baseline_server_error_rate
from marts.endpoint_incidents
where usage_date between ? and ?
order by usage_date desc, affected_customers desc, route, method
limit ?
"""


def endpoint_incidents(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, *, limit: int = 20
) -> list[dict[str, Any]] | None:
    """Route degradations in the window (docs/contract.md 2b); None without marts.endpoint_incidents."""
    if not has_mart(con, "endpoint_incidents"):
        return None
    return fetch(con, _INCIDENTS_SQL, [window_start(as_of), as_of, limit])
