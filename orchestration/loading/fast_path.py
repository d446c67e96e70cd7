"""The fast path: DuckDB reads and parses a whole file at once, and proves lines clean in bulk.

A line is *proven* when one cheap parse shows that the exact validation (validation.py) would
accept it and would produce the very same values. Everything the proof cannot vouch for - a
parse error, a wrong type, a rule broken, escapes, explicit nulls, unknown or duplicate keys -
goes through the exact validation instead, so results equal the exact path line for line.

The proof of "no duplicate keys" first counts colons: every key/value pair has one, and a
string value's colons are known once it is parsed. If the line has exactly as many colons as
the known keys present plus the colons inside their string values, no other key can be there.
Lines with unknown fields or explicit nulls fail that count and get a second parse that lists
their keys, which is what the exact path checks.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.loading.lines import ASCII_WHITESPACE, MAX_LINE_BYTES
from orchestration.loading.report import FileRejectedError
from orchestration.loading.schema import (
    FIELDS,
    FINGERPRINT_EXCLUDED,
    KNOWN_EVENT_TYPES_SQL,
    NESTED_OBJECTS,
    Field,
    json_leaf_structure,
)
from orchestration.loading.validation import (
    CONTROL_CHARACTER_PATTERN,
    MAX_PLAUSIBLE_DURATION_MS,
    timestamp_value_sql,
)

REQUIRED_PARQUET_COLUMNS = ("event_id", "event_type", "event_time", "consumer")
# Lines this close to the cap take the exact reader, which owns the over-long-line rule.
_LINE_CAP_MARGIN = 16
# A line parsed into something with a contract field (try() gave NULLs otherwise).
_PARSED_SQL = "coalesce(event_id, event_type, event_time) is not null or consumer is not null"
_WHITESPACE_SQL = "'" + ASCII_WHITESPACE.replace("\n", "' || chr(10) || '") + "'"


# Each source gives (line_number, line, proof_line): the text the exact path would see, and
# the text the proof parses (the same for NDJSON).
_NDJSON_LINES_SQL = """
    select ordinality as line_number, line, line as proof_line
    from read_csv(
        $path, columns = {'line': 'VARCHAR'}, header = false, auto_detect = false,
        delim = chr(1), quote = '', escape = '', new_line = '\\n', strict_mode = true,
        compression = $compression, max_line_size = $max_line_size
    ) with ordinality
"""

# `proof_line` drops null members (Parquet writes every column), which changes no value the
# exact path would read: it treats a null like an absent field. With $exact_only it is NULL, so
# no row is proven and every row takes the exact validation.
_PARQUET_ROWS_SQL = """
    select
        line_number,
        line,
        case when not $exact_only then regexp_replace(
            regexp_replace(line, ',"[^"]*":null', '', 'g'), '\\{"[^"]*":null,?', '{', 'g'
        ) end as proof_line
    from (
        select
            rows.file_row_number + 1 as line_number,
            json_remove(to_json(rows), '$.file_row_number')::varchar as line
        from read_parquet($path, file_row_number = true) as rows
    )
