"""`apiwh top`, `apiwh quota` and `apiwh endpoints`: the usage marts in the terminal.

The commands only: the rows and their SQL are in reports/queries/usage.py, the text in
reports/render/usage.py (pure, tested without a warehouse). Every window ends on the as-of date
the marts were built for, never on the wall clock.
"""

from __future__ import annotations

import argparse

from orchestration.readers import open_marts_connection, require_known_organization
from orchestration.reports.queries import upgrades
from orchestration.reports.queries.reliability import fetch_customer_endpoints, fetch_error_types
from orchestration.reports.queries.usage import (
    SORT_ORDERS,
    TRENDS,
    fetch_as_of,
    fetch_endpoints,
    fetch_quota,
    fetch_top,
    fetch_trend_counts,
)
from orchestration.reports.render.reliability import render_customer_endpoints
from orchestration.reports.render.usage import render_endpoints, render_quota, render_top
from orchestration.settings import load_settings

DEFAULT_ENDPOINT_DAYS = 7


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {value}")
    return value


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a percent such as 80, got {text!r}") from exc
    if not 0 <= value <= 1000:  # also refuses nan
        raise argparse.ArgumentTypeError(f"expected a percent from 0 to 1000, got {text}")
    return value


def no_data() -> int:
    print("No usage data in the marts yet: nothing to show.")
    return 0


def cmd_top(args: argparse.Namespace) -> int:
    with open_marts_connection(load_settings()) as con:
        as_of = fetch_as_of(con)
        if as_of is None:
            return no_data()
        if args.org is not None:
            require_known_organization(con, args.org)
        customers = fetch_top(con, as_of=as_of, limit=args.limit, org=args.org, trend=args.trend)
        trend_counts = fetch_trend_counts(con) if args.org is None else None
    print(render_top(customers, as_of=as_of, org=args.org, trend=args.trend, trend_counts=trend_counts))
    return 0


def cmd_quota(args: argparse.Namespace) -> int:
    with open_marts_connection(load_settings()) as con:
        as_of = fetch_as_of(con)
        if as_of is None:
            return no_data()
        if args.org is not None:
            require_known_organization(con, args.org)
        # One organization is shown whatever its share of the cap; the list starts at 50%.
        min_pct = args.min_pct if args.min_pct is not None else (0.0 if args.org else 50.0)
        accounts = fetch_quota(con, as_of=as_of, min_pct=min_pct, org=args.org, limit=args.limit)
        opportunities = upgrades.fetch_upgrade_opportunities(
            con, as_of=as_of, organization_ids=[account.organization_id for account in accounts]
        )
        totals = upgrades.fetch_opportunity_totals(con, as_of=as_of, min_pct=min_pct, org=args.org)
    print(
        render_quota(
            accounts,
            as_of=as_of,
            min_pct=min_pct,
            org=args.org,
            opportunities=opportunities,
            opportunity_totals=totals,
        )
    )
    return 0


def cmd_endpoints(args: argparse.Namespace) -> int:
    with open_marts_connection(load_settings()) as con:
        as_of = fetch_as_of(con)
        if as_of is None:
            return no_data()
        if args.org is not None:
            require_known_organization(con, args.org)
        if args.org is not None and args.days is None:
            # One customer's routes: exact 30-day figures (marts.customer_endpoint_30d).
            text = render_customer_endpoints(
                fetch_customer_endpoints(con, org=args.org, limit=args.limit, sort=args.sort),
                org=args.org,
                as_of=as_of,
                sort=args.sort,
                error_types=fetch_error_types(con, org=args.org, as_of=as_of),
            )
        else:
            days = args.days or DEFAULT_ENDPOINT_DAYS
            endpoints = fetch_endpoints(
                con, as_of=as_of, days=days, limit=args.limit, sort=args.sort, org=args.org
            )
            text = render_endpoints(endpoints, as_of=as_of, days=days, sort=args.sort, org=args.org)
    print(text)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    top = subparsers.add_parser(
        "top",
        help="top customers by 30-day calls: active days, last call, trend, daily sparkline",
    )
    top.add_argument("--limit", type=positive_int, default=20, help="rows to show (default 20)")
    top.add_argument("--org", help="only this organization (its row and rank)")
    top.add_argument("--trend", choices=TRENDS, help="only customers with this trend (e.g. dormant)")
    top.set_defaults(func=cmd_top)

    quota = subparsers.add_parser(
        "quota",
        help="accounts near their monthly call quota, soonest to hit the cap first",
    )
    quota.add_argument(
        "--min-pct",
        type=_percent,
        default=None,
        help="only accounts at this percent of their cap or more (default 50, or 0 with --org)",
    )
    quota.add_argument("--limit", type=positive_int, default=None, help="rows to show (all)")
    quota.add_argument("--org", help="only this organization")
    quota.set_defaults(func=cmd_quota)

    endpoints = subparsers.add_parser(
        "endpoints",
        help="per-route latency (p50/p95/p99) and errors over the last N days",
    )
    endpoints.add_argument(
        "--days",
        type=positive_int,
        default=None,
        help="days ending on the as-of date (default 7; with --org, the exact 30-day view unless given)",
    )
    endpoints.add_argument("--limit", type=positive_int, default=20, help="rows to show (default 20)")
    endpoints.add_argument(
        "--sort", choices=sorted(SORT_ORDERS), default="calls", help="order (default calls)"
    )
    endpoints.add_argument(
        "--org",
        help="one organization's routes: share of its calls, exact 30-day percentiles, error types",
    )
    endpoints.set_defaults(func=cmd_endpoints)
