"""Opening the DuckDB warehouse and creating the raw schema the loader writes."""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb

from orchestration.errors import UserError

DEFAULT_MEMORY_LIMIT = "2GB"

# Every Dagster asset or op that writes the DuckDB file uses this pool (limit 1 in dagster.yaml):
# DuckDB allows one writing process at a time.
DUCKDB_WRITER_POOL = "duckdb_writer"
# Runs with this tag queue behind each other (dagster.yaml run tag limit 1), so a scheduled
# refresh, a manual one and a delivery run never race for the file.
WAREHOUSE_WRITER_TAGS = {"warehouse_writer": "duckdb"}

RAW_SCHEMA_DDL = """
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

-- One row per valid input line, typed and flattened; network.ip only as a salted hash.
create table if not exists raw.events (
    load_id bigint not null,
    source_file varchar not null,
    source_line bigint not null,
    loaded_at timestamp not null,
    event_id varchar not null,
    event_type varchar not null,
    event_time timestamp not null,
    received_at timestamp,
    organization_id varchar not null,
    developer_id varchar,
    application_id varchar,
    api_key_id varchar,
    plan_id varchar,
    request_id varchar,
    idempotency_key varchar,
    method varchar,
    endpoint varchar,
    route varchar,
    api_version varchar,
    status_code integer,
    error_type varchar,
    cache_status varchar,
    request_duration_ms double,
    upstream_ms double,
    request_bytes bigint,
    response_bytes bigint,
    network_region varchar,
    network_ip_hash varchar,
    network_country varchar,
    sdk_version varchar,
    user_agent varchar,
    monthly_call_limit bigint,
    quota_plan_id varchar,
    payload_md5 varchar not null
);

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


class WarehouseBusyError(UserError, RuntimeError):
    """Another process holds the DuckDB file (DuckDB allows one writer, or many readers)."""


def lock_holder(duckdb_message: str) -> str:
    """Who holds the lock, from DuckDB's message ("... held in /usr/bin/python3 (PID 42) ...")
    and the holder's command line, so the user knows which process to wait for or stop."""
    found = re.search(r"\(PID (\d+)\)", duckdb_message)
    if not found:
        return "another process (a pipeline run or an open session)"
    pid = found.group(1)
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        command = " ".join(part.decode(errors="replace") for part in argv if part)
    except OSError:
        command = ""
    if len(command) > 120:
        command = command[:119] + "…"
    return f"process {pid} ({command})" if command else f"process {pid}"


def connect(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection with UTC as session zone (naive timestamps are otherwise read locally)."""
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        raise WarehouseBusyError(
            f"{path} is in use by {lock_holder(str(exc))}; wait for it to finish and retry"
        ) from exc
    con.execute("set TimeZone = 'UTC'")
    # Bounded memory on big loads: DuckDB spills to <file>.tmp/ past this (default: 80% of RAM).
    con.execute("set memory_limit = ?", [os.environ.get("DUCKDB_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)])
    return con


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(RAW_SCHEMA_DDL)
