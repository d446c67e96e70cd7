"""Load raw event files into DuckDB exactly once, keeping every bad line visible.

Plain functions with no Dagster import: the asset in assets.py only calls load_directory().

How a file is loaded:
- Files are keyed by the sha256 of their content: a renamed or copied file is not loaded twice,
  a corrupt file is recorded once (status `failed`) and not retried, an empty one as `empty`.
- The format comes from the content (gzip and Parquet magic bytes), not the name.
- Python only splits lines (exact line numbers, UTF-8 check, a cap on line length so one absurd
  line cannot exhaust memory); JSON parsing, validation and typing happen in DuckDB, in batches.
- Each file is one transaction: its events, its rejects and its manifest row commit together, so
  a kill at any moment leaves the file either fully loaded or not at all.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import os
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.warehouse import ensure_raw_schema

ACCEPTED_SUFFIXES = (".ndjson", ".jsonl", ".ndjson.gz", ".jsonl.gz", ".parquet")
# Names of files that are still being written by an uploader or editor.
IN_PROGRESS_SUFFIXES = (".tmp", ".partial", ".part", ".crdownload", ".inprogress", ".swp")
MAX_LINE_BYTES = 1024 * 1024
BATCH_LINES = 100_000
# Rejected lines keep this many characters; Python hands DuckDB twice as many so that IP
# masking runs before the cut and no partial address survives at the edge.
SNIPPET_CHARS = 300
EARLIEST_PLAUSIBLE_EVENT = dt.datetime(2000, 1, 1)
# Clock skew tolerated for events stamped in the future, relative to the load time.
FUTURE_TOLERANCE = dt.timedelta(days=1)

GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"


@dataclass(frozen=True)
class Field:
    """One contract field: the raw.events column, its JSON path and its type."""

    column: str
    path: tuple[str, ...]
    kind: str  # string, integer, number, timestamp

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


FIELDS: tuple[Field, ...] = (
    Field("event_id", ("event_id",), "string"),
    Field("event_type", ("event_type",), "string"),
    Field("event_time", ("event_time",), "timestamp"),
    Field("received_at", ("received_at",), "timestamp"),
    Field("request_id", ("request_id",), "string"),
    Field("idempotency_key", ("idempotency_key",), "string"),
    Field("organization_id", ("consumer", "organization_id"), "string"),
    Field("developer_id", ("consumer", "developer_id"), "string"),
    Field("application_id", ("consumer", "application_id"), "string"),
    Field("api_key_id", ("consumer", "api_key_id"), "string"),
    Field("plan_id", ("consumer", "plan_id"), "string"),
    Field("method", ("api", "method"), "string"),
    Field("endpoint", ("api", "endpoint"), "string"),
    Field("route", ("api", "route"), "string"),
    Field("api_version", ("api", "version"), "string"),
    Field("status_code", ("result", "status_code"), "integer"),
    Field("error_type", ("result", "error_type"), "string"),
    Field("cache_status", ("result", "cache_status"), "string"),
    Field("request_duration_ms", ("timings", "request_duration_ms"), "number"),
    Field("upstream_ms", ("timings", "upstream_ms"), "number"),
    Field("request_bytes", ("bytes", "request"), "integer"),
    Field("response_bytes", ("bytes", "response"), "integer"),
    Field("network_region", ("network", "region"), "string"),
    Field("network_ip", ("network", "ip"), "string"),
    Field("network_country", ("network", "country"), "string"),
    Field("sdk_version", ("client", "sdk_version"), "string"),
    Field("user_agent", ("client", "user_agent"), "string"),
    Field("monthly_call_limit", ("quota", "monthly_call_limit"), "integer"),
    Field("quota_plan_id", ("quota", "plan_id"), "string"),
)
FIELD = {f.column: f for f in FIELDS}
NESTED_OBJECTS = tuple(dict.fromkeys(f.path[0] for f in FIELDS if len(f.path) > 1))
REQUIRED_PARQUET_COLUMNS = ("event_id", "event_type", "event_time", "consumer")
# A request longer than a day is a unit or clock bug upstream, not a slow call.
MAX_PLAUSIBLE_DURATION_MS = 86_400_000


@dataclass
class FileResult:
    path: str  # relative to the landing folder
    sha256: str
    status: str  # loaded, empty, failed, skipped (already loaded), in_progress, outside
    file_format: str = "unknown"
    lines: int = 0
    events: int = 0
    rejects: int = 0
    blank_lines: int = 0
    unknown_type_events: int = 0
    error: str | None = None


@dataclass
class LoadReport:
    files: list[FileResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def events(self) -> int:
        return sum(f.events for f in self.files)

    @property
    def rejects(self) -> int:
        return sum(f.rejects for f in self.files)

    @property
    def unknown_type_events(self) -> int:
        return sum(f.unknown_type_events for f in self.files)

    def summary(self) -> str:
        return (
            f"{self.count('loaded')} file(s) loaded, {self.count('empty')} empty, "
            f"{self.count('failed')} failed, {self.count('skipped')} already loaded, "
            f"{self.count('in_progress') + self.count('outside')} ignored; "
            f"{self.events:,} events, {self.rejects:,} rejected lines"
        )


class FileRejectedError(Exception):
    """The whole file is unusable (corrupt gzip, not Parquet, incompatible schema)."""


# --------------------------------------------------------------------------- discovery


def is_in_progress(name: str) -> bool:
    lowered = name.lower()
    return lowered.startswith((".", "~")) or lowered.endswith(IN_PROGRESS_SUFFIXES)


def discover_files(root: Path) -> tuple[list[Path], list[FileResult]]:
    """Candidate files under root (sorted, so loads are ordered) and the ones set aside."""
    root = root.resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"landing folder {root} does not exist or is not a folder")
    candidates: list[Path] = []
    ignored: list[FileResult] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        # Hidden folders are uploads in progress or tool state, never landed data.
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            relative = str(path.relative_to(root))
            if is_in_progress(name):
                ignored.append(FileResult(relative, "", "in_progress"))
                continue
            if not name.lower().endswith(ACCEPTED_SUFFIXES):
                continue
            real = path.resolve()
            if not real.is_relative_to(root) or not real.is_file():
                ignored.append(FileResult(relative, "", "outside", error="symlink leaves the landing folder"))
                continue
            candidates.append(path)
    return candidates, ignored


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sniff_format(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith(GZIP_MAGIC):
        return "ndjson.gz"
    if head == PARQUET_MAGIC:
        return "parquet"
    return "ndjson"


# --------------------------------------------------------------------------- line reading


@dataclass
class LineStats:
    lines: int = 0
    blank: int = 0


def _read_capped_line(handle, cap: int) -> tuple[bytes, bool]:
    """The next line, or its first `cap` bytes and True when it is longer (rest is skipped)."""
    line = handle.readline(cap + 1)
    if len(line) <= cap or line.endswith(b"\n"):
        return line, False
    while True:  # drain the rest of the over-long line without keeping it
        rest = handle.readline(cap)
        if not rest or rest.endswith(b"\n"):
            return line[:cap], True


def iter_line_batches(
    path: Path, file_format: str, stats: LineStats
) -> Iterator[list[tuple[int, str | None, str | None]]]:
    """Batches of (line_number, text, pre_reason); blank lines are counted, not yielded."""
    opener = gzip.open if file_format == "ndjson.gz" else open
    batch: list[tuple[int, str | None, str | None]] = []
    try:
        with opener(path, "rb") as handle:
            line_number = 0
            while True:
                raw, too_long = _read_capped_line(handle, MAX_LINE_BYTES)
                if not raw:
                    break
                line_number += 1
                if line_number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                if too_long:
                    snippet = raw[: 2 * SNIPPET_CHARS].decode("utf-8", "replace")
                    reason = f"line longer than {MAX_LINE_BYTES} bytes"
                    batch.append((line_number, snippet, reason))
                else:
                    stripped = raw.strip()
                    if not stripped:
                        stats.blank += 1
                        stats.lines = line_number
                        continue
                    try:
                        batch.append((line_number, stripped.decode("utf-8"), None))
                    except UnicodeDecodeError as exc:
                        snippet = stripped[: 2 * SNIPPET_CHARS].decode("utf-8", "replace")
                        batch.append((line_number, snippet, f"invalid UTF-8 ({exc.reason})"))
                stats.lines = line_number
                if len(batch) >= BATCH_LINES:
                    yield batch
                    batch = []
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise FileRejectedError(f"corrupt or truncated gzip: {exc}") from exc
    if batch:
        yield batch


# --------------------------------------------------------------------------- validation SQL


def _json_type(f: Field) -> str:
    """The JSON type of the field's value (NULL when absent): one parse per line for all fields."""
    return f"leaf_types[{FIELDS.index(f) + 1}]"


