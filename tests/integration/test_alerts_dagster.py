"""The Dagster objects through Dagster's public APIs: the ledger asset (materialize), the
deliver_alerts job (execute_in_process) and both sensors (build_run_status_sensor_context),
against a real DuckDB file and a real HTTP receiver on 127.0.0.1."""

# No `from __future__ import annotations`: Dagster reads the config annotation.

import json

import dagster as dg
import pytest

from orchestration.alerts.ledger import list_alerts
from orchestration.cli import main as apiwh
from orchestration.defs.alerts import (
    ALERTS_ASSET_KEY,
    NO_DEAD_ALERTS_CHECK,
    alerts_ledger_asset,
    build_alert_sensors,
    deliver_alerts_job,
)
from orchestration.defs.resources import AlertSinksResource, WarehouseResource
from orchestration.settings import load_settings
from orchestration.snapshot import publish_snapshot
from orchestration.warehouse import connect
from tests.support import resources_from_env, set_environment, warehouse_env, warehouse_path
from tests.unit.test_alerts_delivery import KEYS, set_candidates


class RefreshConfig(dg.Config):
    fail: bool = False


@dg.asset
def stand_in_refresh(config: RefreshConfig) -> None:
    if config.fail:
        raise RuntimeError("dbt build failed: 1 error")


daily_refresh = dg.define_asset_job(
    "daily_refresh", selection=[stand_in_refresh], executor_def=dg.in_process_executor
)
SENSORS = build_alert_sensors(daily_refresh)
# Resolving the location needs its resources; these tests pass their own per run.
PLACEHOLDER_RESOURCES = {
    "warehouse": WarehouseResource(warehouse_path="unused/warehouse.duckdb", raw_data_dir="unused"),
    "alert_sinks": AlertSinksResource(jsonl_path="unused/alerts.jsonl"),
}
DEFS = dg.Definitions(
    assets=[stand_in_refresh],
    jobs=[daily_refresh, deliver_alerts_job],
    sensors=SENSORS,
    resources=PLACEHOLDER_RESOURCES,
)


def sensor(name: str) -> dg.SensorDefinition:
    return next(s for s in SENSORS if s.name == name)


def refresh(instance: dg.DagsterInstance, *, fail: bool) -> dg.ExecuteInProcessResult:
    return DEFS.resolve_job_def("daily_refresh").execute_in_process(
        instance=instance,
        raise_on_error=False,
        run_config={"ops": {"stand_in_refresh": {"config": {"fail": fail}}}},
    )


def sensor_context(name: str, instance: dg.DagsterInstance, refreshed: dg.ExecuteInProcessResult, **options):
    """The context Dagster gives sensor `name` on the end of the `refreshed` run."""
    end = refreshed.get_run_success_event() if refreshed.success else refreshed.get_run_failure_event()
    return dg.build_run_status_sensor_context(
        sensor_name=name,
        dagster_instance=instance,
        dagster_run=refreshed.dagster_run,
        dagster_event=end,
        **options,
    )


@pytest.fixture
def warehouse(tmp_path, monkeypatch):
    set_environment(monkeypatch, warehouse_env(tmp_path))
    path = warehouse_path(tmp_path)
    with connect(path) as con:
        set_candidates(con, KEYS)
    return path


def test_sensors_are_on_by_default_and_watch_daily_refresh():
    deliver, report = sensor("deliver_alerts_after_refresh"), sensor("report_failed_refreshes")
    assert deliver.default_status == report.default_status == dg.DefaultSensorStatus.RUNNING
    assert deliver.job_name == "deliver_alerts"
    assert deliver_alerts_job.name == "deliver_alerts"
    assert deliver_alerts_job.graph.node_defs[0].pool == "duckdb_writer"
    assert alerts_ledger_asset.op.pool == "duckdb_writer"
    assert alerts_ledger_asset.group_names_by_key[ALERTS_ASSET_KEY] == "marts"
    DEFS.resolve_all_job_defs()  # the whole location resolves


def test_one_delivery_run_per_successful_refresh_and_none_for_a_failed_one():
    with dg.DagsterInstance.ephemeral() as instance:
        requests = []
        for _ in range(2):
            result = refresh(instance, fail=False)
            assert result.success
            context = sensor_context("deliver_alerts_after_refresh", instance, result)
            request = sensor("deliver_alerts_after_refresh")(context)
            assert isinstance(request, dg.RunRequest)
            assert request.run_key == result.run_id
            # A re-evaluation for the same refresh asks with the same run key (deduped).
            assert sensor("deliver_alerts_after_refresh")(context).run_key == result.run_id
            requests.append(request)
        assert len({r.run_key for r in requests}) == 2

        failed = refresh(instance, fail=True)
        assert not failed.success
        context = sensor_context("deliver_alerts_after_refresh", instance, failed)
        assert isinstance(sensor("deliver_alerts_after_refresh")(context), dg.SkipReason)


