"""Opening the DuckDB warehouse and creating the raw schema the loader writes."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from orchestration.errors import UserError
from orchestration.settings import DEFAULT_MEMORY_LIMIT

# Every Dagster asset or op that writes the DuckDB file uses this pool (limit 1 in dagster.yaml):
# DuckDB allows one writing process at a time.
DUCKDB_WRITER_POOL = "duckdb_writer"
# Runs with this tag queue behind each other (dagster.yaml run tag limit 1), so a scheduled
# refresh, a manual one and a delivery run never race for the file.
WAREHOUSE_WRITER_TAGS = {"warehouse_writer": "duckdb"}


class WarehouseBusyError(UserError, RuntimeError):
    """Another process holds the DuckDB file (DuckDB allows one writer, or many readers)."""


def lock_holder(duckdb_message: str) -> str:
    """Who holds the lock, from DuckDB's message ("... held in /usr/bin/python3 (PID 42) ...")
    and the holder's command line, so the user knows which process to wait for or stop."""
    found = re.search(r"\(PID (\d+)\)", duckdb_message)
    if not found:
        return "another process (a pipeline run or an open session)"
    pid = found.group(1)
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        command = " ".join(part.decode(errors="replace") for part in argv if part)
    except OSError:
        command = ""
    if len(command) > 120:
        command = command[:119] + "…"
    return f"process {pid} ({command})" if command else f"process {pid}"


def connect(
    path: Path, *, read_only: bool = False, memory_limit: str = DEFAULT_MEMORY_LIMIT
) -> duckdb.DuckDBPyConnection:
    """A connection with UTC as session zone (naive timestamps are otherwise read locally).

    Use it as a context manager (`with connect(path) as con:`): leaving the block closes it.
    """
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        raise WarehouseBusyError(
            f"{path} is in use by {lock_holder(str(exc))}; wait for it to finish and retry"
        ) from exc
    con.execute("set TimeZone = 'UTC'")
    # Bounded memory on big loads: DuckDB spills to <file>.tmp/ past this (default: 80% of RAM).
    con.execute("set memory_limit = ?", [memory_limit])
    return con


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Whether this database (not an attached one) has the table or view `schema.table`."""
    return bool(
        con.execute(
            "select count(*) from information_schema.tables "
            "where table_catalog = current_database() and table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchall()[0][0]
    )
