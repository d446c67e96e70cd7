"""`apiwh top`, `apiwh quota` and `apiwh endpoints`: the usage marts in the terminal.

They read the published marts (docs/contract.md section 2): `marts.customer_usage_summary` and
`marts.customer_daily_usage` for the top customers, `marts.quota_utilization` for the quota
table, `marts.endpoint_daily_performance` for the per-route table. Every window ends on the
as-of date the marts were built for, never on the wall clock. Fetching (SQL, values bound with
`?`) and rendering (pure functions of plain rows) are kept apart so the rendering is tested
without a warehouse.
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, replace

import duckdb

from orchestration.quota_outlook import QuotaOutlook, quota_outlook
from orchestration.readers import (
    WarehouseNotBuiltError,
    open_marts_connection,
    require_known_organization,
)
from orchestration.reports import upgrades
from orchestration.reports.table import render_table
from orchestration.settings import load_settings

SPARK_BLOCKS = "▁▂▃▄▅▆▇█"
SPARK_DAYS = 30
NONE_TEXT = "-"
MAX_TEXT_WIDTH = 32
NOTE_WIDTH = 100


# --------------------------------------------------------------------------- rows


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


# --------------------------------------------------------------------- formatting


def format_count(value: int | None) -> str:
    """An integer with thousands separators ("18,420,000"); "-" for none."""
    return NONE_TEXT if value is None else f"{value:,}"


def format_pct(value: float | None, *, signed: bool = False) -> str:
    """A percent already in percent units, one decimal ("82.4%", "+3.1%"); "-" for none."""
    if value is None:
        return NONE_TEXT
    return f"{value:+,.1f}%" if signed else f"{value:,.1f}%"


def format_rate(value: float | None) -> str:
    """A fraction in [0, 1] as a percent ("12.5%"); a tiny non-zero share shows as "<0.1%"."""
    if value is None:
        return NONE_TEXT
    if 0 < value < 0.0005:
        return "<0.1%"
    return f"{100 * value:.1f}%"


def format_ms(value: float | None) -> str:
    """Milliseconds with one decimal and thousands separators ("1,234.5")."""
    return NONE_TEXT if value is None else f"{value:,.1f}"


def format_days_ago(days: int | None) -> str:
    """Days between the last call's UTC date and the as-of date, in words ("2 days ago")."""
    if days is None:
        return NONE_TEXT
    if days <= 0:
        return "today"
    if days == 1:
        return "1 day ago"
    return f"{days:,} days ago"


def sparkline(values: Sequence[int | None]) -> str:
    """One character per day: a block scaled to the largest day; a blank for a day without calls.

    Any day with calls gets at least the lowest block, so active days are always visible.
    """
    peak = max((value for value in values if value), default=0)
    chars = []
    for value in values:
        if not value or peak <= 0:
            chars.append(" ")
            continue
        level = math.ceil(value * len(SPARK_BLOCKS) / peak)
        chars.append(SPARK_BLOCKS[min(max(level, 1), len(SPARK_BLOCKS)) - 1])
    return "".join(chars)


def _note(text: str) -> str:
    return textwrap.fill(text, width=NOTE_WIDTH)


