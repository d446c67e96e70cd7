"""The churn_risk alert's words, rendered in Python from the figures detection puts in detail."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from orchestration.alerts.ledger import Alert
from orchestration.alerts.names import with_display_name
from orchestration.alerts.render import alert_text, alert_title, drafted_note, slack_message
from orchestration.dashboard.organizations import Directory, Organization

DECLINING = {
    "trend": "declining",
    "episode_start_date": "2026-03-18",
    "plan_id": "pro",
    "calls_7d": 10,
    "calls_prior_7d": 1400,
    "usage_change_7d_pct": -99.3,
    "calls_30d": 4200,
    "active_days_30d": 25,
    "days_since_last_call": 5,
    "last_call_at": "2026-03-15 09:30:00",
    "top_endpoint_drops": [
        {"route": "/v1/items", "calls_prior_7d": 1050, "calls_7d": 10, "change": -1040},
        {"route": "/v1/orders/{id}", "calls_prior_7d": 350, "calls_7d": 0, "change": -350},
    ],
    "top_key_drops": [{"api_key_id": "key_a", "calls_prior_7d": 1400, "calls_7d": 10, "change": -1390}],
}

DORMANT = {
    "trend": "dormant",
    "episode_start_date": "2026-02-27",
    "plan_id": None,
    "calls_7d": 0,
    "calls_prior_7d": 0,
    "usage_change_7d_pct": None,
    "calls_30d": 12,
    "active_days_30d": 1,
    "days_since_last_call": 28,
    "last_call_at": "2026-02-20 17:05:00",
    "top_endpoint_drops": None,
    "top_key_drops": None,
}


def _alert(organization_id: str, detail: dict) -> Alert:
    return Alert(
        alert_key=f"churn_risk:{organization_id}:{detail['episode_start_date']}",
        alert_type="churn_risk",
        organization_id=organization_id,
        threshold=None,
        detail=detail,
        as_of_date=dt.date(2026, 3, 20),
        created_at=dt.datetime(2026, 3, 21, 6, 0),
    )


# A declining customer gets the drop in figures and where it fell; a dormant one, how long it
# has been silent.
WORDS_BY_TREND = {
    "declining": (
        "org_decline",
        DECLINING,
        "org_decline: calls fell 99.3% in 7 days (1,400 -> 10)",
        (
            "Your API usage dropped this week: can we help?",
            "Hi org_decline team, your API calls went from 1,400 in the previous 7 days to 10 in the"
            " last 7, most of the drop on /v1/items (1,050 -> 10). Is anything getting in the way? We"
            " would be glad to help.",
        ),
    ),
    "dormant": (
        "org_dormant",
        DORMANT,
        "org_dormant has made no API call for 28 days (last call 2026-02-20)",
        (
            "We have not seen API calls from you for 28 days",
            "Hi org_dormant team, we have not seen an API call from you since February 20 (28 days"
            " ago). Is anything getting in the way of your integration? We would be glad to help.",
        ),
    ),
}


@pytest.mark.parametrize("trend", WORDS_BY_TREND)
def test_each_trend_gets_its_figures_in_the_title_and_the_note(trend: str) -> None:
    organization_id, detail, title, note = WORDS_BY_TREND[trend]
    alert = _alert(organization_id, detail)
    assert alert_title(alert) == title
    assert drafted_note(alert) == note


def test_a_declining_customer_without_route_drops_gets_no_route_clause() -> None:
    detail = {**DECLINING, "top_endpoint_drops": None, "usage_change_7d_pct": None}
    alert = _alert("org_decline", detail)
    assert alert_title(alert) == "org_decline: calls fell ?% in 7 days (1,400 -> 10)"
    assert "in the last 7. Is anything getting in the way?" in drafted_note(alert)[1]


def test_the_text_and_slack_message_lay_out_figures_and_note() -> None:
    alert = _alert("org_decline", DECLINING)
    text = alert_text(alert)
    assert "Calls, last 7 days: 10 (7 days before: 1,400, -99.3%)" in text
    assert "Endpoints that dropped most: /v1/items 1,050 -> 10, /v1/orders/{id} 350 -> 0" in text
    assert "Drafted note to the account's contact -- Your API usage dropped this week" in text
    slack = slack_message(alert)
    assert slack["text"] == ":warning: org_decline: calls fell 99.3% in 7 days (1,400 -&gt; 10)"
    assert ">Hi org_decline team, your API calls went from 1,400" in slack["blocks"][2]["text"]["text"]


def test_the_organizations_file_name_greets_and_heads_the_alert() -> None:
    directory = Directory({"org_decline": Organization("org_decline", "Innovate Inc", None)})
    named = with_display_name(_alert("org_decline", DECLINING), directory)
    assert alert_title(named) == "Innovate Inc: calls fell 99.3% in 7 days (1,400 -> 10)"
    assert drafted_note(named)[1].startswith("Hi Innovate Inc team, your API calls went from 1,400")


def test_an_alert_recorded_with_drafted_words_keeps_them() -> None:
    legacy = {"headline": "org_x: calls fell 50.0% in 7 days", "note_subject": "s", "note_body": "b"}
    alert = _alert("org_x", {**legacy, "episode_start_date": "2026-03-01"})
    assert alert_title(alert) == "org_x: calls fell 50.0% in 7 days"
    assert drafted_note(alert) == ("s", "b")


def test_the_dashboard_lists_a_churn_alert_by_the_same_headline() -> None:
    # A row of marts.alerts as the customer pages read it: the detail is JSON text.
    row = {
        "alert_key": "churn_risk:org_dormant:2026-02-27",
        "alert_type": "churn_risk",
        "organization_id": "org_dormant",
        "threshold": None,
        "as_of_date": dt.date(2026, 3, 20),
        "detail": json.dumps(DORMANT),
    }
    assert alert_title(row) == alert_title(_alert("org_dormant", DORMANT))
    assert alert_title(row) == "org_dormant has made no API call for 28 days (last call 2026-02-20)"