def _text(f: Field) -> str:
    return f"leaf_texts[{FIELDS.index(f) + 1}]"


def _is_absent(f: Field) -> str:
    return f"coalesce({_json_type(f)}, 'NULL') = 'NULL'"


def _value_sql(f: Field) -> str:
    jtype, text = _json_type(f), _text(f)
    if f.kind == "string":
        return f"case when {jtype} = 'VARCHAR' then {text} end"
    if f.kind == "integer":
        return f"case when {jtype} in ('BIGINT', 'UBIGINT') then try_cast({text} as bigint) end"
    if f.kind == "number":
        return f"case when {jtype} in ('BIGINT', 'UBIGINT', 'DOUBLE') then try_cast({text} as double) end"
    # RFC 3339 date-time; the offset is optional (a time without one is UTC).
    return (
        f"case when {jtype} = 'VARCHAR' and regexp_full_match({text}, "
        r"'\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*([Zz]|[+-]\d{2}(:?\d{2})?)?') "
        f"then try_cast({text} as timestamptz) at time zone 'UTC' end"
    )


def _type_reason_sql(f: Field) -> str:
    expected = {
        "string": "a string",
        "integer": "an integer",
        "number": "a number",
        "timestamp": "an RFC 3339 time",
    }[f.kind]
    return f"case when not {_is_absent(f)} and v_{f.column} is null then '{f.dotted} must be {expected}' end"


