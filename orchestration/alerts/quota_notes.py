"""The quota alert's words: a headline for sales and the drafted note, following the projection.

One rule for "at cap" (only once used up), "cap in N days" and "resets before cap"
(orchestration/quota_outlook.py), shared with `apiwh quota`. No Dagster, no I/O.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from orchestration.alerts.formatting import number as _number
from orchestration.alerts.ledger import Alert
from orchestration.quota_outlook import AT_CAP, WILL_EXCEED, QuotaOutlook, quota_outlook


def display_name(alert: Alert) -> str:
    """The organizations file's name when delivery added it (alerts/names.py), else the id."""
    return str(alert.detail.get("organization_name") or alert.organization_id)


def quota_details_outlook(detail: dict[str, Any]) -> QuotaOutlook | None:
    try:
        return quota_outlook(
            used_mtd=int(detail["used_mtd"]),
            monthly_call_limit=int(detail["monthly_call_limit"]),
            projected_eom=int(detail["projected_eom"]),
            days_to_cap=None if detail.get("days_to_cap") is None else int(detail["days_to_cap"]),
        )
    except (KeyError, TypeError, ValueError):  # a detail without the figures: generic wording
        return None


def _month(detail: dict[str, Any]) -> str:
    try:
        return dt.date.fromisoformat(str(detail["billing_month"])[:10]).strftime("%B %Y")
    except (KeyError, ValueError):
        return "this month"


def _day(value: Any) -> str:
    try:
        day = dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return f"{day:%B} {day.day}"


def quota_headline(alert: Alert) -> str | None:
    """One line for sales, consistent with the drafted note: "at cap" only once used up."""
    d = alert.detail
    outlook = quota_details_outlook(d)
    if outlook is None:
        return None
    org, pct = display_name(alert), _number(d.get("pct_of_cap"))
    figures = f"{_number(d.get('used_mtd'))} of {_number(d.get('monthly_call_limit'))} calls, {_month(d)}"
    if outlook.kind == AT_CAP:
        return f"{org} has used {pct}% of its monthly quota ({figures}): at cap"
    if outlook.kind == WILL_EXCEED:
        return (
            f"{org} is at {pct}% of its monthly quota ({figures}); at this pace cap in {outlook.cap_in_words}"
        )
    return (
        f"{org} is at {pct}% of its monthly quota ({figures}); at this pace the quota resets on "
        f"{_day(d.get('quota_resets_on'))}, before the cap"
    )


def quota_note(alert: Alert) -> tuple[str, str] | None:
    """The drafted note to the account's contact: subject and body, following the projection."""
    d = alert.detail
    outlook = quota_details_outlook(d)
    if outlook is None:
        return None
    org, pct, month = display_name(alert), _number(d.get("pct_of_cap")), _month(d)
    used, limit = _number(d.get("used_mtd")), _number(d.get("monthly_call_limit"))
    plan = f" on the {d['plan_id']} plan" if d.get("plan_id") else ""
    resets = _day(d.get("quota_resets_on"))
    if outlook.kind == AT_CAP:
        return (
            "You have reached your monthly API quota",
            f"Hi {org} team, you have made {used} API calls in {month}, {pct}% of your monthly quota"
            f" of {limit} calls{plan}. Calls above the quota may be rate-limited until it resets on"
            f" {resets}. Moving to a plan with a larger quota gives you headroom; happy to set up a"
            " quick call to find the right fit.",
        )
    subject = f"Heads up: you are at {pct}% of your monthly API quota"
    if outlook.kind == WILL_EXCEED:
        return (
            subject,
            f"Hi {org} team, you are at {pct}% of your monthly quota ({used} of {limit} calls{plan})."
            f" At this pace you reach it in {outlook.cap_in_words} and end {month} at about"
            f" {_number(d.get('projected_eom'))} calls, before the quota resets on {resets}."
            " Upgrading now avoids rate-limiting; happy to set up a quick call to discuss the next tier.",
        )
    return (
        subject,
        f"Hi {org} team, you are at {pct}% of your monthly quota ({used} of {limit} calls{plan})."
        f" At this pace you stay within it until it resets on {resets} (about"
        f" {_number(d.get('projected_eom'))} calls in {month}). If you expect more traffic, we can"
        " look at a plan with more headroom.",
    )
