"""Every sentence the dashboard and the report show, rendered from figures computed in SQL.

No I/O here: plain functions of plain values, tested directly.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Sequence
from typing import Any

from orchestration.alerts.churn_notes import churn_headline
from orchestration.reports.formatting import format_count, format_ms, format_pct, format_rate

ACTION_FLAGS = {
    "integration_failing": "★★ integration failing",
    "dormant": "★★ dormant",
    "check_in": "★ check in",
    "upsell": "★ upsell",
}

QUOTA_ACTIONS = {
    "CRITICAL": "AE call today: the cap is days away or reached",
    "UPSELL NOW": "AE outreach this week: warm lead window",
    "warm": "CSM heads-up message",
    "ok": "track for next month",
}

FUNNEL_STEPS = {
    "key issued": "keys_issued",
    "first success": "reached_first_success",
    "100 calls": "reached_hundred_calls",
    "error-free day": "reached_error_free_day",
}

__all__ = ["format_count", "format_ms", "format_pct", "format_rate"]


def action_flag(code: str | None) -> str:
    return ACTION_FLAGS.get(code or "", "")


def format_day(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return "-"
    return f"{value:%Y-%m-%d %H:%M} UTC" if isinstance(value, dt.datetime) else value.isoformat()


def health_line(health: dict[str, Any]) -> str:
    """One line under every page title: what the load kept out or let in late."""
    if not health:
        return "Data health unknown: the warehouse has no marts.data_health yet."
    parts = [
        f"{format_count(health['rejected_lines'])} rejected line(s)",
        f"{format_count(health['late_events'])} late event(s)",
        f"{format_count(health['files_failed'])} failed file(s)",
    ]
    return "Data health: " + ", ".join(parts) + f" among {format_count(health['events'])} events."


def days_to_cap_text(days: int | None, *, at_cap: bool = False) -> str:
    """Days to the cap at this month's pace; 0 days is "at cap" only once the cap is reached."""
    if at_cap:
        return "at cap"
    if days is None:
        return "-"
    if days == 0:
        return "less than a day"
    return "1 day" if days == 1 else f"{days:,} days"


def quota_note(
    account: dict[str, Any], *, name: str, contact: str | None, offer: str | None = None
) -> tuple[str, str, str]:
    """(to, subject, body) of a note to the account's contact, from its quota figures; offer is
    the priced next-plan paragraph (orchestration.alerts.render.upgrade_offer) when known."""
    pct = format_pct(account["pct_of_cap"])
    used = format_count(account["used_mtd"])
    cap = format_count(account["monthly_call_limit"])
    month = f"{account['usage_date']:%B}"
    resets = account["month_end_date"] + dt.timedelta(days=1)
    plan = f" on the {account['plan_id']} plan" if account.get("plan_id") else ""
    to = contact or f"the {name} team's primary contact"
    if account["used_mtd"] >= account["monthly_call_limit"]:
        subject = "You have reached your monthly API quota"
        body = (
            f"Hi {name} team,\n\nyou have made {used} API calls in {month}, {pct} of your monthly quota"
            f" of {cap} calls{plan}. Calls above the quota may be rate-limited until it resets on"
            f" {resets:%B %-d}. A plan with a larger quota gives you headroom; happy to set up a quick"
            " call to find the right fit."
        )
    elif account["will_exceed"]:
        subject = f"Heads up: you are at {pct} of your monthly API quota"
        body = (
            f"Hi {name} team,\n\nyou are at {pct} of your monthly quota ({used} of {cap} calls{plan})."
            f" At this pace you reach it in {days_to_cap_text(account['days_to_cap'])} and end {month}"
            f" at about {format_count(account['projected_eom'])} calls, before the quota resets on"
            f" {resets:%B %-d}. Moving up a tier now avoids rate-limiting; happy to set up a quick call"
            " to discuss it."
        )
    else:
        subject = f"Your API usage this month: {pct} of your quota"
        body = (
            f"Hi {name} team,\n\nyou are at {pct} of your monthly quota ({used} of {cap} calls{plan})."
            f" At this pace you end {month} at about {format_count(account['projected_eom'])} calls,"
            " within your quota. If you expect more traffic, we can look at a plan with more headroom."
        )
    if offer:
        body = f"{body}\n\n{offer}"
    return to, subject, body


def unknown_organization(organization_id: str, known: Sequence[str]) -> str:
    """One line for an id with no call in the warehouse, with the closest known ids."""
    close = difflib.get_close_matches(organization_id, known, n=3, cutoff=0.5)
    if not close:
        lowered = organization_id.lower()
        close = [known_id for known_id in known if lowered and lowered in known_id.lower()][:3]
    hint = f"; did you mean {', '.join(close)}?" if close else "; `apiwh top` lists the organizations"
    return f"no organization {organization_id!r} with a call in the warehouse{hint}"


def period_title(start: dt.date, end: dt.date, *, month: dt.date | None, as_of: dt.date) -> str:
    if month is not None:
        label = f"{month:%B %Y}"
        return f"{label} (to {end.isoformat()}, the latest data)" if end < _month_end(month) else label
    days = (end - start).days + 1
    return f"the {days} days {start.isoformat()} to {end.isoformat()}"


def _month_end(month: dt.date) -> dt.date:
    following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def latency_summary(totals: dict[str, Any]) -> str:
    """Daily percentiles are exact; over a period we show the typical and the slowest day."""
    if totals.get("median_day_p95_ms") is None:
        return "No calls in this period."
    return (
        f"On a typical day (median of the days with calls) half the calls took under"
        f" {format_ms(totals['median_day_p50_ms'])} ms, 95% under {format_ms(totals['median_day_p95_ms'])}"
        f" ms and 99% under {format_ms(totals['median_day_p99_ms'])} ms. The slowest day's p95 was"
        f" {format_ms(totals['slowest_day_p95_ms'])} ms"
        + (f" ({totals['slowest_day'].isoformat()})." if totals.get("slowest_day") else ".")
    )


def customer_summary(row: dict[str, Any], *, name: str) -> str:
    """One sentence about a customer's last 30 days, from marts.customer_usage_summary."""
    change = row.get("usage_change_7d_pct")
    change_text = f" ({format_pct(change, signed=True)} vs the 7 days before)" if change is not None else ""
    return (
        f"{name} made {format_count(row['calls_30d'])} calls in the last 30 days, on"
        f" {row['active_days_30d']} days; {format_count(row['calls_7d'])} in the last 7{change_text}."
        f" Trend: {row['trend']}; last call {format_day(row['last_call_at'])}; plan"
        f" {row.get('plan_id') or 'unknown'}; rank {row['rank_30d']} by calls."
    )


def key_flags(key: dict[str, Any]) -> str:
    flags = []
    if key.get("had_usage_spike"):
        flags.append("usage spike")
    if key.get("had_ip_spread"):
        flags.append("many IPs")
    return ", ".join(flags) or "-"


def alert_title(alert: dict[str, Any]) -> str:
    detail = alert.get("detail") or {}
    if not isinstance(detail, dict):
        detail = {}
    headline = detail.get("headline")
    if alert["alert_type"] == "churn_risk":
        headline = churn_headline(detail, str(alert.get("organization_id"))) or headline
    if headline:
        return str(headline)
    if alert["alert_type"] == "quota_threshold":
        return f"reached {alert['threshold']}% of the monthly quota"
    return alert["alert_type"].replace("_", " ")
