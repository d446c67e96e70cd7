"""The code location as Dagster loads it: exactly these assets, checks, jobs, schedules, sensors
and resources, so an asset appearing or vanishing fails here, not in production."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from orchestration.definitions import build_definitions, defs
from orchestration.defs.resources import AlertSinksResource, WarehouseResource
from orchestration.settings import load_alert_settings, load_settings

pytestmark = pytest.mark.usefixtures("dbt_manifest")

EXPECTED_ASSETS = {
    "raw/events",
    "raw/retention",
    # dbt sources of the loader's own tables (not materialized by dbt, shown for lineage)
    "raw/event_rejects",
    "raw/loaded_files",
    "staging/stg_api_requests",
    "staging/stg_event_rejects",
    "staging/stg_events",
    "staging/stg_key_events",
    "staging/stg_loaded_files",
    "staging/stg_plan_catalogue",
    "staging/stg_quota_changes",
    "intermediate/int_alerts_churn_episodes",
    "intermediate/int_alerts_churn_risk",
    "intermediate/int_alerts_endpoint_degradation",
    "intermediate/int_alerts_integration_failing",
    "intermediate/int_alerts_integration_failing_episodes",
    "intermediate/int_alerts_integration_failing_routes",
    "intermediate/int_alerts_key_sharing_suspect",
    "intermediate/int_alerts_quota_threshold",
    "intermediate/int_alerts_usage_spike",
    "intermediate/int_as_of_date",
    "intermediate/int_customer_daily_calls",
    "intermediate/int_customer_daily_trend",
    "intermediate/int_customer_endpoint_changes_7d",
    "intermediate/int_customer_movers_7d",
    "intermediate/int_customer_route_failures_daily",
    "intermediate/int_customer_version_daily",
    "intermediate/int_endpoint_incident_days",
    "intermediate/int_endpoint_incident_hits",
    "intermediate/int_api_version_exposure",
    "intermediate/int_event_counts_daily",
    "intermediate/int_key_daily_calls",
    "intermediate/int_key_issuances",
    "intermediate/int_key_onboarding_calls",
    "intermediate/int_key_route_daily",
    "intermediate/int_onboarding_funnel_counts",
    "intermediate/int_organization_daily_plan",
    "intermediate/int_organization_daily_quota",
    "intermediate/int_plan_changes",
    "intermediate/int_plan_upgrade_paths",
    "intermediate/int_platform_daily_calls",
    "marts/active_customers_daily",
    "marts/alert_candidates",
    "marts/alerts",
    "marts/api_version_exposure",
    "marts/client_adoption_daily",
    "marts/cohort_retention",
    "marts/customer_daily_usage",
    "marts/customer_endpoint_30d",
    "marts/customer_endpoint_daily",
    "marts/customer_lifecycle_weekly",
    "marts/customer_usage_summary",
    "marts/data_health",
    "marts/endpoint_daily_performance",
    "marts/endpoint_incidents",
    "marts/endpoint_incident_customers",
    "marts/endpoint_window_performance",
    "marts/key_activity_30d",
    "marts/api_path_version_exposure",
    "marts/error_breakdown_30d",
    "marts/error_breakdown_daily",
    "marts/key_daily_activity",
    "marts/onboarding_funnel",
    "marts/onboarding_funnel_summary",
    "marts/onboarding_funnel_weekly",
    "marts/platform_daily_usage",
    "marts/platform_window_usage",
    "marts/published_snapshot",
    "marts/quota_utilization",
    "marts/upgrade_opportunities",
    "marts/quota_outlook",
    "marts/quota_outcomes",
    "reports/dashboard",
}
# Checks written in Python; every other check is a dbt data test (compared with the manifest).
EXPECTED_PYTHON_CHECKS = {
    "raw/events:no_rejected_lines",
    "raw/events:no_failed_files",
    "marts/alerts:no_dead_alerts",
}
EXPECTED_JOBS = {"daily_refresh", "deliver_alerts", "daily_sales_digest", "weekly_cs_digest"}
EXPECTED_SCHEDULES = {"daily_refresh_schedule", "daily_sales_digest_schedule", "weekly_cs_digest_schedule"}
EXPECTED_SENSORS = {"deliver_alerts_after_refresh", "report_failed_refreshes", "recover_dead_runs"}


def _dbt_test_checks(manifest_path: Path) -> set[str]:
    """One check per dbt data test, on the model it tests (a singular test on its one model)."""
    manifest = json.loads(manifest_path.read_text())
    nodes = manifest["nodes"]
    checks = set()
    for node in nodes.values():
        if node["resource_type"] != "test":
            continue
        tested = node.get("attached_node")
        if tested is None:
            [tested] = [dep for dep in node["depends_on"]["nodes"] if dep.startswith("model.")]
        model = nodes[tested]
        checks.add(f"{model['schema']}/{model['name']}:{node['name']}")
    return checks


@pytest.fixture(scope="module")
def location() -> dg.Definitions:
    return defs()


def test_the_location_holds_exactly_the_expected_assets(location: dg.Definitions) -> None:
    graph = location.resolve_asset_graph()
    assert {key.to_user_string() for key in graph.get_all_asset_keys()} == EXPECTED_ASSETS
    # Lineage: staging reads the raw load's asset, one name in three places.
    assert dg.AssetKey(["raw", "events"]) in graph.get(dg.AssetKey(["staging", "stg_events"])).parent_keys


def test_each_mart_shows_its_contracted_columns_and_types(location: dg.Definitions) -> None:
    """The UI's column list comes from the definitions (the manifest), not from querying every
    model after each build: the contract makes the declared types the table's."""
    graph = location.resolve_asset_graph()
    schema = graph.get(dg.AssetKey(["marts", "quota_utilization"])).metadata["dagster/column_schema"]
    types = {column.name: column.type.lower() for column in schema.columns}
    assert types["pct_of_cap"] == "double" and types["days_to_cap"] == "bigint"
    assert {"projected_eom", "organization_id", "usage_date"} <= set(types)


