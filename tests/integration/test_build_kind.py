"""Dagster's dbt step says which build ran: full on a first build or when the as-of date moved
back (rows after it would otherwise stay), incremental otherwise, rebuilding only the days the
new loads touch, late ones included."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest

from orchestration.dbt_cli import DBT_TARGET_DIR
from orchestration.definitions import defs
from tests.support import api_request, query, quota_set, write_ndjson

# The dbt assets are built from the manifest: parsed once per session from these models.
pytestmark = pytest.mark.usefixtures("dbt_manifest")


def _refresh() -> dg.ExecuteInProcessResult:
    """daily_refresh's load and dbt steps (the alerts, snapshot and dashboard are not at stake)."""
    location = defs()  # reads the settings (AS_OF) now
    keys = [
        key
        for assets in location.assets
        if isinstance(assets, dg.AssetsDefinition)
        and (assets.node_def.name == "warehouse_dbt_models" or dg.AssetKey(["raw", "events"]) in assets.keys)
        for key in assets.keys
    ]
    with dg.DagsterInstance.get() as instance:
        return location.resolve_job_def("daily_refresh").execute_in_process(
            instance=instance, asset_selection=keys
        )


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


def test_first_build_full_then_incremental_then_full_when_the_as_of_date_moves_back(
    pipeline_env, monkeypatch, capfd
):
    """Over a minute: three real refreshes (full, incremental, full again), since the build kind
    is decided from what the previous real run left."""
    landing, warehouse = pipeline_env["landing"], pipeline_env["warehouse"]
    write_ndjson(
        landing / "2026-10-01.ndjson",
        [quota_set("org_a", "2026-10-01T00:00:00Z", 100), *_calls(1, 3, "a"), *_calls(2, 2, "a")],
    )
    first = _refresh()
    assert first.success
    assert _build_kinds(first) == {("full", "first build")}
    # A full build runs one model at a time (memory over all history); an incremental one, two.
    assert "Concurrency: 1 threads" in _dbt_lines(capfd)
    # The build's target folder holds dbt's artifacts but no dbt.log (orchestration/dbt_child.py).
    [run_target] = DBT_TARGET_DIR.glob(f"warehouse_dbt_models-{first.run_id[:7]}-*")
    assert (run_target / "run_results.json").is_file() and not (run_target / "dbt.log").exists()

    # A new day, and a late event for a day already built.
    write_ndjson(landing / "2026-10-04.ndjson", [*_calls(4, 4, "b"), *_calls(2, 1, "late")])
    second = _refresh()
    assert second.success
    assert {kind for kind, _ in _build_kinds(second)} == {"incremental"}
    # The first build's parse state was kept (orchestration/dbt_cli.py keep_parse_state): this
    # test's warehouse path is not the one `dbt parse` saw, yet the second build parses partially.
    second_log = _dbt_lines(capfd)
    assert "Completed successfully" in second_log
    assert "Concurrency: 2 threads" in second_log
    assert "Unable to do partial parsing" not in second_log
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

    monkeypatch.setenv("AS_OF", "2026-10-02")
    third = _refresh()
    assert third.success
    assert _build_kinds(third) == {("full", "the as-of date moved back from 2026-10-04 to 2026-10-02")}
    assert query(warehouse, "select max(usage_date) from marts.customer_daily_usage") == [
        (dt.date(2026, 10, 2),)
    ]
    assert query(warehouse, "select max(usage_date) from marts.customer_endpoint_daily") == [
        (dt.date(2026, 10, 2),)
    ]
