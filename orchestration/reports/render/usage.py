"""`apiwh top`, `apiwh quota` and `apiwh endpoints` as text: pure functions of the rows in
orchestration/reports/queries/usage.py."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence

from orchestration.quota_outlook import QuotaOutlook, quota_outlook
from orchestration.reports.formatting import (
    NONE_TEXT,
    format_count,
    format_days_ago,
    format_ms,
    format_pct,
    format_rate,
    note,
    sparkline,
    truncate,
)
from orchestration.reports.queries.upgrades import OpportunityTotals, UpgradeOpportunity
from orchestration.reports.queries.usage import SPARK_DAYS, TRENDS, EndpointStats, QuotaAccount, TopCustomer
from orchestration.reports.render import upgrades
from orchestration.reports.table import printable, render_table

SORT_TITLES = {
    "calls": "calls",
    "p95": "p95 latency",
    "p99": "p99 latency",
    "errors": "error rate",
}


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
        width = max(len(printable(truncate(c.organization_id))) for c in reasons)
        for customer in reasons:
            if customer.top_endpoint_changes:
                lines.append(
                    f"  {printable(truncate(customer.organization_id)).ljust(width)}  "
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
    opportunities: dict[str, UpgradeOpportunity] | None = None,
    opportunity_totals: OpportunityTotals | None = None,
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
        note(
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
    lines += [note(line) for line in footer]
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
            note(
                "Latency: each day's exact percentile, averaged over the days weighted by"
                " calls (--days 1 gives one day's exact figures)."
            )
        )
    return "\n".join(lines)
