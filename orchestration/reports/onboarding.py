"""`apiwh funnel` and `apiwh retention`: the onboarding marts in the terminal.

Both read the published marts (docs/contract.md section 2):
`marts.onboarding_funnel_weekly` (all plans) / `marts.onboarding_funnel_summary` (per plan)
for the funnel, `marts.cohort_retention` for the triangle.
Fetching (SQL, values bound with `?`) and rendering (pure functions of plain rows) are kept
apart so the rendering is tested without a warehouse.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from orchestration.errors import UnknownIdError
from orchestration.readers import WarehouseNotBuiltError, open_marts_connection, read_as_of
from orchestration.reports.table import render_table
from orchestration.settings import load_settings

NO_PLAN_LABEL = "(none)"
INCOMPLETE_MARK = "*"

# Column titles of the strict funnel steps after key_issued, in FunnelRow.reached order.
FUNNEL_STEP_TITLES = ("first success", "100 calls", "error-free day")


@dataclass(frozen=True)
class FunnelRow:
    cohort_week: dt.date
    plan_id: str | None
    keys_issued: int
    reached_first_success: int
    reached_hundred_calls: int
    reached_error_free_day: int
    median_hours_to_first_success: float | None

    @property
    def reached(self) -> tuple[int, int, int]:
        return (self.reached_first_success, self.reached_hundred_calls, self.reached_error_free_day)


@dataclass(frozen=True)
class RetentionCell:
    cohort_week: dt.date
    weeks_since_signup: int
    cohort_size: int
    active_customers: int
    is_complete_week: bool


# Both views read the counts as the marts hold them (counted once, in dbt): the week over
# every plan has its own mart, since medians over plans do not add up.
_FUNNEL_ALL_PLANS_SQL = """
select
    cohort_week,
    null as plan_id,
    keys_issued,
    reached_first_success,
    reached_hundred_calls,
    reached_error_free_day,
    median_hours_to_first_success
from marts.onboarding_funnel_weekly
order by cohort_week
"""

_FUNNEL_BY_PLAN_SQL = """
select
    cohort_week,
    plan_id,
    keys_issued,
    reached_first_success,
    reached_hundred_calls,
    reached_error_free_day,
    median_hours_to_first_success
from marts.onboarding_funnel_summary
order by cohort_week, plan_id nulls last
"""

# Without a plan, cohorts of every plan (unknown included) are added up per week and offset.
_RETENTION_SQL = """
select
    cohort_week,
    weeks_since_signup,
    cast(sum(cohort_size) as bigint) as cohort_size,
    cast(sum(active_customers) as bigint) as active_customers,
    bool_and(is_complete_week) as is_complete_week
from marts.cohort_retention
where cast(? as varchar) is null or plan_id = ?
group by cohort_week, weeks_since_signup
order by cohort_week, weeks_since_signup
"""


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence = ()) -> list[tuple]:
    try:
        return con.execute(sql, list(params)).fetchall()
    except duckdb.CatalogException as exc:
        raise WarehouseNotBuiltError(
            f"the onboarding marts are not built yet: run `apiwh run` ({exc})"
        ) from exc


def fetch_funnel(con: duckdb.DuckDBPyConnection, *, by_plan: bool) -> list[FunnelRow]:
    sql = _FUNNEL_BY_PLAN_SQL if by_plan else _FUNNEL_ALL_PLANS_SQL
    return [FunnelRow(*row) for row in _run(con, sql)]


def fetch_retention(con: duckdb.DuckDBPyConnection, *, plan: str | None = None) -> list[RetentionCell]:
    return [RetentionCell(*row) for row in _run(con, _RETENTION_SQL, [plan, plan])]


def fetch_plans(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = _run(
        con,
        "select distinct plan_id from marts.cohort_retention where plan_id is not null order by 1",
    )
    return [plan for (plan,) in rows]


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


def cmd_funnel(args: argparse.Namespace) -> int:
    by_plan = args.by == "plan"
    con = open_marts_connection(load_settings())
    try:
        rows = fetch_funnel(con, by_plan=by_plan)
        as_of = read_as_of(con)
    finally:
        con.close()
    print(render_funnel(rows, by_plan=by_plan, as_of=as_of))
    return 0


def cmd_retention(args: argparse.Namespace) -> int:
    con = open_marts_connection(load_settings())
    try:
        cells = fetch_retention(con, plan=args.plan)
        plans = fetch_plans(con) if args.plan and not cells else []
        as_of = read_as_of(con)
    finally:
        con.close()
    if args.plan and not cells:
        raise UnknownIdError("cohort plan", args.plan, plans)
    print(render_retention(cells, plan=args.plan, as_of=as_of))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    funnel = subparsers.add_parser(
        "funnel",
        help="onboarding funnel per cohort week: keys issued, share reaching each step",
    )
    funnel.add_argument("--by", choices=["plan"], help="one row per cohort week and plan (plan at issuance)")
    funnel.set_defaults(func=cmd_funnel)
    retention = subparsers.add_parser(
        "retention", help="cohort retention triangle: signup week x weeks since signup"
    )
    retention.add_argument("--plan", help="only cohorts that signed up on this plan")
    retention.set_defaults(func=cmd_retention)
