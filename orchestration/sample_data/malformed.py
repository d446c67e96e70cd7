"""Deliberate contract breaches for the NDJSON files: one line per reject reason."""

from __future__ import annotations

from typing import Any

from orchestration.sample_data.builder import Builder
from orchestration.sample_data.primitives import dumps, render_time
from orchestration.sample_data.records import Org


def malformed_lines(b: Builder, day: int, org: Org) -> list[tuple[str, str]]:
    """(reason, raw line) for each deliberate contract breach; fresh ids, never a real event."""
    rng = b.rng
    key = org.keys[0]

    def event(n: int, **over: Any) -> dict[str, Any]:
        at = b.business_time(org, day)
        body: dict[str, Any] = {
            "event_id": f"evt_{b.seed}_bad{n:02d}",
            "event_type": "api_request",
            "event_time": render_time(at, "utc"),
            "consumer": {"organization_id": org.org_id, "api_key_id": key.key_id},
            "api": {"method": "GET", "endpoint": f"/v1/orders/{rng.randint(1000, 9999)}"},
            "result": {"status_code": 200},
            "timings": {"request_duration_ms": 41.5},
        }
        body.update(over)
        return body

    missing_org = event(3)
    missing_org["consumer"] = {"api_key_id": key.key_id}
    missing_id = event(8)
    del missing_id["event_id"]
    key_event = event(10, event_type="key_issued")
    key_event["consumer"] = {"organization_id": org.org_id}
    for name in ("api", "result", "timings"):
        del key_event[name]
    missing_method = event(11)
    missing_method["api"] = {"endpoint": "/v1/items"}
    return [
        ("invalid_json", dumps(event(1))[:-1].replace('"event_type"', "event_type") + "}"),
        ("truncated", dumps(event(2))[:70]),
        ("missing_organization_id", dumps(missing_org)),
        ("status_code_out_of_range", dumps(event(4, result={"status_code": 999}))),
        ("status_code_not_integer", dumps(event(5, result={"status_code": "abc"}))),
        ("negative_duration", dumps(event(6, timings={"request_duration_ms": -12.5}))),
        ("not_an_object", "42"),
        ("missing_event_id", dumps(missing_id)),
        ("unparseable_event_time", dumps(event(9, event_time="yesterday at noon"))),
        ("missing_api_key_id", dumps(key_event)),
        ("missing_method", dumps(missing_method)),
        ("not_an_object", '["api_request", "evt_x"]'),
    ]
