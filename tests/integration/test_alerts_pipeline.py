"""End to end on a fixture dataset: real load, real `dbt build`, the ledger asset, the
deliver_alerts job, a real HTTP receiver on 127.0.0.1, and `apiwh alerts`.

Fixture (as-of date 2026-03-20, the last day with calls; March has 31 days):
- org_quota: quota 1,000 (plan pro), 41 calls a day from 03-01: 820 = 82.0% -> threshold 80;
  days to cap floor(180 * 20 / 820) = 4, projected end of month round(820 / 20 * 31) = 1,271.
  Day two (03-21) adds 180 calls: 1,000 = 100% -> thresholds 95 and 100, nothing else.
- org_jump: quota 100, its first 100 calls all on 03-20: 40% never seen, 80, 95 and 100 at once.
- org_low: quota 10,000, 50 calls: nothing.
- org_decline: 20 calls a day 03-01..03-13 (15 on /v1/items with key_a, 5 on /v1/orders/<n>
  with key_b), then 10 on 03-15 only. Last 7 days 10, the 7 before 140 -> declining; the first
  declining day is 03-18 (7 days to 03-18: 50 calls, half of 140 is 70).
- org_dormant: 5 calls a day 02-01..02-20: no call from 02-21 -> dormant from 02-27.
- org_steady: 10 calls a day from 03-01: steady, nothing.
"""

from __future__ import annotations

import datetime as dt
import json

import dagster as dg
import pytest

from orchestration.alerts.ledger import Alert
from orchestration.alerts.render import alert_title, drafted_note, figure_lines
from orchestration.cli import main as apiwh
from orchestration.defs.alerts import alerts_ledger_asset, deliver_alerts_job
from tests import support as kit

# endpoint_incident_customers too: its test that it has each incident's affected_customers rows
# hangs on endpoint_incidents, which +alert_candidates builds, so dbt runs that test as well.
DBT_SELECT = "+alert_candidates +endpoint_incident_customers"

DAY_ONE_KEYS = {
    "quota_threshold:org_quota:2026-03:80",
    "quota_threshold:org_jump:2026-03:80",
    "quota_threshold:org_jump:2026-03:95",
    "quota_threshold:org_jump:2026-03:100",
    "churn_risk:org_decline:2026-03-18",
    "churn_risk:org_dormant:2026-02-27",
}
DAY_TWO_KEYS = {
    "quota_threshold:org_quota:2026-03:95",
    "quota_threshold:org_quota:2026-03:100",
}


def _at(day: str, i: int) -> str:
    return f"{day}T{10 + i // 3600:02d}:{(i // 60) % 60:02d}:{i % 60:02d}Z"


def _calls(org: str, day: str, n: int, **kwargs) -> list[dict]:
    return [kit.api_request(org, _at(day, i), **kwargs) for i in range(n)]


def _days(first: int, last: int, month: str = "2026-03") -> list[str]:
    return [f"{month}-{d:02d}" for d in range(first, last + 1)]


def day_one_events() -> list[dict]:
    events = [
        kit.quota_set("org_quota", "2026-03-01T00:00:00Z", 1000, plan="pro"),
        kit.quota_set("org_jump", "2026-03-01T00:00:00Z", 100, plan="free"),
        kit.quota_set("org_low", "2026-03-01T00:00:00Z", 10000, plan="pro"),
    ]
    for day in _days(1, 20):
        events += _calls("org_quota", day, 41, plan="pro")
        events += _calls("org_steady", day, 10)
    events += _calls("org_jump", "2026-03-20", 100)
    events += _calls("org_low", "2026-03-20", 50)
    for day in _days(1, 13):
        events += _calls("org_decline", day, 15, key="key_a")
        events += [
            kit.api_request("org_decline", _at(day, 100 + i), endpoint=f"/v1/orders/{i + 1}", key="key_b")
            for i in range(5)
        ]
    events += _calls("org_decline", "2026-03-15", 10, key="key_a")
    for day in _days(1, 20, "2026-02"):
        events += _calls("org_dormant", day, 5)
    return events


