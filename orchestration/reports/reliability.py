"""`apiwh incidents`, `apiwh versions` and `apiwh keys`: the reliability marts in the terminal
(`apiwh endpoints --org` is in usage.py, next to `apiwh endpoints`).

The commands only: the rows and their SQL are in reports/queries/reliability.py, the text in
reports/render/reliability.py. Every window ends on the as-of date.
"""

from __future__ import annotations

import argparse

from orchestration.errors import UnknownIdError
from orchestration.readers import open_marts_connection, require_known_organization
from orchestration.reports.queries.reliability import (
    fetch_incidents,
    fetch_keys,
    fetch_known_versions,
    fetch_version_adoption,
    fetch_version_customers,
)
from orchestration.reports.queries.usage import fetch_as_of
from orchestration.reports.render.reliability import (
    render_incidents,
    render_keys,
    render_version_adoption,
    render_version_customers,
)
from orchestration.reports.usage import no_data, positive_int
from orchestration.settings import load_settings

SCOPES = ("widespread", "isolated")


def cmd_incidents(args: argparse.Namespace) -> int:
    with open_marts_connection(load_settings()) as con:
        as_of = fetch_as_of(con)
        if as_of is None:
            return no_data()
        incidents = fetch_incidents(con, as_of=as_of, days=args.days, scope=args.scope)
    print(render_incidents(incidents, as_of=as_of, days=args.days, scope=args.scope))
    return 0


def cmd_versions(args: argparse.Namespace) -> int:
    with open_marts_connection(load_settings()) as con:
        as_of = fetch_as_of(con)
        if as_of is None:
            return no_data()
        if args.version is None:
            text = render_version_adoption(fetch_version_adoption(con, as_of=as_of), as_of=as_of)
        else:
            known = fetch_known_versions(con)
            if args.version not in known:
                raise UnknownIdError("API version", args.version, known)
            customers = fetch_version_customers(con, api_version=args.version, limit=args.limit)
            text = render_version_customers(customers, api_version=args.version, as_of=as_of)
    print(text)
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    with open_marts_connection(load_settings()) as con:
        as_of = fetch_as_of(con)
        if as_of is None:
            return no_data()
        require_known_organization(con, args.org)
        keys = fetch_keys(con, org=args.org, as_of=as_of)
    print(render_keys(keys, org=args.org, as_of=as_of))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    incidents = subparsers.add_parser(
        "incidents",
        help="routes degraded against their 28-day baseline (latency, 5xx) and the customers hit",
    )
    incidents.add_argument(
        "--days", type=positive_int, default=30, help="days ending on the as-of date (default 30)"
    )
    incidents.add_argument("--scope", choices=SCOPES, help="only widespread (3+ customers) or isolated ones")
    incidents.set_defaults(func=cmd_incidents)

    versions = subparsers.add_parser(
        "versions",
        help="API version adoption over 30 days; with --version, the customers still calling it",
    )
    versions.add_argument("--version", help="only this API version: who calls it and how much")
    versions.add_argument("--limit", type=positive_int, default=50, help="customers to show (default 50)")
    versions.set_defaults(func=cmd_versions)

    keys = subparsers.add_parser(
        "keys",
        help="one customer's API keys over 30 days: usage spikes, IP spread, auth errors, new routes",
    )
    keys.add_argument("--org", required=True, help="the organization")
    keys.set_defaults(func=cmd_keys)
