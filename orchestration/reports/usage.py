"""`apiwh top`, `apiwh quota` (with `--outcomes`: what followed a month at 80%) and `apiwh
endpoints`: the usage marts in the terminal, or as CSV or JSON lines of the marts' rows (--format).

The commands only: the rows and their SQL are in reports/queries/usage.py, the text in
reports/render/usage.py (pure, tested without a warehouse). Every window ends on the as-of date
the marts were built for, never on the wall clock.
"""

from __future__ import annotations

import argparse

from orchestration.errors import UsageError
from orchestration.readers import open_marts_connection, require_known_organization
from orchestration.reports.output import add_output_arguments, positive_int, row_limit, write_records
from orchestration.reports.queries.reliability import (
    CustomerEndpoint,
    fetch_customer_endpoints,
    fetch_error_types,
)
from orchestration.reports.queries.usage import (
    SORT_ORDERS,
    TRENDS,
    WINDOW_DAYS,
    EndpointWindow,
    QuotaAccount,
    QuotaOutcome,
    TopCustomer,
    fetch_as_of,
    fetch_daily_calls,
    fetch_endpoints,
    fetch_quota,
    fetch_quota_outcomes,
    fetch_top,
    fetch_trend_counts,
)
from orchestration.reports.render.reliability import render_customer_endpoints
from orchestration.reports.render.usage import (
    render_endpoints,
    render_quota,
    render_quota_outcomes,
    render_top,
)
from orchestration.settings import load_settings

DEFAULT_ENDPOINT_DAYS = 7
ORG_ENDPOINT_DAYS = 30  # marts.customer_endpoint_30d


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a percent such as 80, got {text!r}") from exc
    if not 0 <= value <= 1000:  # also refuses nan
        raise argparse.ArgumentTypeError(f"expected a percent from 0 to 1000, got {text}")
    return value


def _window_days(text: str) -> int:
    days = positive_int(text)
    if days not in WINDOW_DAYS:
        raise argparse.ArgumentTypeError(
            f"expected 1, 7 or 30 (the windows of marts.endpoint_window_performance), got {days}"
        )
    return days


def no_data() -> int:
    print("No usage data in the marts yet: nothing to show.")
    return 0


def cmd_top(args: argparse.Namespace) -> int:
    with open_marts_connection(load_settings()) as con:
        as_of = fetch_as_of(con)
        if as_of is None:
            return no_data() if args.format == "table" else _no_rows(TopCustomer, args)
        if args.org is not None:
            require_known_organization(con, args.org)
        customers = fetch_top(con, limit=row_limit(args), org=args.org, trend=args.trend)
        if args.format != "table":
            write_records(TopCustomer, customers, args.format)
            return 0
        daily_calls = fetch_daily_calls(
            con, as_of=as_of, organization_ids=[c.organization_id for c in customers]
        )
        trend_counts = fetch_trend_counts(con) if args.org is None else None
    print(
        render_top(
            customers,
            as_of=as_of,
            daily_calls=daily_calls,
            org=args.org,
            trend=args.trend,
            trend_counts=trend_counts,
        )
    )
    return 0


def _no_rows(row_type: type, args: argparse.Namespace) -> int:
    write_records(row_type, [], args.format)
    return 0


def cmd_quota_outcomes(args: argparse.Namespace) -> int:
    """`apiwh quota --outcomes`: marts.quota_outcomes, what followed each month at 80%+."""
    if args.min_pct is not None:
        raise UsageError("--min-pct is for the quota outlook; --outcomes lists every month at 80% or more")
    with open_marts_connection(load_settings()) as con:
        as_of = fetch_as_of(con)
        if as_of is None:
            return no_data() if args.format == "table" else _no_rows(QuotaOutcome, args)
        if args.org is not None:
            require_known_organization(con, args.org)
        outcomes = fetch_quota_outcomes(con, org=args.org, limit=row_limit(args))
    if args.format != "table":
        write_records(QuotaOutcome, outcomes, args.format)
        return 0
    print(render_quota_outcomes(outcomes, as_of=as_of, org=args.org))
    return 0


