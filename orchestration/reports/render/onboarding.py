"""`apiwh funnel` and `apiwh retention` as text: pure functions of the rows in
orchestration/reports/queries/onboarding.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from orchestration.reports.queries.onboarding import FunnelRow, RetentionCell
from orchestration.reports.table import render_table

NO_PLAN_LABEL = "(none)"
INCOMPLETE_MARK = "*"

# Column titles of the strict funnel steps after key_issued, in FunnelRow.reached order.
FUNNEL_STEP_TITLES = ("first success", "100 calls", "error-free day")


def format_share(part: int, whole: int) -> str:
    """A share as a percent with one decimal ("66.7%"); "-" for an empty whole."""
    if whole == 0:
        return "-"
    return f"{100 * part / whole:.1f}%"


def _as_of_text(as_of: dt.date | None) -> str:
    return f", as of {as_of.isoformat()}" if as_of else ""


def render_funnel(rows: Sequence[FunnelRow], *, by_plan: bool, as_of: dt.date | None = None) -> str:
    title = "Onboarding funnel by cohort week" + (" and plan" if by_plan else "") + _as_of_text(as_of)
    if not rows:
        return f"{title}\nNo API key issued yet."
    header = ["cohort week", *(["plan"] if by_plan else []), "keys issued"]
    header += [*FUNNEL_STEP_TITLES, "median h to success"]
    body = []
    for row in rows:
        median = row.median_hours_to_first_success
        body.append(
            [
                row.cohort_week.isoformat(),
                *([row.plan_id or NO_PLAN_LABEL] if by_plan else []),
                f"{row.keys_issued:,}",
                *(format_share(reached, row.keys_issued) for reached in row.reached),
                "-" if median is None else f"{median:.1f}",
            ]
        )
    left = 2 if by_plan else 1
    lines = [title, *render_table(header, body, align="l" * left + "r" * (len(header) - left), rule=False)]
    lines.append("Share of keys issued reaching each step (strict: every earlier step too);")
    lines.append("median hours from key issued to first 2xx, over keys with one.")
    return "\n".join(lines)


def render_retention(
    cells: Sequence[RetentionCell], *, plan: str | None = None, as_of: dt.date | None = None
) -> str:
    title = f"Cohort retention by signup week (plan: {plan or 'all'}){_as_of_text(as_of)}"
    if not cells:
        return f"{title}\nNo organization has signed up yet."
    cohorts: dict[dt.date, dict[int, RetentionCell]] = {}
    for cell in cells:
        cohorts.setdefault(cell.cohort_week, {})[cell.weeks_since_signup] = cell
    max_offset = max(cell.weeks_since_signup for cell in cells)
    header = ["cohort week", "size", *(f"week {n}" for n in range(max_offset + 1))]
    # Complete weeks get a blank where the mark would be, so the digits line up.
    has_incomplete = any(not cell.is_complete_week for cell in cells)
    complete_pad = " " if has_incomplete else ""
    body = []
    for cohort_week, by_offset in sorted(cohorts.items()):
        size = next(iter(by_offset.values())).cohort_size
        row = [cohort_week.isoformat(), f"{size:,}"]
        for offset in range(max_offset + 1):
            cell = by_offset.get(offset)
            if cell is None:
                row.append("")
                continue
            mark = complete_pad if cell.is_complete_week else INCOMPLETE_MARK
            row.append(format_share(cell.active_customers, cell.cohort_size) + mark)
        body.append(row)
    lines = [title, *render_table(header, body, align="l" + "r" * (len(header) - 1), rule=False)]
    lines.append("Share of each cohort's organizations with a successful call in that week.")
    if has_incomplete:
        lines.append(f"{INCOMPLETE_MARK} week not complete yet (its Sunday is after the as-of date)")
    return "\n".join(lines)
