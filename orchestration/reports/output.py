"""`--format table|csv|json` and `--limit` of every listing command.

CSV and JSON are written by `apiwh sql`'s writer (orchestration/sql_command.py), one JSON object
a line keyed by the mart's column names: the rows as the read layer returns them (its dataclasses
carry exactly the selected columns), never the formatted table. With csv or json every row comes
out unless --limit is given; the table keeps its own default.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from typing import Any

from orchestration.sql_command import FORMATS, positive_int, write_rows


def add_output_arguments(
    parser: argparse.ArgumentParser, *, table_limit: int | None, what: str = "rows"
) -> None:
    """--format, and --limit whose default (table_limit) applies to the table only."""
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format (default table)")
    parser.set_defaults(table_limit=table_limit)
    shown = f"default {table_limit} in the table" if table_limit else "all by default"
    parser.add_argument(
        "--limit", type=positive_int, default=None, help=f"{what} to show ({shown}; csv and json: all)"
    )


def row_limit(args: argparse.Namespace) -> int | None:
    """--limit when given; else the table's default, and every row for csv or json."""
    if args.limit is not None:
        return args.limit
    return args.table_limit if args.format == "table" else None


def columns_of(row_type: type) -> list[str]:
    return [field.name for field in dataclasses.fields(row_type)]


def write_records(row_type: type, records: Sequence[Any], fmt: str) -> None:
    """Dataclass rows of the read layer as csv or json lines, keyed by their (mart) columns."""
    columns = columns_of(row_type)
    write_rows(columns, [tuple(getattr(record, name) for name in columns) for record in records], fmt)
