"""`apiwh top / quota / endpoints`: the plain selects against a hand-made in-memory `marts`
schema, and the command-line parsing. Rendering alone is in test_usage_reports.py."""

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
            (2::bigint, 'org_a', 'pro', 90::bigint, 4::bigint, timestamp '2026-04-22 10:00:00', 0,
             30::bigint, 20::bigint, 50.0::double, 'growing', null, 60::bigint, 50.0::double, true,
             date '2026-04-22'),
            (1, 'org_b', null, 170, 2, timestamp '2026-04-20 10:00:00', 2, 50, 120, -58.3, 'declining',
             '/v1/search -60', 200, -15.0, false, date '2026-04-22')
        ) t(rank_30d, organization_id, plan_id, calls_30d, active_days_30d, last_call_at,
            days_since_last_call, calls_7d, calls_prior_7d, usage_change_7d_pct, trend,
            top_endpoint_changes, calls_prior_30d, usage_change_30d_pct, is_upsell_signal, as_of_date);
        create table marts.customer_daily_usage as
        select * from (values
            ('org_a', date '2026-04-20', 5::bigint),
            ('org_a', date '2026-04-21', 0),
            ('org_a', date '2026-04-22', 10),
            ('org_a', date '2026-03-01', 999),
            ('org_b', date '2026-04-20', 50)
        ) t(organization_id, usage_date, calls);
        create table marts.quota_outlook as
        select * from (values
            ('org_a', 'pro', 100::bigint, 80::bigint, 80.0::double, 109::bigint, 5::bigint, true, 80,
             'reaches_cap', date '2026-04-27', 'UPSELL NOW', 'scale', 450.0::double),
            ('org_b', null, 1000, 0, 0.0, 0, null, false, 0, 'resets_first', null, 'ok', null, null),
            ('org_c', null, 100, 100, 100.0, 136, 0, true, 100, 'cap_reached', null, 'CRITICAL', null, null),
            ('org_d', null, 1000, 300, 30.0, 1200, 12, true, 0, 'reaches_cap', date '2026-05-04',
             'UPSELL NOW', null, null)
        ) t(organization_id, plan_id, monthly_call_limit, used_mtd, pct_of_cap, projected_eom,
            days_to_cap, will_exceed, threshold_band, outlook, cap_date, action, next_plan_id,
            upgrade_mrr_delta),
        (select date '2026-04-01' as billing_month, date '2026-05-01' as resets_on,
            null::bigint as next_plan_call_limit, null::bigint as overage_calls_at_pace,
            null::double as overage_cost_at_pace, null::boolean as fits_next_plan,
            null::double as upgrade_net_cost_at_pace, false as is_plan_in_catalogue,
            date '2026-04-22' as as_of_date);
        create table marts.quota_utilization as
        select * from (values
            ('org_a', date '2026-04-22', 30::bigint, 0.1::double),
            ('org_a', date '2026-04-21', 0, 0.16),
            ('org_c', date '2026-04-22', 0, 0.0)
        ) t(organization_id, usage_date, used_today, failed_mtd_rate);
        create table marts.endpoint_window_performance as
        select * from (values
            (7, '/v1/a', 'GET', 40::bigint, 5::bigint, 3::bigint, 1::bigint, 0.1::double, 0.025::double,
             20.0::double, 55.0::double, 69.0::double),
            (7, '/v1/b', 'POST', 5, 1, 5, 0, 1.0, 0.0, 500.0, 900.0, 990.0),
            (30, '/v1/a', 'GET', 1040, 9, 3, 1, 0.004, 0.001, 1.0, 50.0, 70.0)
        ) t(window_days, route, method, calls, distinct_customers, client_errors, server_errors,
            error_rate, server_error_rate, latency_p50_ms, latency_p95_ms, latency_p99_ms),
        (select date '2026-04-16' as window_start_date, date '2026-04-22' as as_of_date);
        """
    )
    yield con
    con.close()


def test_fetch_as_of(marts: duckdb.DuckDBPyConnection) -> None:
    assert queries.fetch_as_of(marts) == AS_OF
    marts.execute("delete from marts.customer_usage_summary")
    assert queries.fetch_as_of(marts) == AS_OF  # from marts.quota_outlook
    marts.execute("delete from marts.quota_outlook")
    assert queries.fetch_as_of(marts) is None


def test_fetch_top_and_its_sparkline_days(marts: duckdb.DuckDBPyConnection) -> None:
    top = queries.fetch_top(marts, limit=20)
    assert [(c.organization_id, c.is_upsell_signal, c.usage_change_30d_pct) for c in top] == [
        ("org_b", False, -15.0),
        ("org_a", True, 50.0),
    ]
    assert queries.fetch_top(marts, limit=None) == top
    daily = queries.fetch_daily_calls(marts, as_of=AS_OF, organization_ids=["org_a", "org_b"])
    assert len(daily["org_a"]) == 30
    # The last three days of the 30-day series; 03-01 is outside it.
    assert daily["org_a"][-3:] == (5, 0, 10)
    assert daily["org_a"][:-3] == (None,) * 27
    assert queries.fetch_top(marts, limit=1)[0].organization_id == "org_b"


def test_trend_filter_and_counts(marts: duckdb.DuckDBPyConnection) -> None:
    declining = queries.fetch_top(marts, limit=20, trend="declining")
    assert [c.organization_id for c in declining] == ["org_b"]
    assert queries.fetch_top(marts, limit=20, trend="dormant") == []
    counts = queries.fetch_trend_counts(marts)
    assert counts == (2, {"growing": 1, "declining": 1})
    assert render_trend_counts(*counts) == (
        "All 2 customers by trend: growing 1, declining 1. "
        "Churn risks: apiwh top --trend declining / --trend dormant"
    )
    text = render_top(declining, as_of=AS_OF, trend="declining", trend_counts=counts)
    assert "trend declining only" in text.splitlines()[0]
    assert text.splitlines()[-1].startswith("All 2 customers by trend")
    assert render_top([], as_of=AS_OF, trend="dormant").endswith("No customer is dormant.")


def test_org_filter_is_a_bound_parameter(marts: duckdb.DuckDBPyConnection) -> None:
    assert queries.fetch_top(marts, limit=20, org=INJECTION) == []
    assert queries.fetch_quota(marts, min_pct=0, org=INJECTION) == []
    assert [c.organization_id for c in queries.fetch_top(marts, limit=20, org="org_a")] == ["org_a"]
    assert [a.organization_id for a in queries.fetch_quota(marts, min_pct=0, org="org_b")] == ["org_b"]


def test_fetch_quota_reads_the_outlook_cap_first(marts: duckdb.DuckDBPyConnection) -> None:
    accounts = queries.fetch_quota(marts, min_pct=0)
    # Cap reached, then the soonest cap_date, then the share of the cap.
    assert [(a.organization_id, a.outlook, a.action) for a in accounts] == [
        ("org_c", "cap_reached", "CRITICAL"),
        ("org_a", "reaches_cap", "UPSELL NOW"),
        ("org_d", "reaches_cap", "UPSELL NOW"),
        ("org_b", "resets_first", "ok"),
    ]
    org_a = accounts[1]
    # The day's calls and failures come from quota_utilization's row of the as-of date.
    assert (org_a.used_today, org_a.failed_mtd_rate, org_a.next_plan_id, org_a.upgrade_mrr_delta) == (
        30,
        0.1,
        "scale",
        450.0,
    )
    assert [a.organization_id for a in queries.fetch_quota(marts, min_pct=50)] == ["org_c", "org_a"]
    # Without --min-pct, an account on course for its cap is listed whatever its share.
    on_course = queries.fetch_quota(marts, min_pct=50, with_on_course=True)
    assert [a.organization_id for a in on_course] == ["org_c", "org_a", "org_d"]
    assert len(queries.fetch_quota(marts, min_pct=0, limit=1)) == 1


def test_fetch_endpoints_reads_the_window(marts: duckdb.DuckDBPyConnection) -> None:
    week = queries.fetch_endpoints(marts, days=7, limit=20)
    route_a = week[0]
    assert (route_a.route, route_a.method, route_a.calls, route_a.distinct_customers) == (
        "/v1/a",
        "GET",
        40,
        5,
    )
    assert (route_a.latency_p50_ms, route_a.latency_p95_ms, route_a.latency_p99_ms) == (20.0, 55.0, 69.0)
    by_p99 = queries.fetch_endpoints(marts, days=7, limit=20, sort="p99")
    assert [e.route for e in by_p99] == ["/v1/b", "/v1/a"]
    assert [e.calls for e in queries.fetch_endpoints(marts, days=30, limit=None)] == [1040]
    assert queries.fetch_endpoints(marts, days=1, limit=None) == []
    assert len(queries.fetch_endpoints(marts, days=7, limit=1)) == 1


def test_register_parses_the_commands() -> None:
    parser = argparse.ArgumentParser()
    usage.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["top", "--limit", "5", "--org", "org_a", "--format", "json"])
    assert (args.limit, args.org, args.format, args.func) == (5, "org_a", "json", usage.cmd_top)
    args = parser.parse_args(["quota"])
    # No --min-pct: 50 for the list, 0 with --org (one organization is shown whatever its share).
    assert (args.min_pct, args.org, args.limit, args.func) == (None, None, None, usage.cmd_quota)
    args = parser.parse_args(["endpoints"])
    # No --days: 7 days, or with --org the exact 30-day view of that organization. No --limit:
    # 20 rows in the table, every row in csv or json.
    assert (args.days, args.limit, args.table_limit, args.format) == (None, None, 20, "table")
    assert (args.sort, args.func) == ("calls", usage.cmd_endpoints)
    assert parser.parse_args(["endpoints", "--days", "30"]).days == 30
    for days in ("0", "5", "31"):
        with pytest.raises(SystemExit):
            parser.parse_args(["endpoints", "--days", days])
