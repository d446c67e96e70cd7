"""The digests' words (orchestration/alerts/digest_render.py), from a ledger row's detail alone,
and the dispatch of render.py's faces to them: Markdown, plain text, HTML and Slack blocks."""

from __future__ import annotations

import json

from orchestration.alerts.digest_render import digest_markdown, outcomes_line
from orchestration.alerts.ledger import Alert
from orchestration.alerts.render import (
    alert_html,
    alert_payload,
    alert_text,
    alert_title,
    as_alert,
    slack_message,
)

WEEKLY = {
    "digest": "weekly",
    "period": "2026-W44",
    "week_start": "2026-10-26",
    "week_end": "2026-11-01",
    "marts_as_of_date": "2026-10-31",
    "movers_up": [
        {
            "organization_id": "org_up",
            "plan_id": "pro",
            "calls_7d": 1500,
            "calls_prior_7d": 1000,
            "calls_change_7d": 500,
            "usage_change_7d_pct": 50.0,
            "trend": "growing",
            "mover_direction_7d": "up",
            "mover_rank_7d": 1,
        }
    ],
    "movers_down": [],
    "churn_risks": [
        {
            "alert_key": "churn_risk:org_down:2026-10-14",
            "organization_id": "org_down",
            "as_of_date": "2026-10-31",
            "title": "org_down: calls fell 92.9% in 7 days (140 -> 10)",
        }
    ],
    "failing_integrations": [],
    "incidents": [
        {
            "route": "/v1/orders/{id}",
            "method": "GET",
            "usage_date": "2026-10-31",
            "calls": 900,
            "latency_p95_ms": 1200.0,
            "baseline_latency_p95_ms": 300.0,
            "server_error_rate": 0.01,
            "baseline_server_error_rate": 0.0,
            "kind": "latency",
            "affected_customers": 1,
            "scope": "isolated",
            "customers": [{"organization_id": "org_hit", "calls": 40, "server_errors": 2, "slow_calls": 30}],
        }
    ],
    "stuck_keys": [],
    "stuck_keys_more": False,
    "quota_outcomes": {
        "billing_month": "2026-09-01",
        "accounts": 5,
        "is_next_month_complete": True,
        "outcomes": [
            {"outcome": "upgraded", "accounts": 2},
            {"outcome": "absorbed_429s", "accounts": 1},
            {"outcome": "unchanged", "accounts": 2},
        ],
    },
}


def weekly_alert(detail: dict | None = None) -> Alert:
    return Alert("digest:weekly:2026-W44", "digest_weekly", None, None, detail or WEEKLY, None)


def test_the_quota_outcomes_line_reads_the_marts_counts() -> None:
    assert outcomes_line(WEEKLY["quota_outcomes"]) == (
        "September 2026: 5 accounts reached 80%: 2 upgraded, 1 absorbed the 429s, 2 unchanged"
    )
    assert outcomes_line({"billing_month": "2026-09-01", "accounts": 0, "outcomes": []}) is None


def test_markdown_has_every_section_and_an_empty_one_says_so_in_one_line() -> None:
    text = digest_markdown(weekly_alert())
    assert text.startswith("# Weekly CS digest, 2026-W44 (2026-10-26 to 2026-11-01)\n")
    assert "- org_up: 1,500 calls (7 days before: 1,000; +500, +50.0%), trend growing" in text
    assert "## Movers down (7 days against the 7 days before)\n\nNo organization's calls fell.\n" in text
    assert "- org_down: calls fell 92.9% in 7 days (140 -> 10) (as of 2026-10-31)" in text
    assert "org_hit (40 calls, 2 5xx, 30 slow)" in text
    assert "No onboarding key is stuck." in text
    assert "September 2026: 5 accounts reached 80%" in text
    assert text.rstrip().endswith("_digest digest:weekly:2026-W44, marts as of 2026-10-31_")


def test_renders_dispatch_digest_rows_and_slack_blocks_are_valid_json() -> None:
    # As the dashboard passes ledger rows: a dict with the detail as JSON text.
    row = {"alert_key": "digest:weekly:2026-W44", "alert_type": "digest_weekly", "detail": json.dumps(WEEKLY)}
    assert alert_title(row) == "Weekly CS digest, 2026-W44 (2026-10-26 to 2026-11-01)"
    alert = as_alert(row)
    message = json.loads(json.dumps(slack_message(alert)))
    assert message["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": alert_title(row)},
    }
    sections = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    assert [s.split("\n")[0] for s in sections] == [
        "*Movers up (7 days against the 7 days before)*",
        "*Movers down (7 days against the 7 days before)*",
        "*New churn risks*",
        "*New failing integrations*",
        "*Incidents and the customers they hit*",
        "*Onboarding keys stuck at a step*",
        "*Quota outcomes*",
    ]
    assert "GET /v1/orders/{id}" in sections[4] and sections[1].endswith("_No organization's calls fell._")
    payload = alert_payload(alert)
    assert payload["title"] == alert_title(row) and payload["markdown"] == digest_markdown(alert)
    assert payload["detail"]["period"] == "2026-W44"
    assert "Movers up" in alert_text(alert) and "<li>org_up: 1,500 calls" in alert_html(alert)


def test_html_escapes_what_the_marts_hold() -> None:
    detail = {**WEEKLY, "movers_up": [{**WEEKLY["movers_up"][0], "organization_id": "<script>"}]}
    html = alert_html(weekly_alert(detail))
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_the_daily_digest_lists_each_account_once_with_action_next_plan_and_mrr() -> None:
    detail = {
        "digest": "daily",
        "period": "2026-11-01",
        "marts_as_of_date": "2026-10-31",
        "since": None,
        "accounts": [
            {
                "organization_id": "org_hot",
                "thresholds": [80, 95],
                "plan_id": "pro",
                "monthly_call_limit": 10000,
                "pct_of_cap": 96.5,
                "action": "UPSELL NOW",
                "next_plan_id": "team",
                "upgrade_mrr_delta": 450.0,
            }
        ],
    }
    alert = Alert("digest:daily:2026-11-01", "digest_daily", None, None, detail, None)
    assert alert_title(alert) == "Daily sales digest, 2026-11-01: 1 account crossed a quota threshold"
    assert (
        "- org_hot crossed 80%, 95%: now 96.5% of 10,000 calls (plan pro); UPSELL NOW: AE outreach this"
        " week: on course for the cap, or at 80% of it; next plan team (+$450.00 MRR)"
    ) in digest_markdown(alert)
    empty = Alert("digest:daily:2026-11-02", "digest_daily", None, None, {**detail, "accounts": []}, None)
    assert "No account crossed a quota threshold." in digest_markdown(empty)
