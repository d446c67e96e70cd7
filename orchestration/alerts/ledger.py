"""The alert ledger marts.alerts: an outbox keyed by alert_key (docs/contract.md "Alerts").

dbt never touches this table (it only builds marts.alert_candidates); it is created here if
missing and only ever grows by `insert ... on conflict do nothing`, so reruns and replays never
record a key twice. Delivery state lives on the row: status pending -> delivered, or dead after
too many failed attempts. Beside it, marts.alert_deliveries keeps each destination's own attempts
and last error (one row per alert and destination tried). Plain functions over a DuckDB
connection, no Dagster.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from orchestration.warehouse import table_exists

LEDGER_TABLE = "marts.alerts"
DELIVERIES_TABLE = "marts.alert_deliveries"
CANDIDATES_TABLE = "marts.alert_candidates"
STATUSES = ("pending", "delivered", "dead")
MAX_ERROR_CHARS = 500

LEDGER_DDL = """
create schema if not exists marts;

create table if not exists marts.alerts (
    alert_key varchar primary key,
    alert_type varchar not null,
    organization_id varchar,
    threshold integer,
    detail json not null,
    as_of_date date not null,
    created_at timestamp not null,
    status varchar not null default 'pending',  -- pending, delivered, dead
    delivered_at timestamp,
    delivery_attempts integer not null default 0,
    last_error varchar,
    last_attempt_at timestamp,
    next_attempt_at timestamp,
    delivered_sinks varchar[] not null default []  -- sinks that accepted it (no re-send there)
);

create table if not exists marts.alert_deliveries (
    alert_key varchar not null,
    destination varchar not null,  -- a sink: file, webhook or a destination of ALERT_ROUTES_FILE
    attempts integer not null default 0,  -- sends tried there, the accepted one included
    last_error varchar,  -- its last failure (kept after a later success)
    last_attempt_at timestamp,
    delivered_at timestamp,  -- when it accepted the alert; null while it is owed
    primary key (alert_key, destination)
);
"""

_COLUMNS = (
    "alert_key, alert_type, organization_id, threshold, detail, as_of_date, created_at, status, "
    "delivered_at, delivery_attempts, last_error, last_attempt_at, next_attempt_at, "
    "delivered_sinks"
)


class CandidatesMissingError(RuntimeError):
    """marts.alert_candidates has not been built (run dbt build first)."""


@dataclass(frozen=True)
class Alert:
    alert_key: str
    alert_type: str
    organization_id: str | None
    threshold: int | None
    detail: dict[str, Any]
    as_of_date: dt.date | None
    created_at: dt.datetime | None = None
    status: str = "pending"
    delivered_at: dt.datetime | None = None
    delivery_attempts: int = 0
    last_error: str | None = None
    last_attempt_at: dt.datetime | None = None
    next_attempt_at: dt.datetime | None = None
    delivered_sinks: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class RecordResult:
    new_keys: list[str]
    pending: int
    dead: int
    total: int


def utc_now() -> dt.datetime:
    """Naive UTC, as stored in DuckDB TIMESTAMP columns."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def ensure_ledger(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(LEDGER_DDL)


def record_new_alerts(
    con: duckdb.DuckDBPyConnection, *, now: dt.datetime, held_back: str | None = None
) -> RecordResult:
    """Insert every candidate whose key the ledger has not seen; return the new keys. With
    `held_back` (a reason), they are recorded dead with that reason: never sent unless revived."""
    if not table_exists(con, "marts", "alert_candidates"):
        raise CandidatesMissingError(
            f"{CANDIDATES_TABLE} does not exist: build the dbt models first (dbt build)"
        )
    con.execute("begin transaction")
    try:
        ensure_ledger(con)
        rows = con.execute(
            f"""
            insert into {LEDGER_TABLE} (
                alert_key, alert_type, organization_id, threshold, detail, as_of_date,
                created_at, status, delivery_attempts, next_attempt_at, last_error
            )
            select
                alert_key, alert_type, organization_id, threshold, detail, as_of_date,
                $now, $status, 0, $now, $reason
            from {CANDIDATES_TABLE}
            order by alert_key
            on conflict do nothing
            returning alert_key
            """,
            {"now": now, "status": "dead" if held_back else "pending", "reason": held_back},
        ).fetchall()
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    counts = status_counts(con)
    return RecordResult(
        new_keys=sorted(key for (key,) in rows),
        pending=counts["pending"],
        dead=counts["dead"],
        total=sum(counts.values()),
    )