def _checks_sql() -> str:
    """SELECT over temp table _lines producing typed columns and a `reason` ('' = valid)."""
    leaf_paths = ", ".join(f"'$.{f.dotted}'" for f in FIELDS)
    values = ",\n        ".join(f"{_value_sql(f)} as v_{f.column}" for f in FIELDS)
    object_paths = ", ".join(f"'$.{name}'" for name in NESTED_OBJECTS)
    type_reasons = ",\n            ".join(_type_reason_sql(f) for f in FIELDS)
    return f"""
with parsed as (
    select
        line_number,
        line,
        pre_reason,
        case when pre_reason is null then try_cast(line as json) end as doc
    from _lines
),
shaped as materialized (
    select
        *,
        json_type(doc) as doc_type,
        case when json_type(doc) = 'OBJECT' then json_type(doc, [{leaf_paths}]) end as leaf_types,
        case when json_type(doc) = 'OBJECT'
            then json_extract_string(doc, [{leaf_paths}]) end as leaf_texts,
        case when json_type(doc) = 'OBJECT' then json_type(doc, [{object_paths}]) end as object_types,
        case when json_type(doc) = 'OBJECT'
            then list_prepend(json_keys(doc), json_keys(doc, [{object_paths}])) end as key_lists
    from parsed
),
typed as materialized (
    select
        *,
        {values}
    from shaped
),
checked as (
    select
        *,
        case
            when pre_reason is not null then pre_reason
            when doc is null then 'invalid JSON'
            when doc_type <> 'OBJECT' then 'not a JSON object (got ' || lower(doc_type) || ')'
            else concat_ws('; ',
            {type_reasons},
            case when list_bool_or(list_transform(
                    key_lists, lambda keys: len(keys) <> len(list_distinct(keys))))
                then 'duplicate keys in one object' end,
            case when list_bool_or(list_transform(
                    object_types, lambda t: t is not null and t not in ('OBJECT', 'NULL')))
                then 'one of {", ".join(NESTED_OBJECTS)} is not an object' end,
            case when coalesce(v_event_id, '') = '' then 'missing required field event_id' end,
            case when coalesce(v_event_type, '') = '' then 'missing required field event_type' end,
            case when {_is_absent(FIELD["event_time"])} then 'missing required field event_time' end,
            case when v_event_time < $earliest or v_event_time > $latest
                then 'implausible event_time ' || strftime(v_event_time, '%Y-%m-%dT%H:%M:%SZ') end,
            case when coalesce(v_organization_id, '') = ''
                then 'missing required field consumer.organization_id' end,
            case when v_event_type = 'api_request' then nullif(concat_ws('; ',
                case when coalesce(v_method, '') = '' then 'missing required field api.method' end,
                case when coalesce(v_endpoint, '') = '' and coalesce(v_route, '') = ''
                    then 'missing required field api.endpoint (or api.route)' end,
                case when {_is_absent(FIELD["status_code"])}
                    then 'missing required field result.status_code'
                    when v_status_code not between 100 and 599
                    then 'result.status_code ' || cast(v_status_code as varchar) || ' is outside 100-599' end,
                case when {_is_absent(FIELD["request_duration_ms"])}
                    then 'missing required field timings.request_duration_ms'
                    when v_request_duration_ms < 0 or isnan(v_request_duration_ms)
                    then 'timings.request_duration_ms must be >= 0'
                    when v_request_duration_ms > {MAX_PLAUSIBLE_DURATION_MS}
                    then 'implausible timings.request_duration_ms '
                        || cast(v_request_duration_ms as varchar) end,
                case when v_request_bytes < 0 then 'bytes.request must be >= 0' end,
                case when v_response_bytes < 0 then 'bytes.response must be >= 0' end
            ), '') end,
            case when v_event_type = 'quota_set' then
                case when {_is_absent(FIELD["monthly_call_limit"])}
                    then 'missing required field quota.monthly_call_limit'
                    when v_monthly_call_limit < 0
                    then 'quota.monthly_call_limit must be >= 0' end
            end,
            case when v_event_type in ('key_issued', 'key_revoked')
                and coalesce(v_api_key_id, '') = ''
                then 'missing required field consumer.api_key_id' end
            )
        end as reason
    from typed
)
select * from checked
"""


