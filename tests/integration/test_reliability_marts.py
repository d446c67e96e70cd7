"""The reliability marts, hand-computed on the shared situation (tests/integration/
reliability_situation.py): real load, real `dbt build` (docs/contract.md 2b)."""

from __future__ import annotations

import datetime as dt

import pytest

from orchestration.snapshot import publish_snapshot
from orchestration.warehouse import connect
from tests.support import copy_warehouse, query

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
        "from marts.api_version_exposure where api_version != 'unversioned' "
        "order by organization_id",
    )
    assert exposure == [
        ("org_failing", "v1", 900, 1.0, dt.datetime(2026, 3, 1, 10, 0)),
        ("org_spike", "v2", 29 * 20 + 1200, 1.0, dt.datetime(2026, 3, 1, 10, 0)),
    ]
    # Read from the path, every route is /v1/...: each organization's calls, whatever its header.
    by_path = query(
        day_one_warehouse,
        "select organization_id, api_version, calls_30d, share_of_org_calls_30d "
        "from marts.api_path_version_exposure order by organization_id",
    )
    header_calls = dict(
        query(
            day_one_warehouse,
            "select organization_id, sum(calls_30d) from marts.api_version_exposure group by 1",
        )
    )
    assert by_path == [(org, "v1", calls, 1.0) for org, calls in sorted(header_calls.items())]
    assert ("org_failing", "v1", 900, 1.0) in by_path


def test_the_30_day_marts_of_keys_and_error_types(day_one_warehouse):
    # 30 days 03-12..04-10: 29 ordinary days and the as-of date, whose figures are the last day's.
    keys = query(
        day_one_warehouse,
        "select api_key_id, organization_id, calls_30d, active_days_30d, last_call_date, last_day_calls, "
        "last_day_median_calls_prior_28d, last_day_distinct_ip_hashes, max_distinct_countries_30d, "
        "spike_days_30d, last_spike_date, ip_spread_days_30d, last_ip_spread_date "
        "from marts.key_activity_30d where api_key_id in ('key_spike', 'key_shared') order by api_key_id",
    )
    april_10 = dt.date(2026, 4, 10)
    assert keys == [
        ("key_shared", "org_shared", 29 * 10 + 30, 30, april_10, 30, 10.0, 30, 3, 0, None, 1, april_10),
        ("key_spike", "org_spike", 29 * 20 + 1200, 30, april_10, 1200, 20.0, 0, 0, 1, april_10, 0, None),
    ]
    # From 04-04 the 24 POSTs of org_failing fail with 422 validation: 7 days in the window.
    assert query(
        day_one_warehouse,
        "select status_class, error_type, failed_calls_30d, failed_days_30d, last_failed_date "
        "from marts.error_breakdown_30d where organization_id = 'org_failing'",
    ) == [("4xx", "validation", 7 * 24, 7, april_10)]


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


RELIABILITY_MARTS = (
    "customer_endpoint_daily",
    "customer_endpoint_30d",
    "error_breakdown_daily",
    "client_adoption_daily",
    "api_version_exposure",
    "api_path_version_exposure",
    "endpoint_incidents",
    "key_daily_activity",
    "key_activity_30d",
    "error_breakdown_30d",
    "active_customers_daily",
    "customer_lifecycle_weekly",
)


def test_the_published_snapshot_holds_the_reliability_marts(day_one_warehouse, tmp_path):
    warehouse = copy_warehouse(day_one_warehouse, tmp_path)
    snapshot = tmp_path / "published" / "warehouse.duckdb"
    con = connect(warehouse)
    try:
        counts = publish_snapshot(con, snapshot)
    finally:
        con.close()
    for mart in RELIABILITY_MARTS:
        assert counts[f"marts.{mart}"] == query(warehouse, f"select count(*) from marts.{mart}")[0][0] > 0
    assert query(snapshot, "select kind, scope from marts.endpoint_incidents") == [("latency", "widespread")]
