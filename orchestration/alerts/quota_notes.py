"""The quota alert's words and the drafted quota note, from the verdict of marts.quota_outlook.

The outlook (cap_reached, reaches_cap, resets_first), the action and the cap date are decided
once, in dbt (docs/contract.md 2c); the alert's detail carries them (int_alerts_quota_threshold)
and the dashboard reads them from the mart. Both draft the note here, worded by
orchestration/verdict_words.py, so the alert, the dashboard and `apiwh quota` never disagree.
No Dagster, no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from orchestration.alerts.formatting import number as _number
from orchestration.alerts.ledger import Alert
from orchestration.reports.formatting import format_money
from orchestration.verdict_words import action_cell, customer_quota_sentence, headroom_offer, outlook_cell

# The note's subject follows the mart's outlook; {pct} and {cap_day} are filled from its row.
QUOTA_NOTE_SUBJECTS = {
    "cap_reached": "You have reached your monthly API quota",
    "reaches_cap": "Heads up: at this pace you reach your monthly API quota on {cap_day}",
    "resets_first": "Your API usage this month: {pct}% of your quota",
}


def display_name(alert: Alert) -> str:
    """The organizations file's name when delivery added it (alerts/names.py), else the id."""
    return str(alert.detail.get("organization_name") or alert.organization_id)


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def quota_verdict(row: Mapping[str, Any]) -> dict[str, Any] | None:
    """The quota_outlook columns the words need, typed; None for an alert recorded before its
    detail carried the verdict (its recorded headline and note are then used as they are)."""
    try:
        if row.get("outlook") not in QUOTA_NOTE_SUBJECTS or not row.get("action"):
            return None
        return {
            "outlook": row["outlook"],
            "action": row["action"],
            "used_mtd": int(row["used_mtd"]),
            "monthly_call_limit": int(row["monthly_call_limit"]),
            "projected_eom": int(row["projected_eom"]),
            "pct_of_cap": row.get("pct_of_cap"),
            "days_to_cap": _int(row.get("days_to_cap")),
            "cap_date": _date(row.get("cap_date")),
            "resets_on": _date(row["resets_on"]),
            "billing_month": _date(row["billing_month"]),
            "plan_id": row.get("plan_id"),
            "next_plan_id": row.get("next_plan_id"),
            "upgrade_mrr_delta": row.get("upgrade_mrr_delta"),
            "overage_cost_at_pace": row.get("overage_cost_at_pace"),
            "is_plan_in_catalogue": row.get("is_plan_in_catalogue"),
        }
    except (KeyError, TypeError, ValueError):
        return None


def outlook_text(verdict: Mapping[str, Any]) -> str:
    """ "cap reached", "cap in 4 days (Nov 3)", "resets on Nov 1" (verdict_words.outlook_cell)."""
    return outlook_cell(verdict["outlook"], verdict["days_to_cap"], verdict["cap_date"], verdict["resets_on"])


def customer_sentence(verdict: Mapping[str, Any]) -> str:
    """The outlook in the customer's own terms (verdict_words.customer_quota_sentence)."""
    return customer_quota_sentence(
        outlook=verdict["outlook"],
        used_mtd=verdict["used_mtd"],
        monthly_call_limit=verdict["monthly_call_limit"],
        projected_eom=verdict["projected_eom"],
        days_to_cap=verdict["days_to_cap"],
        cap_date=verdict["cap_date"],
        resets_on=verdict["resets_on"],
        billing_month=verdict["billing_month"],
    )


