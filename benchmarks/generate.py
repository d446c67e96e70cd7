"""Fast benchmark data: millions of contract-format events in seconds, shaped like the sample.

The committed sample (seeds/) is loaded with the project's own loader, and its calls become
templates: each generated call copies one template's route, status, latency, sizes, client and
country, with its time of day moved to the target day and its organization and keys renamed
per replica (org_4abdbe -> org_4abdbe_r3), so volume grows with more customers rather than with
louder ones. The sample's quota, key and other events are copied once per replica into the
first day. DuckDB builds and writes every line; nothing is looped over in Python.

    python -m benchmarks.generate --events 10M --days 30 --out /tmp/landing [--format gzip]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb

from orchestration.loading import load_directory
from orchestration.loading.schema import FIELDS, Field
from orchestration.settings import PROJECT_ROOT
from orchestration.warehouse import connect

SAMPLE_DIR = PROJECT_ROOT / "seeds"
FORMATS = {"gzip": ".ndjson.gz", "plain": ".ndjson", "parquet": ".parquet"}
FIRST_DAY = dt.date(2026, 9, 1)
# Columns renamed per replica, so each replica is a distinct set of customers.
_PER_REPLICA = ("organization_id", "developer_id", "application_id", "api_key_id", "idempotency_key")


def parse_count(text: str) -> int:
    """'10M', '2.5m', '500k' or '1000' as an integer."""
    text = text.strip().lower().replace("_", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    number = text[:-1] if scale > 1 else text
    try:
        value = int(float(number) * scale)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a count: {text!r} (try 2M, 500k or 1000)") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def _value_sql(f: Field) -> str:
    """The generated value of a field, from template row `t` shifted to the day and replica."""
    if f.column == "event_id":
        return "'b' || day_index || '_' || i"
    if f.column == "event_time":
        return "strftime(event_at, '%Y-%m-%dT%H:%M:%S.%gZ')"
    if f.column == "received_at":
        return "strftime(event_at + (t.received_at - t.event_time), '%Y-%m-%dT%H:%M:%S.%gZ')"
    if f.column == "network_ip":
        # A made-up address per hashed one, from the documentation range.
        return "'198.51.100.' || (hash(t.network_ip_hash) % 250)"
    if f.column in _PER_REPLICA:
        return f"case when replica = 0 then t.{f.column} else t.{f.column} || '_r' || replica end"
    return f"t.{f.column}"


def _member(name: str, value: str) -> str:
    return f"""'"{name}":' || to_json({value})"""


def json_line_sql() -> str:
    """One JSON object per row, members in contract order, absent members left out."""
    members: list[str] = []
    seen_objects: set[str] = set()
    for f in FIELDS:
        if len(f.path) == 1:
            members.append(_member(f.column, _value_sql(f)))
            continue
        name = f.path[0]
        if name in seen_objects:
            continue
        seen_objects.add(name)
        inner = [_member(g.path[1], _value_sql(g)) for g in FIELDS if g.path[0] == name]
        joined = f"concat_ws(',', {', '.join(inner)})"
        members.append(f"""case when {joined} <> '' then '"{name}":{{' || {joined} || '}}' end""")
    return "'{' || concat_ws(',', " + ", ".join(members) + ") || '}'"


def load_templates(con: duckdb.DuckDBPyConnection) -> int:
    """The sample's valid events, numbered; returns how many calls there are to copy."""
    load_directory(con, SAMPLE_DIR, salt="benchmark")
    con.execute(
        """
        create or replace temp table call_templates as
        select *, row_number() over (order by event_id) - 1 as template_index
        from raw.events where event_type = 'api_request'
        """
    )
    con.execute(
        "create or replace temp table other_templates as "
        "select * from raw.events where event_type <> 'api_request'"
    )
    return con.execute("select count(*) from call_templates").fetchall()[0][0]


def _write(
    con: duckdb.DuckDBPyConnection, select_lines: str, params: dict, path: Path, file_format: str
) -> None:
    if file_format == "parquet":
        # Parquet carries the same fields as nested structs, as the contract allows.
        con.execute(
            f"copy (select unnest(json_transform(line, json_structure(line))) from ({select_lines})) "
            f"to '{path}' (format parquet)",
            params,
        )
        return
    # Written plain: DuckDB's gzip writer is slow, gzip level 1 afterwards is several times faster.
    options = "format csv, header false, quote '', escape '', delimiter chr(1)"
    con.execute(f"copy ({select_lines}) to '{path}' ({options})", params)


def _gzip_in_place(plain: Path) -> None:
    """plain -> plain.gz at level 1 (zlib releases the GIL, so threads use every core)."""
    target = plain.with_name(plain.name + ".gz")
    with plain.open("rb") as source, gzip.open(target, "wb", compresslevel=1) as sink:
        shutil.copyfileobj(source, sink, 1 << 20)
    plain.unlink()


def write_days(
    out_dir: Path, *, events: int, days: int, first_day_index: int = 0, file_format: str = "gzip"
) -> int:
    """Write `days` daily files of calls (and the other events once, on day 0); returns events."""
    out_dir.mkdir(parents=True, exist_ok=True)
    per_day = max(1, events // days)
    with tempfile.TemporaryDirectory() as scratch:
        con = connect(Path(scratch) / "warehouse.duckdb")
        templates = load_templates(con)
        replicas = max(1, -(-per_day * days // templates))
        line = json_line_sql()
        written = 0
        plain_files: list[Path] = []
        for day_index in range(first_day_index, first_day_index + days):
            day = FIRST_DAY + dt.timedelta(days=day_index)
            calls = f"""
                select {line} as line
                from (
                    select
                        g.i, $day_index as day_index,
                        (g.i + $day_index * $per_day) // $templates % $replicas as replica,
                        $day + (t.event_time - date_trunc('day', t.event_time)) as event_at,
                        t.*
                    from range($per_day) as g(i)
                    join call_templates as t
                        on t.template_index = (g.i + $day_index * $per_day) % $templates
                ) as t
            """
            params = {
                "day_index": day_index,
                "per_day": per_day,
                "templates": templates,
                "replicas": replicas,
                "day": day,
            }
            suffix = ".ndjson" if file_format == "gzip" else FORMATS[file_format]
            path = out_dir / f"events-{day.isoformat()}{suffix}"
            if day_index == 0:
                others = f"""
                    select {line} as line
                    from (
                        select
                            row_number() over () as i, 'o' || r.replica as day_index, r.replica,
                            $day + (t.event_time - date_trunc('day', t.event_time)) as event_at,
                            t.*
                        from other_templates as t, range($replicas) as r(replica)
                    ) as t
                """
                calls = f"{calls} union all {others}"
            _write(con, calls, params, path, file_format)
            written += per_day
            plain_files.append(path)
        con.close()
    if file_format == "gzip":
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            list(pool.map(_gzip_in_place, plain_files))
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=parse_count, default=parse_count("2M"))
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--format", choices=sorted(FORMATS), default="gzip")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    written = write_days(args.out, events=args.events, days=args.days, file_format=args.format)
    print(f"wrote {written:,} calls over {args.days} days to {args.out}")


if __name__ == "__main__":
    main()
