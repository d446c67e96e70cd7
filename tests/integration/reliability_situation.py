"""The situation the reliability tests share (test_reliability_marts.py, test_reliability_alerts.py):
every planted signal of docs/contract.md 2b, as events.

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
from pathlib import Path

from orchestration.alerts.ledger import Alert
from tests.support import api_request, query

DBT_SELECT = "+alert_candidates +endpoint_incident_customers"
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


def candidates(warehouse: Path) -> dict[str, tuple]:
    rows = query(
        warehouse,
        "select alert_key, alert_type, organization_id, threshold, as_of_date, detail "
        "from marts.alert_candidates",
    )
    return {row[0]: row for row in rows}


def as_alert(row: tuple) -> Alert:
    key, alert_type, org, threshold, as_of_date, detail = row
    return Alert(key, alert_type, org, threshold, json.loads(detail), as_of_date)
