"""Helpers for the incremental-equals-full proofs: a small landing set with late files, a day
split across loads and a redelivery in a later file, and the marts as comparable rows. Loads and
dbt runs go through the kit (tests/support.py: load_events, run_dbt)."""

from __future__ import annotations

import gzip
import subprocess
from dataclasses import dataclass
from pathlib import Path

import duckdb

from tests.support import APIWH

# Columns that say when a load ran, not what it loaded: they differ between any two warehouses.
LOAD_TIME_COLUMNS = ("last_loaded_at",)
SPLIT_DAY = "2026-10-20"
REDELIVERED_DAY = "2026-11-03"


@dataclass(frozen=True)
class Delivery:
    """One file as it lands; `after` names a delivery that must have landed before it."""

    name: str
    content: bytes
    after: str | None = None


def generate_sample(out: Path, *, orgs: int = 4, days: int = 40, seed: int = 3) -> Path:
    """The project's deterministic generator (`apiwh generate`): formats, rejects, retries,
    in-file duplicates; 40 days ending 2026-11-10, so a month boundary is crossed."""
    subprocess.run(
        [APIWH, "generate", "--orgs", str(orgs), "--days", str(days), "--seed", str(seed)]
        + ["--end-date", "2026-11-10", "--out", str(out)],
        check=True,
        capture_output=True,
    )
    return out


def build_deliveries(sample: Path) -> list[Delivery]:
    """The sample's files, with one day split across two files and a later file redelivering
    some of another day's events (the same lines: the copy loaded first wins)."""
    deliveries: list[Delivery] = []
    for path in sorted(p for p in sample.rglob("*") if p.is_file()):
        content = path.read_bytes()
        if SPLIT_DAY in path.name and path.name.endswith(".gz"):
            lines = gzip.decompress(content).splitlines(keepends=True)
            half = len(lines) // 2
            deliveries.append(Delivery(f"split-{SPLIT_DAY}-a.ndjson", b"".join(lines[:half])))
            deliveries.append(Delivery(f"split-{SPLIT_DAY}-b.ndjson", b"".join(lines[half:])))
            continue
        if REDELIVERED_DAY in path.name and path.name.endswith(".gz"):
            lines = gzip.decompress(content).splitlines(keepends=True)
            deliveries.append(
                Delivery(f"redelivery-{REDELIVERED_DAY}.ndjson", b"".join(lines[::7]), after=path.name)
            )
        deliveries.append(Delivery(path.name, content))
    return deliveries


def land(landing: Path, deliveries: list[Delivery]) -> None:
    landing.mkdir(parents=True, exist_ok=True)
    for delivery in deliveries:
        (landing / delivery.name).write_bytes(delivery.content)


def marts_rows(warehouse: Path) -> dict[str, list[tuple]]:
    """Every table of the marts schema, sorted, without the load-time columns."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        tables = [
            name
            for (name,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts' order by 1"
            ).fetchall()
        ]
        rows = {}
        for table in tables:
            columns = [
                name
                for (name,) in con.execute(
                    "select column_name from duckdb_columns() "
                    "where schema_name = 'marts' and table_name = ? order by column_index",
                    [table],
                ).fetchall()
                if name not in LOAD_TIME_COLUMNS
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            rows[table] = con.execute(f"select {select} from marts.{table} order by all").fetchall()
        return rows
    finally:
        con.close()


def differences(actual: dict[str, list[tuple]], expected: dict[str, list[tuple]]) -> list[str]:
    """One line per expected mart that differs, with the first differing row of each side.
    Tables only in `actual` (the Dagster-written alert ledger) are not dbt's to compare."""
    problems = []
    for table in sorted(expected):
        got, want = actual.get(table), expected[table]
        if got == want:
            continue
        if got is None:
            problems.append(f"{table}: missing")
            continue
        extra = [r for r in got if r not in want][:1]
        missing = [r for r in want if r not in got][:1]
        problems.append(f"{table}: {len(got)} rows vs {len(want)}; extra {extra}, missing {missing}")
    return problems
