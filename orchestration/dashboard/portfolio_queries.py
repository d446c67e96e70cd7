"""The portfolio's health on the overview: active customers and how they come and go by week.

Read from marts.active_customers_daily and marts.customer_lifecycle_weekly; a warehouse built
before those marts existed shows the section as not available yet.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

from orchestration.dashboard.queries import fetch, fetch_one, has_mart

LIFECYCLE_WEEKS = 6


def active_customers(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> dict[str, Any] | None:
    """Customers and keys with a successful call in the day, 7 and 28 days ending on the as-of date."""
    if not has_mart(con, "active_customers_daily"):
        return None
    return fetch_one(con, "select * from marts.active_customers_daily where usage_date = ?", [as_of])


def lifecycle_weeks(
    con: duckdb.DuckDBPyConnection, weeks: int = LIFECYCLE_WEEKS
) -> list[dict[str, Any]] | None:
    """The latest weeks over every plan: active, new, returning, resurrecting and dormant customers."""
    if not has_mart(con, "customer_lifecycle_weekly"):
        return None
    return fetch(
        con,
        """
        select
            week,
            sum(active_customers) as active_customers,
            sum(new_customers) as new_customers,
            sum(returning_customers) as returning_customers,
            sum(resurrecting_customers) as resurrecting_customers,
            sum(dormant_customers) as dormant_customers,
            bool_and(is_complete_week) as is_complete_week
        from marts.customer_lifecycle_weekly
        group by week
        order by week desc
        limit ?
        """,
        [weeks],
    )
