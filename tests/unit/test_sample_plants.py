"""The reliability signals the generator plants (orchestration/sample_data/signals.py), read
straight from the committed sample's last file, with no warehouse: who owns each one, and the
raw calls that make it (tests/integration/test_sample_signals.py checks the marts and alerts)."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from datetime import date, datetime

from orchestration.sample_data import format_summary, generate, planted_signals
from orchestration.sample_data.signals import NEW_API_VERSION, OLD_API_VERSION, SHARED_KEY_ADDRESSES
from orchestration.settings import PROJECT_ROOT

AS_OF = date(2026, 10, 31)
PLANTED = planted_signals(orgs=40, days=120, seed=7, end_date=AS_OF)
LAST_FILE = PROJECT_ROOT / "seeds" / "2026" / "10" / "events-2026-10-31.ndjson.gz"


def _last_day_calls() -> list[dict]:
    """The last day's distinct calls (a redelivered line is counted once)."""
    events: dict[str, dict] = {}
    for line in gzip.decompress(LAST_FILE.read_bytes()).decode("utf-8").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue  # the deliberately malformed lines
        if isinstance(event, dict) and event.get("event_type") == "api_request":
            event["utc"] = _utc(event["event_time"])
            if event["utc"].date() == AS_OF:
                events[event["event_id"]] = event
    return list(events.values())


def _utc(text: str) -> datetime:
    """RFC 3339 text to naive UTC (no offset means UTC, as the contract says)."""
    at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return at if at.tzinfo is None else (at - at.utcoffset()).replace(tzinfo=None)


def test_each_signal_has_its_own_owner_and_the_command_names_them() -> None:
    owners = [PLANTED.usage_spike_org, PLANTED.key_sharing_org, PLANTED.failing_org]
    assert all(owners) and len(set(owners)) == 3
    assert PLANTED.usage_spike_key != PLANTED.key_sharing_key
    assert planted_signals(orgs=40, days=120, seed=7, end_date=AS_OF) == PLANTED  # deterministic


def test_the_last_file_holds_the_batch_job_and_the_shared_key() -> None:
    calls = _last_day_calls()
    spike = [
        c
        for c in calls
        if c["consumer"]["api_key_id"] == PLANTED.usage_spike_key
        and (c["api"].get("endpoint") or c["api"].get("route", "")).startswith("/v1/search")
    ]
    assert len(spike) >= 1500
    shared = {
        c["network"]["ip"]
        for c in calls
        if c["consumer"]["api_key_id"] == PLANTED.key_sharing_key and "ip" in c["network"]
    }
    assert len(shared) >= SHARED_KEY_ADDRESSES


def test_the_failing_integration_fails_and_the_degraded_route_is_slow() -> None:
    calls = _last_day_calls()
    own = [c for c in calls if c["consumer"]["organization_id"] == PLANTED.failing_org]
    failing = Counter(c["result"]["status_code"] >= 400 for c in own)
    assert failing[True] > failing[False]
    degraded = [
        c
        for c in calls
        if c["api"]["method"].upper() == "GET"
        and (c["api"].get("endpoint") or c["api"].get("route", "")).startswith("/v1/orders/")
        and 7 <= c["utc"].hour < 19
        and c["result"]["status_code"] < 400
    ]
    slow = [c for c in degraded if c["timings"]["request_duration_ms"] >= 350]
    assert len(degraded) >= 50 and len(slow) == len(degraded)


def test_versions_old_new_and_none() -> None:
    versions = Counter(c["api"].get("version") for c in _last_day_calls())
    assert set(versions) == {OLD_API_VERSION, NEW_API_VERSION, None}
    assert versions[NEW_API_VERSION] > versions[OLD_API_VERSION]


def test_the_summary_line_names_the_planted_customers(tmp_path) -> None:
    summary = generate(tmp_path, orgs=3, days=14, seed=1, end_date=date(2026, 3, 15))
    line = [row for row in format_summary(summary).splitlines() if "planted" in row]
    # Three organizations are too few to plant the per-customer signals: only the route degrades.
    assert line == [
        "  planted on the last day: endpoint_degradation GET /v1/orders/{id}, usage_spike -, "
        "key_sharing_suspect -, integration_failing -"
    ]
