"""Writing the landing folder: which day goes to which file and format, redeliveries, malformed
and blank lines, byte-stable gzip and Parquet."""

from __future__ import annotations

import bisect
import gzip
import tempfile
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from orchestration.sample_data.builder import Builder
from orchestration.sample_data.catalogue import KNOWN_EVENT_TYPES, MIN_DAYS, PARQUET_COLUMNS
from orchestration.sample_data.malformed import malformed_lines
from orchestration.sample_data.primitives import dumps
from orchestration.sample_data.records import FileSummary, GenerationSummary, PlantedSignals


def _file_plan(b: Builder) -> dict[int, tuple[str, str]]:
    """Day index -> (relative path, format). One Parquet file covers three days."""
    days = b.days
    parquet_first = days // 4
    parquet_days = {parquet_first, parquet_first + 1, parquet_first + 2}
    plan: dict[int, tuple[str, str]] = {}
    d0 = b.start_date + timedelta(days=parquet_first)
    d2 = d0 + timedelta(days=2)
    parquet_path = f"{d0:%Y}/{d0:%m}/events-{d0.isoformat()}_{d2.isoformat()}.parquet"
    for day in range(days):
        d = b.start_date + timedelta(days=day)
        folder = f"{d:%Y}/{d:%m}"
        if day in parquet_days:
            plan[day] = (parquet_path, "parquet")
        elif day == days // 8:  # plain files on quiet early days keep the sample small
            plan[day] = (f"{folder}/events-{d.isoformat()}.ndjson", "ndjson")
        elif day == days // 8 + 1:
            plan[day] = (f"{folder}/events-{d.isoformat()}.jsonl", "jsonl")
        else:
            plan[day] = (f"{folder}/events-{d.isoformat()}.ndjson.gz", "ndjson.gz")
    return plan


def _write_parquet(path: Path, bodies: list[dict[str, Any]]) -> None:
    select_list = ", ".join(
        "cast(timezone('UTC', cast(event_time as timestamptz)) as timestamp) as event_time"
        if name == "event_time"
        else name
        for name in PARQUET_COLUMNS
    )
    for body in bodies:
        unknown = set(body) - set(PARQUET_COLUMNS)
        if unknown:
            raise ValueError(f"field(s) {sorted(unknown)} missing from the Parquet schema")
    with tempfile.TemporaryDirectory(prefix="apiwh-gen-") as tmp:
        staging = Path(tmp) / "rows.ndjson"
        staging.write_text("".join(dumps(b) + "\n" for b in bodies), encoding="utf-8")
        with duckdb.connect() as con:
            con.execute("set threads = 1")
            con.execute("set TimeZone = 'UTC'")
            struct_spec = "{" + ", ".join(f"'{n}': '{k}'" for n, k in PARQUET_COLUMNS.items()) + "}"
            # The type spec is ours; COPY cannot bind its target, so the path is quoted as a literal.
            target = "'" + path.as_posix().replace("'", "''") + "'"
            con.execute(
                f"copy (select {select_list} from read_json(?, format = 'newline_delimited', "
                f"columns = {struct_spec})) to {target} (format parquet, compression zstd)",
                [staging.as_posix()],
            )