def cmd_quota(args: argparse.Namespace) -> int:
    if args.outcomes:
        return cmd_quota_outcomes(args)
    with open_marts_connection(load_settings()) as con:
        as_of = fetch_as_of(con)
        if as_of is None:
            return no_data() if args.format == "table" else _no_rows(QuotaAccount, args)
        if args.org is not None:
            require_known_organization(con, args.org)
        # One organization is shown whatever its share of the cap; the list starts at 50%, and
        # lists an account the mart says reaches its cap whatever its share.
        min_pct = args.min_pct if args.min_pct is not None else (0.0 if args.org else 50.0)
        with_on_course = args.min_pct is None and args.org is None
        accounts = fetch_quota(
            con, min_pct=min_pct, with_on_course=with_on_course, org=args.org, limit=row_limit(args)
        )
    if args.format != "table":
        write_records(QuotaAccount, accounts, args.format)
        return 0
    print(render_quota(accounts, as_of=as_of, min_pct=min_pct, with_on_course=with_on_course, org=args.org))
    return 0


def cmd_endpoints(args: argparse.Namespace) -> int:
    if args.org is not None and args.days not in (None, ORG_ENDPOINT_DAYS):
        raise UsageError(
            f"--org shows the organization's 30 days (marts.customer_endpoint_30d); --days {args.days}"
            " is for every customer's routes"
        )
    with open_marts_connection(load_settings()) as con:
        as_of = fetch_as_of(con)
        row_type = EndpointWindow if args.org is None else CustomerEndpoint
        if as_of is None:
            return no_data() if args.format == "table" else _no_rows(row_type, args)
        if args.org is not None:
            require_known_organization(con, args.org)
            rows = fetch_customer_endpoints(con, org=args.org, limit=row_limit(args), sort=args.sort)
            error_types = fetch_error_types(con, org=args.org) if args.format == "table" else []
        else:
            days = args.days or DEFAULT_ENDPOINT_DAYS
            rows = fetch_endpoints(con, days=days, limit=row_limit(args), sort=args.sort)
    if args.format != "table":
        write_records(row_type, rows, args.format)
    elif args.org is not None:
        print(
            render_customer_endpoints(
                rows, org=args.org, as_of=as_of, sort=args.sort, error_types=error_types
            )
        )
    else:
        print(render_endpoints(rows, as_of=as_of, days=days, sort=args.sort))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    top = subparsers.add_parser(
        "top",
        help="top customers by 30-day calls: month-over-month change, trend, upsell mark, daily sparkline",
    )
    add_output_arguments(top, table_limit=20)
    top.add_argument("--org", help="only this organization (its row and rank)")
    top.add_argument("--trend", choices=TRENDS, help="only customers with this trend (e.g. dormant)")
    top.set_defaults(func=cmd_top)

    quota = subparsers.add_parser(
        "quota",
        help="accounts near their monthly call quota: outlook, action, next plan and overage at pace",
    )
    quota.add_argument(
        "--min-pct",
        type=_percent,
        default=None,
        help="only accounts at this percent of their cap or more (default 50 and any account on"
        " course for its cap, or 0 with --org)",
    )
    add_output_arguments(quota, table_limit=None)
    quota.add_argument("--org", help="only this organization")
    quota.add_argument(
        "--outcomes",
        action="store_true",
        help="what followed each complete month at 80%%+ of the quota: upgraded, downgraded, left,"
        " absorbed the 429s or unchanged (marts.quota_outcomes)",
    )
    quota.set_defaults(func=cmd_quota)

    endpoints = subparsers.add_parser(
        "endpoints",
        help="per-route latency (p50/p95/p99, exact) and errors over the last 1, 7 or 30 days",
    )
    endpoints.add_argument(
        "--days",
        type=_window_days,
        default=None,
        help="1, 7 or 30 days ending on the as-of date (default 7; with --org, 30 only)",
    )
    add_output_arguments(endpoints, table_limit=20)
    endpoints.add_argument(
        "--sort", choices=sorted(SORT_ORDERS), default="calls", help="order (default calls)"
    )
    endpoints.add_argument(
        "--org",
        help="one organization's routes over 30 days: share of its calls, exact percentiles, errors",
    )
    endpoints.set_defaults(func=cmd_endpoints)
