"""The erasure list: events of an erased organization or developer are dropped at load.

raw.erased_subjects keeps a salted hash of each erased id, never the id: the salt is
IP_HASH_SALT, the secret outside the warehouse, so the list alone cannot be reversed by trying
ids. Each new file's events are compared with it inside the file's transaction; a match becomes
a reject with the reason `erased` and no snippet (`apiwh erase`, orchestration/privacy).
"""

from __future__ import annotations

import duckdb

from orchestration.loading.kept_out import move_events_to_rejects

# The kinds of subject, and the raw.events column that names one.
SUBJECT_COLUMNS = {"organization": "organization_id", "developer": "developer_id"}
ERASED_REASON = "erased"


def id_hash_sql(kind: str, id_sql: str) -> str:
    """The erasure list's hash of an id, in SQL ($salt is bound by the caller)."""
    return f"sha256($salt || '{kind}:' || {id_sql})"


# An event is erased when either of its ids is on the list.
_ERASED_EVENT_SQL = " or ".join(
    f"{id_hash_sql(kind, column)} in (select id_hash from raw.erased_subjects where subject_kind = '{kind}')"
    for kind, column in SUBJECT_COLUMNS.items()
)


def drop_erased_events(con: duckdb.DuckDBPyConnection, params: dict) -> tuple[int, int]:
    """Inside a file's transaction: the events of an erased subject become rejects with the
    reason `erased` and no snippet. Returns (erased, of which unknown type)."""
    (listed,) = con.execute("select count(*) from raw.erased_subjects").fetchall()[0]
    if not listed:
        return 0, 0
    return move_events_to_rejects(con, params, _ERASED_EVENT_SQL, ERASED_REASON, {"salt": params["salt"]})
