"""The one definition of the raw event schema (docs/contract.md section 1).

Each contract field appears here once: its raw.events column, its JSON path and its kind. The
table DDL, the loader's named insert and the typed struct the fast reader parses into are all
derived from this list, so a new field is one line here (plus its use in staging).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

# Kind -> (DuckDB type of the raw.events column, what the reject reason says a value must be).
_KINDS = {
    "string": ("varchar", "a string"),
    "integer": ("bigint", "an integer"),
    "number": ("double", "a number"),
    "timestamp": ("timestamp", "an RFC 3339 time"),
}


@dataclass(frozen=True)
class Field:
    """One contract field: the raw.events column, its JSON path and its kind."""

    column: str
    path: tuple[str, ...]
    kind: str  # string, integer, number, timestamp
    required: bool = False  # NOT NULL in raw.events (required for every event type)
    column_type: str | None = None  # overrides the kind's type (status codes fit an integer)
    # Written by whatever sends it, with no shape of its own: IP-like values in it are masked
    # at load (docs/contract.md section 1), as in reject snippets.
    free_text: bool = False

    @property
    def dotted(self) -> str:
        return ".".join(self.path)

    @property
    def sql_type(self) -> str:
        return self.column_type or _KINDS[self.kind][0]

    @property
    def expected(self) -> str:
        return _KINDS[self.kind][1]

    @property
    def stored_column(self) -> str:
        """The column in raw.events: personal data is stored only as a salted hash."""
        return "network_ip_hash" if self.column == "network_ip" else self.column


# The order is part of the payload fingerprint (payload_md5): append new fields, never reorder.
FIELDS: tuple[Field, ...] = (
    Field("event_id", ("event_id",), "string", required=True),
    Field("event_type", ("event_type",), "string", required=True),
    Field("event_time", ("event_time",), "timestamp", required=True),
    Field("received_at", ("received_at",), "timestamp"),
    Field("request_id", ("request_id",), "string"),
    Field("idempotency_key", ("idempotency_key",), "string"),
    Field("organization_id", ("consumer", "organization_id"), "string", required=True),
    Field("developer_id", ("consumer", "developer_id"), "string"),
    Field("application_id", ("consumer", "application_id"), "string"),
    Field("api_key_id", ("consumer", "api_key_id"), "string"),
    Field("plan_id", ("consumer", "plan_id"), "string"),
    Field("method", ("api", "method"), "string"),
    Field("endpoint", ("api", "endpoint"), "string"),
    Field("route", ("api", "route"), "string"),
    Field("api_version", ("api", "version"), "string"),
    Field("status_code", ("result", "status_code"), "integer", column_type="integer"),
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
    Field("user_agent", ("client", "user_agent"), "string", free_text=True),
    Field("monthly_call_limit", ("quota", "monthly_call_limit"), "integer"),
    Field("quota_plan_id", ("quota", "plan_id"), "string"),
)
FIELD = {f.column: f for f in FIELDS}
# The objects the contract nests fields in (consumer, api, ...), in first-seen order.
NESTED_OBJECTS = tuple(dict.fromkeys(f.path[0] for f in FIELDS if len(f.path) > 1))
# The payload fingerprint leaves out what differs between honest redeliveries.
FINGERPRINT_EXCLUDED = ("network_ip", "received_at")
KNOWN_EVENT_TYPES = ("api_request", "quota_set", "key_issued", "key_revoked")
# The same list as a SQL literal list, for the loader's "unknown event type" counts.
KNOWN_EVENT_TYPES_SQL = ", ".join(f"'{t}'" for t in KNOWN_EVENT_TYPES)

# Where each row came from; they lead the table, the contract fields follow.
LINEAGE_COLUMNS = (
    ("load_id", "bigint not null"),
    ("source_file", "varchar not null"),
    ("source_line", "bigint not null"),
    ("loaded_at", "timestamp not null"),
)


def events_table_ddl() -> str:
    """`create table raw.events`: lineage, every contract field, then the payload fingerprint."""
    columns = [f"{name} {sql_type}" for name, sql_type in LINEAGE_COLUMNS]
    columns += [f"{f.stored_column} {f.sql_type}{' not null' if f.required else ''}" for f in FIELDS]
    columns.append("payload_md5 varchar not null")
    body = ",\n    ".join(columns)
    return f"create table if not exists raw.events (\n    {body}\n);"


def json_leaf_structure() -> str:
    """The structure for json_transform that takes every contract leaf as raw JSON text."""
    tree: dict = {}
    for f in FIELDS:
        node = tree
        for part in f.path[:-1]:
            node = node.setdefault(part, {})
        node[f.path[-1]] = "JSON"
    return json.dumps(tree)


_MANIFEST_DDL = """
create schema if not exists raw;

-- One row per distinct file content ever seen: the load manifest (exactly-once by sha256).
create table if not exists raw.loaded_files (
    load_id bigint primary key,
    file_sha256 varchar not null unique,
    path varchar not null,
    size_bytes bigint not null,
    file_format varchar not null,       -- ndjson, ndjson.gz, parquet, unknown
    status varchar not null,            -- loaded, empty, failed
    lines bigint not null,
    events bigint not null,
    rejects bigint not null,
    blank_lines bigint not null,
    unknown_type_events bigint not null,
    error varchar,
    loaded_at timestamp not null
);
-- Lets a rerun skip an unchanged file without reading it (path, size and mtime all equal).
alter table raw.loaded_files add column if not exists mtime_ns bigint;
"""

_REJECTS_DDL = """
-- One row per line that broke the contract: never silently dropped.
create table if not exists raw.event_rejects (
    load_id bigint not null,
    source_file varchar not null,
    file_sha256 varchar not null,
    line_number bigint not null,
    reason varchar not null,
    snippet varchar,
    rejected_at timestamp not null
);
"""


# The erasure list (orchestration/loading/erasure_list.py): hashes of erased ids, never the ids.
_ERASED_SUBJECTS_DDL = """
create table if not exists raw.erased_subjects (
    subject_kind varchar not null,  -- organization or developer
    id_hash varchar not null,       -- sha256(IP_HASH_SALT || kind || ':' || id)
    erased_at timestamp not null,
    primary key (subject_kind, id_hash)
);
"""


# Retention per field class (orchestration/privacy/retention.py): each seal, never changed.
_RETENTION_SEALS_DDL = """
create table if not exists raw.retention_seals (
    field_class varchar not null,   -- call_payloads or ip_hashes
    sealed_through date not null,   -- the last day of the class past retention
    as_of_date date not null,       -- the as-of date it was counted back from
    rows_changed bigint not null,   -- rows deleted (payloads) or hashes nulled, every table
    sealed_at timestamp not null
);
"""


def ensure_raw_schema(con) -> None:
    """Create (or bring up to date) the raw schema the loader writes."""
    con.execute(_MANIFEST_DDL)
    # One row per valid input line, typed and flattened; network.ip only as a salted hash.
    con.execute(events_table_ddl())
    con.execute(_REJECTS_DDL)
    con.execute(_ERASED_SUBJECTS_DDL)
    con.execute(_RETENTION_SEALS_DDL)
