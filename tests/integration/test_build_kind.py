"""Dagster's dbt step says which build ran, from what the previous real run left: full on a first
build or when the as-of date moved back (rows after it would otherwise stay), none when nothing
is new (each model says why, each check keeps its last result), incremental otherwise,
rebuilding only the days the new loads touch, late ones included."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from orchestration.dbt_cli import DBT_TARGET_DIR
from orchestration.definitions import defs
from tests.support import api_request, query, quota_set, write_ndjson

# The dbt assets are built from the manifest: parsed once per session from these models.
pytestmark = pytest.mark.usefixtures("dbt_manifest")

DBT_NODE = "warehouse_dbt_models"


def _refresh() -> dg.ExecuteInProcessResult:
    """The whole daily_refresh job, as the schedule runs it (settings such as AS_OF read now)."""
    with dg.DagsterInstance.get() as instance:
        return defs().resolve_job_def("daily_refresh").execute_in_process(instance=instance)


def _builds(warehouse: Path) -> list[tuple]:
    return query(warehouse, "select raw_load_id, as_of, published_at is not null from meta.model_builds")


def _build_kinds(result: dg.ExecuteInProcessResult) -> set[tuple[str, str]]:
    kinds = set()
    for event in result.get_asset_materialization_events():
        metadata = event.step_materialization_data.materialization.metadata
        if "build_kind" in metadata:
            kinds.add((metadata["build_kind"].value, metadata["build_reason"].value))
    return kinds


def _dbt_lines(capfd: pytest.CaptureFixture[str]) -> str:
    """What dbt said during the latest refresh: dagster-dbt repeats dbt's log lines on the step's
    output, which the run's log keeps (apiwh-dbt writes no dbt.log of its own)."""
    return capfd.readouterr().out


def _calls(day: int, n: int, prefix: str) -> list[dict]:
    return [
        api_request("org_a", f"2026-10-{day:02d}T10:{i:02d}:00Z", event_id=f"{prefix}-{day}-{i}")
        for i in range(n)
    ]


def test_full_then_nothing_then_incremental_then_full_when_the_as_of_date_moves_back(
    pipeline_env, monkeypatch, capfd
):
    """Over two minutes: four real refreshes in a row (full, nothing new, incremental, full
    again), since each build kind is decided from what the previous real run left."""
    landing, warehouse = pipeline_env["landing"], pipeline_env["warehouse"]
    write_ndjson(
        landing / "2026-10-01.ndjson",
        [quota_set("org_a", "2026-10-01T00:00:00Z", 100), *_calls(1, 3, "a"), *_calls(2, 2, "a")],
    )
    first = _refresh()
    assert first.success
    assert _build_kinds(first) == {("full", "first build")}
    assert _builds(warehouse) == [(1, None, True)]
    # A full build runs one model at a time (memory over all history); an incremental one, two.
    assert "Concurrency: 1 threads" in _dbt_lines(capfd)
    # The build's target folder holds dbt's artifacts but no dbt.log (orchestration/dbt_child.py).
    [run_target] = DBT_TARGET_DIR.glob(f"warehouse_dbt_models-{first.run_id[:7]}-*")
    assert (run_target / "run_results.json").is_file() and not (run_target / "dbt.log").exists()
    usage = query(warehouse, "select * from marts.customer_daily_usage order by all")

    # Nothing new: no model is built, the alerts and snapshot steps are skipped, each model says why.
    second = _refresh()
    assert second.success
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
    assert skipped_steps == {
        "marts__alerts",
        "marts__published_snapshot",
        "reports__dashboard",
        "raw__retention",
    }
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

    # A new day, and a late event for a day already built.
    write_ndjson(landing / "2026-10-04.ndjson", [*_calls(4, 4, "b"), *_calls(2, 1, "late")])
    third = _refresh()
    assert third.success
    assert {kind for kind, _ in _build_kinds(third)} == {"incremental"}
    # The first build's parse state was kept (orchestration/dbt_cli.py keep_parse_state): this
    # test's warehouse path is not the one `dbt parse` saw, yet this build parses partially.
    third_log = _dbt_lines(capfd)
    assert "Completed successfully" in third_log
    assert "Concurrency: 2 threads" in third_log
    assert "Unable to do partial parsing" not in third_log
    rebuilt = query(
        warehouse,
        "select model_name, arg_max(rebuilt_days, recorded_at) from meta.incremental_state group by 1",
    )
    # Days 2 and 4 for staging; the as-of bound facts add day 3 (the as-of date moved 2 -> 4).
    assert dict(rebuilt)["stg_events"] == 2
    assert dict(rebuilt)["int_customer_daily_calls"] == 3
    assert query(
        warehouse, "select usage_date::varchar, calls from marts.customer_daily_usage order by 1"
    ) == [("2026-10-01", 3), ("2026-10-02", 3), ("2026-10-03", 0), ("2026-10-04", 4)]
    assert query(warehouse, "select build_kind from meta.model_builds order by build_id") == [
        ("full",),
        ("incremental",),
    ]
    assert _builds(warehouse)[-1] == (2, None, True)

    # A moved as-of date is new too, with no new file (one after the last day with calls is
    # refused: tests/integration/test_cli.py); moved back, the build is full.
    monkeypatch.setenv("AS_OF", "2026-10-02")
    fourth = _refresh()
    assert fourth.success
    assert _build_kinds(fourth) == {("full", "the as-of date moved back from 2026-10-04 to 2026-10-02")}
    assert _builds(warehouse)[-1] == (2, dt.date(2026, 10, 2), True)
    assert query(warehouse, "select max(usage_date) from marts.customer_daily_usage") == [
        (dt.date(2026, 10, 2),)
    ]
    assert query(warehouse, "select max(usage_date) from marts.customer_endpoint_daily") == [
        (dt.date(2026, 10, 2),)
    ]