def upgrade_offer(d: Mapping[str, Any]) -> str | None:
    """Sentences naming the next plan and what moving to it would cost or save this month at
    the current pace; None when the plan catalogue did not price the account's plan."""
    if d.get("plan_monthly_price") is None:
        return None
    overage = d.get("overage_cost_at_pace") or 0.0
    overage_calls = d.get("overage_calls_at_pace") or 0
    if overage > 0:
        overage_text = (
            f" At this pace the {overage_calls:,} calls above your quota come to {format_money(overage)}"
            " this month."
        )
    elif overage_calls > 0:
        overage_text = f" At this pace about {overage_calls:,} calls this month would go above your quota."
    else:
        overage_text = ""
    next_plan = d.get("next_plan_id")
    if next_plan is None:
        return f"You are on our largest plan.{overage_text}" if overage_text else None
    delta = d["upgrade_mrr_delta"]
    compared = (
        f"{format_money(delta)} more than your current plan"
        if delta > 0
        else f"{format_money(-delta)} less than your current plan"
        if delta < 0
        else "the same as your current plan"
    )
    sentences = [
        f"The next plan, {next_plan}, includes {_number(d.get('next_plan_call_limit'))} calls a"
        f" month for {format_money(d['next_plan_monthly_price'])} a month, {compared}.{overage_text}"
    ]
    net = d.get("upgrade_net_cost_at_pace")
    if net is not None and overage > 0:
        if net < 0:
            sentences.append(f"Moving to {next_plan} now would save you {format_money(-net)} this month.")
        else:
            sentences.append(f"Overage included, {next_plan} would cost {format_money(net)} more this month.")
    if d.get("fits_next_plan") is False:
        sentences.append(
            f"Your projected {_number(d.get('projected_eom'))} calls this month would exceed even"
            f" the {next_plan} quota, so it may be worth a look beyond it."
        )
    return " ".join(sentences)


def quota_note_words(
    verdict: Mapping[str, Any], *, name: str, prices: Mapping[str, Any] | None = None
) -> tuple[str, str]:
    """(subject, body) of the note to the account: the outlook in the customer's terms, what the
    catalogue allows (verdict_words.headroom_offer: never a larger plan on the largest one) and,
    when the catalogue prices a next plan, its price (`prices`: upgrade_opportunities' figures)."""
    pct = _number(verdict["pct_of_cap"])
    cap_date = verdict["cap_date"]
    subject = QUOTA_NOTE_SUBJECTS[verdict["outlook"]].format(
        pct=pct, cap_day=f"{cap_date:%B} {cap_date.day}" if cap_date else ""
    )
    offer = headroom_offer(
        next_plan_id=verdict["next_plan_id"],
        upgrade_mrr_delta=verdict["upgrade_mrr_delta"],
        overage_cost_at_pace=verdict["overage_cost_at_pace"],
        is_plan_in_catalogue=verdict["is_plan_in_catalogue"],
    )
    body = f"Hi {name} team,\n\n{customer_sentence(verdict)} {offer}"
    priced = upgrade_offer(prices) if prices and verdict["next_plan_id"] else None
    return subject, f"{body}\n\n{priced}" if priced else body


def quota_headline(alert: Alert) -> str | None:
    """One line for sales: the mart's action and outlook, then the figures behind them."""
    d = alert.detail
    verdict = quota_verdict(d)
    if verdict is None:
        return None
    month = verdict["billing_month"]
    figures = (
        f"{_number(d.get('pct_of_cap'))}% of its monthly quota, {_number(d.get('used_mtd'))} of"
        f" {_number(d.get('monthly_call_limit'))} calls in {month:%B %Y}"
    )
    return f"{display_name(alert)}: {verdict['action']} · {outlook_text(verdict)} ({figures})"


def quota_figure_lines(d: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The verdict's lines among the alert's figures; none for an alert without it."""
    verdict = quota_verdict(d)
    if verdict is None:
        return [("Quota resets on", _number(d.get("quota_resets_on")))]
    return [("Outlook", outlook_text(verdict)), ("Action", action_cell(verdict["action"]))]


def quota_note(alert: Alert) -> tuple[str, str] | None:
    """The drafted note to the account's contact, from the verdict in the alert's detail."""
    verdict = quota_verdict(alert.detail)
    if verdict is None:
        return None
    return quota_note_words(verdict, name=display_name(alert), prices=alert.detail)
