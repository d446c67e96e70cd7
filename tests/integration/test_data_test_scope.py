"""Data tests on an incremental build read the days it rebuilt (dbt_project/macros/test_scope.sql),
yet a key shared with an older day still fails; after a failed build, the next tests every row."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from orchestration.build_state import BuildKind, data_test_scope
from tests.support import api_request, build_warehouse, query, run_dbt

pytestmark = pytest.mark.usefixtures("dbt_manifest")

KEY_TEST = "primary_key"  # event_id
ROW_TEST = "not_null_columns"  # event_type, event_time, organization_id


def _failing_rows(warehouse: Path, test_name: str, test_scope: str) -> list[tuple]:
    """What stg_events' data test `test_name` returns (its failing rows), compiled as a pipeline
    run compiles it."""
    run_dbt(
        warehouse,
        "compile",
        "--select",
        f"test_name:{test_name},stg_events",
        test_scope=test_scope,
    )
    [compiled] = (warehouse.parent / "dbt_target" / "compiled").rglob(f"{test_name}_stg_events*.sql")
    return query(warehouse, f"select * from ({compiled.read_text()}) order by all")


def test_tests_read_the_rebuilt_days_and_every_row_sharing_a_key_with_them(tmp_path: Path) -> None:
    warehouse = build_warehouse(
        tmp_path,
        [api_request("org_a", f"2026-10-0{day}T10:00:00Z", event_id=f"e{day}") for day in (1, 2, 3)],
    )
    with duckdb.connect(str(warehouse)) as con:
        # As if the last build rebuilt 2026-10-03 only.
        con.execute(
            "insert into meta.incremental_state (model_name, full_rebuild, rebuilt_days, recorded_at,"
            " rebuilt_day_list) values ('stg_events', false, 1, now(), '2026-10-03')"
        )
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
    assert _failing_rows(warehouse, KEY_TEST, "all") == [("e1", 2), ("e2", 2)]
    assert _failing_rows(warehouse, KEY_TEST, "rebuilt_days") == [("e2", 2)]
    assert len(_failing_rows(warehouse, ROW_TEST, "all")) == 2
    assert _failing_rows(warehouse, ROW_TEST, "rebuilt_days") == [
        ("api_request", dt.datetime(2026, 10, 3, 10), None)
    ]


def test_a_failed_build_makes_the_next_one_test_every_row() -> None:
    incremental, full = BuildKind(False, "new loads"), BuildKind(True, "first build")
    with duckdb.connect() as con:
        con.execute("create schema meta")
        con.execute("create table meta.incremental_state (model_name varchar, recorded_at timestamp)")
        con.execute("create table meta.model_builds (build_id bigint, built_at timestamp)")
        con.execute("insert into meta.incremental_state values ('stg_events', '2026-10-01 10:00')")
        con.execute("insert into meta.model_builds values (1, '2026-10-01 10:01')")
        assert data_test_scope(con, incremental) == "rebuilt_days"
        assert data_test_scope(con, full) == "all"
        # A build that recorded model states and then failed: no build record after them.
        con.execute("insert into meta.incremental_state values ('stg_events', '2026-10-02 10:00')")
        assert data_test_scope(con, incremental) == "all"
