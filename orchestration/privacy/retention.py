"""Retention per field class (docs/governance.md), applied after each refresh.

- Call payloads (RAW_RETENTION_DAYS): the events of the days past it leave raw.events and the
  staging tables that copy them. Quota changes and key events are account state, not call
  payloads, and stay until erased.
- IP hashes (IP_HASH_RETENTION_DAYS): the hashes of the days past it are nulled wherever a call
  keeps one.

With N days a class keeps the as-of date the models were built for and the N-1 days before it.
Every day past either class is sealed: the last one is recorded in raw.retention_seals, the
loader rejects a late event for a sealed day (`past retention`, orchestration/loading/
sealed_days.py), incremental models never rebuild one, and a full rebuild from raw needs
`--allow-history-loss` (build_state.history_loss). The day-grain facts and marts keep the
sealed days as they were built. Each class changes in one transaction with its seal, so a
crash leaves it before or after, never half done. DuckDB reuses the freed blocks (`apiwh erase`
is the command that rewrites the file).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import duckdb

from orchestration.settings import Settings
from orchestration.warehouse import table_exists

# Where a call's payload lives (table, its day expression, whether it also holds account events):
# raw first, then its staging copies.
_CALL_TABLES = (
    ("raw.events", "cast(event_time as date)", True),
    ("staging.stg_events", "event_date", True),
    ("staging.stg_api_requests", "request_date", False),
)
# Account state, kept past call retention: the plan and key history need every one.
_STATE_EVENT_TYPES_SQL = "'quota_set', 'key_issued', 'key_revoked'"
CALL_PAYLOADS = "call_payloads"
IP_HASHES = "ip_hashes"


@dataclass(frozen=True)
class Seal:
    """What one retention pass did to one field class."""

    field_class: str
    sealed_through: dt.date
    rows_changed: int


def built_as_of(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The as-of date of the models just built (intermediate.int_as_of_date)."""
    rows = con.execute("select max(as_of_date) from intermediate.int_as_of_date").fetchall()
    return rows[0][0] if rows else None


def _previous_seal(con: duckdb.DuckDBPyConnection, field_class: str) -> dt.date | None:
    return con.execute(
        "select max(sealed_through) from raw.retention_seals where field_class = ?", [field_class]
    ).fetchall()[0][0]


def _drop_call_payloads(con: duckdb.DuckDBPyConnection, through: dt.date) -> int:
    changed = 0
    for table, day, has_account_events in _CALL_TABLES:
        keep_state = f" and event_type not in ({_STATE_EVENT_TYPES_SQL})" if has_account_events else ""
        (deleted,) = con.execute(f"delete from {table} where {day} <= ?{keep_state}", [through]).fetchone()
        changed += deleted
    return changed


def _null_ip_hashes(con: duckdb.DuckDBPyConnection, through: dt.date) -> int:
    changed = 0
    for table, day, _ in _CALL_TABLES:
        changed += con.execute(
            f"update {table} set network_ip_hash = null where {day} <= ? and network_ip_hash is not null",
            [through],
        ).fetchall()[0][0]
    return changed


_APPLY = {CALL_PAYLOADS: _drop_call_payloads, IP_HASHES: _null_ip_hashes}
_LABELS = {CALL_PAYLOADS: "call payloads", IP_HASHES: "IP hashes"}


def kept_days(settings: Settings) -> dict[str, int | None]:
    """The days each field class keeps (None: until erased)."""
    return {CALL_PAYLOADS: settings.raw_retention_days, IP_HASHES: settings.ip_hash_retention_days}


def seals_to_move(
    con: duckdb.DuckDBPyConnection, kept: Mapping[str, int | None], as_of: dt.date | None = None
) -> dict[str, dt.date]:
    """Each class whose seal would move on, counted back from the built as-of date (read here
    unless given), with the last day it would seal. A seal never moves back: an earlier as-of
    date keeps what is gone gone."""
    if all(days is None for days in kept.values()) or not table_exists(con, "intermediate", "int_as_of_date"):
        return {}
    as_of = as_of or built_as_of(con)
    sealed = table_exists(con, "raw", "retention_seals")
    moves = {}
    for field_class, days in kept.items():
        if days is None or as_of is None:
            continue
        through = as_of - dt.timedelta(days=days)
        previous = _previous_seal(con, field_class) if sealed else None
        if previous is None or through > previous:
            moves[field_class] = through
    return moves


def apply_retention(con: duckdb.DuckDBPyConnection, settings: Settings, now: dt.datetime) -> list[Seal]:
    """Each configured class whose seal moves on: its rows changed and its seal recorded, in one
    transaction. Returns the seals that moved."""
    as_of = built_as_of(con)
    seals = []
    for field_class, through in seals_to_move(con, kept_days(settings), as_of).items():
        con.execute("begin transaction")
        try:
            changed = _APPLY[field_class](con, through)
            con.execute(
                "insert into raw.retention_seals values (?, ?, ?, ?, ?)",
                [field_class, through, as_of, changed, now],
            )
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        seals.append(Seal(field_class, through, changed))
    return seals


def status_line(con: duckdb.DuckDBPyConnection, settings: Settings) -> str:
    """`apiwh status`: what each field class keeps, and how far it is sealed."""
    sealed = dict(
        con.execute(
            "select field_class, max(sealed_through) from raw.retention_seals group by all"
        ).fetchall()
        if table_exists(con, "raw", "retention_seals")
        else []
    )
    parts = []
    for field_class, days in kept_days(settings).items():
        kept = "until erased" if days is None else f"{days} days"
        through = sealed.get(field_class)
        parts.append(f"{_LABELS[field_class]} {kept}" + (f" (gone through {through})" if through else ""))
    return "Retention: " + ", ".join(parts)
