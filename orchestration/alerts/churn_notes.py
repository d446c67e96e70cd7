"""The churn_risk alert's words: a headline for the account team and the drafted note, written
from the figures marts.alert_candidates puts in `detail` (trend, calls_7d, calls_prior_7d,
usage_change_7d_pct, days_since_last_call, last_call_at, top_endpoint_drops). No Dagster, no I/O.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from orchestration.alerts.formatting import number


def _day(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _calls(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else number(value)


def has_churn_figures(detail: dict[str, Any]) -> bool:
    """The figures the words need; an alert recorded with drafted words instead has none."""
    return detail.get("trend") in ("declining", "dormant") and "calls_7d" in detail


def churn_headline(detail: dict[str, Any], organization: str) -> str | None:
    """ "org_a: calls fell 92.9% in 7 days (140 -> 10)", or how long a dormant one has been silent."""
    if not has_churn_figures(detail):
        return None
    if detail["trend"] == "dormant":
        last_call = _day(detail.get("last_call_at"))
        return (
            f"{organization} has made no API call for {number(detail.get('days_since_last_call'))} days"
            f" (last call {last_call.isoformat() if last_call else 'unknown'})"
        )
    change = detail.get("usage_change_7d_pct")
    fell = f"{abs(change):.1f}" if isinstance(change, int | float) else "?"
    return (
        f"{organization}: calls fell {fell}% in 7 days"
        f" ({_calls(detail.get('calls_prior_7d'))} -> {_calls(detail.get('calls_7d'))})"
    )


def _biggest_drop(detail: dict[str, Any]) -> str:
    drops = detail.get("top_endpoint_drops") or []
    if not drops:
        return ""
    top = drops[0]
    return (
        f", most of the drop on {top.get('route')}"
        f" ({_calls(top.get('calls_prior_7d'))} -> {_calls(top.get('calls_7d'))})"
    )


def churn_note(detail: dict[str, Any], organization: str) -> tuple[str, str] | None:
    """The drafted note to the account's contact: subject and body."""
    if not has_churn_figures(detail):
        return None
    days = number(detail.get("days_since_last_call"))
    if detail["trend"] == "dormant":
        last_call = _day(detail.get("last_call_at"))
        since = f"{last_call:%B} {last_call.day}" if last_call else "a while"
        return (
            f"We have not seen API calls from you for {days} days",
            f"Hi {organization} team, we have not seen an API call from you since {since}"
            f" ({days} days ago). Is anything getting in the way of your integration? We would be"
            " glad to help.",
        )
    return (
        "Your API usage dropped this week: can we help?",
        f"Hi {organization} team, your API calls went from {_calls(detail.get('calls_prior_7d'))} in"
        f" the previous 7 days to {_calls(detail.get('calls_7d'))} in the last 7{_biggest_drop(detail)}."
        " Is anything getting in the way? We would be glad to help.",
    )