_IPV4 = r"\b\d{1,3}(\.\d{1,3}){3}\b"
# Three or more colon groups, so clock times (10:00:00) are left alone.
_IPV6 = r"([0-9A-Fa-f]{0,4}:){3,7}[0-9A-Fa-f]{0,4}"
_IP_VALUE = r'("ip"\s*:\s*)"[^"]*"'


def _redacted_snippet_sql(column: str) -> str:
    """Rejected text as an operator may see it: IP-like values masked first, then clipped."""
    return (
        f"left(regexp_replace(regexp_replace(regexp_replace({column}, "
        f"'{_IP_VALUE}', '\\1\"<ip>\"', 'g'), '{_IPV4}', '<ip>', 'g'), '{_IPV6}', '<ip>', 'g'), "
        f"{SNIPPET_CHARS})"
    )


_INSERT_EVENTS = f"""
insert into raw.events
select
    $load_id, $source_file, line_number, $loaded_at,
    v_event_id, v_event_type, v_event_time, v_received_at,
    v_organization_id, v_developer_id, v_application_id, v_api_key_id, v_plan_id,
    v_request_id, v_idempotency_key, upper(v_method), v_endpoint, v_route, v_api_version,
    v_status_code, v_error_type, v_cache_status,
    v_request_duration_ms, v_upstream_ms, v_request_bytes, v_response_bytes,
    v_network_region,
    case when v_network_ip is not null then sha256($salt || v_network_ip) end,
    v_network_country, v_sdk_version, v_user_agent,
    v_monthly_call_limit, v_quota_plan_id,
    -- Fingerprint of the contract fields (without the IP and the collector's receive time),
    -- so a redelivery whose payload differs can be reported.
    md5(list_filter(leaf_texts, lambda text, i: i not in ({FIELDS.index(FIELD["network_ip"]) + 1},
        {FIELDS.index(FIELD["received_at"]) + 1}))::varchar)
from _checked
where reason = ''
"""

_INSERT_REJECTS = f"""
insert into raw.event_rejects
select
    $load_id, $source_file, $sha256, line_number, reason,
    {_redacted_snippet_sql("line")}, $loaded_at
from _checked
where reason <> ''
"""


# --------------------------------------------------------------------------- loading


