"""Landing the validated raw tables as Parquet, for the Spark target (docs/scaling.md).

The Python loader stays the one place that applies the event contract (explicit schema, rejects
with their reason, salted IP hash, sha256 manifest). After a load, each load's rows of
raw.events and raw.event_rejects are written once to `<landing>/events/load_<id>.parquet` and
`<landing>/event_rejects/load_<id>.parquet`; raw.loaded_files, small, is rewritten whole. Spark
reads these folders as the tables raw.events, raw.event_rejects and raw.loaded_files
(macros/raw_sources.sql), so both engines read the same rows with the same meaning.

Each file is written under a name Spark skips (a leading underscore) and renamed into place, so
a reader never sees half a file; a load whose files are missing (a crash in between) is landed
by the next call, so the folder catches up with DuckDB.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

# The raw tables and their Parquet folder; the per-load ones are written one file per load_id.
PER_LOAD_TABLES = ("events", "event_rejects")
WHOLE_TABLES = ("loaded_files",)


def _copy_to(con: duckdb.DuckDBPyConnection, query: str, params: list, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"_{target.name}.partial")
    # COPY takes no bound parameters for its file name: the path is ours, quotes doubled.
    quoted = str(partial).replace("'", "''")
    con.execute(f"copy ({query}) to '{quoted}' (format parquet)", params)
    os.replace(partial, target)


def land_raw_tables(con: duckdb.DuckDBPyConnection, landing_dir: Path) -> list[int]:
    """Write every load not yet landed; returns the load_ids written (oldest first)."""
    manifest = con.execute("select load_id from raw.loaded_files order by load_id").fetchall()
    load_ids = [row[0] for row in manifest]
    landed = []
    for load_id in load_ids:
        targets = {table: landing_dir / table / f"load_{load_id:08d}.parquet" for table in PER_LOAD_TABLES}
        if all(target.exists() for target in targets.values()):
            continue
        for table, target in targets.items():
            _copy_to(con, f"select * from raw.{table} where load_id = ?", [load_id], target)
        landed.append(load_id)
    if landed or not (landing_dir / "loaded_files" / "loaded_files.parquet").exists():
        for table in WHOLE_TABLES:
            target = landing_dir / table / f"{table}.parquet"
            _copy_to(con, f"select * from raw.{table} order by load_id", [], target)
    return landed
