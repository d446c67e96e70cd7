"""The optional plan catalogue (env PLANS_FILE, docs/contract.md section 2b): check it, show it.

The warehouse reads the catalogue in dbt (staging.stg_plan_catalogue). The parsing and the
checks are one dbt macro, dbt_project/macros/plan_catalogue_lines.sql, written in plain Jinja so
that this module renders the very same SQL and runs it in DuckDB: `apiwh plans` and the
pre-flight of `make run` refuse exactly what the build refuses, with the same one-line message
naming the file and the line.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import duckdb
import jinja2

from orchestration.reports.table import render_table
from orchestration.settings import DBT_PROJECT_DIR, SettingsError, load_settings
from orchestration.sql_command import FORMATS, write_rows

CATALOGUE_MACRO = DBT_PROJECT_DIR / "macros" / "plan_catalogue_lines.sql"


class PlanCatalogueError(SettingsError):
    """A bad plan catalogue: the message names the file and the line, ready to print as is."""


@dataclass(frozen=True)
class Plan:
    plan_id: str
    monthly_price: float
    monthly_call_limit: int
    next_plan_id: str | None
    overage_price_per_1k_calls: float
    line_number: int


def catalogue_sql(plans_file: Path) -> str:
    """The SELECT of every line of the catalogue with its `problem`, as dbt compiles it."""
    module = jinja2.Environment().from_string(CATALOGUE_MACRO.read_text(encoding="utf-8")).module
    return str(module.plan_catalogue_lines(str(plans_file)))


def read_plan_catalogue(plans_file: Path) -> list[Plan]:
    """Every plan in file order, or PlanCatalogueError for the first bad line."""
    with duckdb.connect() as con:
        try:
            rows = con.execute(
                f"""
                select
                    plan_id, monthly_price, monthly_call_limit, next_plan_id,
                    overage_price_per_1k_calls, line_number, problem
                from ({catalogue_sql(plans_file)})
                order by line_number
                """
            ).fetchall()
        except duckdb.Error as exc:
            # e.g. not UTF-8 text: DuckDB's first line says why.
            reason = str(exc).strip().splitlines()[0]
            raise PlanCatalogueError(f"PLANS_FILE {plans_file}: cannot be read ({reason})") from exc
    problems = [row[-1] for row in rows if row[-1] is not None]
    if problems:
        raise PlanCatalogueError(problems[0])
    return [Plan(*row[:-1]) for row in rows]


# ---------------------------------------------------------------------------- CLI


def _money(value: float) -> str:
    return f"${value:,.2f}"


def render_catalogue(plans_file: Path, plans: list[Plan]) -> str:
    lines = [f"Plan catalogue {plans_file}: {len(plans)} plan(s)"]
    header = ("PLAN", "PRICE / MONTH", "CALLS / MONTH", "NEXT PLAN", "OVERAGE / 1K CALLS")
    rows = [
        (
            plan.plan_id,
            _money(plan.monthly_price),
            f"{plan.monthly_call_limit:,}",
            plan.next_plan_id or "-",
            _money(plan.overage_price_per_1k_calls),
        )
        for plan in plans
    ]
    lines += render_table(header, rows, align="lrrlr", rule=False)
    return "\n".join(lines)


# The catalogue's columns (docs/contract.md section 2b), as --format csv and json key them.
CATALOGUE_COLUMNS = (
    "plan_id",
    "monthly_price",
    "monthly_call_limit",
    "next_plan_id",
    "overage_price_per_1k_calls",
)


def cmd_plans(args: argparse.Namespace) -> int:
    settings = load_settings()
    if settings.plans_file is None:
        if args.format != "table":
            write_rows(CATALOGUE_COLUMNS, [], args.format)
            return 0
        print("No plan catalogue (PLANS_FILE is unset): upgrade opportunities are not priced.")
        return 0
    plans = read_plan_catalogue(settings.plans_file)
    if args.format != "table" and not args.check:
        rows = [tuple(getattr(plan, column) for column in CATALOGUE_COLUMNS) for plan in plans]
        write_rows(CATALOGUE_COLUMNS, rows, args.format)
        return 0
    if args.check:
        names = ", ".join(plan.plan_id for plan in plans)
        print(f"Plan catalogue {settings.plans_file}: {len(plans)} plan(s) ({names})")
    else:
        print(render_catalogue(settings.plans_file, plans))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    plans = subparsers.add_parser(
        "plans", help="the plan catalogue (PLANS_FILE) that prices upgrades and overage, checked"
    )
    plans.add_argument(
        "--check", action="store_true", help="one line: the catalogue is valid (exit 0) or why not (2)"
    )
    plans.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="output format (default table): the plans in file order",
    )
    plans.set_defaults(func=cmd_plans)