def _next_load_id(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("select coalesce(max(load_id), 0) + 1 from raw.loaded_files").fetchall()[0][0]


def _load_batch(
    con: duckdb.DuckDBPyConnection,
    rows: pa.Table,
    params: dict,
    result: FileResult,
    checks_sql: str,
    window: dict,
) -> None:
    con.register("_lines", rows)
    con.execute(f"create or replace temp table _checked as {checks_sql}", window)
    con.unregister("_lines")
    counts = con.execute(
        """
        select
            count(*) filter (where reason = ''),
            count(*) filter (where reason <> ''),
            count(*) filter (where reason = '' and v_event_type not in
                ('api_request', 'quota_set', 'key_issued', 'key_revoked'))
        from _checked
        """
    ).fetchall()[0]
    con.execute(_INSERT_EVENTS, {k: params[k] for k in ("load_id", "source_file", "loaded_at", "salt")})
    con.execute(_INSERT_REJECTS, {k: params[k] for k in ("load_id", "source_file", "sha256", "loaded_at")})
    result.events += counts[0]
    result.rejects += counts[1]
    result.unknown_type_events += counts[2]


def _lines_table(batch: list[tuple[int, str | None, str | None]]) -> pa.Table:
    numbers, texts, reasons = zip(*batch, strict=True)
    return pa.table(
        {
            "line_number": pa.array(numbers, pa.int64()),
            "line": pa.array(texts, pa.string()),
            "pre_reason": pa.array(reasons, pa.string()),
        }
    )


def _parquet_batches(con: duckdb.DuckDBPyConnection, path: Path) -> Iterator[pa.Table]:
    """Parquet rows as JSON text, so they take the exact same validation path as NDJSON."""
    try:
        columns = {
            row[0] for row in con.execute("describe select * from read_parquet(?)", [str(path)]).fetchall()
        }
    except duckdb.Error as exc:
        raise FileRejectedError(f"not a readable Parquet file: {exc}") from exc
    missing = [c for c in REQUIRED_PARQUET_COLUMNS if c not in columns]
    if missing:
        raise FileRejectedError(f"incompatible Parquet schema: missing column(s) {', '.join(missing)}")
    reader = con.sql(
        """
        select
            rows.file_row_number + 1 as line_number,
            json_remove(to_json(rows), '$.file_row_number')::varchar as line,
            null::varchar as pre_reason
        from read_parquet(?, file_row_number = true) as rows
        order by rows.file_row_number
        """,
        params=[str(path)],
    ).to_arrow_reader(BATCH_LINES)
    for record_batch in reader:
        yield pa.Table.from_batches([record_batch])


def load_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    relative: str,
    sha256: str,
    *,
    salt: str,
    now: dt.datetime,
) -> FileResult:
    """Load one file in one transaction and record it in the manifest."""
    result = FileResult(relative, sha256, "loaded")
    size = path.stat().st_size
    load_id = _next_load_id(con)
    params = {
        "load_id": load_id,
        "source_file": relative,
        "sha256": sha256,
        "loaded_at": now,
        "salt": salt,
    }
    window = {"earliest": EARLIEST_PLAUSIBLE_EVENT, "latest": now + FUTURE_TOLERANCE}
    checks_sql = _checks_sql()
    con.execute("begin transaction")
    try:
        if size == 0:
            result.status = "empty"
        else:
            result.file_format = sniff_format(path)
            if result.file_format == "parquet":
                # Streamed through a second cursor: the reading result set must stay open
                # while this connection writes each batch.
                reader = con.cursor()
                try:
                    for table in _parquet_batches(reader, path):
                        result.lines += table.num_rows
                        _load_batch(con, table, params, result, checks_sql, window)
                finally:
                    reader.close()
            else:
                stats = LineStats()
                for batch in iter_line_batches(path, result.file_format, stats):
                    _load_batch(con, _lines_table(batch), params, result, checks_sql, window)
                result.lines, result.blank_lines = stats.lines, stats.blank
            if result.lines == result.blank_lines:
                result.status = "empty"
    except FileRejectedError as exc:
        con.execute("rollback")
        con.execute("begin transaction")
        result = FileResult(relative, sha256, "failed", result.file_format, error=str(exc))
    except BaseException:
        con.execute("rollback")
        raise
    con.execute(
        """
        insert into raw.loaded_files values (
            $load_id, $sha256, $path, $size, $format, $status, $lines, $events, $rejects,
            $blank, $unknown, $error, $loaded_at)
        """,
        {
            "load_id": load_id,
            "sha256": sha256,
            "path": relative,
            "size": size,
            "format": result.file_format,
            "status": result.status,
            "lines": result.lines,
            "events": result.events,
            "rejects": result.rejects,
            "blank": result.blank_lines,
            "unknown": result.unknown_type_events,
            "error": result.error,
            "loaded_at": now,
        },
    )
    con.execute("commit")
    return result


def load_directory(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    *,
    salt: str,
    progress: Callable[[int, int, FileResult], None] | None = None,
    now: dt.datetime | None = None,
) -> LoadReport:
    """Load every file under root whose content has not been loaded before."""
    ensure_raw_schema(con)
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    root = root.resolve()
    candidates, ignored = discover_files(root)
    report = LoadReport(files=list(ignored))
    known = {row[0] for row in con.execute("select file_sha256 from raw.loaded_files").fetchall()}
    for index, path in enumerate(candidates, start=1):
        relative = str(path.relative_to(root))
        sha256 = file_sha256(path)
        if sha256 in known:
            result = FileResult(relative, sha256, "skipped")
        else:
            result = load_file(con, path, relative, sha256, salt=salt, now=now)
            known.add(sha256)
        report.files.append(result)
        if progress is not None:
            progress(index, len(candidates), result)
    return report
