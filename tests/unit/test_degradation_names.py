"""The endpoint_degradation alert names the organizations it hit (ORGANIZATIONS_FILE), so the
platform team can warn them by name; an organization the file does not name keeps its id."""

from __future__ import annotations

import datetime as dt

from orchestration.alerts.ledger import Alert
from orchestration.alerts.names import with_display_name
from orchestration.alerts.render import alert_text
from orchestration.dashboard.organizations import Directory, Organization


def _degradation_alert() -> Alert:
    return Alert(
        alert_key="endpoint_degradation:GET:/search:2026-03-10",
        alert_type="endpoint_degradation",
        organization_id=None,
        threshold=None,
        detail={
            "route": "/search",
            "method": "GET",
            "kind": "errors",
            "episode_start_date": "2026-03-10",
            "incident_days": 1,
            "calls": 900,
            "latency_p95_ms": 120.0,
            "baseline_latency_p95_ms": 110.0,
            "server_error_rate": 0.2,
            "baseline_server_error_rate": 0.01,
            "affected_customers": 2,
            "affected_organizations": [
                {"organization_id": "org_7", "calls": 400, "server_errors": 90, "slow_calls": 0},
                {"organization_id": "org_9", "calls": 300, "server_errors": 50, "slow_calls": 2},
            ],
        },
        as_of_date=dt.date(2026, 3, 10),
        created_at=dt.datetime(2026, 3, 11, 6, 0),
    )


def test_the_affected_organizations_get_their_names_and_contacts() -> None:
    directory = Directory({"org_7": Organization("org_7", "Acme Corp", "ops@acme.example")})
    named = with_display_name(_degradation_alert(), directory)
    assert named.organization_id is None
    assert named.detail["affected_organizations"] == [
        {
            "organization_id": "org_7",
            "calls": 400,
            "server_errors": 90,
            "slow_calls": 0,
            "organization_name": "Acme Corp",
            "primary_contact_email": "ops@acme.example",
        },
        {
            "organization_id": "org_9",
            "calls": 300,
            "server_errors": 50,
            "slow_calls": 2,
            "organization_name": "org_9",
        },
    ]
    text = alert_text(named)
    assert "Affected organizations: Acme Corp (org_7) (5xx 90, slow 0), org_9 (5xx 50, slow 2)" in text
    assert "Drafted note to the affected organizations' contacts (Acme Corp (org_7), org_9)" in text


def test_without_an_organizations_file_the_ids_are_listed() -> None:
    text = alert_text(with_display_name(_degradation_alert(), Directory()))
    assert "Affected organizations: org_7 (5xx 90, slow 0), org_9 (5xx 50, slow 2)" in text
