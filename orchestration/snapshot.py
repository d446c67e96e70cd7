"""Publish a read-only copy of the marts for analysts and the CLI (docs/design.md).

The copy is written to a temporary file next to the snapshot and moved into place with
os.replace, so a reader sees either the previous snapshot or the new one, never a half-built one.
It also holds `meta.snapshot` (one row: the as-of date, when it was published, the live file's
modification time then, and the build identity it was taken after: build_identity()) and
`meta.raw_load_summary` (raw files, events and rejects by status), so
readers show what they read and notice a live warehouse that changed since.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from orchestration.warehouse import table_exists

PUBLISHED_SCHEMAS = ("marts",)
META_TABLE = "meta.snapshot"
RAW_SUMMARY_TABLE = "meta.raw_load_summary"

_META_SQL = """
create table snapshot.meta.snapshot as
select
    (select max(as_of_date) from intermediate.int_as_of_date) as as_of_date,
    cast(now() at time zone 'UTC' as timestamp) as published_at,
    cast(? as bigint) as live_mtime_ns,
    cast(? as varchar) as built_by
"""

_RAW_SUMMARY_SQL = """
create table snapshot.meta.raw_load_summary as
select
    status,
    count(*) as files,
    cast(sum(events) as bigint) as events,
    cast(sum(rejects) as bigint) as rejected_lines,
    cast(sum(blank_lines) as bigint) as blank_lines,
    max(loaded_at) as last_loaded_at
from raw.loaded_files
group by all
order by status
"""


def build_identity(live_path: Path) -> str | None:
    """The id of the last dbt invocation that built a model into `live_path`: dbt's on-run-end
    hook writes it beside the file (dbt_project/macros/build_identity.sql)."""
    try:
        return Path(f"{live_path}.build-id").read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


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
    # Write pending changes into the file first, so its modification time is final: readers
    # compare it with the one recorded here to tell that the live warehouse changed since.
    con.execute("checkpoint")
    live_path = con.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchall()[0][0]
    live_mtime_ns = Path(live_path).stat().st_mtime_ns if live_path else None
    con.execute("attach ? as snapshot", [str(temporary)])
    try:
        for schema in PUBLISHED_SCHEMAS:
            con.execute(f'create schema if not exists snapshot."{schema}"')
        con.execute("create schema snapshot.meta")
        if table_exists(con, "intermediate", "int_as_of_date"):
            con.execute(_META_SQL, [live_mtime_ns, build_identity(Path(live_path)) if live_path else None])
        if table_exists(con, "raw", "loaded_files"):
            con.execute(_RAW_SUMMARY_SQL)
        for schema, table in tables:
            con.execute(f'create table snapshot."{schema}"."{table}" as select * from "{schema}"."{table}"')
            counts[f"{schema}.{table}"] = con.execute(
                f'select count(*) from snapshot."{schema}"."{table}"'
            ).fetchall()[0][0]
    finally:
        con.execute("detach snapshot")
    os.replace(temporary, snapshot_path)
    return counts
