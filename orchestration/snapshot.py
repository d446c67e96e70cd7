"""Publish a read-only copy of the marts for analysts and the CLI (DESIGN.md).

The copy is written to a temporary file next to the snapshot and moved into place with
os.replace, so a reader sees either the previous snapshot or the new one, never a half-built one.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

PUBLISHED_SCHEMAS = ("marts",)


def publish_snapshot(con: duckdb.DuckDBPyConnection, snapshot_path: Path) -> dict[str, int]:
    """Copy every table of the published schemas; return row counts per table."""
    snapshot_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = snapshot_path.with_name(f".{snapshot_path.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    tables = con.execute(
        """
        select table_schema, table_name
        from information_schema.tables
        where table_catalog = current_database()
          and table_schema in (select unnest(?::varchar[]))
        order by all
        """,
        [list(PUBLISHED_SCHEMAS)],
    ).fetchall()
    counts: dict[str, int] = {}
    con.execute("attach ? as snapshot", [str(temporary)])
    try:
        for schema in PUBLISHED_SCHEMAS:
            con.execute(f'create schema if not exists snapshot."{schema}"')
        for schema, table in tables:
            con.execute(f'create table snapshot."{schema}"."{table}" as select * from "{schema}"."{table}"')
            counts[f"{schema}.{table}"] = con.execute(
                f'select count(*) from snapshot."{schema}"."{table}"'
            ).fetchall()[0][0]
    finally:
        con.execute("detach snapshot")
    os.replace(temporary, snapshot_path)
    return counts