"""


def check_ndjson(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    file_format: str,
    window: dict,
    expected_lines: int | None,
    *,
    lines_first: bool = False,
) -> bool:
    """Read and check the whole file into temp table _fast; False if DuckDB cannot split it.

    The CSV reader with one column, no quoting and strict mode gives each line with its number,
    blank lines as NULL, in one pass over the file. It refuses what only the exact reader
    handles right: invalid UTF-8, CR line ends, control characters, over-long lines, corrupt
    gzip. Run it outside a transaction: a reader error would abort one. `expected_lines` (the
    count taken while hashing) must match: a reader that saw fewer lines proves nothing.

    Read that way, the file is checked on one core. `lines_first` stores the lines first, so
    the checks run on every core: 2.4 s against 3.3 s for a file of 333k events loaded alone (a
    new day), for about 0.2 CPU-s more. Files read side by side keep both cores busy already:
    there it would only cost.
    """
    params = {
        "path": str(path),
        "compression": "gzip" if file_format == "ndjson.gz" else "none",
        "max_line_size": MAX_LINE_BYTES,
    }
    try:
        if lines_first:
            con.execute(f"create or replace temp table _read as {_NDJSON_LINES_SQL}", params)
            checks = f"create or replace temp table _fast as {fast_checks_sql('select * from _read')}"
            try:
                con.execute(checks, window)
            finally:
                con.execute("drop table _read")
        else:
            checks = f"create or replace temp table _fast as {fast_checks_sql(_NDJSON_LINES_SQL)}"
            con.execute(checks, {**params, **window})
    except duckdb.Error:
        return False
    longest, lines = con.execute("select coalesce(max(line_bytes), 0), count(*) from _fast").fetchall()[0]
    return longest <= MAX_LINE_BYTES - _LINE_CAP_MARGIN and expected_lines in (None, lines)


def check_parquet(
    con: duckdb.DuckDBPyConnection, path: Path, window: dict, *, exact_only: bool = False
) -> None:
    """Parquet rows, as the JSON text the exact path validates, checked into temp table _fast."""
    try:
        columns = {
            row[0] for row in con.execute("describe select * from read_parquet(?)", [str(path)]).fetchall()
        }
    except duckdb.Error as exc:
        raise FileRejectedError(f"not a readable Parquet file: {exc}") from exc
    missing = [c for c in REQUIRED_PARQUET_COLUMNS if c not in columns]
    if missing:
        raise FileRejectedError(f"incompatible Parquet schema: missing column(s) {', '.join(missing)}")
    params = {"path": str(path), "exact_only": exact_only, **window}
    try:
        con.execute(f"create or replace temp table _fast as {fast_checks_sql(_PARQUET_ROWS_SQL)}", params)
    except duckdb.InvalidInputException as exc:  # a corrupt body behind a readable footer
        raise FileRejectedError(f"not a readable Parquet file: {exc}") from exc


def _leaf(f: Field) -> str:
    return f"j_{f.column}"


def _string_text_sql(f: Field) -> str:
    """The text inside a JSON string leaf: no unescaping needed, proven lines have no backslash."""
    return f"case when starts_with({_leaf(f)}, '\"') then substr({_leaf(f)}, 2, length({_leaf(f)}) - 2) end"


def _string_text(f: Field) -> str:
    return f"s_{f.column}"


_TEXT_KINDS = ("string", "timestamp")


def _value_sql(f: Field) -> str:
    if f.kind == "string":
        return _string_text(f)
    if f.kind == "integer":
        return f"try_cast({_leaf(f)} as bigint)"
    if f.kind == "number":
        return f"try_cast({_leaf(f)} as double)"
    return timestamp_value_sql(_string_text(f))


def _type_proven_sql(f: Field) -> str:
    value = f"v_{f.column}"
    if f.kind == "integer":
        # Round trip: 200 is an integer; 200.0, 2e2, "200" and out-of-range values are not.
        return f"({_leaf(f)} is null or cast({value} as varchar) = {_leaf(f)})"
    return f"({_leaf(f)} is null or {value} is not null)"


def _fingerprint_text(f: Field) -> str:
    """What the exact path's json_extract_string gives for this leaf."""
    return _string_text(f) if f.kind in _TEXT_KINDS else _leaf(f)


def _expected_colons_sql() -> str:
    present = [f"({_leaf(f)} is not null)::int" for f in FIELDS]
    for name in NESTED_OBJECTS:
        leaves = " or ".join(f"{_leaf(f)} is not null" for f in FIELDS if f.path[0] == name)
        present.append(f"({leaves})::int")
    texts = ", ".join(_string_text(f) for f in FIELDS if f.kind in _TEXT_KINDS)
    # strlen counts bytes in constant time; a colon is one byte in UTF-8.
    in_values = f"strlen(concat({texts})) - strlen(replace(concat({texts}), ':', ''))"
    return " + ".join(present) + f" + {in_values}"


def _keys_proven_sql() -> str:
    """No duplicate key at the top or in a contract object, and each of those is an object."""
    objects = ", ".join(f"'$.{name}'" for name in NESTED_OBJECTS)
    return f"""(
                    not list_bool_or(list_transform(
                        json_keys(proof_line, ['$', {objects}]),
                        lambda keys: len(keys) <> len(list_distinct(keys))))
                    and list_bool_and(list_transform(
                        json_type(proof_line, [{objects}]),
                        lambda t: t is null or t in ('OBJECT', 'NULL'))))"""


