"""A customer's page and report as rows of the marts: plain selects for a list of organizations.

Every function takes the organization ids it may read and returns each one's rows, keyed by id
(an id without rows gets an empty list). A report asks for its one customer, so it can carry
nothing of another; the dashboard asks for a few thousand customers at once, because a query
costs DuckDB a few milliseconds whatever its size. No figure is made here: a per-customer limit
(the busiest routes, the latest alerts) is the caller's slice of rows already in order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import duckdb

from orchestration.reports.queries.site import Row, has_mart, rows


def by_organization(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    organization_ids: Sequence[str],
    params: Sequence[Any] = (),
    *,
    marts: str,
) -> dict[str, list[Row]]:
    """Rows of `sql`, which takes the id list as its first parameter, split by organization_id
    (dropped from each row); every id asked for is a key, with no rows if it has none."""
    wanted = list(organization_ids)
    grouped: dict[str, list[Row]] = {organization_id: [] for organization_id in wanted}
    for row in rows(con, sql, [wanted, *params], marts=marts):
        grouped[row.pop("organization_id")].append(row)
    return grouped


def customer_daily(
    con: duckdb.DuckDBPyConnection, organization_ids: Sequence[str], start: dt.date, end: dt.date
) -> dict[str, list[Row]]:
    """Each organization's days in marts.customer_daily_usage, oldest first."""
    return by_organization(
        con,
        """
        select * from marts.customer_daily_usage
        where list_contains(?::varchar[], organization_id) and usage_date between ? and ?
        order by organization_id, usage_date
        """,
        organization_ids,
        [start, end],
        marts="usage",
    )


def customer_summary(con: duckdb.DuckDBPyConnection, organization_ids: Sequence[str]) -> dict[str, Row]:
    """Each organization's row of marts.customer_usage_summary (the 30 days to the as-of date)."""
    found = by_organization(
        con,
        """
        select * from marts.customer_usage_summary
        where list_contains(?::varchar[], organization_id)
        order by organization_id
        """,
        organization_ids,
        marts="usage",
    )
    return {organization_id: own[0] if own else {} for organization_id, own in found.items()}


def customer_endpoints_30d(
    con: duckdb.DuckDBPyConnection, organization_ids: Sequence[str]
) -> dict[str, list[Row]] | None:
    """Each organization's routes over the 30 days to the as-of date, busiest first, exact over
    the window's calls (marts.customer_endpoint_30d); None without that mart."""
    if not has_mart(con, "customer_endpoint_30d"):
        return None
    return by_organization(
        con,
        """
        select * from marts.customer_endpoint_30d
        where list_contains(?::varchar[], organization_id)
        order by organization_id, calls_30d desc, route, method
        """,
        organization_ids,
        marts="reliability",
    )


def customer_errors(
    con: duckdb.DuckDBPyConnection, organization_ids: Sequence[str], start: dt.date, end: dt.date
) -> dict[str, list[Row]] | None:
    """Each organization's failed calls by day, status class and error type, newest day first
    (marts.error_breakdown_daily); None without that mart."""
    if not has_mart(con, "error_breakdown_daily"):
        return None
    return by_organization(
        con,
        """
        select organization_id, usage_date, status_class, error_type, failed_calls, most_common_status_code
        from marts.error_breakdown_daily
        where list_contains(?::varchar[], organization_id) and usage_date between ? and ?
        order by organization_id, usage_date desc, failed_calls desc, status_class, error_type
        """,
        organization_ids,
        [start, end],
        marts="reliability",
    )


def customer_quota_month(
    con: duckdb.DuckDBPyConnection, organization_ids: Sequence[str], billing_month: dt.date, end: dt.date
) -> dict[str, list[Row]]:
    """Each organization's quota days of the billing month through `end`."""
    return by_organization(
        con,
        """
        select organization_id, usage_date, used_today, used_mtd, monthly_call_limit, pct_of_cap,
            projected_eom
        from marts.quota_utilization
        where list_contains(?::varchar[], organization_id) and billing_month = ? and usage_date <= ?
        order by organization_id, usage_date
        """,
        organization_ids,
        [billing_month, end],
        marts="usage",
    )


def customer_keys(con: duckdb.DuckDBPyConnection, organization_ids: Sequence[str]) -> dict[str, list[Row]]:
    """Each organization's keys (marts.onboarding_funnel), oldest first."""
    return by_organization(
        con,
        """
        select organization_id, api_key_id, developer_id, plan_id, key_issued_at, first_call_at,
            first_success_at, furthest_step
        from marts.onboarding_funnel
        where list_contains(?::varchar[], organization_id)
        order by organization_id, key_issued_at, api_key_id
        """,
        organization_ids,
        marts="onboarding",
    )


def key_activity_on(
    con: duckdb.DuckDBPyConnection, organization_ids: Sequence[str], day: dt.date
) -> dict[str, list[Row]] | None:
    """Each organization's keys' row of marts.key_daily_activity on `day`; None without it."""
    if not has_mart(con, "key_daily_activity"):
        return None
    return by_organization(
        con,
        """
        select organization_id, api_key_id, calls, is_usage_spike, is_ip_spread
        from marts.key_daily_activity
        where list_contains(?::varchar[], organization_id) and usage_date = ?
        order by organization_id, api_key_id
        """,
        organization_ids,
        [day],
        marts="reliability",
    )


def customer_alerts(con: duckdb.DuckDBPyConnection, organization_ids: Sequence[str]) -> dict[str, list[Row]]:
    """Each organization's alerts, newest first (none before alerts are recorded)."""
    if not has_mart(con, "alerts"):
        return {organization_id: [] for organization_id in organization_ids}
    return by_organization(
        con,
        """
        select organization_id, alert_key, alert_type, threshold, as_of_date, created_at, delivered_at, detail
        from marts.alerts
        where list_contains(?::varchar[], organization_id)
        order by organization_id, as_of_date desc, created_at desc, alert_key
        """,
        organization_ids,
        marts="alerts",
    )