def truncate(text: str, width: int = MAX_TEXT_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def render_trend_counts(counts: dict[str, int]) -> str:
    """One line: how many customers each trend has, churn risks called out."""
    parts = [f"{trend} {counts[trend]:,}" for trend in TRENDS if counts.get(trend)]
    at_risk = counts.get("declining", 0) + counts.get("dormant", 0)
    line = f"All {sum(counts.values()):,} customers by trend: " + ", ".join(parts)
    if at_risk:
        line += f". Churn risk: {at_risk:,} (apiwh top --trend declining / --trend dormant)"
    return line


def render_top(
    customers: Sequence[TopCustomer],
    *,
    as_of: dt.date,
    org: str | None = None,
    trend: str | None = None,
    trend_counts: dict[str, int] | None = None,
) -> str:
    start = as_of - dt.timedelta(days=SPARK_DAYS - 1)
    title = (
        f"Top customers by calls, 30 days ending {as_of.isoformat()} (as-of date);"
        f" daily calls {start.isoformat()} .. {as_of.isoformat()}"
    )
    if trend is not None:
        title = f"{title}; trend {trend} only"
    if not customers:
        if org is not None:
            return f"{title}\nNo organization {org!r} with a call."
        if trend is not None:
            return f"{title}\nNo customer is {trend}."
        return f"{title}\nNo customer has made a call yet."
    header = [
        "#",
        "ORGANIZATION",
        "PLAN",
        "CALLS 30D",
        "ACTIVE DAYS",
        "LAST CALL",
        "7D VS PRIOR",
        "TREND",
        "DAILY CALLS (30 DAYS)",
    ]
    body = [
        [
            str(customer.rank_30d),
            truncate(customer.organization_id),
            truncate(customer.plan_id or NONE_TEXT, 16),
            format_count(customer.calls_30d),
            str(customer.active_days_30d),
            format_days_ago(customer.days_since_last_call),
            format_pct(customer.usage_change_7d_pct, signed=True),
            customer.trend,
            sparkline(customer.daily_calls),
        ]
        for customer in customers
    ]
    lines = [title, *render_table(header, body, align="rllrrrrll")]
    reasons = [c for c in customers if c.trend in ("declining", "dormant", "growing")]
    if any(c.top_endpoint_changes for c in reasons):
        lines.append("")
        lines.append("Routes that moved most, last 7 days vs the 7 before:")
        width = max(len(truncate(c.organization_id)) for c in reasons)
        for customer in reasons:
            if customer.top_endpoint_changes:
                lines.append(
                    f"  {truncate(customer.organization_id).ljust(width)}  "
                    f"{customer.trend:<9}  {format_count(customer.calls_prior_7d)} -> "
                    f"{format_count(customer.calls_7d)}: {customer.top_endpoint_changes}"
                )
    if trend_counts:
        lines.extend(["", render_trend_counts(trend_counts)])
    return "\n".join(lines)


def outlook_of(account: QuotaAccount) -> QuotaOutlook:
    return quota_outlook(
        used_mtd=account.used_mtd,
        monthly_call_limit=account.monthly_call_limit,
        projected_eom=account.projected_eom,
        days_to_cap=account.days_to_cap,
    )


def render_quota(
    accounts: Sequence[QuotaAccount],
    *,
    as_of: dt.date,
    min_pct: float,
    org: str | None = None,
    opportunities: dict[str, upgrades.UpgradeOpportunity] | None = None,
    opportunity_totals: upgrades.OpportunityTotals | None = None,
) -> str:
    days_in_month = calendar.monthrange(as_of.year, as_of.month)[1]
    title = (
        f"Quota utilization on {as_of.isoformat()} (as-of date, day {as_of.day} of"
        f" {days_in_month}), at {min_pct:g}%+ of cap, soonest to the cap first"
    )
    if not accounts:
        if org is not None:
            return f"{title}\nOrganization {org!r} has no quota in force on {as_of.isoformat()}."
        return f"{title}\nNo account has a quota at or above {min_pct:g}% of its cap on that day."
    header = [
        "ACCOUNT",
        "PLAN",
        "QUOTA",
        "TODAY",
        "USED MTD",
        "% OF CAP",
        "PROJ. EOM",
        "DAYS TO CAP",
        "BAND",
        "FAILED MTD",
        "ACTION",
    ]
    body = [
        [
            truncate(account.organization_id),
            truncate(account.plan_id or NONE_TEXT, 16),
            format_count(account.monthly_call_limit),
            format_count(account.used_today),
            format_count(account.used_mtd),
            format_pct(account.pct_of_cap),
            format_count(account.projected_eom) + (" !" if account.will_exceed else "  "),
            outlook_of(account).days_to_cap_text,
            f"{account.threshold_band}%" if account.threshold_band else NONE_TEXT,
            format_rate(account.failed_mtd_rate),
            outlook_of(account).action,
        ]
        for account in accounts
    ]
    lines = [title, *render_table(header, body, align="llrrrrrrrrl")]
    lines.append(
        _note(
            "TODAY: calls on the as-of date. PROJ. EOM: projected calls by the end of the month, ! above"
            ' the cap. DAYS TO CAP: at this month\'s pace; "at cap" only once the quota is used up,'
            ' "resets before cap" when the projection stays within it.'
            " FAILED MTD: share of the month's calls that failed (4xx/5xx); a high share"
            " points to a broken integration rather than a need for a bigger plan."
        )
    )
    # The plan catalogue's prices (marts.upgrade_opportunities), under the table.
    header, body, align = upgrades.opportunity_table(accounts, opportunities or {})
    if body:
        lines += ["", upgrades.SECTION_TITLE, *render_table(header, body, align=align)]
    hot_accounts_shown = any(a.threshold_band >= 80 or a.will_exceed for a in accounts)
    footer = upgrades.render_opportunity_footer(opportunity_totals, hot_accounts_shown=hot_accounts_shown)
    lines += [_note(line) for line in footer]
    return "\n".join(lines)


def render_endpoints(
    endpoints: Sequence[EndpointStats], *, as_of: dt.date, days: int, sort: str, org: str | None = None
) -> str:
    start = as_of - dt.timedelta(days=days - 1)
    span = "1 day" if days == 1 else f"{days} days"
    title = (
        f"Endpoint performance{f' for {org}' if org else ''} over {span}, {start.isoformat()} .."
        f" {as_of.isoformat()} (as-of date), by {SORT_TITLES[sort]}"
    )
    if not endpoints:
        return f"{title}\nNo call in that window."
    header = [
        "METHOD",
        "ROUTE",
        "CALLS",
        "PEAK CUST/DAY",
        "P50 MS",
        "P95 MS",
        "P99 MS",
        "4XX",
        "5XX",
        "ERROR RATE",
    ]
    body = [
        [
            endpoint.method,
            truncate(endpoint.route, 48),
            format_count(endpoint.calls),
            format_count(endpoint.peak_daily_customers),
            format_ms(endpoint.latency_p50_ms),
            format_ms(endpoint.latency_p95_ms),
            format_ms(endpoint.latency_p99_ms),
            format_count(endpoint.client_errors),
            format_count(endpoint.server_errors),
            format_rate(endpoint.error_rate),
        ]
        for endpoint in endpoints
    ]
    lines = [title, *render_table(header, body, align="llrrrrrrrr")]
    if days > 1:
        lines.append(
            _note(
                "Latency: each day's exact percentile, averaged over the days weighted by"
                " calls (--days 1 gives one day's exact figures)."
            )
        )
    return "\n".join(lines)


# ------------------------------------------------------------------------ queries

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
SORT_TITLES = {
    "calls": "calls",
    "p95": "p95 latency",
    "p99": "p99 latency",
    "errors": "error rate",
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


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence = ()) -> list[tuple]:
    try:
        return con.execute(sql, list(params)).fetchall()
    except duckdb.CatalogException as exc:
        raise WarehouseNotBuiltError(f"the usage marts are not built yet: run `apiwh run` ({exc})") from exc


def fetch_as_of(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The as-of date the marts were built for (every window ends on it)."""
    return _run(con, _AS_OF_SQL)[0][0]


def fetch_trend_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    return dict(_run(con, _TREND_COUNTS_SQL))


def fetch_top(
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: dt.date,
    limit: int,
    org: str | None = None,
    trend: str | None = None,
) -> list[TopCustomer]:
    rows = _run(con, _TOP_SQL, [org, org, trend, trend, limit])
    customers = [TopCustomer(*row) for row in rows]
    if not customers:
        return []
    start = as_of - dt.timedelta(days=SPARK_DAYS - 1)
    daily: dict[str, dict[dt.date, int]] = {}
    for organization_id, usage_date, calls in _run(
        con, _DAILY_CALLS_SQL, [[c.organization_id for c in customers], start, as_of]
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
    rows = _run(con, _QUOTA_SQL, [as_of, min_pct, org, org, limit])
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
    return [EndpointStats(*row) for row in _run(con, sql, params)]


# ---------------------------------------------------------------------------- CLI


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {value}")
    return value


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a percent such as 80, got {text!r}") from exc
    if not 0 <= value <= 1000:  # also refuses nan
        raise argparse.ArgumentTypeError(f"expected a percent from 0 to 1000, got {text}")
    return value


def _no_data() -> int:
    print("No usage data in the marts yet: nothing to show.")
    return 0


def cmd_top(args: argparse.Namespace) -> int:
    con = open_marts_connection(load_settings())
    try:
        as_of = fetch_as_of(con)
        if as_of is None:
            return _no_data()
        if args.org is not None:
            require_known_organization(con, args.org)
        customers = fetch_top(con, as_of=as_of, limit=args.limit, org=args.org, trend=args.trend)
        trend_counts = fetch_trend_counts(con) if args.org is None else None
    finally:
        con.close()
    print(render_top(customers, as_of=as_of, org=args.org, trend=args.trend, trend_counts=trend_counts))
    return 0


def cmd_quota(args: argparse.Namespace) -> int:
    con = open_marts_connection(load_settings())
    try:
        as_of = fetch_as_of(con)
        if as_of is None:
            return _no_data()
        if args.org is not None:
            require_known_organization(con, args.org)
        # One organization is shown whatever its share of the cap; the list starts at 50%.
        min_pct = args.min_pct if args.min_pct is not None else (0.0 if args.org else 50.0)
        accounts = fetch_quota(con, as_of=as_of, min_pct=min_pct, org=args.org, limit=args.limit)
        opportunities = upgrades.fetch_upgrade_opportunities(
            con, as_of=as_of, organization_ids=[account.organization_id for account in accounts]
        )
        totals = upgrades.fetch_opportunity_totals(con, as_of=as_of, min_pct=min_pct, org=args.org)
    finally:
        con.close()
    print(
        render_quota(
            accounts,
            as_of=as_of,
            min_pct=min_pct,
            org=args.org,
            opportunities=opportunities,
            opportunity_totals=totals,
        )
    )
    return 0


def cmd_endpoints(args: argparse.Namespace) -> int:
    con = open_marts_connection(load_settings())
    try:
        as_of = fetch_as_of(con)
        if as_of is None:
            return _no_data()
        if args.org is not None:
            require_known_organization(con, args.org)
        endpoints = fetch_endpoints(
            con, as_of=as_of, days=args.days, limit=args.limit, sort=args.sort, org=args.org
        )
    finally:
        con.close()
    print(render_endpoints(endpoints, as_of=as_of, days=args.days, sort=args.sort, org=args.org))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    top = subparsers.add_parser(
        "top",
        help="top customers by 30-day calls: active days, last call, trend, daily sparkline",
    )
    top.add_argument("--limit", type=positive_int, default=20, help="rows to show (default 20)")
    top.add_argument("--org", help="only this organization (its row and rank)")
    top.add_argument("--trend", choices=TRENDS, help="only customers with this trend (e.g. dormant)")
    top.set_defaults(func=cmd_top)

    quota = subparsers.add_parser(
        "quota",
        help="accounts near their monthly call quota, soonest to hit the cap first",
    )
    quota.add_argument(
        "--min-pct",
        type=_percent,
        default=None,
        help="only accounts at this percent of their cap or more (default 50, or 0 with --org)",
    )
    quota.add_argument("--limit", type=positive_int, default=None, help="rows to show (all)")
    quota.add_argument("--org", help="only this organization")
    quota.set_defaults(func=cmd_quota)

    endpoints = subparsers.add_parser(
        "endpoints",
        help="per-route latency (p50/p95/p99) and errors over the last N days",
    )
    endpoints.add_argument(
        "--days", type=positive_int, default=7, help="days ending on the as-of date (default 7)"
    )
    endpoints.add_argument("--limit", type=positive_int, default=20, help="rows to show (default 20)")
    endpoints.add_argument(
        "--sort", choices=sorted(SORT_ORDERS), default="calls", help="order (default calls)"
    )
    endpoints.add_argument(
        "--org", help="only this organization's calls (reads marts.customer_endpoint_daily)"
    )
    endpoints.set_defaults(func=cmd_endpoints)
