"""`apiwh top / quota / endpoints`: the bound-parameter queries against a hand-made in-memory
`marts` schema, and the command-line parsing. Rendering alone is in test_usage_reports.py."""

from __future__ import annotations

import argparse
import datetime as dt

import duckdb
import pytest

from orchestration.reports import usage
from orchestration.reports.queries import usage as queries
from orchestration.reports.render.usage import render_top, render_trend_counts

AS_OF = dt.date(2026, 4, 22)
INJECTION = "x' or '1'='1"


# ---------------------------------------------------- queries (in-memory marts)


@pytest.fixture
def marts() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(
        """
        create schema marts;
        create table marts.customer_usage_summary as
        select * from (values
            ('org_a', 'pro', 90::bigint, 4::bigint, timestamp '2026-04-22 10:00:00', 30::bigint,
             20::bigint, 50.0::double, 0, 2::bigint, 'growing', date '2026-04-22', null),
            ('org_b', null, 170, 2, timestamp '2026-04-20 10:00:00', 50, 120, -58.3, 2, 1,
             'declining', date '2026-04-22', '/v1/search -60')
        ) t(organization_id, plan_id, calls_30d, active_days_30d, last_call_at, calls_7d,
            calls_prior_7d, usage_change_7d_pct, days_since_last_call, rank_30d, trend,
            as_of_date, top_endpoint_changes);
        create table marts.customer_daily_usage as
        select * from (values
            ('org_a', date '2026-04-20', 5::bigint),
            ('org_a', date '2026-04-21', 0),
            ('org_a', date '2026-04-22', 10),
            ('org_a', date '2026-03-01', 999),
            ('org_b', date '2026-04-20', 50)
        ) t(organization_id, usage_date, calls);
        create table marts.quota_utilization as
        select * from (values
            ('org_a', date '2026-04-22', 'pro', 100::bigint, 30::bigint, 80::bigint, 80.0::double,
             109::bigint, 5::bigint, 80, true, 8::bigint, 0.1::double, 22, 30),
            ('org_b', date '2026-04-22', null, 1000, 0, 0, 0.0, 0, null, 0, false, 0, null, 22, 30),
            ('org_c', date '2026-04-22', null, 100, 0, 100, 100.0, 136, 0, 100, true, 0, 0.0, 22,
             30),
            ('org_a', date '2026-04-21', 'pro', 100, 0, 50, 50.0, 71, 8, 50, false, 8, 0.16, 21,
             30)
        ) t(organization_id, usage_date, plan_id, monthly_call_limit, used_today, used_mtd,
            pct_of_cap, projected_eom, days_to_cap, threshold_band, will_exceed, failed_mtd,
            failed_mtd_rate, day_of_month, days_in_month);
        create table marts.endpoint_daily_performance as
        select * from (values
            ('/v1/a', 'GET', date '2026-04-22', 30::bigint, 2::bigint, 3::bigint, 0::bigint,
             0.1::double, 10.0::double, 20.0::double, 30.0::double),
            ('/v1/a', 'GET', date '2026-04-21', 10, 5, 0, 1, 0.1, 50.0, 60.0, 70.0),
            ('/v1/a', 'GET', date '2026-04-15', 1000, 9, 0, 0, 0.0, 1.0, 1.0, 1.0),
            ('/v1/b', 'POST', date '2026-04-22', 5, 1, 5, 0, 1.0, 500.0, 900.0, 990.0)
        ) t(route, method, usage_date, calls, distinct_customers, client_errors, server_errors,
            error_rate, latency_p50_ms, latency_p95_ms, latency_p99_ms);
        """
    )
    yield con
    con.close()


def test_fetch_as_of(marts: duckdb.DuckDBPyConnection) -> None:
    assert queries.fetch_as_of(marts) == AS_OF


def test_fetch_top_with_sparkline_days(marts: duckdb.DuckDBPyConnection) -> None:
    top = queries.fetch_top(marts, as_of=AS_OF, limit=20)
    assert [c.organization_id for c in top] == ["org_b", "org_a"]
    org_a = top[1]
    assert len(org_a.daily_calls) == 30
    # The last three days of the 30-day series; 03-01 is outside it.
    assert org_a.daily_calls[-3:] == (5, 0, 10)
    assert org_a.daily_calls[:-3] == (None,) * 27
    assert queries.fetch_top(marts, as_of=AS_OF, limit=1)[0].organization_id == "org_b"


