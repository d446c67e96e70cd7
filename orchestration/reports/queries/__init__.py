"""The SQL behind the terminal views, one module per family of marts, returning plain rows.

Values are always bound (`?`), never formatted into SQL; a missing mart becomes one line telling the
user to build the warehouse.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import duckdb

from orchestration.readers import WarehouseNotBuiltError


def run_query(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence = (), *, marts: str) -> list[tuple]:
    """All rows of `sql`; `marts` names the family in the error when a mart is missing."""
    try:
        return con.execute(sql, list(params)).fetchall()
    except duckdb.CatalogException as exc:
        raise WarehouseNotBuiltError(f"the {marts} marts are not built yet: run `apiwh run` ({exc})") from exc


def select_list(row_type: type, table: str | None = None, **other_tables: Sequence[str]) -> str:
    """The select list of a row dataclass: its fields are the mart's column names, in order.

    `table` qualifies every column; a column named in `other_tables` (alias=(columns, ...))
    comes from that joined table instead.
    """
    owner = {column: alias for alias, columns in other_tables.items() for column in columns}
    names = [field.name for field in dataclasses.fields(row_type)]
    return ", ".join(
        f"{owner[name]}.{name}" if name in owner else f"{table}.{name}" if table else name for name in names
    )
