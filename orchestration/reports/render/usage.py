"""`apiwh top`, `apiwh quota` (and `--outcomes`) and `apiwh endpoints` as text: pure functions of the rows in
orchestration/reports/queries/usage.py. The verdicts are the marts' columns, worded by
orchestration/verdict_words.py; nothing here judges a figure."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence

from orchestration.reports.formatting import (
    NONE_TEXT,
    format_count,
    format_last_call,
    format_money,
    format_ms,
    format_pct,
    format_rate,
    note,
    sparkline,
    truncate,
)
from orchestration.reports.queries.usage import (
    SPARK_DAYS,
    TRENDS,
    EndpointWindow,
    QuotaAccount,
    QuotaOutcome,
    TopCustomer,
)
from orchestration.reports.table import fit, printable, render_table
from orchestration.verdict_words import (
    OUTLOOK_MEANING,
    QUOTA_ACTION_ADVICE,
    QUOTA_OUTCOME_MEANING,
    QUOTA_OUTCOME_WORDS,
    UPSELL_MEANING,
    action_cell,
    outcome_cell,
    outlook_cell,
    upsell_cell,
)

SORT_TITLES = {
    "calls": "calls",
    "p95": "p95 latency",
    "p99": "p99 latency",
    "errors": "error rate",
}


def render_trend_counts(total: int, counts: dict[str, int]) -> str:
    """One line: how many customers each trend has, and where the churn risks are."""
    parts = [f"{trend} {counts[trend]:,}" for trend in TRENDS if counts.get(trend)]
    line = f"All {total:,} customers by trend: " + ", ".join(parts)
    if counts.get("declining") or counts.get("dormant"):
        line += ". Churn risks: apiwh top --trend declining / --trend dormant"
    return fit(line)


def render_top(
    customers: Sequence[TopCustomer],
    *,
    as_of: dt.date,
    daily_calls: dict[str, tuple[int | None, ...]] | None = None,
    org: str | None = None,
    trend: str | None = None,
    trend_counts: tuple[int, dict[str, int]] | None = None,
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
    daily_calls = daily_calls or {}
    header = [
        "#",
        "ORGANIZATION",
        "PLAN",
        "CALLS 30D",
        "VS PRIOR 30D",
        "DAYS",
        "LAST CALL",
        "7D VS PRIOR",
        "TREND",
        "UPSELL",
        "DAILY CALLS",
    ]
    body = [
        [
            str(customer.rank_30d),
            truncate(customer.organization_id),
            truncate(customer.plan_id or NONE_TEXT, 16),
            format_count(customer.calls_30d),
            format_pct(customer.usage_change_30d_pct, signed=True),
            str(customer.active_days_30d),
            format_last_call(customer.last_call_at),
            format_pct(customer.usage_change_7d_pct, signed=True),
            customer.trend,
            upsell_cell(customer.is_upsell_signal),
            sparkline(daily_calls.get(customer.organization_id, ())),
        ]
        for customer in customers
    ]
    lines = [fit(title), *render_table(header, body, align="rllrrrrrlll")]
    lines.append(
        note(
            "VS PRIOR 30D: the 30 days' calls against the 30 days before. DAYS: days with a call."
            f" UPSELL: {UPSELL_MEANING} (marts.customer_usage_summary.is_upsell_signal)."
        )
    )
    moved = [c for c in customers if c.top_endpoint_changes]
    if moved:
        lines.append("")
        lines.append("Routes that moved most, last 7 days vs the 7 before:")
        width = max(len(printable(truncate(c.organization_id))) for c in moved)
        for customer in moved:
            lines.append(
                f"  {printable(truncate(customer.organization_id)).ljust(width)}  "
                f"{customer.trend:<9}  {format_count(customer.calls_prior_7d)} -> "
                f"{format_count(customer.calls_7d)}: {customer.top_endpoint_changes}"
            )
    if trend_counts:
        lines.extend(["", render_trend_counts(*trend_counts)])
    return "\n".join(lines)


def _selection(min_pct: float, with_on_course: bool) -> str:
    if with_on_course:
        return f"at {min_pct:g}%+ of cap or on course for it"
    return f"at {min_pct:g}%+ of cap"


def render_quota(
    accounts: Sequence[QuotaAccount],
    *,
    as_of: dt.date,
    min_pct: float,
    with_on_course: bool = False,
    org: str | None = None,
) -> str:
    days_in_month = calendar.monthrange(as_of.year, as_of.month)[1]
    title = (
        f"Quota outlook on {as_of.isoformat()} (as-of date, day {as_of.day} of {days_in_month}),"
        f" {_selection(min_pct, with_on_course)}, the cap soonest first"
    )
    if not accounts:
        if org is not None:
            return f"{title}\nOrganization {org!r} has no quota in force on {as_of.isoformat()}."
        return f"{title}\nNo account is {_selection(min_pct, with_on_course)} on that day."
    header = [
        "ACCOUNT",
        "PLAN",
        "QUOTA",
        "TODAY",
        "USED MTD",
        "% OF CAP",
        "PROJ. EOM",
        "OUTLOOK",
        "FAILED MTD",
        "ACTION",
        "NEXT PLAN",
        "MRR DELTA",
        "OVERAGE AT PACE",
        "UPGRADE NET",
    ]
    body = [
        [
            truncate(account.organization_id),
            truncate(account.plan_id or NONE_TEXT, 16),
            format_count(account.monthly_call_limit),
            format_count(account.used_today),
            format_count(account.used_mtd),
            format_pct(account.pct_of_cap),
            format_count(account.projected_eom),
            outlook_cell(account.outlook, account.days_to_cap, account.cap_date, account.resets_on),
            format_rate(account.failed_mtd_rate),
            account.action,
            _next_plan(account),
            format_money(account.upgrade_mrr_delta, signed=True),
            format_money(account.overage_cost_at_pace),
            format_money(account.upgrade_net_cost_at_pace, signed=True),
        ]
        for account in accounts
    ]
    lines = [fit(title), *render_table(header, body, align="llrrrrrlrllrrr")]
    actions = [action for action in QUOTA_ACTION_ADVICE if any(a.action == action for a in accounts)]
    lines.append("ACTION (marts.quota_outlook.action):")
    lines += [f"  {action_cell(action)}" for action in actions]
    lines.append(
        note(
            "OUTLOOK: "
            + "; ".join(f"{word.replace('_', ' ')}: {meaning}" for word, meaning in OUTLOOK_MEANING.items())
            + ". TODAY: calls on the as-of date. PROJ. EOM: projected calls by the end of the month."
            " FAILED MTD: share of the month's calls that failed (4xx/5xx); a high share points to a"
            " broken integration rather than a need for a bigger plan. NEXT PLAN, MRR DELTA (its price"
            " minus the current one), OVERAGE AT PACE (calls projected above the quota, at the plan's"
            " overage price) and UPGRADE NET (what moving to the next plan adds to this month's bill at"
            " this pace, overage included; negative: it saves) come from the plan catalogue"
            " (PLANS_FILE). *: the projection exceeds even the next plan's quota."
        )
    )
    if not any(account.is_plan_in_catalogue for account in accounts):
        lines.append(
            note(
                "Prices: no plan in this table is in a plan catalogue. Set PLANS_FILE to a plan CSV to"
                " price the next plan and the overage at the current pace (`apiwh plans` checks it)."
            )
        )
    return "\n".join(lines)


def render_quota_outcomes(outcomes: Sequence[QuotaOutcome], *, as_of: dt.date, org: str | None = None) -> str:
    """marts.quota_outcomes: each month an account reached 80% of its quota, and what followed."""
    title = (
        f"After the cap: months before {as_of:%B %Y} in which an account reached 80% of its quota,"
        f" and what followed the next month (up to {as_of.isoformat()}, the as-of date), latest first"
    )
    if not outcomes:
        if org is not None:
            return f"{title}\nOrganization {org!r} reached 80% of its quota in no complete month."
        return f"{title}\nNo account reached 80% of its quota in a complete month."
    header = ["MONTH", "ACCOUNT", "PEAK", "LIMIT", "429S", "NEXT MONTH LIMIT", "NEXT MONTH CALLS", "OUTCOME"]
    body = [
        [
            f"{outcome.billing_month:%Y-%m}",
            truncate(outcome.organization_id),
            f"{outcome.peak_band}%",
            format_count(outcome.limit_at_month_end),
            format_count(outcome.rate_limited_calls),
            format_count(outcome.next_month_limit),
            format_count(outcome.next_month_calls),
            outcome_cell(outcome.outcome, outcome.is_next_month_complete),
        ]
        for outcome in outcomes
    ]
    lines = [
        fit(title),
        *render_table(header, body, align="llrrrrrl"),
        "OUTCOME (marts.quota_outcomes.outcome):",
    ]
    shown = {outcome.outcome for outcome in outcomes}
    lines += [
        f"  {QUOTA_OUTCOME_WORDS[word]}: {meaning}"
        for word, meaning in QUOTA_OUTCOME_MEANING.items()
        if word in shown
    ]
    lines.append(
        note(
            "PEAK: the month's highest threshold band (80, 95 or 100% of the quota). LIMIT: the quota on"
            " the month's last day. 429S: calls rate limited in the month. NEXT MONTH LIMIT and CALLS:"
            " the next month up to the as-of date; (so far): that month is not over yet."
        )
    )
    return "\n".join(lines)


def _next_plan(account: QuotaAccount) -> str:
    if account.next_plan_id:
        # marts.quota_outlook.fits_next_plan: false when even the next plan is too small.
        return truncate(account.next_plan_id, 16) + (" *" if account.fits_next_plan is False else "")
    if account.is_plan_in_catalogue:
        return "top plan"
    return NONE_TEXT


def render_endpoints(endpoints: Sequence[EndpointWindow], *, as_of: dt.date, days: int, sort: str) -> str:
    start = as_of - dt.timedelta(days=days - 1)
    span = "1 day" if days == 1 else f"{days} days"
    title = (
        f"Endpoint performance over {span}, {start.isoformat()} .. {as_of.isoformat()} (as-of date),"
        f" by {SORT_TITLES[sort]}"
    )
    if not endpoints:
        return f"{title}\nNo call in that window."
    header = [
        "METHOD",
        "ROUTE",
        "CALLS",
        "CUSTOMERS",
        "P50 MS",
        "P95 MS",
        "P99 MS",
        "4XX",
        "5XX",
        "ERROR RATE",
        "5XX RATE",
    ]
    body = [
        [
            endpoint.method,
            truncate(endpoint.route, 48),
            format_count(endpoint.calls),
            format_count(endpoint.distinct_customers),
            format_ms(endpoint.latency_p50_ms),
            format_ms(endpoint.latency_p95_ms),
            format_ms(endpoint.latency_p99_ms),
            format_count(endpoint.client_errors),
            format_count(endpoint.server_errors),
            format_rate(endpoint.error_rate),
            format_rate(endpoint.server_error_rate),
        ]
        for endpoint in endpoints
    ]
    lines = [fit(title), *render_table(header, body, align="llrrrrrrrrr")]
    calls = "the 1 day's calls" if days == 1 else f"the {days} days' calls"
    lines.append(
        note(
            f"P95 MS: p95 over {calls} (P50, P99 likewise), exact, from marts.endpoint_window_performance;"
            " CUSTOMERS: organizations that called the route in the window."
        )
    )
    return "\n".join(lines)
