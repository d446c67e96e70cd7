"""A failed daily_refresh is itself an alert, sent once: real failing runs of the real job
(executed the way `apiwh run` executes it, recorded in a real DagsterInstance), the real sensor
evaluated on them with Dagster's test context, and a real HTTP receiver on 127.0.0.1.

The failures are real and cheap: a corrupt warehouse file (the ledger cannot be written either,
so the alert goes straight to the sinks), and a warehouse locked by another process during the
run (released before the report, so the alert is recorded in the ledger like any other).
"""

# No `from __future__ import annotations`: Dagster inspects sensor annotations.

import json
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from orchestration.alerts.ledger import ensure_ledger
from orchestration.alerts.refresh_failure import one_line_error, report_refresh_failure
from orchestration.defs.alerts import build_alert_sensors
from orchestration.defs.jobs import daily_refresh
from orchestration.defs.resources import build_resources
from orchestration.job_execution import execute_job
from orchestration.settings import dagster_home_setting, load_alert_settings, load_settings
from orchestration.snapshot import publish_snapshot
from orchestration.warehouse import connect
from tests.support import apiwh, warehouse_env


@pytest.fixture
def failing_env(pipeline_env, dbt_manifest, monkeypatch, receiver):
    monkeypatch.setenv("ALERT_WEBHOOK_URL", receiver.url)
    return pipeline_env


def failed_refresh(tmp_path: Path):
    """daily_refresh executed as `apiwh run` executes it; it must fail."""
    settings = load_settings()
    alerts = load_alert_settings(settings)
    log_path = tmp_path / "logs" / "daily_refresh.log"
    outcome = execute_job(settings, alerts, "daily_refresh", log_path, dagster_home=dagster_home_setting())
    assert not outcome.success, log_path.read_text()[-3000:]
    return settings, alerts, outcome, log_path


def evaluate_sensor(settings, alerts, run_id: str):
    """The code location's report_failed_refreshes, on the run as the instance recorded it."""
    sensor = next(s for s in build_alert_sensors(daily_refresh) if s.name == "report_failed_refreshes")
    with dg.DagsterInstance.from_config(str(dagster_home_setting())) as instance:
        run = instance.get_run_by_id(run_id)
        [failure] = instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
        context = dg.build_run_status_sensor_context(
            sensor_name=sensor.name,
            dagster_instance=instance,
            dagster_run=run,
            dagster_event=failure.dagster_event,
            resources=build_resources(settings, alerts),
        )
        return sensor(context)


def test_a_run_failing_on_a_corrupt_warehouse_is_sent_once_by_either_reporter(
    failing_env, receiver, tmp_path
):
    warehouse = failing_env["warehouse"]
    warehouse.parent.mkdir(parents=True)
    warehouse.write_bytes(b"this is not a duckdb file\n" * 512)

    settings, alerts, outcome, log_path = failed_refresh(tmp_path)
    assert outcome.failed_step == "load raw files"

    status = report_refresh_failure(settings, alerts, outcome, log_path)
    assert status.startswith("refresh_failed alert not recorded in the ledger (")
    assert status.endswith("sent directly, delivered to alerts.jsonl and the webhook")
    [body] = receiver.accepted_bodies()
    assert body["alert_key"] == f"refresh_failed:daily_refresh:{outcome.run_id}"
    detail = body["detail"]
    assert (detail["run_id"], detail["failed_step"], detail["log_path"]) == (
        outcome.run_id,
        "load raw files",
        str(log_path),
    )
    assert "\n" not in detail["error"] and receiver.url not in detail["error"]

    # Again, and by the sensor (the daemon sees the same failed run): nothing more is sent.
    report_refresh_failure(settings, alerts, outcome, log_path)
    evaluate_sensor(settings, alerts, outcome.run_id)
    assert len(receiver.accepted) == 1
    assert len((warehouse.parent / "alerts.jsonl").read_text().splitlines()) == 1


def hold_the_warehouse(path: Path) -> subprocess.Popen:
    """Another process with the DuckDB file open for writing (as a long `apiwh sql` once did)."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; con = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
            "sys.stdin.read()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "ready"
    return holder


def release(holder: subprocess.Popen) -> None:
    holder.stdin.close()
    assert holder.wait(timeout=30) == 0


def test_a_run_failing_on_a_locked_warehouse_is_recorded_listed_and_sent_once(
    failing_env, receiver, tmp_path
):
    warehouse = failing_env["warehouse"]
    with connect(warehouse) as con:  # a warehouse readers already see (published, no alert)
        ensure_ledger(con)
        publish_snapshot(con, warehouse.parent / "published" / "warehouse.duckdb")

    holder = hold_the_warehouse(warehouse)
    try:
        settings, alerts, outcome, log_path = failed_refresh(tmp_path)
    finally:
        release(holder)
    assert outcome.failed_step == "load raw files" and "Could not set lock" in outcome.error

    # The daemon's sensor reports it first, then `apiwh run` reaches its report.
    assert evaluate_sensor(settings, alerts, outcome.run_id) is None
    status = report_refresh_failure(settings, alerts, outcome, log_path)
    assert status == f"refresh_failed alert for run {outcome.run_id[:8]} was already delivered"
    assert evaluate_sensor(settings, alerts, outcome.run_id) is None

    [body] = receiver.accepted_bodies()
    key = f"refresh_failed:daily_refresh:{outcome.run_id}"
    assert body["alert_key"] == key
    assert body["detail"]["failed_step"] == "load raw files"
    # The sensor words the error as `apiwh run` does (one line, URLs masked).
    assert body["detail"]["error"] == one_line_error(outcome.error)
    assert "See also [url]" in body["detail"]["error"]
    # `apiwh alerts` lists it like any other alert.
    listed = apiwh(warehouse_env(tmp_path), "alerts", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["alert_key"], r["alert_type"], r["status"]) for r in rows] == [
        (key, "refresh_failed", "delivered")
    ]
    assert "changed after this snapshot" not in listed.stderr
