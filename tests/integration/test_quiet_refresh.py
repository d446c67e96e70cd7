"""`apiwh run` with nothing new: a cheap look first, then a run that records only what happened."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import dagster as dg
import pytest

from orchestration import build_state
from orchestration.definitions import defs
from tests.support import api_request, apiwh, query, write_ndjson

pytestmark = pytest.mark.usefixtures("dbt_manifest")


def _nothing_new(env: dict[str, Path], as_of=None) -> bool:
    return build_state.nothing_new(env["warehouse"], env["landing"], as_of, None)


def test_a_run_with_nothing_new_records_the_load_and_up_to_date_models_only(pipeline_env) -> None:
    """About a minute because it must be: real refreshes, since what a run with nothing new
    records depends on what a real earlier run left."""
    landing, warehouse = pipeline_env["landing"], pipeline_env["warehouse"]
    write_ndjson(landing / "day1.ndjson", [api_request("org_a", f"2026-10-01T09:0{i}:00Z") for i in range(3)])
    assert not _nothing_new(pipeline_env)  # no warehouse yet
    with dg.DagsterInstance.get() as instance:
        assert defs().resolve_job_def("daily_refresh").execute_in_process(instance=instance).success
    usage = query(warehouse, "select * from marts.customer_daily_usage order by all")
    assert _nothing_new(pipeline_env)

    logs = warehouse.parent / "logs"
    logs_before = sorted(logs.glob("*"))
    with dg.DagsterInstance.get() as instance:
        runs_before = len(instance.get_runs())

    result = apiwh(os.environ, "run")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "files   0 loaded, 0 empty, 0 failed, 1 already loaded" in result.stdout
    # One Dagster run (no delivery run: no alert is waiting) and one log for runs with nothing
    # new, which the next such run replaces.
    assert "Full log: " in result.stdout and "daily_refresh-nothing-new.log" in result.stdout
    assert sorted(logs.glob("*")) == sorted([*logs_before, logs / "daily_refresh-nothing-new.log"])
    again = apiwh(os.environ, "run")
    assert again.returncode == 0 and sorted(logs.glob("*")) == sorted(
        [*logs_before, logs / "daily_refresh-nothing-new.log"]
    )
    with dg.DagsterInstance.get() as instance:
        assert len(instance.get_runs()) == runs_before + 2
        run = instance.get_runs(limit=1)[0]
        events = [e.dagster_event for e in instance.all_logs(run.run_id) if e.dagster_event is not None]
    kinds = [e.event_type for e in events]
    observations = [
        e.event_specific_data.asset_observation
        for e in events
        if e.event_type == dg.DagsterEventType.ASSET_OBSERVATION
    ]
    observed = {o.asset_key.to_user_string(): o for o in observations}
    # The run is in Dagster: the load materialized, every model observed as up to date, and
    # no step or dbt test planned that would only be skipped.
    assert run.job_name == "daily_refresh" and run.status == dg.DagsterRunStatus.SUCCESS
    assert [
        e.asset_key.to_user_string() for e in events if e.event_type_value == "ASSET_MATERIALIZATION"
    ] == ["raw/events"]
    assert {"staging/stg_events", "marts/customer_daily_usage"} <= observed.keys()
    assert all("up to date" in o.metadata["skipped"].value for o in observed.values())
    planned_checks = [e for e in events if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED]
    assert {e.event_specific_data.asset_key.to_user_string() for e in planned_checks} == {"raw/events"}
    assert dg.DagsterEventType.STEP_SKIPPED not in kinds
    assert query(warehouse, "select * from marts.customer_daily_usage order by all") == usage

    # Anything that might be new takes the full run: a new file, a touched one, another as-of.
    assert not _nothing_new(pipeline_env, as_of=dt.date(2026, 10, 1))
    os.utime(landing / "day1.ndjson", ns=(1, 1))
    assert not _nothing_new(pipeline_env)