def day_two_events() -> list[dict]:
    return _calls("org_quota", "2026-03-21", 180, plan="pro") + _calls("org_steady", "2026-03-21", 10)


@pytest.fixture(scope="module")
def day_one_warehouse(tmp_path_factory):
    return kit.build_warehouse(tmp_path_factory.mktemp("alerts_e2e"), day_one_events(), select=DBT_SELECT)


def candidate_details(warehouse) -> dict[str, dict]:
    rows = kit.query(warehouse, "select alert_key, detail from marts.alert_candidates")
    return {key: json.loads(detail) for key, detail in rows}


def test_detection_finds_exactly_the_expected_keys(day_one_warehouse):
    assert set(candidate_details(day_one_warehouse)) == DAY_ONE_KEYS


def test_quota_alert_carries_the_figures_and_a_drafted_note(day_one_warehouse):
    detail = candidate_details(day_one_warehouse)["quota_threshold:org_quota:2026-03:80"]
    assert detail["monthly_call_limit"] == 1000
    assert detail["used_mtd"] == 820
    assert detail["pct_of_cap"] == 82.0
    assert detail["projected_eom"] == 1271
    assert detail["days_to_cap"] == 4
    assert detail["plan_id"] == "pro"
    assert detail["will_exceed"] is True
    alert = Alert(
        alert_key="quota_threshold:org_quota:2026-03:80",
        alert_type="quota_threshold",
        organization_id="org_quota",
        threshold=80,
        detail=detail,
        as_of_date=None,
    )
    # marts.quota_outlook's verdict, as the mart has it: the alert never decides it again.
    outlook = kit.query(
        day_one_warehouse,
        "select outlook, action, cap_date, resets_on, next_plan_id, upgrade_mrr_delta, overage_cost_at_pace"
        " from marts.quota_outlook where organization_id = 'org_quota'",
    )
    assert outlook == [
        ("reaches_cap", "UPSELL NOW", dt.date(2026, 3, 24), dt.date(2026, 4, 1), None, None, None)
    ]
    assert (detail["outlook"], detail["action"], detail["cap_date"], detail["resets_on"]) == (
        "reaches_cap",
        "UPSELL NOW",
        "2026-03-24",
        "2026-04-01",
    )
    assert (detail["next_plan_id"], detail["upgrade_mrr_delta"], detail["overage_cost_at_pace"]) == (
        None,
        None,
        None,
    )
    assert detail["quota_resets_on"] == "2026-04-01"  # the fields alerts carried before stay
    subject, body = drafted_note(alert)
    assert subject == "Heads up: at this pace you reach your monthly API quota on March 24"
    assert body.startswith("Hi org_quota team,\n\nYou have made 820 of your 1,000 calls this month.")
    assert "At this pace you reach the quota in 4 days, on Mar 24, before it resets on Apr 1." in body
    assert "within your quota" not in body
    assert alert_title(alert) == (
        "org_quota: UPSELL NOW · cap in 4 days (Mar 24) (82.0% of its monthly quota, 820 of 1,000 calls"
        " in March 2026)"
    )
    assert ("Outlook", "cap in 4 days (Mar 24)") in figure_lines(alert)


def test_churn_alert_carries_the_7_day_figures_and_what_dropped(day_one_warehouse):
    details = candidate_details(day_one_warehouse)
    decline = details["churn_risk:org_decline:2026-03-18"]
    assert (decline["trend"], decline["calls_7d"], decline["calls_prior_7d"]) == (
        "declining",
        10,
        140,
    )
    assert decline["usage_change_7d_pct"] == -92.9
    assert decline["days_since_last_call"] == 5
    assert decline["top_endpoint_drops"] == [
        {"route": "/v1/items", "calls_prior_7d": 105, "calls_7d": 10, "change": -95},
        {"route": "/v1/orders/{id}", "calls_prior_7d": 35, "calls_7d": 0, "change": -35},
    ]
    assert [k["api_key_id"] for k in decline["top_key_drops"]] == ["key_a", "key_b"]
    assert "note_body" not in decline  # the words are drafted in Python, from these figures
    alert = Alert(
        alert_key="churn_risk:org_decline:2026-03-18",
        alert_type="churn_risk",
        organization_id="org_decline",
        threshold=None,
        detail=decline,
        as_of_date=None,
    )
    assert alert_title(alert) == "org_decline: calls fell 92.9% in 7 days (140 -> 10)"
    assert "to 10 in the last 7, most of the drop on /v1/items (105 -> 10)." in drafted_note(alert)[1]
    dormant = details["churn_risk:org_dormant:2026-02-27"]
    assert (dormant["trend"], dormant["days_since_last_call"]) == ("dormant", 28)
    assert dormant["top_endpoint_drops"] is None


