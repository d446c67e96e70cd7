"""The dashboard's pages as rows of the marts: plain selects, one function per question.

No figure or verdict is made here (docs/contract.md 2c): every column is a mart's, read with
where, order by, limit and joins on keys. A page that wants a figure no mart has shows what the
marts have instead (docs/dashboard.md lists them). Values are always bound (`?`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import duckdb

from orchestration.reports.queries import run_query
from orchestration.warehouse import table_exists

Row = dict[str, Any]
WINDOW_DAYS = 30


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = (), *, marts: str) -> list[Row]:
    """All rows of `sql` as dicts keyed by the mart's column names."""
    found = run_query(con, sql, params, marts=marts)
    names = [column[0] for column in con.description or ()]
    return [dict(zip(names, row, strict=True)) for row in found]


def one(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = (), *, marts: str) -> Row:
    found = rows(con, sql, params, marts=marts)
    return found[0] if found else {}


def has_mart(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return table_exists(con, "marts", table)


def window_start(as_of: dt.date, days: int = WINDOW_DAYS) -> dt.date:
    return as_of - dt.timedelta(days=days - 1)


# ------------------------------------------------------------------ header of every page


def data_health(con: duckdb.DuckDBPyConnection) -> Row:
    """As-of date, refresh time, files failed, lines rejected, late events."""
    return one(con, "select * from marts.data_health", marts="dashboard")


# ------------------------------------------------------------------------------ overview


def platform_daily(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> list[Row]:
    return rows(
        con,
        "select * from marts.platform_daily_usage where usage_date between ? and ? order by usage_date",
        [start, end],
        marts="dashboard",
    )


def platform_windows(con: duckdb.DuckDBPyConnection) -> dict[int, Row] | None:
    """marts.platform_window_usage by window_days (1, 7, 30 days ending on the as-of date): the
    platform's calls, status split, error rate and exact percentiles over each window's calls;
    None without that mart."""
    if not has_mart(con, "platform_window_usage"):
        return None
    found = rows(con, "select * from marts.platform_window_usage order by window_days", marts="dashboard")
    return {row["window_days"]: row for row in found}


def active_customers(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> Row | None:
    """Customers and keys with a successful call in the day, 7 and 28 days ending on the as-of date."""
    if not has_mart(con, "active_customers_daily"):
        return None
    return one(
        con, "select * from marts.active_customers_daily where usage_date = ?", [as_of], marts="reliability"
    )


def lifecycle_weeks(con: duckdb.DuckDBPyConnection, since: dt.date) -> list[Row] | None:
    """marts.customer_lifecycle_weekly from the week of `since` on, newest first, one row per
    plan (the mart has no all-plans row)."""
    if not has_mart(con, "customer_lifecycle_weekly"):
        return None
    return rows(
        con,
        """
        select * from marts.customer_lifecycle_weekly
        where week >= ?
        order by week desc, plan_id nulls last
        """,
        [since],
        marts="reliability",
    )


# ----------------------------------------------------------------------------- customers

_CUSTOMERS_SQL = """
select
    summary.*,
    outlook.pct_of_cap,
    outlook.action as quota_action
from marts.customer_usage_summary as summary
left join marts.quota_outlook as outlook on summary.organization_id = outlook.organization_id
where (cast(? as varchar) is null or summary.organization_id = ?)
order by summary.rank_30d, summary.organization_id
limit ?
"""


def customers(
    con: duckdb.DuckDBPyConnection, *, limit: int | None = None, org: str | None = None
) -> list[Row]:
    """customer_usage_summary rows by rank (the upsell flag is its is_upsell_signal), with the
    account's quota_outlook pct_of_cap and action when it has a quota."""
    return rows(con, _CUSTOMERS_SQL, [org, org, limit], marts="usage")


def all_organization_ids(con: duckdb.DuckDBPyConnection) -> list[str]:
    sql = "select organization_id from marts.customer_usage_summary order by organization_id"
    found = rows(con, sql, marts="usage")
    return [row["organization_id"] for row in found]


# --------------------------------------------------------------------------------- quota

# The mart's outlook names sort as they matter: cap_reached, reaches_cap, resets_first.
_QUOTA_SQL = """
select
    outlook.*,
    utilization.day_of_month,
    utilization.days_in_month
from marts.quota_outlook as outlook
inner join marts.quota_utilization as utilization
    on outlook.organization_id = utilization.organization_id and outlook.as_of_date = utilization.usage_date
where cast(? as varchar[]) is null or list_contains(?::varchar[], outlook.organization_id)
order by outlook.outlook, outlook.cap_date nulls last, outlook.pct_of_cap desc, outlook.organization_id
"""


def quota_outlook(con: duckdb.DuckDBPyConnection, organization_ids: Sequence[str] | None = None) -> list[Row]:
    """marts.quota_outlook's rows (everyone's, or these ids'), the cap reached or nearest first."""
    wanted = None if organization_ids is None else list(organization_ids)
    return rows(con, _QUOTA_SQL, [wanted, wanted], marts="revenue")


def upgrade_prices(con: duckdb.DuckDBPyConnection) -> dict[str, Row]:
    """marts.upgrade_opportunities by organization: the catalogue's prices for a drafted note."""
    if not has_mart(con, "upgrade_opportunities"):
        return {}
    found = rows(con, "select * from marts.upgrade_opportunities", marts="revenue")
    return {row["organization_id"]: row for row in found}


_QUOTA_OUTCOMES_SQL = """
select
    organization_id, billing_month, peak_band, limit_at_month_end, rate_limited_calls,
    next_month_limit, next_month_calls, is_next_month_complete, outcome
from marts.quota_outcomes
order by billing_month desc, peak_band desc, organization_id
"""


def quota_outcomes(con: duckdb.DuckDBPyConnection) -> list[Row] | None:
    """marts.quota_outcomes: each complete month an account reached 80% of its quota and what
    followed, the latest month first; None without that mart (an older snapshot)."""
    if not has_mart(con, "quota_outcomes"):
        return None
    return rows(con, _QUOTA_OUTCOMES_SQL, marts="revenue")


# ----------------------------------------------------------------------------- endpoints


def window_endpoints(
    con: duckdb.DuckDBPyConnection, *, window_days: int = WINDOW_DAYS, limit: int, by: str = "calls"
) -> list[Row]:
    """Routes of marts.endpoint_window_performance, busiest or slowest (exact p95) first."""
    order = {"calls": "calls desc", "p95": "latency_p95_ms desc nulls last, calls desc"}[by]
    return rows(
        con,
        f"""
        select * from marts.endpoint_window_performance
        where window_days = ?
        order by {order}, route, method
        limit ?
        """,
        [window_days, limit],
        marts="reliability",
    )


_HEATMAP_SQL = """
select
    daily.method || ' ' || daily.route as endpoint,
    daily.usage_date,
    daily.calls,
    daily.error_rate,
    daily.latency_p95_ms
from marts.endpoint_daily_performance as daily
inner join (
    select route, method
    from marts.endpoint_window_performance
    where window_days = ?
    order by calls desc, route, method
    limit ?
) as busiest on daily.route = busiest.route and daily.method = busiest.method
where daily.usage_date between ? and ?
order by endpoint, daily.usage_date
"""


def endpoint_heatmap(con: duckdb.DuckDBPyConnection, as_of: dt.date, *, routes: int = 15) -> list[Row]:
    """The daily figures of the window's busiest routes."""
    return rows(con, _HEATMAP_SQL, [WINDOW_DAYS, routes, window_start(as_of), as_of], marts="reliability")


def endpoint_callers(con: duckdb.DuckDBPyConnection, endpoints: Sequence[str]) -> dict[str, list[Row]] | None:
    """By "METHOD route": its callers over the 30 days (marts.customer_endpoint_30d), most calls
    first; None without that mart."""
    if not has_mart(con, "customer_endpoint_30d"):
        return None
    by_endpoint: dict[str, list[Row]] = {name: [] for name in endpoints}
    found = rows(
        con,
        """
        select organization_id, route, method, calls_30d
        from marts.customer_endpoint_30d
        where list_contains(?::varchar[], method || ' ' || route)
        order by route, method, calls_30d desc, organization_id
        """,
        [list(endpoints)],
        marts="reliability",
    )
    for row in found:
        by_endpoint[f"{row['method']} {row['route']}"].append(row)
    return by_endpoint


def incidents(
    con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date, *, limit: int
) -> list[Row] | None:
    """Route degradations from start to end (docs/contract.md 2b); None without the mart."""
    if not has_mart(con, "endpoint_incidents"):
        return None
    return rows(
        con,
        """
        select * from marts.endpoint_incidents
        where usage_date between ? and ?
        order by usage_date desc, affected_customers desc, route, method
        limit ?
        """,
        [start, end, limit],
        marts="reliability",
    )


def incident_customers(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> list[Row] | None:
    """marts.endpoint_incident_customers from start to end: whom each incident hit, most calls
    first; None without the mart."""
    if not has_mart(con, "endpoint_incident_customers"):
        return None
    return rows(
        con,
        """
        select * from marts.endpoint_incident_customers
        where usage_date between ? and ?
        order by usage_date desc, route, method, calls desc, organization_id
        """,
        [start, end],
        marts="reliability",
    )


# ---------------------------------------------------------------------------- onboarding


def funnel(con: duckdb.DuckDBPyConnection) -> list[Row]:
    return rows(con, "select * from marts.onboarding_funnel_weekly order by cohort_week", marts="onboarding")


def retention(con: duckdb.DuckDBPyConnection) -> list[Row]:
    """marts.cohort_retention: one row per cohort week, plan and week since signup."""
    return rows(
        con,
        "select * from marts.cohort_retention order by plan_id nulls last, cohort_week, weeks_since_signup",
        marts="onboarding",
    )
