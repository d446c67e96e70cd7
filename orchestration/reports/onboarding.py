"""`apiwh funnel` and `apiwh retention`: the onboarding marts in the terminal, or as CSV or JSON
lines of the marts' rows (--format).

The commands only: the rows and their SQL are in reports/queries/onboarding.py, the text in
reports/render/onboarding.py (pure, tested without a warehouse).
"""

from __future__ import annotations

import argparse

from orchestration.errors import UnknownIdError
from orchestration.readers import open_marts_connection, read_as_of
from orchestration.reports.output import add_output_arguments, row_limit, write_records
from orchestration.reports.queries.onboarding import (
    FunnelWeek,
    FunnelWeekPlan,
    RetentionCell,
    fetch_funnel,
    fetch_plans,
    fetch_retention,
)
from orchestration.reports.render.onboarding import render_funnel, render_retention
from orchestration.settings import load_settings


def cmd_funnel(args: argparse.Namespace) -> int:
    by_plan = args.by == "plan"
    with open_marts_connection(load_settings()) as con:
        rows = fetch_funnel(con, by_plan=by_plan, limit=row_limit(args))
        as_of = read_as_of(con)
    if args.format != "table":
        write_records(FunnelWeekPlan if by_plan else FunnelWeek, rows, args.format)
        return 0
    print(render_funnel(rows, by_plan=by_plan, as_of=as_of))
    return 0


def _plan_id(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a plan id, got an empty value")
    return text


def cmd_retention(args: argparse.Namespace) -> int:
    with open_marts_connection(load_settings()) as con:
        cells = fetch_retention(con, plan=args.plan, limit=row_limit(args))
        plans = fetch_plans(con) if args.plan and not cells else []
        as_of = read_as_of(con)
    if args.plan and not cells:
        raise UnknownIdError("cohort plan", args.plan, plans)
    if args.format != "table":
        write_records(RetentionCell, cells, args.format)
        return 0
    print(render_retention(cells, plan=args.plan, as_of=as_of))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    funnel = subparsers.add_parser(
        "funnel",
        help="onboarding funnel per cohort week: keys issued, share reaching each step",
    )
    funnel.add_argument("--by", choices=["plan"], help="one row per cohort week and plan (plan at issuance)")
    add_output_arguments(funnel, table_limit=None)
    funnel.set_defaults(func=cmd_funnel)
    retention = subparsers.add_parser(
        "retention", help="cohort retention triangles, one per signup plan: signup week x weeks since signup"
    )
    retention.add_argument("--plan", type=_plan_id, help="only cohorts that signed up on this plan")
    add_output_arguments(retention, table_limit=None, what="cells")
    retention.set_defaults(func=cmd_retention)
