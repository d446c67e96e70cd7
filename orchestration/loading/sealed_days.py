"""Sealed days: a late event for a day past retention is rejected at load (`past retention`).

Retention (orchestration/privacy/retention.py) drops the call payloads or nulls the IP hashes of
the days past it, and records the last such day in raw.retention_seals. Those days are never
rebuilt from raw again, so an event that arrives for one cannot be folded in: it is kept out,
visibly, as a reject with no snippet (orchestration/loading/kept_out.py).
"""

from __future__ import annotations

import datetime as dt

import duckdb

from orchestration.loading.kept_out import move_events_to_rejects
from orchestration.warehouse import table_exists

PAST_RETENTION_REASON = "past retention"


def last_sealed_day(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The last day past retention of any field class, or None when nothing is sealed."""
    if not table_exists(con, "raw", "retention_seals"):
        return None
    return con.execute("select max(sealed_through) from raw.retention_seals").fetchall()[0][0]


def drop_events_of_sealed_days(con: duckdb.DuckDBPyConnection, params: dict) -> tuple[int, int]:
    """The file's events of a sealed day become `past retention` rejects: (moved, unknown type)."""
    sealed = last_sealed_day(con)
    if sealed is None:
        return 0, 0
    where = "cast(event_time as date) <= $sealed_through"
    return move_events_to_rejects(con, params, where, PAST_RETENTION_REASON, {"sealed_through": sealed})