def test_trend_filter_and_counts(marts: duckdb.DuckDBPyConnection) -> None:
    declining = queries.fetch_top(marts, as_of=AS_OF, limit=20, trend="declining")
    assert [c.organization_id for c in declining] == ["org_b"]
    assert queries.fetch_top(marts, as_of=AS_OF, limit=20, trend="dormant") == []
    counts = queries.fetch_trend_counts(marts)
    assert counts == {"growing": 1, "declining": 1}
    assert render_trend_counts(counts) == (
        "All 2 customers by trend: growing 1, declining 1. "
        "Churn risk: 1 (apiwh top --trend declining / --trend dormant)"
    )
    text = render_top(declining, as_of=AS_OF, trend="declining", trend_counts=counts)
    assert "trend declining only" in text.splitlines()[0]
    assert text.splitlines()[-1].startswith("All 2 customers by trend")
    assert render_top([], as_of=AS_OF, trend="dormant").endswith("No customer is dormant.")


def test_org_filter_is_a_bound_parameter(marts: duckdb.DuckDBPyConnection) -> None:
    assert queries.fetch_top(marts, as_of=AS_OF, limit=20, org=INJECTION) == []
    assert queries.fetch_quota(marts, as_of=AS_OF, min_pct=0, org=INJECTION) == []
    assert [c.organization_id for c in queries.fetch_top(marts, as_of=AS_OF, limit=20, org="org_a")] == [
        "org_a"
    ]
    assert [a.organization_id for a in queries.fetch_quota(marts, as_of=AS_OF, min_pct=0, org="org_b")] == [
        "org_b"
    ]


def test_fetch_quota_sorted_by_days_to_cap_nulls_last(marts: duckdb.DuckDBPyConnection) -> None:
    accounts = queries.fetch_quota(marts, as_of=AS_OF, min_pct=0)
    assert [(a.organization_id, a.days_to_cap) for a in accounts] == [
        ("org_c", 0),
        ("org_a", 5),
        ("org_b", None),
    ]
    assert [a.organization_id for a in queries.fetch_quota(marts, as_of=AS_OF, min_pct=50)] == [
        "org_c",
        "org_a",
    ]
    assert len(queries.fetch_quota(marts, as_of=AS_OF, min_pct=0, limit=1)) == 1


def test_fetch_endpoints_over_the_window(marts: duckdb.DuckDBPyConnection) -> None:
    two_days = queries.fetch_endpoints(marts, as_of=AS_OF, days=2, limit=20)
    route_a = two_days[0]
    assert (route_a.route, route_a.method, route_a.calls) == ("/v1/a", "GET", 40)
    assert (route_a.client_errors, route_a.server_errors, route_a.peak_daily_customers) == (3, 1, 5)
    assert route_a.error_rate == pytest.approx(0.1)
    # Call-weighted mean of the daily percentiles: (30 * 10 + 10 * 50) / 40.
    assert route_a.latency_p50_ms == pytest.approx(20.0)
    assert route_a.active_days == 2
    by_p99 = queries.fetch_endpoints(marts, as_of=AS_OF, days=2, limit=20, sort="p99")
    assert [e.route for e in by_p99] == ["/v1/b", "/v1/a"]
    assert len(queries.fetch_endpoints(marts, as_of=AS_OF, days=30, limit=1)) == 1


def test_register_parses_the_commands() -> None:
    parser = argparse.ArgumentParser()
    usage.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["top", "--limit", "5", "--org", "org_a"])
    assert (args.limit, args.org, args.func) == (5, "org_a", usage.cmd_top)
    args = parser.parse_args(["quota"])
    # No --min-pct: 50 for the list, 0 with --org (one organization is shown whatever its share).
    assert (args.min_pct, args.org, args.limit, args.func) == (None, None, None, usage.cmd_quota)
    args = parser.parse_args(["endpoints"])
    # No --days: 7 days, or with --org the exact 30-day view of that organization.
    assert (args.days, args.limit, args.sort, args.func) == (None, 20, "calls", usage.cmd_endpoints)
    with pytest.raises(SystemExit):
        parser.parse_args(["endpoints", "--days", "0"])
