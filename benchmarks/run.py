"""The benchmark: the load and the refresh against DuckDB's own floor, on the same files.

    python -m benchmarks.run --events 10M --days 30 --format gzip     (make bench EVENTS=10M)

Generates the data (benchmarks/generate.py), then measures, each as a fresh process:
  1. floor: DuckDB read_json of every file into a table with the contract's columns;
  2. `apiwh load` alone, into an empty warehouse;
  3. a full daily_refresh (`apiwh run`, the job in-process) from an empty warehouse;
  4. the same refresh after one more day of files;
  5. a refresh with nothing new;
  6. with --history-days N: a full refresh of N days at the same events per day, then
  7. one more day on top of those N days (cost follows new data: 7 against 4);
and the wall and CPU seconds and peak RSS of each process tree. Prints a table, the ratios
3/1, 2/1, (4 - 5)/(3 - 5) and 7/4, where the time of steps 3 and 4 went (each one's Dagster
steps, what no step covers, its dbt models and tests, its slowest dbt nodes:
benchmarks/shares.py), and the same as JSON. It asserts nothing: targets are read, not tested.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.generate import FORMATS, parse_count, write_days
from benchmarks.process_tree import Measured, run_measured
from benchmarks.shares import measured_shares, print_shares
from orchestration.loading.schema import FIELDS
from orchestration.pipeline_commands import DAGSTER_YAML

BIN = Path(sys.executable).parent


def floor_columns() -> str:
    """read_json's `columns` for the contract's fields, nested as the files nest them."""
    kinds = {"string": "VARCHAR", "timestamp": "VARCHAR", "integer": "BIGINT", "number": "DOUBLE"}
    top: dict[str, list[str] | str] = {}
    for f in FIELDS:
        if len(f.path) == 1:
            top[f.path[0]] = kinds[f.kind]
        else:
            top.setdefault(f.path[0], []).append(f"{f.path[1]} {kinds[f.kind]}")  # type: ignore[union-attr]
    parts = [
        f"{name}: '{kind if isinstance(kind, str) else 'STRUCT(' + ', '.join(kind) + ')'}'"
        for name, kind in top.items()
    ]
    return "{" + ", ".join(parts) + "}"


def floor_command(landing: Path, file_format: str, database: Path) -> list[str]:
    pattern = str(landing / f"*{FORMATS[file_format]}")
    reader = (
        f"read_parquet('{pattern}')"
        if file_format == "parquet"
        else f"read_json('{pattern}', format = 'newline_delimited', columns = {floor_columns()})"
    )
    code = "import duckdb, sys; duckdb.connect(sys.argv[1]).execute(sys.argv[2])"
    return [sys.executable, "-c", code, str(database), f"create table events as select * from {reader}"]


def _env(warehouse: Path, landing: Path, dagster_home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        WAREHOUSE_PATH=str(warehouse),
        RAW_DATA_DIR=str(landing),
        DAGSTER_HOME=str(dagster_home),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        DO_NOT_TRACK="1",
        # The generated files are complete when the run starts: no settle window.
        LANDING_SETTLE_SECONDS="0",
    )
    return env


def _check(label: str, measured: Measured, log: Path) -> Measured:
    if measured.returncode != 0:
        raise SystemExit(f"benchmark step '{label}' failed (exit {measured.returncode}); see {log}")
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=parse_count, default=parse_count("2M"))
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--format", choices=sorted(FORMATS), default="gzip")
    parser.add_argument("--workdir", type=Path, help="keep data and logs here (default: a temp folder)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--history-days",
        type=int,
        help="also time one more day on this many days of history, at the same events per day",
    )
    args = parser.parse_args()

    work = args.workdir or Path(tempfile.mkdtemp(prefix="apiwh-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    landing, extra_day, logs = work / "landing", work / "extra_day", work / "logs"
    for folder in (landing, extra_day, logs):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    dagster_home = work / "dagster_home"
    dagster_home.mkdir(exist_ok=True)
    shutil.copy(DAGSTER_YAML, dagster_home)

    print(
        f"generating {args.events:,} events over {args.days} days ({args.format}) in {landing} ...",
        flush=True,
    )
    started = time.perf_counter()
    per_day = write_days(landing, events=args.events, days=args.days, file_format=args.format) // args.days
    write_days(extra_day, events=per_day, days=1, first_day_index=args.days, file_format=args.format)
    generate_seconds = time.perf_counter() - started
    data_mb = sum(p.stat().st_size for p in landing.iterdir()) / 1e6
    print(f"  {generate_seconds:.1f} s, {data_mb:,.0f} MB", flush=True)

    # The daily_refresh job as users run it (`make run`), without the alert delivery that follows.
    refresh = [str(BIN / "apiwh"), "run", "--no-deliver"]
    steps: dict[str, Measured] = {}

    def step(key: str, label: str, command: list[str], env: dict[str, str]) -> None:
        print(f"{label} ...", flush=True)
        log = logs / f"{key}.log"
        steps[key] = _check(label, run_measured(command, env=env, log=log), log)
        print(f"  {steps[key].seconds:.1f} s, {steps[key].cpu_seconds:.1f} CPU-s", flush=True)

    floor_db = work / "floor" / "floor.duckdb"
    shutil.rmtree(floor_db.parent, ignore_errors=True)
    floor_db.parent.mkdir()
    step(
        "floor", "1 floor: DuckDB read_json", floor_command(landing, args.format, floor_db), dict(os.environ)
    )
    load_only = work / "load_only" / "warehouse.duckdb"
    shutil.rmtree(load_only.parent, ignore_errors=True)
    step("load", "2 apiwh load", [str(BIN / "apiwh"), "load"], _env(load_only, landing, dagster_home))
    warehouse = work / "warehouse" / "warehouse.duckdb"
    shutil.rmtree(warehouse.parent, ignore_errors=True)
    env = _env(warehouse, landing, dagster_home)
    step("full", "3 full refresh from empty", refresh, env)
    full_shares = measured_shares(env, steps["full"].seconds)
    for path in extra_day.iterdir():
        shutil.copy(path, landing / path.name)
    step("one_day", "4 refresh after one more day", refresh, env)
    one_day_shares = measured_shares(env, steps["one_day"].seconds)
    step("nothing_new", "5 refresh with nothing new", refresh, env)
    if args.history_days:
        long_landing, long_extra = work / "long_landing", work / "long_extra_day"
        for folder in (long_landing, long_extra):
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
        print(
            f"generating {per_day * args.history_days:,} events over {args.history_days} days ...", flush=True
        )
        write_days(
            long_landing, events=per_day * args.history_days, days=args.history_days, file_format=args.format
        )
        write_days(
            long_extra, events=per_day, days=1, first_day_index=args.history_days, file_format=args.format
        )
        long_warehouse = work / "long_warehouse" / "warehouse.duckdb"
        shutil.rmtree(long_warehouse.parent, ignore_errors=True)
        long_env = _env(long_warehouse, long_landing, dagster_home)
        step("long_full", f"6 full refresh of {args.history_days} days", refresh, long_env)
        for path in long_extra.iterdir():
            shutil.copy(path, long_landing / path.name)
        step("long_one_day", f"7 one more day on {args.history_days} days", refresh, long_env)

    floor, load, full, one_day, noop = (
        steps[k].seconds for k in ("floor", "load", "full", "one_day", "nothing_new")
    )
    results = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "data": {
            "events": args.events,
            "days": args.days,
            "format": args.format,
            "megabytes": round(data_mb, 1),
        },
        "seconds": {k: round(m.seconds, 2) for k, m in steps.items()},
        "cpu_seconds": {k: round(m.cpu_seconds, 2) for k, m in steps.items()},
        "peak_rss_mb": {k: round(steps[k].peak_rss_mb) for k in ("load", "full", "one_day")},
        "load_events_per_second": round(args.events / load),
        "floor_events_per_second": round(args.events / floor),
        "ratios": {
            "full_over_floor": round(full / floor, 2),
            "load_over_floor": round(load / floor, 2),
            "load_over_floor_cpu": round(steps["load"].cpu_seconds / steps["floor"].cpu_seconds, 2),
            "one_day_marginal_share": round((one_day - noop) / (full - noop), 3) if full > noop else None,
        },
    }
    results["full_shares"] = full_shares
    results["one_day_shares"] = one_day_shares
    if args.history_days:
        long_one_day = steps["long_one_day"]
        results["ratios"]["one_day_long_over_short"] = round(long_one_day.seconds / one_day, 2)
        results["ratios"]["one_day_long_over_short_cpu"] = round(
            long_one_day.cpu_seconds / steps["one_day"].cpu_seconds, 2
        )
    labels = {
        "floor": "1 floor: DuckDB read_json into a table",
        "load": "2 apiwh load (empty warehouse)",
        "full": "3 full refresh from empty",
        "one_day": "4 refresh after one more day",
        "nothing_new": "5 refresh with nothing new",
    }
    if args.history_days:
        labels["long_full"] = f"6 full refresh of {args.history_days} days"
        labels["long_one_day"] = f"7 one more day on {args.history_days} days"
    print(
        f"\n{args.events:,} events, {args.days} days, {args.format}, {data_mb:,.0f} MB, {os.cpu_count()} CPUs"
    )
    print(f"| {'step':<40} | {'seconds':>8} | {'CPU seconds':>11} | {'peak RSS MB':>11} |")
    print(f"|{'-' * 42}|{'-' * 9}:|{'-' * 12}:|{'-' * 12}:|")
    for key, label in labels.items():
        m = steps[key]
        rss = "" if key == "floor" else f"{m.peak_rss_mb:,.0f}"
        print(f"| {label:<40} | {m.seconds:>8.1f} | {m.cpu_seconds:>11.1f} | {rss:>11} |")
    ratios = results["ratios"]
    print(
        f"\nload {results['load_events_per_second']:,} events/s "
        f"(floor {results['floor_events_per_second']:,}/s); "
        f"3/1 = {ratios['full_over_floor']}, 2/1 = {ratios['load_over_floor']} "
        f"(in CPU seconds {ratios['load_over_floor_cpu']}), "
        f"(4-5)/(3-5) = {ratios['one_day_marginal_share']}"
        + (f", 7/4 = {ratios['one_day_long_over_short']}" if args.history_days else "")
    )
    print_shares("3 full refresh from empty", full_shares)
    print_shares("4 refresh after one more day", one_day_shares)
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
