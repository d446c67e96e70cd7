"""The usage marts as rows: top customers (`marts.customer_usage_summary`, `customer_daily_usage`),
the quota table (`marts.quota_utilization`), per-route figures (`marts.endpoint_daily_performance`,
or `marts.customer_endpoint_daily` for one organization). Every window ends on the as-of date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import duckdb

from orchestration.reports.queries import run_query

SPARK_DAYS = 30


@dataclass(frozen=True)
class TopCustomer:
    rank_30d: int
    organization_id: str
    plan_id: str | None
    calls_30d: int
    active_days_30d: int
    last_call_at: dt.datetime | None
    days_since_last_call: int | None
    calls_7d: int
    calls_prior_7d: int
    usage_change_7d_pct: float | None
    trend: str
    top_endpoint_changes: str | None
    # Calls per day, oldest first, ending on the as-of date; None before the first call.
    daily_calls: tuple[int | None, ...] = ()


@dataclass(frozen=True)
class QuotaAccount:
    organization_id: str
    plan_id: str | None
    monthly_call_limit: int
    used_today: int
    used_mtd: int
    pct_of_cap: float
    projected_eom: int
    days_to_cap: int | None
    threshold_band: int
    will_exceed: bool
    failed_mtd: int
    failed_mtd_rate: float | None
    day_of_month: int
    days_in_month: int


@dataclass(frozen=True)
class EndpointStats:
    route: str
    method: str
    calls: int
    client_errors: int
    server_errors: int
    error_rate: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None
    peak_daily_customers: int
    active_days: int


_AS_OF_SQL = """
select coalesce(
    (select max(as_of_date) from marts.customer_usage_summary),
    (select max(usage_date) from marts.customer_daily_usage),
    (select max(usage_date) from marts.quota_utilization)
)
"""

_TOP_SQL = """
select
    rank_30d,
    organization_id,
    plan_id,
    calls_30d,
    active_days_30d,
    last_call_at,
    days_since_last_call,
    calls_7d,
    calls_prior_7d,
    usage_change_7d_pct,
    trend,
    top_endpoint_changes
from marts.customer_usage_summary
where
    (cast(? as varchar) is null or organization_id = ?)
    and (cast(? as varchar) is null or trend = ?)
order by rank_30d
limit ?
"""

_TREND_COUNTS_SQL = """
select trend, count(*)
from marts.customer_usage_summary
group by trend
"""

TRENDS = ("growing", "steady", "new", "declining", "dormant")

_DAILY_CALLS_SQL = """
select organization_id, usage_date, calls
from marts.customer_daily_usage
where list_contains(?::varchar[], organization_id) and usage_date between ? and ?
"""

_QUOTA_SQL = """
select
    organization_id,
    plan_id,
    monthly_call_limit,
    used_today,
    used_mtd,
    pct_of_cap,
    projected_eom,
    days_to_cap,
    threshold_band,
    will_exceed,
    failed_mtd,
    failed_mtd_rate,
    day_of_month,
    days_in_month
from marts.quota_utilization
where
    usage_date = ?
    and pct_of_cap >= ?
    and (cast(? as varchar) is null or organization_id = ?)
order by
    used_mtd >= monthly_call_limit desc,
    will_exceed desc,
    case when will_exceed then days_to_cap end asc nulls last,
    pct_of_cap desc,
    organization_id
limit ?
"""

# ORDER BY clauses chosen from this fixed map by the --sort choice, never from user text.
SORT_ORDERS = {
    "calls": "calls desc",
    "p95": "latency_p95_ms desc nulls last",
    "p99": "latency_p99_ms desc nulls last",
    "errors": "error_rate desc nulls last",
}

_ENDPOINTS_SQL = """
select
    route,
    method,
    cast(sum(calls) as bigint) as calls,
    cast(sum(client_errors) as bigint) as client_errors,
    cast(sum(server_errors) as bigint) as server_errors,
    sum(client_errors + server_errors) / sum(calls) as error_rate,
    sum(latency_p50_ms * calls) / sum(calls) as latency_p50_ms,
    sum(latency_p95_ms * calls) / sum(calls) as latency_p95_ms,
    sum(latency_p99_ms * calls) / sum(calls) as latency_p99_ms,
    max(distinct_customers) as peak_daily_customers,
    count(*) as active_days
from {source}
where usage_date between ? and ?
group by route, method
order by {order}, calls desc, route, method
limit ?
"""


# Names the family in the "not built yet" error of run_query.
_MARTS = "usage"


def fetch_as_of(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The as-of date the marts were built for (every window ends on it)."""
    return run_query(con, _AS_OF_SQL, marts=_MARTS)[0][0]


def fetch_trend_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return dict(run_query(con, _TREND_COUNTS_SQL, marts=_MARTS))


def fetch_top(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: dt.date,
    limit: int,
    org: str | None = None,
    trend: str | None = None,
) -> list[TopCustomer]:
    rows = run_query(con, _TOP_SQL, [org, org, trend, trend, limit], marts=_MARTS)
    customers = [TopCustomer(*row) for row in rows]
    if not customers:
        return []
    start = as_of - dt.timedelta(days=SPARK_DAYS - 1)
    daily: dict[str, dict[dt.date, int]] = {}
    for organization_id, usage_date, calls in run_query(
        con, _DAILY_CALLS_SQL, [[c.organization_id for c in customers], start, as_of], marts=_MARTS
    ):
        daily.setdefault(organization_id, {})[usage_date] = calls
    days = [start + dt.timedelta(days=offset) for offset in range(SPARK_DAYS)]
    return [
        replace(
            customer,
            daily_calls=tuple(daily.get(customer.organization_id, {}).get(day) for day in days),
        )
        for customer in customers
    ]


def fetch_quota(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: dt.date,
    min_pct: float,
    org: str | None = None,
    limit: int | None = None,
) -> list[QuotaAccount]:
    rows = run_query(con, _QUOTA_SQL, [as_of, min_pct, org, org, limit], marts=_MARTS)
    return [QuotaAccount(*row) for row in rows]


# One organization's calls per route come from the per-organization mart (docs/contract.md 2b).
_ORG_ENDPOINT_SOURCE = """(
    select
        route, method, usage_date, calls, client_errors, server_errors,
        latency_p50_ms, latency_p95_ms, latency_p99_ms, 1 as distinct_customers
    from marts.customer_endpoint_daily
    where organization_id = ?
)"""


def fetch_endpoints(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: dt.date,
    days: int,
    limit: int,
    sort: str = "calls",
    org: str | None = None,
) -> list[EndpointStats]:
    start = as_of - dt.timedelta(days=days - 1)
    source = "marts.endpoint_daily_performance" if org is None else _ORG_ENDPOINT_SOURCE
    sql = _ENDPOINTS_SQL.format(order=SORT_ORDERS[sort], source=source)
    params = [start, as_of, limit] if org is None else [org, start, as_of, limit]
    return [EndpointStats(*row) for row in run_query(con, sql, params, marts=_MARTS)]
