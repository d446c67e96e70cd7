"""The usage marts as rows, plain selects of mart columns: top customers
(`marts.customer_usage_summary`, `customer_daily_usage`), the quota table (`marts.quota_outlook`,
with the day's calls and failures from `quota_utilization`), what followed a month at 80% of the
quota (`marts.quota_outcomes`), per-route figures over a window
(`marts.endpoint_window_performance`). Every verdict and figure is the mart's (docs/contract.md
section 2c): nothing is grouped, ranked or judged here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from orchestration.reports.queries import run_query, select_list


@dataclass(frozen=True)
class TopCustomer:
    """A row of marts.customer_usage_summary."""

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
    calls_prior_30d: int
    usage_change_30d_pct: float | None
    is_upsell_signal: bool
    as_of_date: dt.date


@dataclass(frozen=True)
class QuotaAccount:
    """A row of marts.quota_outlook, with the as-of date's used_today and failed_mtd_rate from
    marts.quota_utilization."""

    organization_id: str
    plan_id: str | None
    billing_month: dt.date
    monthly_call_limit: int
    used_today: int | None
    used_mtd: int
    pct_of_cap: float
    projected_eom: int
    days_to_cap: int | None
    will_exceed: bool
    threshold_band: int
    outlook: str
    cap_date: dt.date | None
    resets_on: dt.date
    action: str
    failed_mtd_rate: float | None
    next_plan_id: str | None
    next_plan_call_limit: int | None
    upgrade_mrr_delta: float | None
    overage_calls_at_pace: int | None
    overage_cost_at_pace: float | None
    fits_next_plan: bool | None
    upgrade_net_cost_at_pace: float | None
    is_plan_in_catalogue: bool | None
    as_of_date: dt.date


@dataclass(frozen=True)
class QuotaOutcome:
    """A row of marts.quota_outcomes: a complete month in which the organization reached 80% of
    its quota, and what followed in the next month (docs/contract.md 2c)."""

    organization_id: str
    billing_month: dt.date
    peak_band: int
    limit_at_month_end: int
    rate_limited_calls: int
    next_month_limit: int | None
    next_month_calls: int
    is_next_month_complete: bool
    outcome: str


@dataclass(frozen=True)
class EndpointWindow:
    """A row of marts.endpoint_window_performance."""

    window_days: int
    route: str
    method: str
    calls: int
    distinct_customers: int
    client_errors: int
    server_errors: int
    error_rate: float | None
    server_error_rate: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None
    window_start_date: dt.date
    as_of_date: dt.date


SPARK_DAYS = 30
TRENDS = ("growing", "steady", "new", "declining", "dormant")
# The windows of marts.endpoint_window_performance.
WINDOW_DAYS = (1, 7, 30)

# Names the family in the "not built yet" error of run_query.
_MARTS = "usage"

_AS_OF_SQLS = (
    "select as_of_date from marts.customer_usage_summary limit 1",
    "select as_of_date from marts.quota_outlook limit 1",
)

_TOP_SQL = f"""
select {select_list(TopCustomer)}
from marts.customer_usage_summary
where
    (cast(? as varchar) is null or organization_id = ?)
    and (cast(? as varchar) is null or trend = ?)
order by rank_30d
limit ?
"""

# How many customers match a trend: a header count, which no mart holds.
_TREND_COUNT_SQL = "select count(*) from marts.customer_usage_summary where trend = ?"
_CUSTOMER_COUNT_SQL = "select count(*) from marts.customer_usage_summary"

_DAILY_CALLS_SQL = """
select organization_id, usage_date, calls
from marts.customer_daily_usage
where list_contains(?::varchar[], organization_id) and usage_date between ? and ?
"""

# The cap reached first, then on course for it soonest (cap_date is set only for reaches_cap),
# then the highest share of the cap. Without --min-pct, an account on course for its cap is
# listed whatever its share.
_QUOTA_SQL = f"""
select {select_list(QuotaAccount, "outlook", utilization=("used_today", "failed_mtd_rate"))}
from marts.quota_outlook as outlook
left join marts.quota_utilization as utilization
    on
        outlook.organization_id = utilization.organization_id
        and outlook.as_of_date = utilization.usage_date
where
    (outlook.pct_of_cap >= ? or (? and outlook.outlook <> 'resets_first'))
    and (cast(? as varchar) is null or outlook.organization_id = ?)
