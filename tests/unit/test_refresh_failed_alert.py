"""refresh_failed, the alert of a failed refresh, without Dagster: a real DuckDB warehouse file
(writable, corrupt or missing), its published snapshot, the real file sink and a real HTTP
receiver on 127.0.0.1. The Dagster and `apiwh run` sides: tests/integration/test_refresh_failed.py.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from orchestration.alerts.config import AlertSettings
from orchestration.alerts.delivery import deliver_pending
from orchestration.alerts.ledger import ensure_ledger, list_alerts, utc_now
from orchestration.alerts.refresh_failure import (
    one_line_error,
    refresh_failed_alert,
    report_failed_run,
)
from orchestration.alerts.signing import KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from orchestration.alerts.sinks import build_sinks
from orchestration.readers import live_changed_since
from orchestration.settings import Settings
from orchestration.snapshot import publish_snapshot
from orchestration.warehouse import connect
from tests.unit.test_alerts_http import Receiver

RUN_ID = "0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
FAILED_AT = dt.datetime(2026, 3, 21, 6, 0, 12)
SECRET = "s3cret-signing-key"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        raw_data_dir=tmp_path / "landing",
        warehouse_path=tmp_path / "data" / "warehouse.duckdb",
        as_of=None,
        ip_hash_salt="pepper-0123456789",
    )


def alert_settings(settings: Settings, receiver: Receiver) -> AlertSettings:
    return AlertSettings(
        jsonl_path=settings.data_dir / "alerts.jsonl",
        webhook_url=receiver.url,
        webhook_secret=SECRET,
        timeout_seconds=5,
        backoff_seconds=0,
    )


def a_failure(run_id: str = RUN_ID):
    return refresh_failed_alert(
        run_id=run_id,
        failed_step="dbt build",
        error="DagsterDbtCliRuntimeError: dbt failed\n  model int_x: Binder Error",
        failed_at=FAILED_AT,
        log_path="/srv/data/logs/daily_refresh-20260321T060000Z.log",
    )


def a_published_warehouse(settings: Settings) -> None:
    """A warehouse with its (empty) ledger, published: what readers see before the failure."""
    with connect(settings.warehouse_path) as con:
        ensure_ledger(con)
        publish_snapshot(con, settings.snapshot_path)


def ledger(path: Path):
    with connect(path, read_only=True) as con:
        return list_alerts(con)


def file_lines(alerts: AlertSettings) -> list[dict]:
    return [json.loads(line) for line in alerts.jsonl_path.read_text().splitlines()]


def test_the_error_is_one_line_without_secrets_or_urls():
    text = "WarehouseBusyError: in use\n\tPOST https://hooks.slack.com/services/T0/B0/xyz failed; pepper-0123"
    line = one_line_error(text, secrets=["pepper-0123", None, ""])
    assert line == "WarehouseBusyError: in use POST [url] failed; [secret]"
    assert len(one_line_error("x" * 5000)) == 300
    assert one_line_error(None) == "unknown error"


def test_recorded_once_sent_once_signed_and_published_for_readers(settings, receiver):
    a_published_warehouse(settings)
    alerts = alert_settings(settings, receiver)

    first = report_failed_run(settings, alerts, a_failure())
    again = report_failed_run(settings, alerts, a_failure())

    assert first == "refresh_failed alert recorded, delivered to alerts.jsonl and the webhook"
    assert again == "refresh_failed alert for run 0f1e2d3c was already delivered"
    [request] = receiver.accepted
    body = json.loads(request["body"])
    key = f"refresh_failed:daily_refresh:{RUN_ID}"
    assert (body["alert_key"], body["alert_type"], request["headers"][KEY_HEADER]) == (
        key,
        "refresh_failed",
        key,
    )
    assert body["detail"] == {
        "job_name": "daily_refresh",
        "run_id": RUN_ID,
        "failed_step": "dbt build",
        "error": "DagsterDbtCliRuntimeError: dbt failed model int_x: Binder Error",
        "failed_at": "2026-03-21T06:00:12Z",
        "log_path": "/srv/data/logs/daily_refresh-20260321T060000Z.log",
    }
    assert body["title"].startswith("daily_refresh failed at step dbt build (run 0f1e2d3c)")
    headers = request["headers"]
    assert verify(SECRET, headers[TIMESTAMP_HEADER], request["body"], headers[SIGNATURE_HEADER])
    assert [line["alert_key"] for line in file_lines(alerts)] == [key]

    [row] = ledger(settings.warehouse_path)
    assert (row.alert_type, row.status, row.delivery_attempts) == ("refresh_failed", "delivered", 1)
    # Readers (apiwh alerts) see it in the snapshot, which is not flagged stale for it.
    [published] = ledger(settings.snapshot_path)
    assert (published.alert_key, published.status) == (key, "delivered")
    with connect(settings.snapshot_path, read_only=True) as con:
        assert not live_changed_since(con, settings.warehouse_path)


def test_an_unwritable_ledger_falls_back_to_the_sinks_and_still_sends_once(settings, receiver):
    settings.data_dir.mkdir(parents=True)
    settings.warehouse_path.write_bytes(b"not a duckdb file\n" * 512)  # corrupt: cannot be opened
    alerts = alert_settings(settings, receiver)

    first = report_failed_run(settings, alerts, a_failure())
    again = report_failed_run(settings, alerts, a_failure())

    assert first.startswith("refresh_failed alert not recorded in the ledger (")
    assert first.endswith(": sent directly, delivered to alerts.jsonl and the webhook")
    assert again.endswith(f"already sent for run {RUN_ID[:8]} (alerts.jsonl has it)")
    assert [body["alert_type"] for body in receiver.accepted_bodies()] == ["refresh_failed"]
    assert len(file_lines(alerts)) == 1


def test_without_a_warehouse_it_is_sent_directly(settings, receiver):
    status = report_failed_run(settings, alert_settings(settings, receiver), a_failure())
    assert status.startswith(
        f"refresh_failed alert not recorded in the ledger (no warehouse at {settings.warehouse_path}"
    )
    assert len(receiver.accepted) == 1
    assert not settings.warehouse_path.exists()


def test_recorded_pending_without_delivery_then_sent_by_the_delivery_job(settings, receiver):
    a_published_warehouse(settings)
    alerts = alert_settings(settings, receiver)

    status = report_failed_run(settings, alerts, a_failure(), deliver=False)

    assert status == "refresh_failed alert recorded, pending: `apiwh deliver` sends it"
    assert receiver.attempts == []
    assert [a.status for a in ledger(settings.snapshot_path)] == ["pending"]
    # A normal alert of the ledger: the delivery job sends it like any other.
    with connect(settings.warehouse_path) as con:
        report = deliver_pending(
            con, build_sinks(alerts), now=utc_now(), max_attempts=8, backoff_seconds=0, backoff_max_seconds=0
        )
    assert report.delivered == [f"refresh_failed:daily_refresh:{RUN_ID}"]
    assert [body["alert_type"] for body in receiver.accepted_bodies()] == ["refresh_failed"]


def test_a_failing_webhook_leaves_it_pending_for_a_retry(settings, receiver):
    a_published_warehouse(settings)
    alerts = alert_settings(settings, receiver)
    receiver.mode, receiver.status = "error", 500

    status = report_failed_run(settings, alerts, a_failure())

    assert status == (
        "refresh_failed alert recorded, delivered to alerts.jsonl; the webhook failed "
        "(HTTP 500 Internal Server Error); `apiwh deliver` retries it"
    )
    [row] = ledger(settings.warehouse_path)
    assert (row.status, row.delivery_attempts, row.delivered_sinks) == ("pending", 1, ("file",))
    assert row.last_error == "webhook: HTTP 500 Internal Server Error"

    receiver.mode = "ok"
    status = report_failed_run(settings, alerts, a_failure())  # the other reporter of the run
    assert status == "refresh_failed alert already recorded, delivered to alerts.jsonl and the webhook"
    assert len(receiver.accepted) == 1
    assert len(file_lines(alerts)) == 1  # the file sink had it already
