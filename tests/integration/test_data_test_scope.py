"""Data tests on an incremental build read the days it rebuilt (dbt_project/macros/test_scope.sql),
yet a key shared with an older day still fails; after a build that failed, every row."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from tests.support import api_request, build_warehouse, query, run_dbt

pytestmark = pytest.mark.usefixtures("dbt_manifest")

KEY_TEST = "primary_key"  # event_id
ROW_TEST = "not_null_columns"  # event_type, event_time, organization_id


def _failing_rows(warehouse: Path, test_name: str, *, every_row: bool = False) -> list[tuple]:
    """What stg_events' data test `test_name` returns (its failing rows), compiled as a pipeline
    run compiles it, or with var test_scope = 'all' (`every_row`)."""
    run_dbt(
        warehouse,
        "compile",
        "--select",
        f"test_name:{test_name},stg_events",
        test_scope="all" if every_row else None,
    )
    [compiled] = (warehouse.parent / "dbt_target" / "compiled").rglob(f"{test_name}_stg_events*.sql")
    return query(warehouse, f"select * from ({compiled.read_text()}) order by all")


def test_tests_read_the_rebuilt_days_and_every_row_sharing_a_key_with_them(tmp_path: Path) -> None:
    warehouse = build_warehouse(
        tmp_path,
        [api_request("org_a", f"2026-10-0{day}T10:00:00Z", event_id=f"e{day}") for day in (1, 2, 3)],
    )
    with duckdb.connect(str(warehouse)) as con:
        # As if a build Dagster recorded (it succeeded) came first, then one that rebuilt
        # 2026-10-03 only.
        _record_build(con, hours_from_now=1)
        _record_state(con, "2026-10-03", hours_from_now=2)
        copy = "insert into staging.stg_events by name select * replace ({changes}) from staging.stg_events"
        # A null on an old day, and one on the rebuilt day.
        con.execute(
            copy.format(changes="null as organization_id, 'n1' as event_id") + " where event_id = 'e1'"
        )
        con.execute(
            copy.format(changes="null as organization_id, 'n3' as event_id") + " where event_id = 'e3'"
        )
        # e1 twice, both on old days; e2 again on the rebuilt day (a duplicate across days).
        con.execute(copy.format(changes="date '2026-10-02' as event_date") + " where event_id = 'e1'")
        con.execute(copy.format(changes="date '2026-10-03' as event_date") + " where event_id = 'e2'")
    assert _failing_rows(warehouse, KEY_TEST, every_row=True) == [("e1", 2), ("e2", 2)]
    assert _failing_rows(warehouse, KEY_TEST) == [("e2", 2)]
    assert len(_failing_rows(warehouse, ROW_TEST, every_row=True)) == 2
    assert _failing_rows(warehouse, ROW_TEST) == [("api_request", dt.datetime(2026, 10, 3, 10), None)]


def test_after_a_build_that_failed_tests_read_every_row(tmp_path: Path) -> None:
    warehouse = build_warehouse(
        tmp_path,
        [api_request("org_a", f"2026-10-0{day}T10:00:00Z", event_id=f"e{day}") for day in (1, 2)],
    )
    with duckdb.connect(str(warehouse)) as con:
        # e1 again on an old day: a duplicate a build that failed left behind.
        con.execute(
            "insert into staging.stg_events by name select * replace (date '2026-10-02' as event_date)"
            " from staging.stg_events where event_id = 'e1'"
        )
        _record_build(con, hours_from_now=1)
        _record_state(con, "2026-10-02", hours_from_now=2)  # that build: no record after it
        _record_state(con, "", hours_from_now=4)  # this one rebuilt no day of stg_events
    assert _failing_rows(warehouse, KEY_TEST) == [("e1", 2)]
    with duckdb.connect(str(warehouse)) as con:
        _record_build(con, hours_from_now=3)  # had that build succeeded
    assert _failing_rows(warehouse, KEY_TEST) == []


def _record_build(con: duckdb.DuckDBPyConnection, *, hours_from_now: int) -> None:
    """A build Dagster's dbt step recorded once dbt succeeded (orchestration/build_state.py),
    after the test warehouse's own build."""
    con.execute("create schema if not exists meta")
    con.execute("create table if not exists meta.model_builds (build_id bigint, built_at timestamp)")
    con.execute("insert into meta.model_builds select 1, localtimestamp + to_hours(?::int)", [hours_from_now])


def _record_state(con: duckdb.DuckDBPyConnection, days: str, *, hours_from_now: int) -> None:
    """stg_events' state row of an incremental build that rebuilt `days` (comma-joined)."""
    con.execute(
        "insert into meta.incremental_state (model_name, full_rebuild, rebuilt_days, recorded_at,"
        " rebuilt_day_list) select 'stg_events', false, 1, localtimestamp + to_hours(?::int), ?",
        [hours_from_now, days],
    )
