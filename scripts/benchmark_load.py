"""Benchmark the raw load: events/s and peak memory for NDJSON, gzip and Parquet.

Run: .venv/bin/python scripts/benchmark_load.py [--events 1000000]
Prints figures; it asserts nothing (speed goals are read here, never in a timed test).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import resource
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from orchestration.raw_loader import load_directory
from orchestration.warehouse import connect


def write_events(path: Path, n: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt") as handle:
        for i in range(n):
            event = {
                "event_id": f"e{i}",
                "event_type": "api_request",
                "event_time": f"2026-10-{1 + i % 28:02d}T10:{i % 60:02d}:00Z",
                "consumer": {"organization_id": f"org_{i % 500}", "api_key_id": f"k{i % 900}"},
                "api": {"method": "GET", "endpoint": f"/v1/orders/{rng.randrange(10**6)}"},
                "result": {"status_code": rng.choice((200, 200, 200, 201, 404, 500))},
                "timings": {"request_duration_ms": round(rng.expovariate(1 / 80), 2)},
                "bytes": {"response": rng.randrange(10_000)},
                "network": {"ip": f"203.0.113.{i % 250}", "country": "NL"},
            }
            handle.write(json.dumps(event) + "\n")


def run(label: str, landing: Path, n: int) -> None:
    scratch = Path(tempfile.mkdtemp())
    con = connect(scratch / "warehouse.duckdb")
    start = time.perf_counter()
    report = load_directory(con, landing, salt="bench")
    seconds = time.perf_counter() - start
    con.close()
    size_mb = sum(p.stat().st_size for p in landing.rglob("*") if p.is_file()) / 1e6
    print(
        f"{label:<8} {report.events:>10,} events  {size_mb:8.1f} MB  {seconds:7.2f} s  "
        f"{report.events / seconds:>10,.0f} events/s  {size_mb / seconds:6.1f} MB/s"
    )
    assert report.events == n
    shutil.rmtree(scratch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=500_000)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp())
    try:
        for label, name in (("ndjson", "events.ndjson"), ("gzip", "events.ndjson.gz")):
            landing = root / label
            landing.mkdir()
            write_events(landing / name, args.events)
            run(label, landing, args.events)
        landing = root / "parquet"
        landing.mkdir()
        duckdb.sql(
            f"copy (select * from read_json('{root / 'ndjson' / 'events.ndjson'}')) "
            f"to '{landing / 'events.parquet'}' (format parquet)"
        )
        run("parquet", landing, args.events)
    finally:
        shutil.rmtree(root)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of this process: {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
