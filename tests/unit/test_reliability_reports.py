"""`apiwh versions / keys / incidents` and `endpoints --org`: the queries on a hand-made in-memory
`marts` schema (values computed by hand below), and the text they become."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from orchestration.readers import WarehouseNotBuiltError
from orchestration.reports.queries import reliability as queries
from orchestration.reports.render.reliability import render_incidents, render_keys, render_version_customers

AS_OF = dt.date(2026, 4, 30)
DAY = dt.timedelta(days=1)
INJECTION = "x' or '1'='1"


@pytest.fixture
def marts() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(
        "create table marts.client_adoption_daily (usage_date date, api_version varchar, sdk_version varchar,"
        " calls bigint, distinct_customers bigint, distinct_keys bigint)"
    )
    # Window 04-01 .. 04-30: first week 04-01 .. 04-07, last week 04-24 .. 04-30.
    con.executemany(
        "insert into marts.client_adoption_daily values (?, ?, 'unknown', ?, 1, 1)",
        [
            (dt.date(2026, 4, 1), "v1", 90),
            (dt.date(2026, 4, 1), "v2", 10),
            (dt.date(2026, 4, 15), "v1", 50),
            (dt.date(2026, 4, 15), "v2", 50),
            (dt.date(2026, 4, 30), "v1", 20),
            (dt.date(2026, 4, 30), "v2", 60),
            (dt.date(2026, 4, 30), "unversioned", 20),
        ],
    )
    con.execute(
        "create table marts.api_version_exposure (organization_id varchar, api_version varchar,"
        " calls_30d bigint, share_of_org_calls_30d double, first_call_at timestamp, last_call_at timestamp)"
    )
    con.executemany(
        "insert into marts.api_version_exposure values (?, ?, ?, ?, '2026-01-05 10:00', '2026-04-30 09:00')",
        [
            ("org_a", "v1", 150, 1.0),
            ("org_b", "v1", 10, 0.1),
            ("org_b", "v2", 90, 0.9),
            ("org_c", "v2", 30, 0.6),
            ("org_c", "unversioned", 20, 0.4),
        ],
    )
    con.execute(
        "create table marts.key_daily_activity (api_key_id varchar, organization_id varchar, usage_date date,"
        " calls bigint, median_calls_prior_28d double, spike_ratio double, distinct_ip_hashes bigint,"
        " median_ip_hashes_prior_28d double, distinct_countries bigint, auth_errors bigint,"
        " new_routes bigint, is_usage_spike boolean, is_ip_spread boolean)"
    )
    con.executemany(
        "insert into marts.key_daily_activity values (?, 'org_a', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            # Before the window: never counted.
            ("key_1", AS_OF - 30 * DAY, 999, None, None, 1, None, 1, 9, 9, False, False),
            ("key_1", AS_OF - 2 * DAY, 100, 100.0, 1.0, 2, 2.0, 1, 1, 3, False, False),
            ("key_1", AS_OF - DAY, 1200, 100.0, 12.0, 2, 2.0, 1, 0, 0, True, False),
            ("key_1", AS_OF, 1500, 100.0, 15.0, 30, 2.0, 4, 2, 1, True, True),
            ("key_2", AS_OF - 3 * DAY, 5, None, None, 1, None, 1, 0, 2, False, False),
        ],
    )
    yield con
    con.close()


def test_version_adoption_shares_over_the_first_and_last_week(marts: duckdb.DuckDBPyConnection) -> None:
    rows = {r.api_version: r for r in queries.fetch_version_adoption(marts, as_of=AS_OF)}
    assert [r.api_version for r in queries.fetch_version_adoption(marts, as_of=AS_OF)] == [
        "v1",
        "v2",
        "unversioned",
    ]
    assert (rows["v1"].customers_30d, rows["v1"].calls_30d) == (2, 160)
    assert rows["v1"].share_of_calls_30d == pytest.approx(160 / 300)
    # First week: 90 of 100 calls on v1; last week: 20 of 100.
    assert (rows["v1"].share_first_week, rows["v1"].share_last_week) == (
        pytest.approx(0.9),
        pytest.approx(0.2),
    )
    assert rows["unversioned"].share_first_week is None
    assert rows["unversioned"].share_last_week == pytest.approx(0.2)


def test_version_customers_most_calls_first_and_bound_values(marts: duckdb.DuckDBPyConnection) -> None:
    customers = queries.fetch_version_customers(marts, api_version="v1", limit=10)
    assert [(c.organization_id, c.calls_30d) for c in customers] == [("org_a", 150), ("org_b", 10)]
    assert queries.fetch_version_customers(marts, api_version=INJECTION, limit=10) == []
    assert sorted(queries.fetch_known_versions(marts)) == ["unversioned", "v1", "v2"]
    text = render_version_customers(customers, api_version="v1", as_of=AS_OF)
    assert (
        text.splitlines()[-1] == "2 customer(s) shown; 1 call only v1 (first and last call over all history)."
    )


def test_keys_sum_the_window_and_keep_the_last_day(marts: duckdb.DuckDBPyConnection) -> None:
    keys = queries.fetch_keys(marts, org="org_a", as_of=AS_OF)
    assert [k.api_key_id for k in keys] == ["key_1", "key_2"]
    key_1 = keys[0]
    assert (key_1.calls_30d, key_1.active_days_30d, key_1.last_day, key_1.last_day_calls) == (
        2800,
        3,
        AS_OF,
        1500,
    )
    assert (key_1.spike_ratio, key_1.last_day_ip_hashes, key_1.auth_errors_30d, key_1.new_routes_30d) == (
        15.0,
        30,
        3,
        4,
    )
    assert (key_1.usage_spike_days, key_1.last_usage_spike, key_1.ip_spread_days) == (2, AS_OF, 1)
    assert queries.fetch_keys(marts, org=INJECTION, as_of=AS_OF) == []
    rows = {line.split()[0]: line for line in render_keys(keys, org="org_a", as_of=AS_OF).splitlines()}
    assert rows["key_1"].endswith(
        "usage spike on 2 day(s), last 2026-04-30; IP spread on 1 day(s), last 2026-04-30"
    )
    assert rows["key_2"].split()[5:7] == ["-", "-"]  # no usual day yet, so no spike ratio
    assert rows["key_2"].endswith("  -")


def test_a_missing_mart_is_one_line_telling_to_build(marts: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(
        WarehouseNotBuiltError, match=r"^the reliability marts are not built yet: run `apiwh run`"
    ):
        queries.fetch_incidents(marts, as_of=AS_OF, days=30)


def test_no_incident_says_so() -> None:
    text = render_incidents([], as_of=AS_OF, days=7, scope="widespread")
    assert text.splitlines() == [
        "Widespread incidents (routes degraded against their 28-day baseline),"
        " 2026-04-24 .. 2026-04-30 (as-of date)",
        "No route degraded in that window.",
    ]