def generate(out_dir: Path, *, orgs: int, days: int, seed: int, end_date: date) -> GenerationSummary:
    """Write the sample landing folder into `out_dir` and say what was written."""
    if orgs < 1:
        raise ValueError("orgs must be at least 1")
    if days < MIN_DAYS:
        raise ValueError(f"days must be at least {MIN_DAYS}")
    b = Builder(orgs=orgs, days=days, seed=seed, end_date=end_date)
    planted = b.build()
    rng = b.rng
    plan = _file_plan(b)

    # Bucket records into files by arrival day; lines carry a sort key (arrival, sequence).
    files: dict[str, list[tuple[datetime, int, str | dict[str, Any]]]] = {}
    formats: dict[str, str] = {}
    for path, fmt in plan.values():
        files.setdefault(path, [])
        formats[path] = fmt
    last_day = days - 1
    json_days = [d for d in range(days) if plan[d][1] != "parquet"]
    unknown_ok = set(json_days)
    types: Counter[str] = Counter()
    retries = 0
    duplicates = 0
    for rec in b.records:
        arrival = rec.received or rec.at
        day = min(b.day_of(arrival), last_day)
        if rec.event_type not in KNOWN_EVENT_TYPES and day not in unknown_ok:
            day = json_days[bisect.bisect_left(json_days, day) % len(json_days)]
        path = plan[day][0]
        body = b.body(rec)
        types[rec.event_type] += 1
        retries += rec.is_retry
        files[path].append((arrival, rec.seq, body))
        if rng.random() < 0.004:  # the collector redelivers it: same id, identical payload
            duplicates += 1
            later = arrival + timedelta(minutes=rng.uniform(1, 240))
            dup_day = min(b.day_of(later), last_day)
            if (plan[dup_day][1] == "parquet") != (plan[day][1] == "parquet"):
                dup_day, later = day, arrival + timedelta(seconds=rng.uniform(1, 60))
            files[plan[dup_day][0]].append((later, rec.seq, body))

    # Malformed and blank lines in a few NDJSON files, spread over the window.
    malformed_reasons: Counter[str] = Counter()
    malformed_by_path: Counter[str] = Counter()
    blank_by_path: Counter[str] = Counter()
    targets = sorted({days // 8, days // 2, (days * 2) // 3, days - 2} & set(json_days))
    org = b.orgs[0]
    bad = malformed_lines(b, targets[0], org)
    for i, (reason, line) in enumerate(bad):
        day = targets[i % len(targets)]
        path = plan[day][0]
        at = b.day_start(day) + timedelta(milliseconds=rng.randint(0, 86_399_999))
        files[path].append((at, -1 - i, line))
        malformed_reasons[reason] += 1
        malformed_by_path[path] += 1
    for day in (days // 8, days - 2):
        path = plan[day][0]
        at = b.day_start(day) + timedelta(milliseconds=rng.randint(0, 86_399_999))
        files[path].append((at, -100 - day, ""))
        blank_by_path[path] += 1

    out_dir.mkdir(parents=True, exist_ok=True)
    summaries: list[FileSummary] = []
    for path in sorted(files):
        entries = sorted(files[path], key=lambda e: (e[0], e[1]))
        target = out_dir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        fmt = formats[path]
        records = sum(1 for e in entries if isinstance(e[2], dict))
        if fmt == "parquet":
            _write_parquet(target, [e[2] for e in entries if isinstance(e[2], dict)])
        else:
            text = "".join((dumps(e[2]) if isinstance(e[2], dict) else e[2]) + "\n" for e in entries)
            data = text.encode("utf-8")
            if fmt == "ndjson.gz":
                data = gzip.compress(data, compresslevel=9, mtime=0)
            target.write_bytes(data)
        summaries.append(
            FileSummary(
                path=path,
                file_format=fmt,
                records=records,
                malformed_lines=malformed_by_path[path],
                blank_lines=blank_by_path[path],
                size_bytes=target.stat().st_size,
            )
        )
    return GenerationSummary(
        out_dir=out_dir,
        orgs=orgs,
        days=days,
        seed=seed,
        start_date=b.start_date,
        end_date=end_date,
        files=tuple(summaries),
        events_by_type=dict(sorted(types.items())),
        redelivered_duplicates=duplicates,
        client_retries=retries,
        malformed_lines=sum(malformed_reasons.values()),
        blank_lines=sum(blank_by_path.values()),
        malformed_reasons=dict(sorted(malformed_reasons.items())),
        planted=planted,
    )


def planted_signals(*, orgs: int, days: int, seed: int, end_date: date) -> PlantedSignals:
    """Who `generate()` with these arguments plants each reliability signal on, without writing."""
    b = Builder(orgs=orgs, days=days, seed=seed, end_date=end_date)
    b.plan_organizations()
    b.plan_keys()
    return b.choose_signal_owners()
