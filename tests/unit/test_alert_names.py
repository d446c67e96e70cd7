"""Delivered alerts greet the organization by the name ORGANIZATIONS_FILE gives it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

from orchestration.alerts.ledger import Alert
from orchestration.alerts.names import NamedSink, with_display_name, with_display_names
from orchestration.alerts.render import alert_title, drafted_note
from orchestration.alerts.sinks import FileSink
from orchestration.dashboard.organizations import Directory, Organization


def _quota_alert(organization_id: str) -> Alert:
    return Alert(
        alert_key=f"quota_threshold:{organization_id}:2026-03:80",
        alert_type="quota_threshold",
        organization_id=organization_id,
        threshold=80,
        detail={
            "headline": f"{organization_id} is at 82.4% of its monthly quota (412,000 of 500,000 calls)",
            "note_subject": "Heads up: you are at 82.4% of your monthly API quota",
            "note_body": f"Hi {organization_id} team, you are at 82.4% of your monthly quota. A plan with"
            " more headroom is a quick call away.",
            "pct_of_cap": 82.4,
        },
        as_of_date=dt.date(2026, 3, 10),
        created_at=dt.datetime(2026, 3, 11, 6, 0),
    )


def _directory(organization_id: str, name: str, contact: str | None) -> Directory:
    return Directory({organization_id: Organization(organization_id, name, contact)})


def test_the_note_and_headline_use_the_display_name_and_the_id_stays() -> None:
    named = with_display_name(
        _quota_alert("org_42"), _directory("org_42", "Innovate Inc", "cto@innovate.example")
    )
    assert named.organization_id == "org_42"
    assert named.detail["headline"].startswith("Innovate Inc is at 82.4%")
    assert named.detail["note_body"].startswith("Hi Innovate Inc team, you are at 82.4%")
    assert named.detail["organization_name"] == "Innovate Inc"
    assert named.detail["primary_contact_email"] == "cto@innovate.example"


def test_an_id_that_is_a_common_word_is_only_replaced_in_the_greeting() -> None:
    named = with_display_name(_quota_alert("a"), _directory("a", "Acme", None))
    assert named.detail["note_body"] == (
        "Hi Acme team, you are at 82.4% of your monthly quota."
        " A plan with more headroom is a quick call away."
    )
    assert named.detail["headline"].startswith("Acme is at")


def test_an_unnamed_organization_is_left_as_it_is() -> None:
    alert = _quota_alert("org_42")
    assert with_display_name(alert, _directory("org_other", "Other", None)) is alert
    assert with_display_names([FileSink(Path("x"))], Directory())[0].__class__ is FileSink


def test_a_named_sink_writes_the_name_and_keeps_its_sink_name(tmp_path: Path) -> None:
    sink = NamedSink(FileSink(tmp_path / "alerts.jsonl"), _directory("org_42", "Innovate Inc", None))
    assert sink.name == "file"
    sink.send(_quota_alert("org_42"))
    record = json.loads((tmp_path / "alerts.jsonl").read_text())
    assert record["organization_id"] == "org_42"
    assert record["detail"]["organization_name"] == "Innovate Inc"
    assert "Hi Innovate Inc team" in record["text"]
    assert record["title"].startswith("Innovate Inc is at 82.4%")


def test_a_quota_note_written_from_the_figures_greets_by_display_name() -> None:
    alert = _quota_alert("org_42")
    figures = {"used_mtd": 412_000, "monthly_call_limit": 500_000, "projected_eom": 1_277_200}
    alert = dataclasses.replace(
        alert,
        detail=alert.detail | figures | {"days_to_cap": 2, "billing_month": "2026-03-01"},
    )
    named = with_display_name(alert, _directory("org_42", "Innovate Inc", None))
    subject, body = drafted_note(named)
    assert body.startswith("Hi Innovate Inc team, you are at 82.4% of your monthly quota")
    assert alert_title(named).startswith("Innovate Inc is at 82.4% of its monthly quota")