def record_alert(con: duckdb.DuckDBPyConnection, alert: Alert, *, now: dt.datetime) -> bool:
    """Insert one alert made outside dbt (refresh_failed) unless its key is known; True if new."""
    ensure_ledger(con)
    rows = con.execute(
        f"""
        insert into {LEDGER_TABLE} (
            alert_key, alert_type, organization_id, threshold, detail, as_of_date,
            created_at, status, delivery_attempts, next_attempt_at
        )
        values (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?)
        on conflict do nothing
        returning alert_key
        """,
        [
            alert.alert_key,
            alert.alert_type,
            alert.organization_id,
            alert.threshold,
            json.dumps(alert.detail, default=str),
            alert.as_of_date,
            alert.created_at or now,
            now,
        ],
    ).fetchall()
    return bool(rows)


def get_alert(con: duckdb.DuckDBPyConnection, alert_key: str) -> Alert | None:
    if not table_exists(con, "marts", "alerts"):
        return None
    rows = con.execute(f"select {_COLUMNS} from {LEDGER_TABLE} where alert_key = ?", [alert_key]).fetchall()
    return _alert_from_row(rows[0]) if rows else None


def status_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    if not table_exists(con, "marts", "alerts"):
        return counts
    for status, n in con.execute(f"select status, count(*) from {LEDGER_TABLE} group by status").fetchall():
        counts[status] = n
    return counts


def _alert_from_row(row: Sequence[Any]) -> Alert:
    values = list(row)
    detail = values[4]
    values[4] = json.loads(detail) if isinstance(detail, str) else (detail or {})
    values[13] = tuple(values[13] or ())
    return Alert(*values)


def list_alerts(con: duckdb.DuckDBPyConnection, *, statuses: Iterable[str] | None = None) -> list[Alert]:
    """The ledger, oldest first; optionally only some statuses. [] when it does not exist."""
    if not table_exists(con, "marts", "alerts"):
        return []
    wanted = list(statuses) if statuses is not None else list(STATUSES)
    rows = con.execute(
        f"""
        select {_COLUMNS} from {LEDGER_TABLE}
        where list_contains(?::varchar[], status)
        order by created_at, alert_key
        """,
        [wanted],
    ).fetchall()
    return [_alert_from_row(row) for row in rows]


def due_alerts(con: duckdb.DuckDBPyConnection, *, now: dt.datetime) -> list[Alert]:
    """Pending alerts whose backoff has passed, oldest first."""
    ensure_ledger(con)
    rows = con.execute(
        f"""
        select {_COLUMNS} from {LEDGER_TABLE}
        where status = 'pending' and (next_attempt_at is null or next_attempt_at <= ?)
        order by created_at, alert_key
        """,
        [now],
    ).fetchall()
    return [_alert_from_row(row) for row in rows]


def backoff_delay(attempts: int, *, base_seconds: float, max_seconds: float) -> dt.timedelta:
    """Exponential backoff after `attempts` failed attempts: base, 2*base, 4*base, ... capped."""
    if attempts <= 0 or base_seconds <= 0:
        return dt.timedelta(0)
    seconds = min(base_seconds * 2 ** min(attempts - 1, 32), max_seconds)
    return dt.timedelta(seconds=seconds)


def mark_delivered(
    con: duckdb.DuckDBPyConnection, alert_key: str, *, sinks: Sequence[str], now: dt.datetime
) -> None:
    con.execute(
        f"""
        update {LEDGER_TABLE}
        set status = 'delivered', delivered_at = ?, last_attempt_at = ?,
            next_attempt_at = null, delivered_sinks = ?,
            -- every attempt counts, the successful one too (docs/contract.md "Alerts")
            delivery_attempts = delivery_attempts + 1
        where alert_key = ?
        """,
        [now, now, list(sinks), alert_key],
    )


