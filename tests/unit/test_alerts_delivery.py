"""Ledger and delivery, without dbt: a hand-made marts.alert_candidates, a real DuckDB file, the
real file sink and a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest

from orchestration.alerts.delivery import deliver_pending
from orchestration.alerts.ledger import (
    CandidatesMissingError,
    list_alerts,
    record_new_alerts,
    revive_dead,
)
from orchestration.alerts.sinks import FileSink, WebhookSink

T0 = dt.datetime(2026, 3, 21, 6, 0, 0)
AS_OF = dt.date(2026, 3, 20)


def set_candidates(con: duckdb.DuckDBPyConnection, keys: list[str]) -> None:
    con.execute("create schema if not exists marts")
    con.execute(
        """
        create or replace table marts.alert_candidates (
            alert_key varchar, alert_type varchar, organization_id varchar,
            threshold integer, as_of_date date, detail json
        )
        """
    )
    for key in keys:
        alert_type, org = key.split(":")[:2]
        threshold = int(key.rsplit(":", 1)[1]) if alert_type == "quota_threshold" else None
        detail = {"headline": f"{org} {alert_type}", "note_subject": "s", "note_body": "b"}
        con.execute(
            "insert into marts.alert_candidates values (?, ?, ?, ?, ?, ?)",
            [key, alert_type, org, threshold, AS_OF, json.dumps(detail)],
        )


KEYS = [
    "quota_threshold:org_a:2026-03:80",
    "quota_threshold:org_a:2026-03:95",
    "churn_risk:org_b:2026-03-18",
]


def deliver(con, sinks, now=T0, **overrides):
    options = {"max_attempts": 8, "backoff_seconds": 60, "backoff_max_seconds": 3600}
    options.update(overrides)
    return deliver_pending(con, sinks, now=now, **options)


def file_keys(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [json.loads(line)["alert_key"] for line in path.read_text().splitlines()]


def test_recording_is_insert_if_new(con):
    set_candidates(con, KEYS)
    assert record_new_alerts(con, now=T0).new_keys == sorted(KEYS)
    again = record_new_alerts(con, now=T0 + dt.timedelta(days=1))
    assert again.new_keys == []
    assert again.pending == again.total == 3

    # Usage hovering around a threshold: the 80 alert disappears from the candidates, comes
    # back, and is still the one alert it was; a new key is the only thing recorded.
    set_candidates(con, KEYS[1:])
    assert record_new_alerts(con, now=T0).new_keys == []
    set_candidates(con, [*KEYS, "quota_threshold:org_a:2026-03:100"])
    assert record_new_alerts(con, now=T0).new_keys == ["quota_threshold:org_a:2026-03:100"]
    rows = con.execute("select count(*), count(distinct alert_key) from marts.alerts").fetchall()
    assert rows == [(4, 4)]


def test_recording_needs_the_candidates_model(con):
    with pytest.raises(CandidatesMissingError, match="dbt build"):
        record_new_alerts(con, now=T0)


def test_every_alert_is_delivered_once_to_each_sink(con, tmp_path, receiver):
    set_candidates(con, KEYS)
    record_new_alerts(con, now=T0)
    jsonl = tmp_path / "data" / "alerts.jsonl"
    sinks = [FileSink(jsonl), WebhookSink(url=receiver.url, secret="k", timeout_seconds=5)]

    report = deliver(con, sinks)
    assert sorted(report.delivered) == sorted(KEYS)
    assert sorted(receiver.accepted_keys()) == sorted(KEYS)
    assert sorted(file_keys(jsonl)) == sorted(KEYS)
    ledger = {a.alert_key: a for a in list_alerts(con)}
    assert {a.status for a in ledger.values()} == {"delivered"}
    # The successful attempt counts: delivered on the first try is 1 attempt.
    assert all(a.delivered_at == T0 and a.delivery_attempts == 1 for a in ledger.values())

    # A second delivery run (and a re-record of the same candidates) sends nothing.
    record_new_alerts(con, now=T0)
    assert deliver(con, sinks, now=T0 + dt.timedelta(hours=1)).due == 0
    assert len(receiver.accepted) == 3
    assert len(file_keys(jsonl)) == 3


def test_receiver_down_then_slow_then_back_loses_nothing_and_sends_each_once(con, tmp_path, receiver):
    keys = [f"churn_risk:org_{i}:2026-03-18" for i in range(5)]
    set_candidates(con, keys)
    record_new_alerts(con, now=T0)
    jsonl = tmp_path / "data" / "alerts.jsonl"
    sinks = [FileSink(jsonl), WebhookSink(url=receiver.url, timeout_seconds=0.3)]

    # 1. The receiver answers 500: three tries, then the webhook is left alone for this run.
    receiver.mode, receiver.status = "error", 500
    report = deliver(con, sinks)
    assert len(report.retrying) == 3 and len(report.deferred) == 2 and not report.delivered
    assert len(receiver.attempts) == 3
    ledger = list_alerts(con)
    assert {a.status for a in ledger} == {"pending"}
    tried = [a for a in ledger if a.delivery_attempts == 1]
    assert len(tried) == 3
    assert all(a.last_error == "webhook: HTTP 500 Internal Server Error" for a in tried)
    assert all(a.next_attempt_at == T0 + dt.timedelta(seconds=60) for a in tried)
    # The always-on file got every alert once, and will not get them again.
    assert sorted(file_keys(jsonl)) == sorted(keys)

    # 2. Backoff: a run right away tries only the two that were never tried.
    receiver.clear()
    report = deliver(con, sinks, now=T0 + dt.timedelta(seconds=1))
    assert report.due == 2

    # 3. The receiver hangs: timeouts are failures too, counted and kept.
    receiver.mode = "slow"
    receiver.delay = 1.0
    report = deliver(con, sinks, now=T0 + dt.timedelta(hours=2))
    assert report.due == 5 and len(report.retrying) == 3 and len(report.deferred) == 2
    timed_out = [a for a in list_alerts(con) if a.last_error and "timed out" in a.last_error]
    assert len(timed_out) == 3

    # 4. Back to 200: every pending alert arrives exactly once.
    receiver.mode = "ok"
    receiver.clear()
    report = deliver(con, sinks, now=T0 + dt.timedelta(hours=4))
    assert sorted(report.delivered) == sorted(keys)
    assert sorted(receiver.accepted_keys()) == sorted(keys)
    assert sorted(file_keys(jsonl)) == sorted(keys)
    assert {a.status for a in list_alerts(con)} == {"delivered"}
    assert deliver(con, sinks, now=T0 + dt.timedelta(days=1)).due == 0
    assert sorted(receiver.accepted_keys()) == sorted(keys)


def test_backoff_doubles_and_the_alert_dies_after_max_attempts(con, tmp_path, receiver):
    set_candidates(con, KEYS[:1])
    record_new_alerts(con, now=T0)
    receiver.mode, receiver.status = "error", 503
    sinks = [FileSink(tmp_path / "alerts.jsonl"), WebhookSink(url=receiver.url, timeout_seconds=5)]
    now = T0
    delays = []
    for _ in range(3):
        report = deliver(con, sinks, now=now, max_attempts=4)
        assert report.due == 1
        [alert] = list_alerts(con)
        delays.append((alert.next_attempt_at - now).total_seconds())
        now = alert.next_attempt_at
    assert delays == [60, 120, 240]
    report = deliver(con, sinks, now=now, max_attempts=4)
    assert list(report.died) == KEYS[:1]
    [alert] = list_alerts(con)
    assert (alert.status, alert.delivery_attempts) == ("dead", 4)
    assert alert.last_error == "webhook: HTTP 503 Service Unavailable"
    assert deliver(con, sinks, now=now + dt.timedelta(days=30), max_attempts=4).due == 0

    # An operator fixes the receiver and revives it: delivered once.
    receiver.mode = "ok"
    assert revive_dead(con, now=now) == 1
    assert deliver(con, sinks, now=now, max_attempts=4).delivered == KEYS[:1]
    assert receiver.accepted_keys() == KEYS[:1]


def test_a_crash_between_send_and_mark_resends_the_same_key(con, tmp_path, receiver):
    set_candidates(con, KEYS[:1])
    record_new_alerts(con, now=T0)
    sinks = [WebhookSink(url=receiver.url, timeout_seconds=5)]
    deliver(con, sinks)
    # As if the process died after the POST and before the mark was written.
    con.execute("update marts.alerts set status = 'pending', delivered_at = null, delivered_sinks = []")
    deliver(con, sinks, now=T0 + dt.timedelta(minutes=5))
    first, second = receiver.accepted
    assert first["headers"]["Idempotency-Key"] == second["headers"]["Idempotency-Key"] == KEYS[0]
    # ... so a receiver that dedupes on the key acts once.
    assert len(set(receiver.accepted_keys())) == 1


def test_a_broken_file_sink_never_raises_and_is_retried(con, tmp_path):
    set_candidates(con, KEYS[:1])
    record_new_alerts(con, now=T0)
    blocked = tmp_path / "not_a_dir"
    blocked.write_text("a file where the folder should be")
    report = deliver(con, [FileSink(blocked / "alerts.jsonl")])
    assert len(report.retrying) == 1
    [alert] = list_alerts(con)
    assert alert.status == "pending" and alert.last_error.startswith("file: cannot append")


def test_delivery_attempts_count_the_failures_and_the_success(con, tmp_path, receiver):
    """docs/contract.md: failed twice, then went through, is 3 attempts."""
    set_candidates(con, KEYS[:1])
    record_new_alerts(con, now=T0)
    sinks = [WebhookSink(url=receiver.url, timeout_seconds=5)]
    receiver.mode, receiver.status = "error", 503
    deliver(con, sinks, now=T0)
    deliver(con, sinks, now=T0 + dt.timedelta(hours=1))
    [alert] = list_alerts(con)
    assert (alert.status, alert.delivery_attempts) == ("pending", 2)
    receiver.mode = "ok"
    deliver(con, sinks, now=T0 + dt.timedelta(hours=2))
    [alert] = list_alerts(con)
    assert (alert.status, alert.delivery_attempts) == ("delivered", 3)
