"""`apiwh funnel` and `apiwh retention` as text: pure functions of the rows in
orchestration/reports/queries/onboarding.py. Rates are the marts' columns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from orchestration.reports.formatting import NONE_TEXT, format_rate
from orchestration.reports.queries.onboarding import FunnelWeek, RetentionCell
from orchestration.reports.table import render_table

NO_PLAN_LABEL = "(none)"
INCOMPLETE_MARK = "*"

# Column titles of the strict funnel steps after key_issued, in FunnelWeek.rates order.
FUNNEL_STEP_TITLES = ("first success", "100 calls", "error-free day")


def _as_of_text(as_of: dt.date | None) -> str:
    return f", as of {as_of.isoformat()}" if as_of else ""


def render_funnel(rows: Sequence[FunnelWeek], *, by_plan: bool, as_of: dt.date | None = None) -> str:
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
                *([getattr(row, "plan_id", None) or NO_PLAN_LABEL] if by_plan else []),
                f"{row.keys_issued:,}",
                *(format_rate(rate) for rate in row.rates),
                NONE_TEXT if median is None else f"{median:.1f}",
            ]
        )
    left = 2 if by_plan else 1
    lines = [title, *render_table(header, body, align="l" * left + "r" * (len(header) - left), rule=False)]
    lines.append("Share of keys issued reaching each step (strict: every earlier step too);")
    lines.append("median hours from key issued to first 2xx, over keys with one.")
    return "\n".join(lines)


def _triangle(cells: Sequence[RetentionCell]) -> list[str]:
    """One plan's triangle: a row per signup week, a column per week since signup."""
    cohorts: dict[dt.date, dict[int, RetentionCell]] = {}
    for cell in cells:
        cohorts.setdefault(cell.cohort_week, {})[cell.weeks_since_signup] = cell
    max_offset = max(cell.weeks_since_signup for cell in cells)
    header = ["cohort week", "size", *(f"week {n}" for n in range(max_offset + 1))]
    # Complete weeks get a blank where the mark would be, so the digits line up.
    complete_pad = " " if any(not cell.is_complete_week for cell in cells) else ""
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
            row.append(format_rate(cell.retention_rate) + mark)
        body.append(row)
    return render_table(header, body, align="l" + "r" * (len(header) - 1), rule=False)


def render_retention(
    cells: Sequence[RetentionCell], *, plan: str | None = None, as_of: dt.date | None = None
) -> str:
    """One triangle per signup plan (marts.cohort_retention holds one per plan, none over all)."""
    title = f"Cohort retention by signup week (plan: {plan or 'each plan'}){_as_of_text(as_of)}"
    if not cells:
        return f"{title}\nNo organization has signed up yet."
    by_plan: dict[str | None, list[RetentionCell]] = {}
    for cell in cells:
        by_plan.setdefault(cell.plan_id, []).append(cell)
    lines = [title]
    for plan_id, plan_cells in by_plan.items():
        if plan is None:
            lines += ["", f"plan {plan_id or NO_PLAN_LABEL}:"]
        lines += _triangle(plan_cells)
    lines.append("Share of each cohort's organizations with a successful call in that week.")
    if any(not cell.is_complete_week for cell in cells):
        lines.append(f"{INCOMPLETE_MARK} week not complete yet (its Sunday is after the as-of date)")
    return "\n".join(lines)
