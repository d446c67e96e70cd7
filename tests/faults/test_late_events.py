"""Late events for days already built: the next run corrects those days and every later one,
and the marts equal a full rebuild from all the files at once."""

from __future__ import annotations

from pathlib import Path

from tests.support import api_request, key_issued, load_events, query, quota_set, run_dbt, write_ndjson

MARTS = (
    "customer_daily_usage",
    "customer_usage_summary",
    "endpoint_daily_performance",
    "quota_utilization",
    "onboarding_funnel",
    "onboarding_funnel_summary",
    "cohort_retention",
)


def _on_time() -> list[dict]:
    events = [
        key_issued("org_a", "2026-09-28T08:00:00Z", "key_a", plan="pro"),
        quota_set("org_a", "2026-09-28T08:00:00Z", 200, plan="pro"),
        key_issued("org_b", "2026-10-01T08:00:00Z", "key_b", plan="free"),
    ]
    for day in range(1, 11):
        for i in range(day * 3):
            events.append(api_request("org_a", f"2026-10-{day:02d}T09:{i:02d}:00Z", key="key_a"))
        events.append(api_request("org_b", f"2026-10-{day:02d}T12:00:00Z", key="key_b", status=500))
    return events


def _late() -> list[dict]:
    """Arrives after the first build: calls on days 3 and 4, and org_b's first success."""
    return [
        *[api_request("org_a", f"2026-10-03T15:{i:02d}:00Z", key="key_a") for i in range(40)],
        api_request("org_b", "2026-10-04T13:00:00Z", key="key_b", endpoint="/v1/orders/77"),
    ]


def _snapshot(warehouse: Path) -> dict[str, list[tuple]]:
    return {mart: query(warehouse, f"select * from marts.{mart} order by all") for mart in MARTS}


def test_late_events_are_folded_in_as_a_full_rebuild_would(tmp_path: Path) -> None:
    """Over a minute: an incremental dbt build, then late events and a second one, then a full
    build from the same files to compare every mart with."""
    incremental = tmp_path / "incremental" / "warehouse.duckdb"
    landing = tmp_path / "landing"
    write_ndjson(landing / "2026-10-10.ndjson", _on_time())
    load_events(landing, incremental)
    run_dbt(incremental, "build")
    before = _snapshot(incremental)

    write_ndjson(landing / "late" / "2026-10-11-redelivery.ndjson", _late())
    load_events(landing, incremental)
    run_dbt(incremental, "build")
    after = _snapshot(incremental)

    full = tmp_path / "full" / "warehouse.duckdb"
    load_events(landing, full)
    run_dbt(full, "build")

    assert after == _snapshot(full)
    assert after != before
    calls_on = dict(
        query(
            incremental,
            "select usage_date::varchar, calls from marts.customer_daily_usage "
            "where organization_id = 'org_a'",
        )
    )
    assert calls_on["2026-10-03"] == 9 + 40
    assert query(
        incremental,
        "select furthest_step from marts.onboarding_funnel where api_key_id = 'key_b'",
    ) == [("first_success",)]
