"""`apiwh sql`: a query against the published snapshot, printed as a table, CSV or JSON lines.

The snapshot holds the marts (`marts.*`) and what was loaded (`meta.raw_load_summary`,
`meta.snapshot`); the live warehouse is never opened, so a query never blocks a run. The
connection is read-only and cannot read or write other files, and a query is interrupted after
--timeout seconds (DuckDB's interrupt, from a timer thread).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import decimal
import json
import sys
import threading
from collections.abc import Sequence
from typing import Any

import duckdb

from orchestration.errors import UsageError, UserError
from orchestration.readers import open_marts_connection, read_as_of
from orchestration.reports.table import printable, render_table
from orchestration.settings import load_settings

FORMATS = ("table", "csv", "json")
DEFAULT_MAX_ROWS = 1000
DEFAULT_TIMEOUT_SECONDS = 60.0


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list | tuple):  # a struct, map or list: as JSON text
        return json.dumps(value, default=str)
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime | dt.time | dt.timedelta | decimal.Decimal):
        return str(value)
    return value


def render_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str) -> str:
    if fmt == "json":
        return "\n".join(
            json.dumps({c: _json_value(v) for c, v in zip(columns, row, strict=True)}, default=str)
            for row in rows
        )
    if fmt == "csv":
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_cell(v) for v in row] for row in rows])
        return buffer.getvalue().rstrip("\n")
    numeric = [
        all(isinstance(row[i], int | float | decimal.Decimal) or row[i] is None for row in rows) and rows
        for i in range(len(columns))
    ]
    align = "".join("r" if is_number else "l" for is_number in numeric)
    return "\n".join(render_table(list(columns), [[_cell(v) for v in row] for row in rows], align=align))


def write_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str) -> None:
    """Print rows as render_rows does; CSV on a terminal has no escape sequence from the data."""
    text = render_rows(columns, rows, fmt)
    if fmt == "csv" and sys.stdout.isatty():
        # Exact values for a file or a pipe; on a terminal, no escape sequence from the data
        # (the table escapes its cells itself, JSON escapes control characters).
        text = printable(text, keep_whitespace=True)
    if text:
        print(text)


def positive_int(text: str) -> int:
    """An argparse type: a whole number of 1 or more (every --limit of the CLI)."""
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from exc
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected more than 0 seconds, got {text!r}")
    return value


COUNT_BATCH_ROWS = 10_000


def run_query(
    con: duckdb.DuckDBPyConnection, query: str, *, max_rows: int, timeout: float
) -> tuple[list[str], list[tuple], int]:
    """The query's columns, its first max_rows rows and how many rows it has in all (the rest
    are counted, not kept); stopped (one line) after timeout seconds."""
    timer = threading.Timer(timeout, con.interrupt)
    timer.daemon = True
    timer.start()
    try:
        cursor = con.execute(query)
        if cursor.description is None:
            raise UserError("the statement returned no result (apiwh sql runs queries)")
        columns = [column[0] for column in cursor.description]
        rows = cursor.fetchmany(max_rows)
        total = len(rows)
        if total == max_rows:
            while batch := cursor.fetchmany(COUNT_BATCH_ROWS):
                total += len(batch)
        return columns, rows, total
    except duckdb.InterruptException as exc:
        raise UserError(f"query stopped after {timeout:g} s (--timeout)") from exc
    finally:
        timer.cancel()


def cmd_sql(args: argparse.Namespace) -> int:
    query = args.query if args.query != "-" else sys.stdin.read()
    if not query.strip():
        raise UsageError("the query is empty")
    with open_marts_connection(load_settings(), live_fallback=False) as con:
        # Only the snapshot: no reading or writing of other files from a query.
        con.execute("set enable_external_access = false")
        con.execute("set lock_configuration = true")
        as_of = read_as_of(con)
        columns, rows, total = run_query(con, query, max_rows=args.limit, timeout=args.timeout)
    write_rows(columns, rows, args.format)
    # Said only when rows were cut, and in every format: a file of CSV may be missing rows.
    cut = f"showing {len(rows):,} of {total:,} rows; --limit to change" if total > len(rows) else None
    if args.format == "table":
        note = cut or f"{len(rows):,} row(s)"
        if as_of:
            note += f"; marts as of {as_of.isoformat()}"
        print(note, file=sys.stderr)
    elif cut:
        print(f"apiwh sql: {cut}", file=sys.stderr)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    sql = subparsers.add_parser(
        "sql",
        help="run a SQL query on the published snapshot (marts.*, meta.*): table, CSV or JSON",
        description=(
            "Run one read-only SQL query on the published snapshot: the marts (marts.*), the "
            "as-of date (meta.snapshot) and raw load counts (meta.raw_load_summary)."
        ),
        epilog='Example: apiwh sql "select trend, count(*) from marts.customer_usage_summary group by all"',
    )
    sql.add_argument("query", help="the SQL query, or - to read it from stdin")
    sql.add_argument("--format", choices=FORMATS, default="table", help="output format (default table)")
    sql.add_argument(
        "--limit",
        "--max-rows",
        dest="limit",
        type=positive_int,
        default=DEFAULT_MAX_ROWS,
        help=f"rows to print at most (default {DEFAULT_MAX_ROWS}); stderr says when rows were cut",
    )
    sql.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT_SECONDS,
        metavar="SECONDS",
        help=f"stop the query after this long (default {DEFAULT_TIMEOUT_SECONDS:g})",
    )
    sql.set_defaults(func=cmd_sql)
