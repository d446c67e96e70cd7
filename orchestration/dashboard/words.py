"""The dashboard's and the report's own sentences, from mart columns as they are.

The words of a verdict (quota outlook and action, the upsell flag) are orchestration/verdict_words.py's;
an alert's title is orchestration/alerts/render.py's alert_title. No I/O here: plain functions of
plain values, tested directly.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Sequence
from typing import Any

from orchestration.reports.formatting import format_count, format_ms, format_pct, format_rate

# The label of a window's exact percentile, as `apiwh endpoints --days 30` words it.
P95_30D_LABEL = "p95 over the 30 days' calls"
P99_30D_LABEL = "p99 over the 30 days' calls"
ERROR_RATE_30D_LABEL = "error rate (4xx + 5xx) over the 30 days' calls"
# Column heads of a customer's 30-day figures in a table (customer_usage_summary).
ERROR_RATE_30D_HEAD = "Error rate 30d"
P95_30D_HEAD = "p95 ms 30d"

# The overview's windows (marts.platform_window_usage.window_days), as the page names them.
WINDOW_NAMES = {1: "the as-of date", 7: "7 days", 30: "30 days"}

FUNNEL_STEPS = {
    "key issued": "keys_issued",
    "first success": "reached_first_success",
    "100 calls": "reached_hundred_calls",
    "error-free day": "reached_error_free_day",
}

__all__ = ["format_count", "format_ms", "format_pct", "format_rate"]


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


def customer_summary(row: dict[str, Any], *, name: str) -> str:
    """One sentence about a customer's last 30 days, from marts.customer_usage_summary."""
    change = row.get("usage_change_7d_pct")
    change_text = f" ({format_pct(change, signed=True)} vs the 7 days before)" if change is not None else ""
    month = row.get("usage_change_30d_pct")
    month_text = (
        f" The 30 days: {format_pct(month, signed=True)} vs the 30 days before." if month is not None else ""
    )
    return (
        f"{name} made {format_count(row['calls_30d'])} calls in the last 30 days, on"
        f" {row['active_days_30d']} days; {format_count(row['calls_7d'])} in the last 7{change_text}."
        f" Trend: {row['trend']}; last call {format_day(row['last_call_at'])}; plan"
        f" {row.get('plan_id') or 'unknown'}; rank {row['rank_30d']} by calls.{month_text}"
    )


def window_name(window_days: int) -> str:
    return WINDOW_NAMES.get(window_days, f"{window_days} days")


def window_figures(row: dict[str, Any]) -> dict[str, Any]:
    """A row of marts.platform_window_usage as the overview shows it."""
    split = (row["successful_calls"], row["client_errors"], row["server_errors"])
    return {
        "window_days": row["window_days"],
        "name": window_name(row["window_days"]),
        "start": row["window_start_date"].isoformat(),
        "calls": format_count(row["calls"]),
        "error_rate": format_rate(row["error_rate"]),
        "split": " / ".join(format_count(value) for value in split),
        "rate_limited": format_count(row["rate_limited_calls"]),
        "p50": format_ms(row["latency_p50_ms"]),
        "p95": format_ms(row["latency_p95_ms"]),
        "p99": format_ms(row["latency_p99_ms"]),
        "active_customers": format_count(row["active_customers"]),
    }


def errors_30d(row: dict[str, Any]) -> str:
    """A customer's 4xx / 5xx of the 30 days (customer_usage_summary), as shown."""
    return (
        f"{format_count(row.get('client_errors_30d', 0))} / {format_count(row.get('server_errors_30d', 0))}"
    )


def key_flags(key: dict[str, Any]) -> str:
    """The key's flags on the as-of date (marts.key_daily_activity)."""
    flags = []
    if key.get("is_usage_spike"):
        flags.append("usage spike")
    if key.get("is_ip_spread"):
        flags.append("many IPs")
    return ", ".join(flags) or "-"
