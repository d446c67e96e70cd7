"""The proof an erasure gives: where an id still appears in the files the warehouse writes.

Two scans, because neither alone proves absence:
- the byte scan reads every file as bytes, and finds the id in text files (JSONL, HTML, CSV,
  logs) and in any block of a database file that still holds it uncompressed (DuckDB keeps
  deleted rows in free blocks until the file is rewritten);
- the table scan asks DuckDB and Parquet files themselves, column by column: their pages may be
  compressed, where a byte scan cannot see an id.
The id is matched as a whole word (`org_1` is not found in `org_12`).
"""

from __future__ import annotations

import hashlib
import mmap
import re
from collections.abc import Iterable
from pathlib import Path

import duckdb

from orchestration.privacy.subjects import word_pattern

# Characters that continue an id: a match next to one of them is another id.
_ID_CHARACTER = re.compile(rb"[A-Za-z0-9_.\-]")
DUCKDB_SUFFIXES = (".duckdb",)
PARQUET_SUFFIXES = (".parquet",)
# Text columns: every value the id could be written in.
_TEXT_TYPES = ("VARCHAR", "JSON")


def files_under(roots: Iterable[Path]) -> list[Path]:
    """Every regular file under the roots (a root may be a file), each once, sorted."""
    found: set[Path] = set()
    for root in roots:
        if root.is_file():
            found.add(root.resolve())
        elif root.is_dir():
            found.update(p.resolve() for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    return sorted(found)


def byte_matches(path: Path, subject_id: str) -> int:
    """How many times the id's bytes appear as a whole word in the file."""
    needle = subject_id.encode()
    if path.stat().st_size == 0:
        return 0
    count = 0
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        position = data.find(needle)
        while position >= 0:
            before = data[position - 1 : position] if position else b""
            after = data[position + len(needle) : position + len(needle) + 1]
            if not _ID_CHARACTER.fullmatch(before or b" ") and not _ID_CHARACTER.fullmatch(after or b" "):
                count += 1
            position = data.find(needle, position + 1)
    return count


def _text_columns(con: duckdb.DuckDBPyConnection, relation_filter: str) -> list[tuple[str, str, str]]:
    return con.execute(
        f"""
        select c.schema_name, c.table_name, c.column_name
        from duckdb_columns() c join duckdb_tables() t using (database_name, schema_name, table_name)
        where {relation_filter}
          and (c.data_type in (select unnest(?::varchar[])) or c.data_type like '%VARCHAR%'
               or c.data_type like '%STRUCT%' or c.data_type like '%MAP%')
        order by all
        """,
        [list(_TEXT_TYPES)],
    ).fetchall()


def duckdb_rows_naming(path: Path, subject_id: str) -> dict[str, int]:
    """Rows of each table in a DuckDB file with the id in any text column (read-only open)."""
    found: dict[str, int] = {}
    with duckdb.connect(str(path), read_only=True) as con:
        columns = _text_columns(con, "c.database_name = current_database()")
        tables: dict[tuple[str, str], list[str]] = {}
        for schema, table, column in columns:
            tables.setdefault((schema, table), []).append(column)
        for (schema, table), names in tables.items():
            # contains() first: cheap, and the pattern only runs where the id's text is.
            condition = " or ".join(
                f'(contains("{c}"::varchar, $id) and regexp_matches("{c}"::varchar, $pattern))' for c in names
            )
            (rows,) = con.execute(
                f'select count(*) from "{schema}"."{table}" where {condition}',
                {"id": subject_id, "pattern": word_pattern(subject_id)},
            ).fetchall()[0]
            if rows:
                found[f"{schema}.{table}"] = rows
    return found


def parquet_rows_naming(path: Path, subject_id: str) -> int:
    """Rows of a Parquet file with the id in any column, read as text."""
    with duckdb.connect() as con:
        (rows,) = con.execute(
            "select count(*) from read_parquet(?) as t where regexp_matches(to_json(t)::varchar, ?)",
            [str(path), word_pattern(subject_id)],
        ).fetchall()[0]
    return rows


def scan(files: Iterable[Path], subject_id: str) -> dict[str, dict]:
    """Every file where the id is still found: its byte matches and, for databases and Parquet,
    the rows that name it. An empty result is the proof."""
    findings: dict[str, dict] = {}
    for path in files:
        finding: dict = {}
        matches = byte_matches(path, subject_id)
        if matches:
            finding["byte_matches"] = matches
        try:
            if path.name.endswith(DUCKDB_SUFFIXES):
                rows = duckdb_rows_naming(path, subject_id)
                if rows:
                    finding["rows"] = rows
            elif path.name.endswith(PARQUET_SUFFIXES):
                rows = parquet_rows_naming(path, subject_id)
                if rows:
                    finding["rows"] = {"parquet": rows}
        except duckdb.Error as error:  # held by a run that started since: not proven either way
            finding["unreadable"] = str(error).splitlines()[0]
        if finding:
            findings[str(path)] = finding
    return findings


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
