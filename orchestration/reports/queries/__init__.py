"""The SQL behind the terminal views, one module per family of marts, returning plain rows.

Values are always bound (`?`), never formatted into SQL; a missing mart becomes one line telling the
user to build the warehouse.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from orchestration.readers import WarehouseNotBuiltError


def run_query(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence = (), *, marts: str) -> list[tuple]:
    """All rows of `sql`; `marts` names the family in the error when a mart is missing."""
    try:
        return con.execute(sql, list(params)).fetchall()
    except duckdb.CatalogException as exc:
        raise WarehouseNotBuiltError(f"the {marts} marts are not built yet: run `apiwh run` ({exc})") from exc
