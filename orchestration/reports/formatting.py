"""How numbers read in the terminal views and the dashboard: counts, percents, rates, times,
sparklines, cut-off text. Pure functions of plain values."""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from collections.abc import Sequence

SPARK_BLOCKS = "▁▂▃▄▅▆▇█"
NONE_TEXT = "-"
MAX_TEXT_WIDTH = 32
NOTE_WIDTH = 100


def format_count(value: int | None) -> str:
    """An integer with thousands separators ("18,420,000"); "-" for none."""
    return NONE_TEXT if value is None else f"{value:,}"


def format_money(value: float | None, *, signed: bool = False) -> str:
    """Dollars with cents ("$1,234.50", "+$450.00", "-$12.00"); "-" for none."""
    if value is None:
        return NONE_TEXT
    sign = ("+" if value > 0 else "-" if value < 0 else "") if signed else ("-" if value < 0 else "")
    return f"{sign}${abs(value):,.2f}"


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


def format_last_call(last_call_at: dt.datetime | None) -> str:
    """The last call's UTC date. Not "today" or "N days ago": those were read against the as-of
    date, which may be long past; the date says the same to anyone."""
    return NONE_TEXT if last_call_at is None else last_call_at.date().isoformat()


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


def note(text: str) -> str:
    return textwrap.fill(text, width=NOTE_WIDTH)


def truncate(text: str, width: int = MAX_TEXT_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