def _rules_sql() -> str:
    """The contract's rules on proven values: a line that fails any takes the exact path."""
    # Raw DEL and C1 characters are valid JSON (C0 ones are not): the exact path rejects them.
    strings = ", ".join(_string_text(f) for f in FIELDS if f.kind == "string")
    return f"""
        not regexp_matches(concat({strings}), '{CONTROL_CHARACTER_PATTERN}')
        and coalesce(v_event_id, '') <> ''
        and coalesce(v_event_type, '') <> ''
        and v_event_time between $earliest and $latest
        and coalesce(v_organization_id, '') <> ''
        and (v_event_type <> 'api_request' or (
            coalesce(v_method, '') <> ''
            and (coalesce(v_endpoint, '') <> '' or coalesce(v_route, '') <> '')
            and v_status_code between 100 and 599
            and v_request_duration_ms between 0 and {MAX_PLAUSIBLE_DURATION_MS}
            and coalesce(v_request_bytes, 0) >= 0
            and coalesce(v_response_bytes, 0) >= 0))
        and (v_event_type <> 'quota_set' or v_monthly_call_limit >= 0)
        and (v_event_type not in ('key_issued', 'key_revoked') or coalesce(v_api_key_id, '') <> '')"""


def fast_checks_sql(source: str) -> str:
    """SELECT over the source's lines: typed v_* columns, is_blank and is_proven."""
    leaves = ",\n        ".join(f"{f.dotted}::varchar as {_leaf(f)}" for f in FIELDS)
    texts = ",\n        ".join(
        f"{_string_text_sql(f)} as {_string_text(f)}" for f in FIELDS if f.kind in _TEXT_KINDS
    )
    values = ",\n        ".join(f"{_value_sql(f)} as v_{f.column}" for f in FIELDS)
    types_proven = "\n        and ".join(_type_proven_sql(f) for f in FIELDS)
    fingerprint = ", ".join(_fingerprint_text(f) for f in FIELDS if f.column not in FINGERPRINT_EXCLUDED)
    return f"""
-- One JSON parse per line; unnest spreads the struct into columns without parsing again.
with parsed as (
    select
        line_number,
        line,
        proof_line,
        -- A backslash means escapes, whose text needs the exact path's own unescaping. try()
        -- turns a line that does not parse into NULLs instead of failing the statement.
        unnest(case when not contains(line, '\\')
            then try(json_transform(proof_line, '{json_leaf_structure()}')) end)
    from ({source}) as source_lines
),
leaves as (
    select
        line_number,
        line,
        proof_line,
        case
            when {_PARSED_SQL} then false
            when line is null then true
            else trim(line, {_WHITESPACE_SQL}) = ''
        end as is_blank,
        {_PARSED_SQL} as is_parsed,
        {leaves}
    from parsed
),
texts as (
    select
        *,
        {texts}
    from leaves
),
typed as (
    select
        *,
        {values}
    from texts
),
proven as (
    select
        *,
        coalesce(
            is_parsed
            and {types_proven}
            and {_rules_sql()}
            and case
                when not is_parsed then false  -- (CASE keeps the parse below off broken lines)
                when strlen(proof_line) - strlen(replace(proof_line, ':', '')) = {_expected_colons_sql()}
                    then true
                -- Unknown fields or explicit nulls: a second parse looks at the keys themselves.
                else {_keys_proven_sql()}
            end,
            false
        ) as is_proven,
        md5([{fingerprint}]::varchar) as payload_md5
    from typed
)
-- Only what the inserts need: the line's text is kept for the exact path's doubtful lines only.
select
    line_number,
    is_blank,
    is_proven,
    case when not is_proven then line end as line,
    strlen(line) as line_bytes,
    {", ".join(f"v_{f.column}" for f in FIELDS)},
    payload_md5
from proven
"""


# Lines the proof could not vouch for, as the exact validation expects them (text trimmed the
# way the exact reader trims, so snippets and reasons are the same).
DOUBTFUL_LINES_SQL = f"""
create or replace temp table _lines as
select line_number, trim(line, {_WHITESPACE_SQL}) as line, null::varchar as pre_reason
from _fast
where not is_proven and not is_blank
"""

FAST_COUNTS_SQL = f"""
select
    count(*),
    count(*) filter (where is_blank),
    count(*) filter (where is_proven),
    count(*) filter (where is_proven and v_event_type not in
        ({KNOWN_EVENT_TYPES_SQL}))
from _fast
"""
