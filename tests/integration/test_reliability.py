"""The reliability marts and their four alerts end to end: real load, real `dbt build`, the ledger
asset, the deliver_alerts job and a real HTTP receiver on 127.0.0.1 (docs/contract.md 2b).

Situation, 2026-03-01 (a Sunday) to 2026-04-10 (day one's as-of date), one key per organization,
every call 100 ms and status 200 unless said otherwise:
- org_spike / key_spike: 20 calls a day on GET /v1/items (api v2, sdk js-3.0); on 04-10 a batch
  job adds 1,180 calls on GET /v1/search: 1,200 calls, 60x its median day of 20.
- org_shared / key_shared: 10 calls a day from one IP in DE; on 04-10 30 calls from 30 IPs in DE,
  FR and BR: 30 >= 25 and >= 5 x its median of 1.
- org_failing / key_failing: 6 GET /v1/items and 24 POST /v1/orders a day (api v1, sdk py-1.2);
  from 04-04 the 24 POSTs fail with 422 validation. 7 days to 04-07: 96 of 210 failed (0.46);
  to 04-08: 120 of 210 (0.57): the episode starts on 04-08.
- org_calm / key_calm: 10 successful POST /v1/orders a day: the route works for others.
- org_calm also calls GET /v1/export 40 times a day and, from 04-04, GET /v1/batch 60 times a
  day; on 04-10 all of those fail with 503: no incident (below the 50-call floor; 6 baseline days).
- inc_a..inc_d: 20 calls a day each on GET /v1/reports; on 04-10 the calls of a, b and c take
  500 ms: p95 500 against a baseline of 100 (3x), three customers hit: widespread.
Day two (04-11) ends every episode: the spike and the IP spread stop, the route is healthy again
and org_failing makes 150 successful calls (7 days: 144 failed of 330, 0.44).
Day three (04-12) brings each condition back: four new episodes, four new alerts.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil

import dagster as dg
import pytest

from orchestration.alerts.ledger import Alert
from orchestration.alerts.render import alert_text, drafted_note
from orchestration.defs.alerts import alerts_ledger_asset, deliver_alerts_job
from orchestration.snapshot import publish_snapshot
from orchestration.warehouse import connect
from tests.support import (
    api_request,
    build_warehouse,
    load_events,
    query,
    resources_from_env,
    run_dbt,
    write_ndjson,
)
from tests.unit.test_alerts_http import Receiver

DBT_SELECT = "+alert_candidates"
INCIDENT_ORGS = ("inc_a", "inc_b", "inc_c", "inc_d")

DAY_ONE_KEYS = {
    "usage_spike:key_spike:2026-04-10",
    "key_sharing_suspect:key_shared:2026-04-10",
    "integration_failing:org_failing:2026-04-08",
    "endpoint_degradation:GET:/v1/reports:2026-04-10",
}
DAY_THREE_KEYS = {
    "usage_spike:key_spike:2026-04-12",
    "key_sharing_suspect:key_shared:2026-04-12",
    "integration_failing:org_failing:2026-04-12",
    "endpoint_degradation:GET:/v1/reports:2026-04-12",
}


def _at(day: dt.date, i: int) -> str:
    return f"{day.isoformat()}T{10 + i // 3600:02d}:{(i // 60) % 60:02d}:{i % 60:02d}Z"


def call(
    org: str,
    key: str,
    day: dt.date,
    i: int,
    *,
    endpoint: str = "/v1/items",
    method: str = "GET",
    status: int = 200,
    duration_ms: float = 100.0,
    version: str | None = None,
    sdk: str | None = None,
    ip: str | None = None,
    country: str | None = None,
    error_type: str | None = None,
) -> dict:
    event = api_request(
        org, _at(day, i), key=key, endpoint=endpoint, method=method, status=status, duration_ms=duration_ms
    )
    if version:
        event["api"]["version"] = version
    if sdk:
        event["client"] = {"sdk_version": sdk}
    if ip or country:
        event["network"] = {"ip": ip, "country": country}
    if error_type:
        event["result"]["error_type"] = error_type
    return event


def normal_day(day: dt.date, *, failing: bool) -> list[dict]:
    events = [call("org_spike", "key_spike", day, i, version="v2", sdk="js-3.0") for i in range(20)]
    events += [call("org_shared", "key_shared", day, i, ip="192.0.2.1", country="DE") for i in range(10)]
    events += [call("org_failing", "key_failing", day, i, version="v1", sdk="py-1.2") for i in range(6)]
    events += [
        call(
            "org_failing",
            "key_failing",
            day,
            100 + i,
            endpoint="/v1/orders",
            method="POST",
            status=422 if failing else 201,
            error_type="Validation" if failing else None,
            version="v1",
            sdk="py-1.2",
        )
        for i in range(24)
    ]
    events += [call("org_calm", "key_calm", day, i, endpoint="/v1/orders", method="POST") for i in range(10)]
    events += [call("org_calm", "key_calm", day, 200 + i, endpoint="/v1/export") for i in range(40)]
    if day >= dt.date(2026, 4, 4):
        events += [call("org_calm", "key_calm", day, 300 + i, endpoint="/v1/batch") for i in range(60)]
    for org in INCIDENT_ORGS:
        events += [call(org, f"key_{org}", day, i, endpoint="/v1/reports") for i in range(20)]
    return events


def signal_day(day: dt.date) -> list[dict]:
    """A normal day plus the spike, the IP spread and the slow reports route."""
    events = [
        e for e in normal_day(day, failing=True) if e["consumer"]["organization_id"] not in INCIDENT_ORGS
    ]
    events = [e for e in events if e["consumer"]["organization_id"] != "org_shared"]
    events += [
        call("org_spike", "key_spike", day, 1000 + i, endpoint="/v1/search", version="v2", sdk="js-3.0")
        for i in range(1180)
    ]
    countries = ("DE", "FR", "BR")
    events += [
        call("org_shared", "key_shared", day, i, ip=f"198.51.100.{i + 1}", country=countries[i % 3])
        for i in range(30)
    ]
    # Every call of org_calm to /v1/export and /v1/batch fails with a 503: no incident, the first
    # is below the 50-call floor and the second has only 6 baseline days.
    for event in events:
        if event["api"]["endpoint"] in ("/v1/export", "/v1/batch"):
            event["result"]["status_code"] = 503
    for org in INCIDENT_ORGS:
        slow = 500.0 if org != "inc_d" else 100.0
        events += [
            call(org, f"key_{org}", day, i, endpoint="/v1/reports", duration_ms=slow) for i in range(20)
        ]
    return events


def day_one_events() -> list[dict]:
    events: list[dict] = []
    day = dt.date(2026, 3, 1)
    while day < dt.date(2026, 4, 10):
        events += normal_day(day, failing=day >= dt.date(2026, 4, 4))
        day += dt.timedelta(days=1)
    return events + signal_day(dt.date(2026, 4, 10))


def day_two_events() -> list[dict]:
    day = dt.date(2026, 4, 11)
    events = [e for e in normal_day(day, failing=False) if e["consumer"]["organization_id"] != "org_failing"]
    return events + [
        call("org_failing", "key_failing", day, i, version="v1", sdk="py-1.2") for i in range(150)
    ]


def day_three_events() -> list[dict]:
    day = dt.date(2026, 4, 12)
    events = [e for e in signal_day(day) if e["consumer"]["organization_id"] != "org_failing"]
    return events + [
        call(
            "org_failing",
            "key_failing",
            day,
            i,
            endpoint="/v1/orders",
            method="POST",
            status=422,
            error_type="validation",
            version="v1",
            sdk="py-1.2",
        )
        for i in range(150)
    ]


@pytest.fixture(scope="module")
def day_one_warehouse(tmp_path_factory):
    return build_warehouse(tmp_path_factory.mktemp("reliability"), day_one_events())


def candidates(warehouse) -> dict[str, tuple]:
    rows = query(
        warehouse,
        "select alert_key, alert_type, organization_id, threshold, as_of_date, detail "
        "from marts.alert_candidates",
    )
    return {row[0]: row for row in rows}


def as_alert(row: tuple) -> Alert:
    key, alert_type, org, threshold, as_of_date, detail = row
    return Alert(key, alert_type, org, threshold, json.loads(detail), as_of_date)


# --- the marts, hand-computed ------------------------------------------------------------------


def test_customer_endpoint_marts(day_one_warehouse):
    daily = query(
        day_one_warehouse,
        "select route, method, calls, client_errors, error_rate from marts.customer_endpoint_daily "
        "where organization_id = 'org_failing' and usage_date = '2026-04-10' order by route",
    )
    assert daily == [("/v1/items", "GET", 6, 0, 0.0), ("/v1/orders", "POST", 24, 24, 1.0)]
    # 30 days 03-12..04-10: 720 POSTs, 7 x 24 = 168 of them failed; 720 of the 900 calls.
    (window,) = query(
        day_one_warehouse,
        "select calls_30d, error_rate_30d, server_error_rate_30d, share_of_org_calls_30d, latency_p95_30d_ms "
        "from marts.customer_endpoint_30d where organization_id = 'org_failing' and route = '/v1/orders'",
    )
    assert window == (720, pytest.approx(168 / 720), 0.0, 0.8, 100.0)


def test_error_breakdown_and_adoption(day_one_warehouse):
    assert query(
        day_one_warehouse,
        "select usage_date, status_class, error_type, failed_calls, distinct_routes "
        "from marts.error_breakdown_daily where organization_id = 'org_failing' order by usage_date",
    )[-2:] == [
        (dt.date(2026, 4, 9), "4xx", "validation", 24, 1),
        (dt.date(2026, 4, 10), "4xx", "validation", 24, 1),
    ]
    adoption = query(
        day_one_warehouse,
        "select api_version, sdk_version, calls, distinct_customers, distinct_keys "
        "from marts.client_adoption_daily where usage_date = '2026-04-10' order by calls desc",
    )
    assert adoption == [
        ("v2", "js-3.0", 1200, 1, 1),
        ("unversioned", "unknown", 220, 6, 6),
        ("v1", "py-1.2", 30, 1, 1),
    ]
    exposure = query(
        day_one_warehouse,
        "select organization_id, api_version, calls_30d, share_of_org_calls_30d, first_call_at "
        "from marts.api_version_exposure where api_version != 'unversioned' order by organization_id",
    )
    assert exposure == [
        ("org_failing", "v1", 900, 1.0, dt.datetime(2026, 3, 1, 10, 0)),
        ("org_spike", "v2", 29 * 20 + 1200, 1.0, dt.datetime(2026, 3, 1, 10, 0)),
    ]


def test_endpoint_incidents_finds_the_widespread_degradation(day_one_warehouse):
    # Two routes failed on the day but are no incident: /v1/export is below the 50-call floor,
    # /v1/batch has 6 qualifying baseline days (7 needed); /v1/search has no baseline at all.
    assert query(
        day_one_warehouse,
        "select route, calls, server_errors from marts.endpoint_daily_performance "
        "where usage_date = '2026-04-10' and route in ('/v1/export', '/v1/batch', '/v1/search') "
        "order by route",
    ) == [("/v1/batch", 60, 60), ("/v1/export", 40, 40), ("/v1/search", 1180, 0)]
    assert query(
        day_one_warehouse,
        "select route, method, usage_date, calls, latency_p95_ms, baseline_latency_p95_ms, "
        "server_error_rate, kind, affected_customers, scope, baseline_days from marts.endpoint_incidents",
    ) == [("/v1/reports", "GET", dt.date(2026, 4, 10), 80, 500.0, 100.0, 0.0, "latency", 3, "widespread", 28)]


def test_key_daily_activity_flags_the_spike_and_the_spread(day_one_warehouse):
    rows = query(
        day_one_warehouse,
        "select api_key_id, calls, median_calls_prior_28d, spike_ratio, distinct_ip_hashes, "
        "median_ip_hashes_prior_28d, distinct_countries, new_routes, is_usage_spike, is_ip_spread "
        "from marts.key_daily_activity where usage_date = '2026-04-10' "
        "and (is_usage_spike or is_ip_spread or api_key_id = 'key_failing') order by api_key_id",
    )
    assert rows == [
        ("key_failing", 30, 30.0, 1.0, 0, 0.0, 0, 0, False, False),
        ("key_shared", 30, 10.0, 3.0, 30, 1.0, 3, 0, False, True),
        ("key_spike", 1200, 20.0, 60.0, 0, 0.0, 0, 1, True, False),
    ]
    # The first day of a key has no baseline at all.
    assert query(
        day_one_warehouse,
        "select count(*) filter (where median_calls_prior_28d is null), count(*) "
        "from marts.key_daily_activity where usage_date < '2026-03-08'",
    ) == [(8 * 7, 8 * 7)]


def test_active_customers_and_lifecycle(day_one_warehouse):
    assert query(
        day_one_warehouse,
        "select count(*), min(usage_date), max(usage_date) from marts.active_customers_daily",
    ) == [(41, dt.date(2026, 3, 1), dt.date(2026, 4, 10))]
    assert query(
        day_one_warehouse,
        "select active_customers_1d, active_customers_7d, active_customers_28d, active_keys_1d "
        "from marts.active_customers_daily where usage_date = '2026-04-10'",
    ) == [(8, 8, 8, 8)]
    weeks = query(
        day_one_warehouse,
        "select week, plan_id, active_customers, new_customers, returning_customers, "
        "resurrecting_customers, dormant_customers, is_complete_week "
        "from marts.customer_lifecycle_weekly order by week",
    )
    assert weeks[0] == (dt.date(2026, 2, 23), None, 8, 8, 0, 0, 0, True)
    assert weeks[-1] == (dt.date(2026, 4, 6), None, 8, 0, 8, 0, 0, False)
    assert len(weeks) == 7


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


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


def _record_and_deliver(instance: dg.DagsterInstance) -> None:
    assert dg.materialize([alerts_ledger_asset], instance=instance, resources=resources_from_env()).success
    assert deliver_alerts_job.execute_in_process(instance=instance, resources=resources_from_env()).success


def _add_day(tmp_path, warehouse, name: str, events: list[dict]) -> None:
    write_ndjson(tmp_path / "landing" / f"{name}.ndjson", events)
    load_events(tmp_path / "landing", warehouse)
    run_dbt(warehouse, "build", "--select", DBT_SELECT)


def test_each_alert_is_delivered_once_per_episode_and_rearms(day_one_warehouse, tmp_path, receiver):
    warehouse = tmp_path / "wh" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(day_one_warehouse, warehouse)
    with pytest.MonkeyPatch.context() as env, dg.DagsterInstance.ephemeral() as instance:
        env.setenv("WAREHOUSE_PATH", str(warehouse))
        env.setenv("ALERT_WEBHOOK_URL", receiver.url)
        env.setenv("ALERT_BACKOFF_SECONDS", "0")
        env.delenv("AS_OF", raising=False)
        env.delenv("ALERT_FILE_PATH", raising=False)

        _record_and_deliver(instance)
        assert sorted(receiver.accepted_keys()) == sorted(DAY_ONE_KEYS)
        bodies = {b["alert_key"]: b for b in receiver.accepted_bodies()}
        degradation = bodies["endpoint_degradation:GET:/v1/reports:2026-04-10"]
        assert degradation["organization_id"] is None
        assert "inc_a (5xx 0, slow 20)" in degradation["text"]

        # A rerun on the same data records and delivers nothing new.
        run_dbt(warehouse, "build", "--select", DBT_SELECT)
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


RELIABILITY_MARTS = (
    "customer_endpoint_daily",
    "customer_endpoint_30d",
    "error_breakdown_daily",
    "client_adoption_daily",
    "api_version_exposure",
    "endpoint_incidents",
    "key_daily_activity",
    "active_customers_daily",
    "customer_lifecycle_weekly",
)


def test_the_published_snapshot_holds_the_reliability_marts(day_one_warehouse, tmp_path):
    warehouse = tmp_path / "wh" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(day_one_warehouse, warehouse)
    snapshot = tmp_path / "published" / "warehouse.duckdb"
    con = connect(warehouse)
    try:
        counts = publish_snapshot(con, snapshot)
    finally:
        con.close()
    for mart in RELIABILITY_MARTS:
        assert counts[f"marts.{mart}"] == query(warehouse, f"select count(*) from marts.{mart}")[0][0] > 0
    assert query(snapshot, "select kind, scope from marts.endpoint_incidents") == [("latency", "widespread")]