def _refresh_and_deliver(instance: dg.DagsterInstance) -> None:
    recorded = dg.materialize([alerts_ledger_asset], instance=instance, resources=kit.resources_from_env())
    assert recorded.success
    assert deliver_alerts_job.execute_in_process(
        instance=instance, resources=kit.resources_from_env()
    ).success


def test_each_alert_is_delivered_once_across_reruns_and_new_days(
    day_one_warehouse, tmp_path, receiver, capsys
):
    warehouse = kit.copy_warehouse(day_one_warehouse, tmp_path)
    with pytest.MonkeyPatch.context() as env, dg.DagsterInstance.ephemeral() as instance:
        alert_settings = {"ALERT_WEBHOOK_SECRET": "s3cret", "ALERT_WEBHOOK_TIMEOUT_SECONDS": "0.5"}
        kit.set_environment(
            env,
            kit.warehouse_env(
                tmp_path, ALERT_WEBHOOK_URL=receiver.url, ALERT_BACKOFF_SECONDS="0", **alert_settings
            ),
        )

        # Day one, receiver down: recorded, pending, the run still succeeds.
        receiver.mode, receiver.status = "error", 500
        _refresh_and_deliver(instance)
        assert receiver.accepted == [] and receiver.attempts
        assert apiwh(["alerts", "--pending"]) == 0
        listed = capsys.readouterr().out
        assert all(key in listed for key in DAY_ONE_KEYS)
        assert "HTTP 500 Internal Server Error" in listed

        # ... then too slow to answer: still pending, still nothing lost.
        receiver.mode, receiver.delay = "slow", 1.5
        assert deliver_alerts_job.execute_in_process(
            instance=instance, resources=kit.resources_from_env()
        ).success
        assert receiver.accepted == []

        # Back up: each day-one alert arrives exactly once.
        receiver.mode = "ok"
        assert deliver_alerts_job.execute_in_process(
            instance=instance, resources=kit.resources_from_env()
        ).success
        assert sorted(receiver.accepted_keys()) == sorted(DAY_ONE_KEYS)

        # A second refresh and delivery on the same data deliver nothing.
        kit.run_dbt(warehouse, "build", "--select", DBT_SELECT)
        _refresh_and_deliver(instance)
        assert sorted(receiver.accepted_keys()) == sorted(DAY_ONE_KEYS)

        # One more day takes org_quota from 82% to 100%: the 95 and 100 alerts only.
        kit.write_ndjson(tmp_path / "landing" / "day2.ndjson", day_two_events())
        kit.load_events(tmp_path / "landing", warehouse)
        kit.run_dbt(warehouse, "build", "--select", DBT_SELECT)
        receiver.clear()
        _refresh_and_deliver(instance)
        assert sorted(receiver.accepted_keys()) == sorted(DAY_TWO_KEYS)

        assert apiwh(["alerts", "--pending"]) == 0
        assert "No pending alerts." in capsys.readouterr().err
        assert apiwh(["alerts"]) == 0
        listed = capsys.readouterr().out
        assert listed.count("delivered") == len(DAY_ONE_KEYS | DAY_TWO_KEYS)

    # The always-on file has every alert once.
    lines = (warehouse.parent / "alerts.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["alert_key"] for line in lines) == sorted(DAY_ONE_KEYS | DAY_TWO_KEYS)
    statuses = kit.query(warehouse, "select status, count(*) from marts.alerts group by status")
    assert statuses == [("delivered", len(DAY_ONE_KEYS | DAY_TWO_KEYS))]