def test_the_location_holds_exactly_the_expected_checks(location: dg.Definitions, dbt_manifest: Path) -> None:
    checks = {key.to_user_string() for key in location.resolve_asset_graph().asset_check_keys}
    dbt_checks = _dbt_test_checks(dbt_manifest)
    assert "staging/stg_events:conflicting_redeliveries" in dbt_checks
    assert checks == EXPECTED_PYTHON_CHECKS | dbt_checks


def test_the_location_holds_exactly_the_expected_jobs_schedules_and_sensors(
    location: dg.Definitions,
) -> None:
    jobs = {job.name for job in location.resolve_all_job_defs()} - {"__ASSET_JOB"}
    assert jobs == EXPECTED_JOBS
    assert {schedule.name for schedule in location.schedules} == EXPECTED_SCHEDULES
    assert {sensor.name for sensor in location.sensors} == EXPECTED_SENSORS
    # Every job frees the slots of dead runs before it writes (defs/recovery.py).
    for job in ("daily_refresh", "deliver_alerts"):
        assert location.resolve_job_def(job).executor_def.name == "in_process_after_recovery"
    schedule = location.resolve_schedule_def("daily_refresh_schedule")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 6 * * *", "UTC")


def test_resources_carry_the_settings_and_keep_secrets_out_of_the_config(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WAREHOUSE_PATH", str(tmp_path / "data" / "warehouse.duckdb"))
    monkeypatch.setenv("RAW_DATA_DIR", str(tmp_path / "landing"))
    monkeypatch.setenv("AS_OF", "2026-10-31")
    monkeypatch.setenv("IP_HASH_SALT", "pepper-not-for-the-ui")
    monkeypatch.setenv("ALERT_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    monkeypatch.setenv("ALERT_WEBHOOK_SECRET", "s3cret-not-for-the-ui")
    monkeypatch.setenv("ALERT_MAX_ATTEMPTS", "3")
    resources = defs().resources
    assert set(resources) == {"warehouse", "dbt", "alert_sinks"}
    warehouse, sinks = resources["warehouse"], resources["alert_sinks"]
    assert isinstance(warehouse, WarehouseResource) and isinstance(sinks, AlertSinksResource)
    assert warehouse.warehouse_path == str(tmp_path / "data" / "warehouse.duckdb")
    assert (warehouse.raw_data_dir, warehouse.as_of) == (str(tmp_path / "landing"), "2026-10-31")
    assert sinks.max_attempts == 3
    # What the UI shows of the resources: the secrets as variable names, never their values.
    shown = repr(resources)
    for secret in ("pepper-not-for-the-ui", "s3cret-not-for-the-ui", "127.0.0.1:9/hook"):
        assert secret not in shown
    assert (sinks.webhook_url, sinks.webhook_secret) == ("ALERT_WEBHOOK_URL", "ALERT_WEBHOOK_SECRET")
    assert warehouse.ip_hash_salt == "IP_HASH_SALT"


def test_tests_build_the_location_from_their_own_settings(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("WAREHOUSE_PATH", str(tmp_path / "elsewhere" / "warehouse.duckdb"))
    settings = load_settings()
    location = build_definitions(settings, load_alert_settings(settings))
    assert location.resources["warehouse"].warehouse_path == str(tmp_path / "elsewhere" / "warehouse.duckdb")
    # Passed as values (not EnvVar) when a test builds them.
    assert location.resources["warehouse"].ip_hash_salt == settings.ip_hash_salt


# Prints whether dbt-core was imported, and the asset graph: each asset's parents and checks.
_GRAPH_PROBE = """
import json, sys
if sys.argv[1] == "dbt-core first":
    import dagster_dbt  # before the location: dagster-dbt then loads and uses dbt-core
from orchestration.definitions import defs
graph = defs().resolve_asset_graph()
print(json.dumps({
    "dbt_core_imported": "dbt.adapters.base.impl" in sys.modules,
    "graph": {
        key.to_user_string(): [sorted(p.to_user_string() for p in graph.get(key).parent_keys),
                               sorted(c.to_user_string() for c in graph.get(key).check_keys)]
        for key in graph.get_all_asset_keys()
    },
}))
"""


def _graph_probe(order: str, tmp_path: Path) -> dict:
    env = {**os.environ, "WAREHOUSE_PATH": str(tmp_path / "warehouse.duckdb")}
    result = subprocess.run(
        [sys.executable, "-c", _GRAPH_PROBE, order], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.splitlines()[-1])


def test_the_location_loads_without_dbt_core_and_builds_the_same_graph(tmp_path: Path) -> None:
    """dbt runs in its own process: the run's process does not import dbt-core (about 1.7 s of
    every run's start: orchestration/defs/dagster_dbt_api.py), and the dbt assets, their lineage
    and their checks are what dagster-dbt builds with dbt-core loaded."""
    light = _graph_probe("location first", tmp_path)
    with_dbt_core = _graph_probe("dbt-core first", tmp_path)
    assert (light["dbt_core_imported"], with_dbt_core["dbt_core_imported"]) == (False, True)
    assert light["graph"] == with_dbt_core["graph"]
    assert len(light["graph"]) == len(EXPECTED_ASSETS)