def test_a_failed_refresh_is_reported_through_the_sinks(warehouse, monkeypatch, receiver):
    monkeypatch.setenv("ALERT_WEBHOOK_URL", receiver.url)
    with dg.DagsterInstance.ephemeral() as instance:
        ok = refresh(instance, fail=False)
        context = sensor_context("report_failed_refreshes", instance, ok, resources=resources_from_env())
        assert isinstance(sensor("report_failed_refreshes")(context), dg.SkipReason)
        assert receiver.attempts == []

        failed = refresh(instance, fail=True)
        context = sensor_context("report_failed_refreshes", instance, failed, resources=resources_from_env())
        sensor("report_failed_refreshes")(context)

    [body] = receiver.accepted_bodies()
    assert body["alert_type"] == "refresh_failed"
    assert body["alert_key"] == f"refresh_failed:daily_refresh:{failed.run_id}"
    assert "dbt build failed: 1 error" in body["detail"]["error"]
    [line] = (warehouse.parent / "alerts.jsonl").read_text().splitlines()
    assert json.loads(line)["alert_key"] == body["alert_key"]


def test_the_failure_report_never_raises_when_the_receiver_is_down(warehouse, monkeypatch):
    monkeypatch.setenv("ALERT_WEBHOOK_URL", "http://127.0.0.1:9/unreachable")
    with dg.DagsterInstance.ephemeral() as instance:
        failed = refresh(instance, fail=True)
        context = sensor_context("report_failed_refreshes", instance, failed, resources=resources_from_env())
        sensor("report_failed_refreshes")(context)
    assert (warehouse.parent / "alerts.jsonl").exists()


def test_ledger_asset_records_new_keys_once_and_reports_counts(warehouse):
    with dg.DagsterInstance.ephemeral() as instance:
        first = dg.materialize([alerts_ledger_asset], instance=instance, resources=resources_from_env())
        second = dg.materialize([alerts_ledger_asset], instance=instance, resources=resources_from_env())
    [event] = first.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert event.asset_key == ALERTS_ASSET_KEY
    assert metadata["new_alerts"].value == 3
    assert metadata["pending_alerts"].value == 3
    [event] = second.get_asset_materialization_events()
    assert event.materialization.metadata["new_alerts"].value == 0
    [check] = second.get_asset_check_evaluations()
    assert (check.check_name, check.passed) == (NO_DEAD_ALERTS_CHECK, True)


def test_delivery_job_succeeds_while_the_receiver_fails_and_flags_dead_alerts(
    warehouse, monkeypatch, receiver
):
    monkeypatch.setenv("ALERT_WEBHOOK_URL", receiver.url)
    monkeypatch.setenv("ALERT_WEBHOOK_SECRET", "s3cret")
    monkeypatch.setenv("ALERT_BACKOFF_SECONDS", "0")
    monkeypatch.setenv("ALERT_MAX_ATTEMPTS", "2")
    receiver.mode, receiver.status = "error", 500
    with dg.DagsterInstance.ephemeral() as instance:
        dg.materialize([alerts_ledger_asset], instance=instance, resources=resources_from_env())

        first = deliver_alerts_job.execute_in_process(instance=instance, resources=resources_from_env())
        assert first.success
        [check] = first.get_asset_check_evaluations()
        assert (check.asset_key, check.check_name, check.passed) == (
            ALERTS_ASSET_KEY,
            NO_DEAD_ALERTS_CHECK,
            True,
        )

        second = deliver_alerts_job.execute_in_process(instance=instance, resources=resources_from_env())
        assert second.success  # the run succeeds, the check says what is wrong
        [check] = second.get_asset_check_evaluations()
        assert not check.passed
        assert check.metadata["dead_alerts"].value == 3

        receiver.mode = "ok"
        revived = deliver_alerts_job.execute_in_process(
            instance=instance,
            resources=resources_from_env(),
            run_config={"ops": {"deliver_pending_alerts": {"config": {"revive_dead": True}}}},
        )
        assert revived.success
        [check] = revived.get_asset_check_evaluations()
        assert check.passed
    assert sorted(receiver.accepted_keys()) == sorted(KEYS)
    con = connect(warehouse, read_only=True)
    try:
        assert {a.status for a in list_alerts(con)} == {"delivered"}
    finally:
        con.close()


def test_delivery_job_before_any_refresh_does_nothing(tmp_path, monkeypatch):
    set_environment(monkeypatch, warehouse_env(tmp_path))
    assert deliver_alerts_job.execute_in_process(resources=resources_from_env()).success
    assert not warehouse_path(tmp_path).exists()


def test_delivery_republishes_the_snapshot_that_apiwh_alerts_reads(warehouse, capsys):
    with dg.DagsterInstance.ephemeral() as instance:
        dg.materialize([alerts_ledger_asset], instance=instance, resources=resources_from_env())
        con = connect(warehouse)
        try:
            publish_snapshot(con, load_settings().snapshot_path)  # as daily_refresh does
        finally:
            con.close()
        assert apiwh(["alerts", "--pending"]) == 0
        listed = capsys.readouterr().out
        assert all(key in listed for key in KEYS)

        assert deliver_alerts_job.execute_in_process(
            instance=instance, resources=resources_from_env()
        ).success
    assert apiwh(["alerts", "--pending"]) == 0
    assert "No pending alerts." in capsys.readouterr().err
    assert apiwh(["alerts", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(r["alert_key"] for r in rows) == sorted(KEYS)
    assert {r["status"] for r in rows} == {"delivered"}
