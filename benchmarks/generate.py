"""Fast benchmark data: millions of contract-format events in seconds, shaped like the sample.

DuckDB's JSON reader takes the committed sample (seeds/) and its valid calls become templates:
each generated call copies one template's route, status, latency, sizes, client and country,
with its time of day moved to the target day and its organization and keys renamed per replica
(org_4abdbe -> org_4abdbe_r3), so volume grows with more customers rather than with louder
ones. The sample's quota, key and other events are copied once per replica into the first day.

Each template is rendered to its JSON line once, with stand-ins for the id, the times and the
replica; a day is then a range scan of the templates with the stand-ins replaced. The lines go
from DuckDB's Arrow buffers straight into ISA-L's gzip writer: nothing is looped over per line
in Python.

    python -m benchmarks.generate --events 10M --days 30 --out /tmp/landing [--format gzip]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
from isal import igzip

from orchestration.loading.schema import FIELDS, Field
from orchestration.settings import PROJECT_ROOT

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


# Stand-ins in a rendered template, replaced per generated line (plain text: to_json keeps them).
_ID, _TIME, _RECEIVED, _REPLICA = "<@id@>", "<@time@>", "<@received@>", "<@replica@>"


def _value_sql(f: Field) -> str:
    """A field's value in a template line: fixed, or a stand-in filled in per generated line."""
    if f.column == "event_id":
        return f"'{_ID}'"
    if f.column == "event_time":
        return f"'{_TIME}'"
    if f.column == "received_at":
        return f"case when t.received_at is not null then '{_RECEIVED}' end"
    if f.column == "network_ip":
        # A made-up address per real one, from the documentation range.
        return "case when t.network_ip is not null then '198.51.100.' || (hash(t.network_ip) % 250) end"
    if f.column in _PER_REPLICA:
        return f"t.{f.column} || '{_REPLICA}'"
    return f"t.{f.column}"


def _member(name: str, value: str) -> str:
    return f"""'"{name}":' || to_json({value})"""


def json_line_sql() -> str:
    """One JSON object per template row, members in contract order, absent members left out."""
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