def mark_partial(con: duckdb.DuckDBPyConnection, alert_key: str, *, sinks: Sequence[str]) -> None:
    """Remember the sinks that accepted it, without counting an attempt (none was made)."""
    con.execute(
        f"update {LEDGER_TABLE} set delivered_sinks = ? where alert_key = ?",
        [list(sinks), alert_key],
    )


def mark_failed(
    con: duckdb.DuckDBPyConnection,
    alert_key: str,
    *,
    error: str,
    sinks: Sequence[str],
    now: dt.datetime,
    max_attempts: int,
    backoff_seconds: float,
    backoff_max_seconds: float,
) -> str:
    """Count a failed attempt, keep the error, schedule the retry or give up; return the status."""
    (attempts,) = con.execute(
        f"select delivery_attempts from {LEDGER_TABLE} where alert_key = ?", [alert_key]
    ).fetchall()[0]
    attempts += 1
    status = "dead" if attempts >= max_attempts else "pending"
    next_attempt_at = (
        None
        if status == "dead"
        else now + backoff_delay(attempts, base_seconds=backoff_seconds, max_seconds=backoff_max_seconds)
    )
    con.execute(
        f"""
        update {LEDGER_TABLE}
        set status = ?, delivery_attempts = ?, last_error = ?, last_attempt_at = ?,
            next_attempt_at = ?, delivered_sinks = ?
        where alert_key = ?
        """,
        [status, attempts, error[:MAX_ERROR_CHARS], now, next_attempt_at, list(sinks), alert_key],
    )
    return status


def record_delivery_attempt(
    con: duckdb.DuckDBPyConnection, alert_key: str, destination: str, *, error: str | None, now: dt.datetime
) -> None:
    """Count one send of the alert to one destination: accepted (error None) or why not."""
    con.execute(
        f"""
        insert into {DELIVERIES_TABLE} as d (
            alert_key, destination, attempts, last_error, last_attempt_at, delivered_at
        )
        values (?, ?, 1, ?, ?, ?)
        on conflict (alert_key, destination) do update set
            attempts = d.attempts + 1,
            last_error = coalesce(excluded.last_error, d.last_error),
            last_attempt_at = excluded.last_attempt_at,
            delivered_at = coalesce(excluded.delivered_at, d.delivered_at)
        """,
        [
            alert_key,
            destination,
            None if error is None else error[:MAX_ERROR_CHARS],
            now,
            None if error else now,
        ],
    )


@dataclass(frozen=True)
class DestinationState:
    alert_key: str
    destination: str
    attempts: int
    last_error: str | None
    last_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None


def destination_states(con: duckdb.DuckDBPyConnection) -> dict[str, list[DestinationState]]:
    """Alert key -> its destinations' rows of marts.alert_deliveries ({} when there is none)."""
    if not table_exists(con, "marts", "alert_deliveries"):
        return {}
    rows = con.execute(
        f"""
        select alert_key, destination, attempts, last_error, last_attempt_at, delivered_at
        from {DELIVERIES_TABLE}
        order by alert_key, last_attempt_at, destination
        """
    ).fetchall()
    states: dict[str, list[DestinationState]] = {}
    for row in rows:
        states.setdefault(row[0], []).append(DestinationState(*row))
    return states


def revive_dead(con: duckdb.DuckDBPyConnection, *, now: dt.datetime) -> int:
    """Give dead alerts a fresh set of attempts (an operator's decision, e.g. after a fix)."""
    ensure_ledger(con)
    rows = con.execute(
        f"""
        update {LEDGER_TABLE}
        set status = 'pending', delivery_attempts = 0, next_attempt_at = ?
        where status = 'dead'
        returning alert_key
        """,
        [now],
    ).fetchall()
    return len(rows)
