"""A refresh with nothing new does no model work, and anything new brings the build back."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import dagster as dg
import pytest

from orchestration import build_state
from orchestration.definitions import defs
from orchestration.settings import DBT_PROJECT_DIR
from orchestration.warehouse import connect
from tests.support import api_request, query, quota_set, write_ndjson

pytestmark = pytest.mark.usefixtures("dbt_manifest")

DBT_NODE = "warehouse_dbt_models"


def _refresh() -> dg.ExecuteInProcessResult:
    with dg.DagsterInstance.get() as instance:
        return defs().resolve_job_def("daily_refresh").execute_in_process(instance=instance)


def _day(day: int) -> list[dict]:
    events = [quota_set("org_a", "2026-10-01T00:00:00Z", 1000)] if day == 1 else []
    return events + [
        api_request("org_a", f"2026-10-{day:02d}T09:{i:02d}:00Z", event_id=f"d{day}-{i}") for i in range(4)
    ]


def _builds(warehouse: Path) -> list[tuple]:
    return query(warehouse, "select raw_load_id, as_of, published_at is not null from meta.model_builds")


def test_refresh_with_nothing_new_skips_dbt_and_says_why(pipeline_env, monkeypatch) -> None:
    """Over a minute: four real refreshes in a row (a build, nothing new, a new file, a changed
    model), since what it checks is what a run skips after a real earlier run."""
    landing, warehouse = pipeline_env["landing"], pipeline_env["warehouse"]
    write_ndjson(landing / "day1.ndjson", _day(1))

    first = _refresh()
    assert first.success
    assert first.asset_materializations_for_node(DBT_NODE)
    assert _builds(warehouse) == [(1, None, True)]
    usage = query(warehouse, "select * from marts.customer_daily_usage order by all")

    second = _refresh()

    assert second.success
    # No model was built, the alerts and snapshot steps were skipped, and each model says why.
    assert second.asset_materializations_for_node(DBT_NODE) == []
    observations = [
        event.asset_observation_data.asset_observation
        for event in second.events_for_node(DBT_NODE)
        if event.event_type == dg.DagsterEventType.ASSET_OBSERVATION
    ]
    keys = {o.asset_key.to_user_string() for o in observations}
    assert {"marts/customer_daily_usage", "staging/stg_events"} <= keys
    assert all("no new raw load" in o.metadata["skipped"].value for o in observations)
    skipped_steps = {
        e.step_key for e in second.all_events if e.event_type == dg.DagsterEventType.STEP_SKIPPED
    }
    assert skipped_steps == {"marts__alerts", "marts__published_snapshot", "reports__dashboard"}
    # The checks keep their last real result (the UI shows it, not "Skipped"): each passes again
    # on the unchanged data, naming the run that checked it.
    # (The load's checks run again on the new load; the alerts step, skipped, checks nothing.)
    dbt_checks = {
        (e.asset_key, e.check_name)
        for e in first.get_asset_check_evaluations()
        if e.asset_key.to_user_string() not in ("raw/events", "marts/alerts")
    }
    carried = [e for e in second.get_asset_check_evaluations() if "result_of_run" in e.metadata]
    assert {(e.asset_key, e.check_name) for e in carried} == dbt_checks and len(dbt_checks) > 100
    assert all(e.passed for e in carried)
    assert {e.metadata["result_of_run"].value for e in carried} == {first.run_id}
    assert _builds(warehouse) == [(1, None, True)]
    assert query(warehouse, "select * from marts.customer_daily_usage order by all") == usage

    # A new file: the models are built again and see it.
    write_ndjson(landing / "day2.ndjson", _day(2))
    third = _refresh()
    assert third.asset_materializations_for_node(DBT_NODE)
    assert query(warehouse, "select sum(calls) from marts.customer_daily_usage") == [(8,)]
    assert _builds(warehouse)[-1] == (2, None, True)

    # A moved as-of date is new too, even with no new file (one after the last day with calls
    # is refused: tests/integration/test_cli.py).
    monkeypatch.setenv("AS_OF", "2026-10-01")
    fourth = _refresh()
    assert fourth.asset_materializations_for_node(DBT_NODE)
    assert _builds(warehouse)[-1] == (2, dt.date(2026, 10, 1), True)
    assert query(warehouse, "select max(usage_date) from marts.customer_daily_usage") == [
        (dt.date(2026, 10, 1),)
    ]


def test_a_build_that_did_not_reach_the_snapshot_is_not_up_to_date(tmp_path: Path) -> None:
    con = connect(tmp_path / "warehouse.duckdb")
    inputs = build_state.current_inputs(con, None)
    build_state.record_built(con, inputs, dt.datetime(2026, 11, 1))
    # The alerts or the snapshot failed after dbt: the next refresh must build again.
    assert not build_state.is_up_to_date(con, inputs)
    build_state.record_published(con, dt.datetime(2026, 11, 1, 0, 5))
    assert build_state.is_up_to_date(con, inputs)
    assert not build_state.is_up_to_date(con, build_state.BuildInputs(7, None, inputs.project_fingerprint))
    con.close()


def test_a_changed_model_changes_the_project_fingerprint(tmp_path: Path) -> None:
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    before = build_state.project_fingerprint(project)
    assert build_state.project_fingerprint(project) == before
    model = next((project / "models").rglob("customer_usage_summary.sql"))
    model.write_text(model.read_text() + "\n-- a comment is a change too\n")
    changed = build_state.project_fingerprint(project)
    assert changed != before
    # A new price list changes what the models produce too.
    plans = tmp_path / "plans.csv"
    plans.write_text("plan_id,monthly_price\npro,49\n")
    with_plans = build_state.project_fingerprint(project, plans)
    assert with_plans != changed
    plans.write_text("plan_id,monthly_price\npro,59\n")
    assert build_state.project_fingerprint(project, plans) != with_plans
