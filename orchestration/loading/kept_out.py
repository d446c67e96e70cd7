"""Events a file carries that the warehouse must not keep, turned into rejects at load.

Inside the file's transaction, after its events were stored: the events matching a rule leave
raw.events and become rejects with the rule's reason and no snippet (the payload is exactly what
must not be kept), so the file's counts stay lines = events + rejects + blank. The rules: an
erased organization or developer (erasure_list.py, `erased`) and a day past retention
(sealed_days.py, `past retention`).
"""

from __future__ import annotations

import duckdb

from orchestration.loading.schema import KNOWN_EVENT_TYPES_SQL


def move_events_to_rejects(
    con: duckdb.DuckDBPyConnection, params: dict, where_sql: str, reason: str, bound: dict
) -> tuple[int, int]:
    """The file's events matching `where_sql` (its $names in `bound`) become rejects with
    `reason`. Returns (moved, of which of an unknown event type)."""
    bound = {**bound, "load_id": params["load_id"]}
    moved, unknown = con.execute(
        f"""
        select count(*), count(*) filter (where event_type not in ({KNOWN_EVENT_TYPES_SQL}))
        from raw.events where load_id = $load_id and ({where_sql})
        """,
        bound,
    ).fetchall()[0]
    if not moved:
        return 0, 0
    con.execute(
        f"""
        insert into raw.event_rejects
        select load_id, source_file, $sha256, source_line, '{reason}', null, loaded_at
        from raw.events where load_id = $load_id and ({where_sql})
        """,
        {**bound, "sha256": params["sha256"]},
    )
    con.execute(f"delete from raw.events where load_id = $load_id and ({where_sql})", bound)
    return moved, unknown
