"""`apiwh incidents`, `apiwh versions` and `apiwh keys`: the reliability marts in the terminal, or
as CSV or JSON lines of the marts' rows (--format). `apiwh endpoints --org` is in usage.py, next
to `apiwh endpoints`.

The commands only: the rows and their SQL are in reports/queries/reliability.py, the text in
reports/render/reliability.py. Every window ends on the as-of date.
"""

from __future__ import annotations

import argparse
import dataclasses

import duckdb

from orchestration.errors import UnknownIdError, UsageError
from orchestration.readers import open_marts_connection, require_known_organization
from orchestration.reports.output import add_output_arguments, positive_int, row_limit, write_records
from orchestration.reports.queries.reliability import (
    VERSION_SOURCES,
    Incident,
    IncidentCustomer,
    KeyActivity,
    KeyDay,
    VersionCustomer,
    fetch_incident_customers,
    fetch_incidents,
    fetch_key_days,
    fetch_keys,
    fetch_known_versions,
    fetch_version_customers,
)
from orchestration.reports.queries.usage import fetch_as_of
from orchestration.reports.render.reliability import (
    render_incidents,
    render_key_days,
    render_keys,
    render_version_customers,
)
from orchestration.reports.usage import no_data
from orchestration.settings import load_settings
from orchestration.sql_command import write_rows

SCOPES = ("widespread", "isolated")
_INCIDENT_KEY = ("route", "method", "usage_date")


def _write_incidents(incidents: list[Incident], customers: list[IncidentCustomer], fmt: str) -> None:
    """JSON: each incident's row with `customers`, its rows of marts.endpoint_incident_customers.
    CSV, which cannot nest: the rows of marts.endpoint_incident_customers."""
    if fmt == "csv":
        write_records(IncidentCustomer, customers, fmt)
        return
    hit: dict[tuple, list[dict]] = {}
    for customer in customers:
        row = dataclasses.asdict(customer)
        key = tuple(row.pop(name) for name in _INCIDENT_KEY)
        hit.setdefault(key, []).append(row)
    columns = [field.name for field in dataclasses.fields(Incident)]
    rows = [
        (
            *(getattr(incident, name) for name in columns),
            hit.get(tuple(getattr(incident, n) for n in _INCIDENT_KEY), []),
        )
        for incident in incidents
    ]
    write_rows([*columns, "customers"], rows, fmt)


def cmd_incidents(args: argparse.Namespace) -> int:
    with open_marts_connection(load_settings()) as con:
        as_of = fetch_as_of(con)
        if as_of is None:
            return no_data()
        if args.org is not None:
            require_known_organization(con, args.org)
        which = {"as_of": as_of, "days": args.days, "scope": args.scope, "org": args.org}
        incidents = fetch_incidents(con, **which)[: row_limit(args)]
        customers = fetch_incident_customers(con, **which)
    # Only the customers of the incidents kept (--limit).
    kept = {tuple(getattr(incident, name) for name in _INCIDENT_KEY) for incident in incidents}
    customers = [c for c in customers if tuple(getattr(c, name) for name in _INCIDENT_KEY) in kept]
    if args.format != "table":
        _write_incidents(incidents, customers, args.format)
        return 0
    print(render_incidents(incidents, customers, as_of=as_of, days=args.days, scope=args.scope, org=args.org))
    return 0


# How the error of an unknown --version names each source's values.
_SOURCE_VALUES = {"header": "api.version header values", "path": "a path's major version, v1 in /v1/..."}


def _version_source(con: duckdb.DuckDBPyConnection, args: argparse.Namespace) -> str:
    """--source; else the source whose versions hold --version, the api.version header first,
    then the path's major version (v1 in /v1/...); the header without either."""
    if args.version is None:
        return args.source or "header"
    sources = (args.source,) if args.source else VERSION_SOURCES
    known = {source: fetch_known_versions(con, version_source=source) for source in sources}
    for source in sources:
        if args.version in known[source]:
            return source
    every = [version for versions in known.values() for version in versions]
    where = " or ".join(_SOURCE_VALUES[source] for source in sources)
    raise UsageError(f"{UnknownIdError('API version', args.version, every)} ({where})")


def cmd_versions(args: argparse.Namespace) -> int:
    """Who calls which API version, read from the api.version header or from the path
    (marts.api_version_exposure or api_path_version_exposure); the title says which one it read."""
    with open_marts_connection(load_settings()) as con:
        as_of = fetch_as_of(con)
        if as_of is None:
            return no_data()
        source = _version_source(con, args)
        customers = fetch_version_customers(
            con, version_source=source, api_version=args.version, limit=row_limit(args)
        )
    if args.format != "table":
        write_records(VersionCustomer, customers, args.format)
        return 0
    print(render_version_customers(customers, version_source=source, api_version=args.version, as_of=as_of))
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    with open_marts_connection(load_settings()) as con:
        as_of = fetch_as_of(con)
        if as_of is None:
            return no_data()
        require_known_organization(con, args.org)
        if args.daily:
            rows = fetch_key_days(con, org=args.org, as_of=as_of, limit=row_limit(args))
        else:
            rows = fetch_keys(con, org=args.org, limit=row_limit(args))
    if args.format != "table":
        write_records(KeyDay if args.daily else KeyActivity, rows, args.format)
        return 0
    render = render_key_days if args.daily else render_keys
    print(render(rows, org=args.org, as_of=as_of))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    incidents = subparsers.add_parser(
        "incidents",
        help="routes degraded against their 28-day baseline (latency, 5xx) and the customers each hit",
    )
    incidents.add_argument(
        "--days", type=positive_int, default=30, help="days ending on the as-of date (default 30)"
    )
    incidents.add_argument("--scope", choices=SCOPES, help="only widespread (3+ customers) or isolated ones")
    incidents.add_argument("--org", help="only the incidents that hit this organization")
    add_output_arguments(incidents, table_limit=None, what="incidents (the newest first)")
    incidents.set_defaults(func=cmd_incidents)

    versions = subparsers.add_parser(
        "versions",
        help="who calls which API version over 30 days (the api.version header, or a path's v1)",
    )
    versions.add_argument(
        "--version",
        help="only this version: an api.version header value, or a path's major version such as v1",
    )
    versions.add_argument(
        "--source",
        choices=VERSION_SOURCES,
        help="read the version from the api.version header or the path (default: the header, or the"
        " one that has --version)",
    )
    add_output_arguments(versions, table_limit=50)
    versions.set_defaults(func=cmd_versions)

    keys = subparsers.add_parser(
        "keys",
        help="one customer's API keys over 30 days: calls, usage spikes, IP spread, auth errors",
    )
    keys.add_argument("--org", required=True, help="the organization")
    keys.add_argument(
        "--daily", action="store_true", help="day by day (marts.key_daily_activity), the newest day first"
    )
    add_output_arguments(keys, table_limit=30, what="keys (with --daily, key days)")
    keys.set_defaults(func=cmd_keys)
