"""The contract's rules for one line, in DuckDB SQL, and the statements that store the outcome.

`exact_checks_sql()` is the reference: it parses each line and gives every line either typed
values or the reasons it breaks the contract (docs/contract.md section 1). The fast reader
(fast_path.py) only decides which lines it can prove clean; every other line comes here.
"""

from __future__ import annotations

import datetime as dt

from orchestration.loading.lines import SNIPPET_CHARS
from orchestration.loading.schema import FIELD, FIELDS, FINGERPRINT_EXCLUDED, NESTED_OBJECTS, Field

EARLIEST_PLAUSIBLE_EVENT = dt.datetime(2000, 1, 1)
# Clock skew tolerated for events stamped in the future, relative to the load time.
FUTURE_TOLERANCE = dt.timedelta(days=1)
# A request longer than a day is a unit or clock bug upstream, not a slow call.
MAX_PLAUSIBLE_DURATION_MS = 86_400_000
# RFC 3339 date-time; the offset is optional (a time without one is UTC).
RFC3339_PATTERN = r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*([Zz]|[+-]\d{2}(:?\d{2})?)?"
# C0 controls, DEL and C1 controls: in an id or a text field they would steer a terminal (ESC),
# ring it (BEL) or break a renderer, so such a line is rejected (docs/contract.md section 1).
CONTROL_CHARACTER_PATTERN = r"[\x00-\x1F\x7F-\x{9F}]"


def plausible_window(now: dt.datetime) -> dict[str, dt.datetime]:
    """Bound parameters $earliest and $latest for event_time."""
    return {"earliest": EARLIEST_PLAUSIBLE_EVENT, "latest": now + FUTURE_TOLERANCE}


def timestamp_value_sql(text: str) -> str:
    """A string holding an RFC 3339 time as a UTC timestamp, else NULL (both paths use this)."""
    return (
        f"case when regexp_full_match({text}, '{RFC3339_PATTERN}') "
        f"then try_cast({text} as timestamptz) at time zone 'UTC' end"
    )


def _position(f: Field) -> int:
    return FIELDS.index(f) + 1


def _json_type(f: Field) -> str:
    """The JSON type of the field's value (NULL when absent): one parse per line for all fields."""
    return f"leaf_types[{_position(f)}]"


def _text(f: Field) -> str:
    return f"leaf_texts[{_position(f)}]"


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
    return f"case when {jtype} = 'VARCHAR' then {timestamp_value_sql(text)} end"


def _type_reason_sql(f: Field) -> str:
    return (
        f"case when not {_is_absent(f)} and v_{f.column} is null then '{f.dotted} must be {f.expected}' end"
    )


# What a person calls the JSON value DuckDB's json_type names (UBIGINT is "a number").
_JSON_WORD = """case doc_type
                when 'ARRAY' then 'an array' when 'VARCHAR' then 'a string' when 'BOOLEAN' then 'a boolean'
                when 'NULL' then 'null' else 'a number' end"""


def _control_character_reasons_sql() -> str:
    """'control character in <field>' for each string field holding one, '; '-joined, or NULL.

    One match over all the fields first: a clean line pays one regexp, not one per field."""
    strings = [f for f in FIELDS if f.kind == "string"]
    all_text = "concat(" + ", ".join(f"v_{f.column}" for f in strings) + ")"
    per_field = ",\n                ".join(
        f"case when regexp_matches(v_{f.column}, '{CONTROL_CHARACTER_PATTERN}') "
        f"then 'control character in {f.dotted}' end"
        for f in strings
    )
    return f"""case when regexp_matches({all_text}, '{CONTROL_CHARACTER_PATTERN}') then concat_ws('; ',
                {per_field}) end"""


def exact_checks_sql() -> str:
    """SELECT over temp table _lines giving typed v_* columns and a `reason` ('' = valid)."""
    leaf_paths = ", ".join(f"'$.{f.dotted}'" for f in FIELDS)
    values = ",\n        ".join(f"{_value_sql(f)} as v_{f.column}" for f in FIELDS)
    object_paths = ", ".join(f"'$.{name}'" for name in NESTED_OBJECTS)
    type_reasons = ",\n            ".join(_type_reason_sql(f) for f in FIELDS)
    excluded = ", ".join(str(_position(FIELD[c])) for c in FINGERPRINT_EXCLUDED)
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
        {values},
        -- Fingerprint of the contract fields (without the IP and the collector's receive time),
        -- so a redelivery whose payload differs can be reported.
        md5(list_filter(leaf_texts, lambda text, i: i not in ({excluded}))::varchar) as payload_md5
    from shaped
),
checked as (
    select
        *,
        case
            when pre_reason is not null then pre_reason
            when doc is null and contains(line, chr(0)) then 'invalid JSON (NUL byte)'
            when doc is null then 'invalid JSON'
            when doc_type <> 'OBJECT' then 'not a JSON object (got ' || {_JSON_WORD} || ')'
            else concat_ws('; ',
            {type_reasons},
            {_control_character_reasons_sql()},
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


def _masked_ips_sql(text: str) -> str:
    return f"regexp_replace(regexp_replace({text}, '{_IPV4}', '<ip>', 'g'), '{_IPV6}', '<ip>', 'g')"


def _escaped_controls_sql(text: str) -> str:
    """Control characters written as \\uXXXX, so a snippet printed to a terminal is inert."""
    return (
        f"case when regexp_matches({text}, '{CONTROL_CHARACTER_PATTERN}') then list_aggr(list_transform("
        f"string_split({text}, ''), lambda c: case when regexp_matches(c, '{CONTROL_CHARACTER_PATTERN}') "
        f"then printf('\\u%04x', unicode(c)) else c end), 'string_agg', '') else {text} end"
    )


def _redacted_snippet_sql(column: str) -> str:
    """Rejected text as an operator may see it: IP-like values masked first, then clipped, with
    control characters escaped."""
    masked = _masked_ips_sql(f"regexp_replace({column}, '{_IP_VALUE}', '\\1\"<ip>\"', 'g')")
    return f"left({_escaped_controls_sql(f'left({masked}, {SNIPPET_CHARS})')}, {SNIPPET_CHARS})"


def _stored_value_sql(f: Field) -> str:
    if f.column == "method":
        return "upper(v_method)"  # docs/contract.md: case-insensitive, stored upper-case
    if f.column == "network_ip":
        return "case when v_network_ip is not null then sha256($salt || v_network_ip) end"
    if f.free_text:
        return _masked_ips_sql(f"v_{f.column}")
    return f"v_{f.column}"


def insert_events_sql(relation: str, valid: str) -> str:
    """Insert the valid rows of `relation` (v_* columns, line_number, payload_md5) by name."""
    values = ",\n    ".join(f"{_stored_value_sql(f)} as {f.stored_column}" for f in FIELDS)
    return f"""
insert into raw.events by name
select
    $load_id as load_id,
    $source_file as source_file,
    line_number as source_line,
    $loaded_at as loaded_at,
    {values},
    payload_md5
from {relation}
where {valid}
"""


INSERT_REJECTS_SQL = f"""
insert into raw.event_rejects
select
    $load_id, $source_file, $sha256, line_number, reason,
    {_redacted_snippet_sql("line")}, $loaded_at
from _checked
where reason <> ''
"""