order by
    outlook.outlook = 'cap_reached' desc,
    outlook.cap_date asc nulls last,
    outlook.pct_of_cap desc,
    outlook.organization_id
limit ?
"""

# The latest months first; within a month the highest peak, then by organization.
_QUOTA_OUTCOMES_SQL = f"""
select {select_list(QuotaOutcome)}
from marts.quota_outcomes
where cast(? as varchar) is null or organization_id = ?
order by billing_month desc, peak_band desc, organization_id
limit ?
"""

# ORDER BY clauses chosen from this fixed map by the --sort choice, never from user text.
SORT_ORDERS = {
    "calls": "calls desc",
    "p95": "latency_p95_ms desc nulls last",
    "p99": "latency_p99_ms desc nulls last",
    "errors": "error_rate desc nulls last",
}

_ENDPOINTS_SQL = f"""
select {select_list(EndpointWindow)}
from marts.endpoint_window_performance
where window_days = ?
order by {{order}}, calls desc, route, method
limit ?
"""


def fetch_as_of(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The as-of date the marts were built for (every window ends on it); None without data."""
    for sql in _AS_OF_SQLS:
        rows = run_query(con, sql, marts=_MARTS)
        if rows:
            return rows[0][0]
    return None


def fetch_trend_counts(con: duckdb.DuckDBPyConnection) -> tuple[int, dict[str, int]]:
    """How many customers there are, and how many have each trend (the trends with any)."""
    (total,) = run_query(con, _CUSTOMER_COUNT_SQL, marts=_MARTS)[0]
    counts = {trend: run_query(con, _TREND_COUNT_SQL, [trend], marts=_MARTS)[0][0] for trend in TRENDS}
    return total, {trend: count for trend, count in counts.items() if count}


def fetch_top(
    con: duckdb.DuckDBPyConnection,
    *,
    limit: int | None,
    org: str | None = None,
    trend: str | None = None,
) -> list[TopCustomer]:
    rows = run_query(con, _TOP_SQL, [org, org, trend, trend, limit], marts=_MARTS)
    return [TopCustomer(*row) for row in rows]


def fetch_daily_calls(
    con: duckdb.DuckDBPyConnection, *, as_of: dt.date, organization_ids: list[str]
) -> dict[str, tuple[int | None, ...]]:
    """Each organization's calls per day over the SPARK_DAYS ending on the as-of date, oldest
    first; None for a day without a row."""
    if not organization_ids:
        return {}
    start = as_of - dt.timedelta(days=SPARK_DAYS - 1)
    daily: dict[str, dict[dt.date, int]] = {}
    for organization_id, usage_date, calls in run_query(
        con, _DAILY_CALLS_SQL, [organization_ids, start, as_of], marts=_MARTS
    ):
        daily.setdefault(organization_id, {})[usage_date] = calls
    days = [start + dt.timedelta(days=offset) for offset in range(SPARK_DAYS)]
    return {org: tuple(daily.get(org, {}).get(day) for day in days) for org in organization_ids}


def fetch_quota(
    con: duckdb.DuckDBPyConnection,
    *,
    min_pct: float,
    with_on_course: bool = False,
    org: str | None = None,
    limit: int | None = None,
) -> list[QuotaAccount]:
    """marts.quota_outlook's rows at min_pct of the cap or more (and, with_on_course, those the
    mart says reach or reached the cap whatever their share)."""
    params = [min_pct, with_on_course, org, org, limit]
    return [QuotaAccount(*row) for row in run_query(con, _QUOTA_SQL, params, marts=_MARTS)]


def fetch_quota_outcomes(
    con: duckdb.DuckDBPyConnection, *, org: str | None = None, limit: int | None = None
) -> list[QuotaOutcome]:
    """marts.quota_outcomes' rows (everyone's, or one organization's), the latest month first."""
    rows = run_query(con, _QUOTA_OUTCOMES_SQL, [org, org, limit], marts=_MARTS)
    return [QuotaOutcome(*row) for row in rows]


def fetch_endpoints(
    con: duckdb.DuckDBPyConnection, *, days: int, limit: int | None, sort: str = "calls"
) -> list[EndpointWindow]:
    """marts.endpoint_window_performance's rows of the window of `days` (1, 7 or 30)."""
    sql = _ENDPOINTS_SQL.format(order=SORT_ORDERS[sort])
    return [EndpointWindow(*row) for row in run_query(con, sql, [days, limit], marts=_MARTS)]
