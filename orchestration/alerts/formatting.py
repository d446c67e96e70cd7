"""How figures read in alerts: 1,234 calls, 82.4%, ISO dates. Pure functions, no I/O."""

from __future__ import annotations

import datetime as dt
from typing import Any


def number(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def iso(value: dt.date | dt.datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
    return value.isoformat()


def pct(rate: Any) -> str:
    """A fraction as a percent with one decimal: 0.8123 -> 81.2%."""
    return f"{100 * rate:.1f}%" if isinstance(rate, int | float) else "n/a"
