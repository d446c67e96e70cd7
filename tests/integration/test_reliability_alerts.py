"""The four reliability alerts end to end on the shared situation (tests/integration/
reliability_situation.py): the candidates and their figures, the drafted notes, the ledger asset,
the deliver_alerts job and a real HTTP receiver on 127.0.0.1 (docs/contract.md 2b)."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from orchestration.alerts.render import alert_text, drafted_note
from orchestration.defs.alerts import alerts_ledger_asset, deliver_alerts_job
from tests import support as kit
from tests.integration.reliability_situation import (
    DAY_ONE_KEYS,
    DAY_THREE_KEYS,
    DBT_SELECT,
    as_alert,
    candidates,
    day_three_events,
    day_two_events,
)
from tests.support import query, resources_from_env

# endpoint_incident_customers is rebuilt with the alerts: its test that each incident has its
# affected_customers rows hangs on endpoint_incidents, so dbt runs it with +alert_candidates.
REBUILD_SELECT = f"{DBT_SELECT} +endpoint_incident_customers"

# --- the alerts ---------------------------------------------------------------------------------


def test_each_planted_signal_is_one_candidate_with_its_figures(day_one_warehouse):
    found = candidates(day_one_warehouse)
    assert set(found) == DAY_ONE_KEYS

    spike = json.loads(found["usage_spike:key_spike:2026-04-10"][5])
    assert found["usage_spike:key_spike:2026-04-10"][2] == "org_spike"
    assert (spike["calls"], spike["median_calls_prior_28d"], spike["spike_ratio"]) == (1200, 20.0, 60.0)
    assert spike["top_routes"][0] == {
        "route": "/v1/search",
        "method": "GET",
        "calls": 1180,
        "avg_daily_calls_prior_28d": 0.0,
        "rate_limited_calls": 0,
        "server_errors": 0,
    }

    sharing = json.loads(found["key_sharing_suspect:key_shared:2026-04-10"][5])
    assert (sharing["distinct_ip_hashes"], sharing["median_ip_hashes_prior_28d"]) == (30, 1.0)
    assert [c["country"] for c in sharing["top_countries"]] == ["BR", "DE", "FR"]

    failing = json.loads(found["integration_failing:org_failing:2026-04-08"][5])
    assert (failing["calls_7d"], failing["failed_calls_7d"], failing["error_rate_7d"]) == (210, 168, 0.8)
    assert failing["error_rate_prior_7d"] == 0.0
    assert failing["failing_routes"] == [
        {
            "route": "/v1/orders",
            "method": "POST",
            "calls": 168,
            "failed_calls": 168,
            "error_rate": 1.0,
            "top_error_type": "validation",
            "top_status_code": 422,
            "other_customers_calls": 70,
            "other_customers_error_rate": 0.0,
        }
    ]
    assert failing["error_types"][0]["error_type"] == "validation"

    key = "endpoint_degradation:GET:/v1/reports:2026-04-10"
    assert found[key][2] is None
    degradation = json.loads(found[key][5])
    assert [o["organization_id"] for o in degradation["affected_organizations"]] == [
        "inc_a",
        "inc_b",
        "inc_c",
    ]
    assert degradation["affected_organizations"][0] == {
        "organization_id": "inc_a",
        "calls": 20,
        "server_errors": 0,
        "slow_calls": 20,
    }


def test_drafted_notes_say_what_to_do(day_one_warehouse):
    found = {key: as_alert(row) for key, row in candidates(day_one_warehouse).items()}
    subject, body = drafted_note(found["usage_spike:key_spike:2026-04-10"])
    assert subject == "Unusual API traffic from your key key_spike"
    assert "made 1,200 calls on 2026-04-10, about 60.0 times its usual day (20.0 calls)" in body
    assert "Most of them went to GET /v1/search (1,180 calls" in body

    subject, body = drafted_note(found["key_sharing_suspect:key_shared:2026-04-10"])
    assert "used from 30 different IP addresses in 3 countries (BR, DE, FR)" in body
    assert "please rotate it" in body

    failing = found["integration_failing:org_failing:2026-04-08"]
    subject, body = drafted_note(failing)
    assert "80.0% of your API calls in the last 7 days failed (168 of 210), since 2026-04-08" in body
    assert "on POST /v1/orders (168 of 168 calls, mostly validation errors, HTTP 422)" in body
    assert "working for other customers" in body
    assert "Most likely cause: the integration" in alert_text(failing)

    degradation = found["endpoint_degradation:GET:/v1/reports:2026-04-10"]
    subject, body = drafted_note(degradation)
    assert subject == "Degraded performance on GET /v1/reports"
    assert "slower than usual (95% of calls under 500.0 ms, against 100.0 ms normally)" in body
    text = alert_text(degradation)
    assert "Drafted note to the affected organizations' contacts" in text
    assert "Affected organizations: inc_a (5xx 0, slow 20), inc_b (5xx 0, slow 20), inc_c" in text


def _record_and_deliver(instance: dg.DagsterInstance) -> None:
    assert dg.materialize([alerts_ledger_asset], instance=instance, resources=resources_from_env()).success
    assert deliver_alerts_job.execute_in_process(instance=instance, resources=resources_from_env()).success


def _add_day(tmp_path, warehouse, name: str, events: list[dict]) -> None:
    kit.write_ndjson(tmp_path / "landing" / f"{name}.ndjson", events)
    kit.load_events(tmp_path / "landing", warehouse)
    kit.run_dbt(warehouse, "build", "--select", REBUILD_SELECT)


def test_each_alert_is_delivered_once_per_episode_and_rearms(day_one_warehouse, tmp_path, receiver):
    """About a minute: four real Dagster refreshes (episode, repeat, quiet day, new episode)
    delivering to a real receiver."""
    warehouse = kit.copy_warehouse(day_one_warehouse, tmp_path)
    with pytest.MonkeyPatch.context() as env, dg.DagsterInstance.ephemeral() as instance:
        kit.set_environment(
            env, kit.warehouse_env(tmp_path, ALERT_WEBHOOK_URL=receiver.url, ALERT_BACKOFF_SECONDS="0")
        )

        _record_and_deliver(instance)
        assert sorted(receiver.accepted_keys()) == sorted(DAY_ONE_KEYS)
        bodies = {b["alert_key"]: b for b in receiver.accepted_bodies()}
        degradation = bodies["endpoint_degradation:GET:/v1/reports:2026-04-10"]
        assert degradation["organization_id"] is None
        assert "inc_a (5xx 0, slow 20)" in degradation["text"]

        # A rerun on the same data records and delivers nothing new.
        kit.run_dbt(warehouse, "build", "--select", REBUILD_SELECT)
        _record_and_deliver(instance)
        assert sorted(receiver.accepted_keys()) == sorted(DAY_ONE_KEYS)

        # Day two: every condition stops holding, so every episode ends; nothing new.
        _add_day(tmp_path, warehouse, "day2", day_two_events())
        assert candidates(warehouse) == {}
        _record_and_deliver(instance)
        assert sorted(receiver.accepted_keys()) == sorted(DAY_ONE_KEYS)

        # Day three: the same signals again are new episodes, each delivered once.
        _add_day(tmp_path, warehouse, "day3", day_three_events())
        assert set(candidates(warehouse)) == DAY_THREE_KEYS
        receiver.clear()
        _record_and_deliver(instance)
        assert sorted(receiver.accepted_keys()) == sorted(DAY_THREE_KEYS)

    assert query(warehouse, "select alert_type, count(*) from marts.alerts group by all order by 1") == [
        ("endpoint_degradation", 2),
        ("integration_failing", 2),
        ("key_sharing_suspect", 2),
        ("usage_spike", 2),
    ]
    assert query(warehouse, "select count(*) from marts.alerts where status != 'delivered'") == [(0,)]
