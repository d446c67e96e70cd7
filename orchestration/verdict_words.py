"""The words of every verdict a person reads, chosen by a mart's columns, never decided here.

The verdicts are decided once, in dbt (docs/contract.md section 2c): marts.quota_outlook's
`outlook` and `action`, customer_usage_summary's `is_upsell_signal`. Every face (the command line,
the dashboard, the customer's report, the alert notes) turns those values into words through
this module, so two faces can never word the same verdict differently. Sales words (CRITICAL,
UPSELL NOW, "AE call") are for the team; the customer's own report uses `customer_quota_sentence`.
No I/O: plain functions of plain values.
"""

from __future__ import annotations

import datetime as dt

from orchestration.reports.formatting import format_count, format_money

# marts.quota_outlook.action: what the team does about it.
QUOTA_ACTION_ADVICE = {
    "CRITICAL": "AE call today: the cap is reached or at most a day away",
    "UPSELL NOW": "AE outreach this week: on course for the cap, or at 80% of it",
    "warm": "CSM heads-up message",
    "ok": "track for next month",
}
# marts.quota_outlook.outlook, as a table heading explains it.
OUTLOOK_MEANING = {
    "cap_reached": "the month's calls reached the quota",
    "reaches_cap": "at this month's pace the cap comes before the month ends",
    "resets_first": "at this pace the month ends (and the quota resets) before the cap",
}
# marts.quota_outcomes.outcome: what followed a month at 80%+ of the quota (first match wins).
QUOTA_OUTCOME_WORDS = {
    "upgraded": "upgraded",
    "downgraded": "downgraded",
    "churned": "left (no call)",
    "absorbed_429s": "absorbed the 429s",
    "unchanged": "unchanged",
}
QUOTA_OUTCOME_MEANING = {
    "upgraded": "a higher monthly limit the next month",
    "downgraded": "a lower monthly limit the next month",
    "churned": "no call the next month",
    "absorbed_429s": "the same limit, and calls were rate limited (429) in the month",
    "unchanged": "the same limit, no 429s",
}
# customer_usage_summary.is_upsell_signal: the only mark of upsell on any face.
UPSELL_FLAG = "★ upsell"
UPSELL_MEANING = "30-day calls grew more than 30% over the 30 days before"


def _day(value: dt.date) -> str:
    return f"{value:%b} {value.day}"


def _days(days: int) -> str:
    if days == 0:
        return "less than a day"
    return "1 day" if days == 1 else f"{days:,} days"


def outlook_cell(outlook: str, days_to_cap: int | None, cap_date: dt.date | None, resets_on: dt.date) -> str:
    """A table cell: "cap reached", "cap in 4 days (Nov 3)", "resets on Nov 1". A number of days
    to the cap appears only when the cap comes first (outlook reaches_cap)."""
    if outlook == "cap_reached":
        return "cap reached"
    if outlook == "reaches_cap" and days_to_cap is not None and cap_date is not None:
        return f"cap in {_days(days_to_cap)} ({_day(cap_date)})"
    return f"resets on {_day(resets_on)}"


def action_cell(action: str) -> str:
    """The action and what it asks of the team: "CRITICAL: AE call today: ..."."""
    return f"{action}: {QUOTA_ACTION_ADVICE[action]}"


def outcome_cell(outcome: str, is_next_month_complete: bool) -> str:
    """marts.quota_outcomes' outcome in words; "so far" while the next month is not over."""
    words = QUOTA_OUTCOME_WORDS.get(outcome, outcome)
    return words if is_next_month_complete else f"{words} (so far)"


def upsell_cell(is_upsell_signal: bool | None) -> str:
    return UPSELL_FLAG if is_upsell_signal else ""


def customer_quota_sentence(
    *,
    outlook: str,
    used_mtd: int,
    monthly_call_limit: int,
    projected_eom: int,
    days_to_cap: int | None,
    cap_date: dt.date | None,
    resets_on: dt.date,
    billing_month: dt.date,
) -> str:
    """The outlook in the customer's own terms, for their report and the notes sent to them."""
    used, cap, month = format_count(used_mtd), format_count(monthly_call_limit), f"{billing_month:%B}"
    if outlook == "cap_reached":
        return (
            f"You have made {used} calls in {month}, reaching your monthly quota of {cap}."
            f" Your quota resets on {_day(resets_on)}."
        )
    if outlook == "reaches_cap" and days_to_cap is not None and cap_date is not None:
        return (
            f"You have made {used} of your {cap} calls this month. At this pace you reach the quota"
            f" in {_days(days_to_cap)}, on {_day(cap_date)}, before it resets on {_day(resets_on)}."
        )
    return (
        f"You have made {used} of your {cap} calls this month. At this pace you end {month} at about"
        f" {format_count(projected_eom)} calls, within your quota, which resets on {_day(resets_on)}."
    )


def headroom_offer(
    *,
    next_plan_id: str | None,
    upgrade_mrr_delta: float | None,
    overage_cost_at_pace: float | None,
    is_plan_in_catalogue: bool | None,
) -> str:
    """What the catalogue allows, never more: a larger plan only when there is one; on the
    largest plan, the overage at this pace or custom terms."""
    if next_plan_id:
        price = f" ({format_money(upgrade_mrr_delta, signed=True)} a month)" if upgrade_mrr_delta else ""
        return f"The {next_plan_id} plan gives you more headroom{price}; happy to set up a quick call."
    if is_plan_in_catalogue:
        if overage_cost_at_pace:
            return (
                f"You are on our largest plan: at this pace this month's overage comes to about"
                f" {format_money(overage_cost_at_pace)}. For steady growth we can agree custom terms."
            )
        return "You are on our largest plan; if you expect more traffic, we can agree custom terms."
    return "If you expect more traffic, happy to look at the options with you."