def _render_templates(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Each template as its JSON line with stand-ins, its time of day and its receive delay."""
    con.execute(
        f"""
        create or replace table {table}_lines as
        select
            row_number() over (order by t.event_id) - 1 as template_index,
            {json_line_sql()} as template,
            t.event_time - date_trunc('day', t.event_time) as time_of_day,
            coalesce(t.received_at - t.event_time, interval 0 second) as receive_delay
        from {table} as t
        order by template_index
        """
    )


def _segment_sql(templates: str, n: int) -> str:
    """Templates first..last, for one replica, with their stand-ins filled in.

    A range scan, not a join: the table is in template_index order, so DuckDB skips straight
    to the rows it needs.
    """
    return f"""
        select replace(replace(replace(replace(template,
            '{_ID}', $id_prefix_{n} || (template_index + $id_shift_{n})),
            '{_TIME}', strftime($day + time_of_day, '%Y-%m-%dT%H:%M:%S.%gZ')),
            '{_RECEIVED}', strftime($day + time_of_day + receive_delay, '%Y-%m-%dT%H:%M:%S.%gZ')),
            '{_REPLICA}', $suffix_{n}) as line
        from {templates}_lines
        where template_index between $first_{n} and $last_{n}
    """


# One day's slice of the template table: (table, replica, first, last, id prefix, id shift).
Segment = tuple[str, int, int, int, str, int]


def _day_sql(segments: list[Segment], day: dt.date) -> tuple[str, dict]:
    """One day's lines, segment after segment, and their bound parameters."""
    parts: list[str] = []
    params: dict = {"day": day}
    for n, (templates, replica, first, last, id_prefix, id_shift) in enumerate(segments):
        parts.append(_segment_sql(templates, n))
        params.update(
            {
                f"suffix_{n}": f"_r{replica}" if replica else "",
                f"first_{n}": first,
                f"last_{n}": last,
                f"id_prefix_{n}": id_prefix,
                f"id_shift_{n}": id_shift,
            }
        )
    return " union all ".join(parts), params


def _call_segments(start: int, count: int, templates: int, replicas: int, id_prefix: str) -> list[Segment]:
    """Calls start..start+count-1 of the whole run: call n copies template n % templates as
    replica n // templates (wrapping), numbered n - start within its day."""
    segments: list[Segment] = []
    n = start
    while n < start + count:
        block, first = divmod(n, templates)
        last = min(templates - 1, first + (start + count - n) - 1)
        segments.append(("call_templates", block % replicas, first, last, id_prefix, n - first - start))
        n += last - first + 1
    return segments


def _template_columns() -> str:
    """read_json's `columns` for the contract's fields (times as text), nested as the files are."""
    kinds = {"string": "VARCHAR", "timestamp": "VARCHAR", "integer": "BIGINT", "number": "DOUBLE"}
    top: dict[str, list[str]] = {}
    for f in FIELDS:
        name = f.path[0]
        if len(f.path) == 1:
            top[name] = [kinds[f.kind]]
        else:
            top.setdefault(name, []).append(f"{f.path[1]} {kinds[f.kind]}")
    parts = [
        f"{name}: '{kinds_[0] if ' ' not in kinds_[0] else 'STRUCT(' + ', '.join(kinds_) + ')'}'"
        for name, kinds_ in top.items()
    ]
    return "{" + ", ".join(parts) + "}"


def _typed_structure() -> str:
    """The contract's fields as a json_transform structure (Parquet columns and structs)."""
    kinds = {"string": "VARCHAR", "timestamp": "VARCHAR", "integer": "BIGINT", "number": "DOUBLE"}
    tree: dict = {}
    for f in FIELDS:
        node = tree
        for part in f.path[:-1]:
            node = node.setdefault(part, {})
        node[f.path[-1]] = kinds[f.kind]
    return json.dumps(tree)


def load_templates(con: duckdb.DuckDBPyConnection) -> int:
    """The sample's valid events, read by DuckDB's JSON reader; returns how many calls there are.

    The sample's deliberately malformed lines are skipped (ignore_errors, then the contract's
    main rules): templates are shapes, not a test of the loader.
    """
    pattern = [str(SAMPLE_DIR / "**" / f"*{suffix}") for suffix in (".ndjson", ".jsonl", ".ndjson.gz")]
    columns = ",\n            ".join(
        f"{f.dotted} as {f.column}"
        if f.kind != "timestamp"
        else f"try_cast({f.dotted} as timestamptz) at time zone 'UTC' as {f.column}"
        for f in FIELDS
    )
    con.execute(
        f"""
        create or replace temp table sample_events as
        select * from (
            select
                {columns}
            from read_json(
                ?, format = 'newline_delimited', columns = {_template_columns()}, ignore_errors = true
            )
        )
        where event_id is not null and event_time is not null and organization_id is not null
        """,
        [pattern],
    )
    con.execute(
        """
        create or replace temp table call_templates as
        select *, row_number() over (order by event_id) - 1 as template_index
        from sample_events
        where event_type = 'api_request'
            and method is not null and coalesce(endpoint, route) is not null
            and status_code between 100 and 599 and request_duration_ms >= 0
        """
    )
    con.execute(
        """
        create or replace temp table other_templates as
        select * from sample_events
        where event_type <> 'api_request' and event_type is not null
            and (event_type <> 'quota_set' or monthly_call_limit >= 0)
            and (event_type not in ('key_issued', 'key_revoked') or api_key_id is not null)
        """
    )
    return con.execute("select count(*) from call_templates").fetchall()[0][0]


def _write(
    con: duckdb.DuckDBPyConnection, select_lines: str, params: dict, path: Path, file_format: str
) -> None:
    if file_format == "parquet":
        # Parquet carries the same fields as nested structs, as the contract allows.
        con.execute(
            f"copy (select unnest(json_transform(line, '{_typed_structure()}')) from ({select_lines})) "
            f"to '{path}' (format parquet)",
            params,
        )
        return
    # DuckDB's CSV and gzip writers are slow for this. The lines, each with its newline, sit end
    # to end in an Arrow batch's value buffer: that is the file's content as it is.
    lines = con.sql(f"select line || chr(10) as line from ({select_lines})", params=params)
    opener = igzip.open if file_format == "gzip" else open  # ISA-L: many times zlib's speed
    with opener(path, "wb") as sink:
        for batch in lines.to_arrow_reader():
            sink.write(_arrow_text(batch.column(0)))


def _arrow_text(lines: pa.Array) -> memoryview:
    """The bytes of a string array's values, end to end, without copying them."""
    offset_type = np.int64 if pa.types.is_large_string(lines.type) else np.int32
    offsets = np.frombuffer(
        lines.buffers()[1],
        dtype=offset_type,
        count=len(lines) + 1,
        offset=lines.offset * np.dtype(offset_type).itemsize,
    )
    return memoryview(lines.buffers()[2])[int(offsets[0]) : int(offsets[-1])]


def write_days(
    out_dir: Path, *, events: int, days: int, first_day_index: int = 0, file_format: str = "gzip"
) -> int:
    """Write `days` daily files of calls (and the other events once, on day 0); returns events.

    Two days are written at once: while DuckDB renders one day's lines, ISA-L compresses the
    other's (it releases the GIL), so both cores work. Each day's bytes do not depend on that.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    per_day = max(1, events // days)
    con = duckdb.connect()  # in memory: the workers' cursors share its tables
    con.execute("set TimeZone = 'UTC'")
    con.execute("set enable_progress_bar = false")  # the benchmark prints its own progress
    templates = load_templates(con)
    others = con.execute("select count(*) from other_templates").fetchall()[0][0]
    replicas = max(1, -(-per_day * days // templates))
    _render_templates(con, "call_templates")
    _render_templates(con, "other_templates")

    def write_day(day_index: int) -> None:
        day = FIRST_DAY + dt.timedelta(days=day_index)
        segments = _call_segments(day_index * per_day, per_day, templates, replicas, f"b{day_index}_")
        if day_index == 0 and others:
            # The other events (quotas, keys, ...) once per replica, on the first day.
            segments += [("other_templates", r, 0, others - 1, f"o{r}_", 0) for r in range(replicas)]
        select_lines, params = _day_sql(segments, day)
        path = out_dir / f"events-{day.isoformat()}{FORMATS[file_format]}"
        with con.cursor() as cursor:
            cursor.execute("set TimeZone = 'UTC'")
            cursor.execute("set enable_progress_bar = false")
            _write(cursor, select_lines, params, path, file_format)

    with ThreadPoolExecutor(max_workers=2) as pool:
        # list() re-raises the first failure of any day.
        list(pool.map(write_day, range(first_day_index, first_day_index + days)))
    con.close()
    return per_day * days


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
