"""`apiwh versions / keys / incidents` and `endpoints --org`: the plain selects on a hand-made
in-memory `marts` schema, and the text they become. Every figure is a mart's row, shown as is."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from orchestration.readers import WarehouseNotBuiltError
from orchestration.reports.queries import reliability as queries
from orchestration.reports.render.reliability import (
    render_customer_endpoints,
    render_incidents,
    render_key_days,
    render_keys,
    render_version_customers,
)

AS_OF = dt.date(2026, 4, 30)
DAY = dt.timedelta(days=1)
INJECTION = "x' or '1'='1"


@pytest.fixture
def marts() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute(
        "create table marts.api_version_exposure (organization_id varchar, api_version varchar,"
        " calls_30d bigint, share_of_org_calls_30d double, first_call_at timestamp,"
        " last_call_at timestamp, version_source varchar)"
    )
    con.execute("create table marts.api_path_version_exposure as select * from marts.api_version_exposure")
    rows = [
        ("org_a", "header", "2026-01-01", 150, 1.0),
        ("org_b", "header", "2026-01-01", 10, 0.1),
        ("org_b", "header", "2026-06-01", 90, 0.9),
        ("org_c", "header", "unversioned", 20, 0.4),
        # The same calls read from the path: every route is /v1/..., but org_c's /v2/ ones.
        ("org_a", "path", "v1", 150, 1.0),
        ("org_b", "path", "v1", 100, 1.0),
        ("org_c", "path", "v1", 30, 0.6),
        ("org_c", "path", "v2", 20, 0.4),
    ]
    for source, table in (("header", "api_version_exposure"), ("path", "api_path_version_exposure")):
        con.executemany(
            f"insert into marts.{table} values (?, ?, ?, ?, '2026-01-05 10:00', '2026-04-30 09:00', ?)",
            [
                (org, version, calls, share, source)
                for org, row_source, version, calls, share in rows
                if row_source == source
            ],
        )
    con.execute(
        "create table marts.key_activity_30d (organization_id varchar, api_key_id varchar, calls_30d bigint,"
        " active_days_30d bigint, last_call_date date, last_day_calls bigint,"
        " last_day_median_calls_prior_28d double, last_day_spike_ratio double,"
        " last_day_distinct_ip_hashes bigint, last_day_median_ip_hashes_prior_28d double,"
        " max_distinct_countries_30d bigint, auth_errors_30d bigint, failed_calls_30d bigint,"
        " new_routes_30d bigint, spike_days_30d bigint, last_spike_date date, ip_spread_days_30d bigint,"
        " last_ip_spread_date date, as_of_date date)"
    )
    con.executemany(
        "insert into marts.key_activity_30d values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                "org_a",
                "key_1",
                2700,
                2,
                AS_OF,
                1500,
                100.0,
                15.0,
                30,
                2.0,
                4,
                2,
                3,
                1,
                2,
                AS_OF,
                1,
                AS_OF,
                AS_OF,
            ),
            ("org_a", "key_2", 5, 1, AS_OF, 5, None, None, 1, None, 1, 0, 0, 2, 0, None, 0, None, AS_OF),
            ("org_b", "key_3", 9000, 30, AS_OF, 300, 300.0, 1.0, 1, 1.0, 1, 0, 0, 0, 0, None, 0, None, AS_OF),
        ],
    )
    con.execute(
        "create table marts.error_breakdown_30d (organization_id varchar, status_class varchar,"
        " error_type varchar, failed_calls_30d bigint, failed_days_30d bigint, last_failed_date date)"
    )
    con.executemany(
        "insert into marts.error_breakdown_30d values (?, ?, ?, ?, 1, ?)",
        [
            ("org_a", "4xx", "validation", 1200, AS_OF),
            ("org_a", "4xx", "auth", 30, AS_OF),
            ("org_a", "5xx", "unspecified", 1200, AS_OF),
            ("org_b", "4xx", "auth", 99999, AS_OF),
        ],
    )
    con.execute(
        "create table marts.key_daily_activity (api_key_id varchar, organization_id varchar, usage_date date,"
        " calls bigint, median_calls_prior_28d double, spike_ratio double, distinct_ip_hashes bigint,"
        " median_ip_hashes_prior_28d double, distinct_countries bigint, auth_errors bigint,"
        " failed_calls bigint, new_routes bigint, is_usage_spike boolean, is_ip_spread boolean)"
    )
    con.executemany(
        "insert into marts.key_daily_activity values (?, 'org_a', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            ("key_1", AS_OF - 30 * DAY, 999, None, None, 1, None, 1, 9, 9, 9, False, False),  # before
            ("key_1", AS_OF - DAY, 1200, 100.0, 12.0, 2, 2.0, 1, 0, 0, 0, True, False),
            ("key_1", AS_OF, 1500, 100.0, 15.0, 30, 2.0, 4, 2, 3, 1, True, True),
            ("key_2", AS_OF, 5, None, None, 1, None, 1, 0, 0, 2, False, False),
        ],
    )
    con.execute(
        "create table marts.endpoint_incidents (route varchar, method varchar, usage_date date, calls bigint,"
        " latency_p95_ms double, baseline_latency_p95_ms double, server_error_rate double,"
        " baseline_server_error_rate double, kind varchar, affected_customers bigint, scope varchar,"
        " server_errors bigint, baseline_days integer)"
    )
    con.executemany(
        "insert into marts.endpoint_incidents values (?, 'GET', ?, 300, 2000.0, 75.0, 0.05, 0.003, 'both',"
        " ?, ?, 15, 28)",
        [("/v1/orders", AS_OF, 2, "isolated"), ("/v1/items", AS_OF - 40 * DAY, 1, "isolated")],
    )
    con.execute(
        "create table marts.endpoint_incident_customers (route varchar, method varchar, usage_date date,"
        " organization_id varchar, calls bigint, server_errors bigint, slow_calls bigint,"
        " latency_p95_ms double)"
    )
    con.executemany(
        "insert into marts.endpoint_incident_customers values (?, 'GET', ?, ?, ?, ?, ?, ?)",
        [
            ("/v1/orders", AS_OF, "org_a", 100, 10, 40, 2100.0),
            ("/v1/orders", AS_OF, "org_b", 20, 0, 5, 1900.0),
            ("/v1/items", AS_OF - 40 * DAY, "org_c", 3, 1, 0, 50.0),
        ],
    )
    yield con
    con.close()


def test_version_customers_most_calls_first_and_bound_values(marts: duckdb.DuckDBPyConnection) -> None:
    assert queries.fetch_known_versions(marts, version_source="header") == [
        "2026-01-01",
        "2026-06-01",
        "unversioned",
    ]
    header = {"version_source": "header"}
    customers = queries.fetch_version_customers(marts, **header, api_version="2026-01-01", limit=None)
    assert [(c.organization_id, c.calls_30d) for c in customers] == [("org_a", 150), ("org_b", 10)]
    assert queries.fetch_version_customers(marts, **header, api_version=INJECTION, limit=None) == []
    everyone = queries.fetch_version_customers(marts, **header, api_version=None, limit=None)
    assert (
        len(everyone) == 4
        and len(queries.fetch_version_customers(marts, **header, api_version=None, limit=1)) == 1
    )
    assert {c.version_source for c in everyone} == {"header"}
    text = render_version_customers(customers, version_source="header", api_version="2026-01-01", as_of=AS_OF)
    assert "read from the api.version header" in text.splitlines()[0]
    assert text.splitlines()[3].split()[:4] == ["2026-01-01", "org_a", "150", "100.0%"]


def test_a_path_version_lists_its_customers_from_the_path_rows(marts: duckdb.DuckDBPyConnection) -> None:
    assert queries.fetch_known_versions(marts, version_source="path") == ["v1", "v2"]
    customers = queries.fetch_version_customers(marts, version_source="path", api_version="v1", limit=None)
    # The path's rows only, most calls first: the header's calls are not counted twice.
    assert [(c.organization_id, c.calls_30d, c.share_of_org_calls_30d) for c in customers] == [
        ("org_a", 150, 1.0),
        ("org_b", 100, 1.0),
        ("org_c", 30, 0.6),
    ]
    assert (
        queries.fetch_version_customers(marts, version_source="path", api_version="2026-01-01", limit=None)
        == []
    )
    assert (
        queries.fetch_version_customers(marts, version_source=INJECTION, api_version=None, limit=None) == []
    )
    text = render_version_customers(customers, version_source="path", api_version="v1", as_of=AS_OF)
    assert text.splitlines()[0].startswith(
        "Customers calling API version v1, read from the path (/v1/... is v1)"
    )
    assert text.splitlines()[5].split()[:4] == ["v1", "org_c", "30", "60.0%"]


def test_keys_are_the_marts_keys_busiest_first(marts: duckdb.DuckDBPyConnection) -> None:
    keys = queries.fetch_keys(marts, org="org_a", limit=None)
    assert [(k.api_key_id, k.calls_30d, k.spike_days_30d) for k in keys] == [
        ("key_1", 2700, 2),
        ("key_2", 5, 0),
    ]
    assert len(queries.fetch_keys(marts, org="org_a", limit=1)) == 1
    assert queries.fetch_keys(marts, org=INJECTION, limit=None) == []
    lines = render_keys(keys, org="org_a", as_of=AS_OF).splitlines()
    assert lines[0].startswith("API keys of org_a over 30 days, 2026-04-01 .. 2026-04-30")
    # KEY, CALLS, DAYS, LAST DAY, CALLS THAT DAY, USUAL/DAY, SPIKE, IPS THAT DAY, USUAL IPS
    assert lines[3].split()[:9] == ["key_1", "2,700", "2", "2026-04-30", "1,500", "100", "15.0x", "30", "2"]
    assert lines[3].endswith(
        "usage spike on 2 day(s), last 2026-04-30; IP spread on 1 day(s), last 2026-04-30"
    )
    assert lines[4].split()[5:7] == ["-", "-"] and lines[4].endswith(" -")


def test_key_days_are_the_marts_days_newest_first(marts: duckdb.DuckDBPyConnection) -> None:
    days = queries.fetch_key_days(marts, org="org_a", as_of=AS_OF, limit=None)
    assert [(d.usage_date, d.api_key_id, d.calls) for d in days] == [
        (AS_OF, "key_1", 1500),
        (AS_OF, "key_2", 5),
        (AS_OF - DAY, "key_1", 1200),
    ]
    assert len(queries.fetch_key_days(marts, org="org_a", as_of=AS_OF, limit=1)) == 1
    assert queries.fetch_key_days(marts, org=INJECTION, as_of=AS_OF, limit=None) == []
    text = render_key_days(days, org="org_a", as_of=AS_OF)
    first = text.splitlines()[3].split()
    assert first[:5] == ["2026-04-30", "key_1", "1,500", "100", "15.0x"]
    assert text.splitlines()[3].endswith("usage spike, IP spread")


def test_failed_calls_by_error_type_are_the_30_day_marts(marts: duckdb.DuckDBPyConnection) -> None:
    kinds = queries.fetch_error_types(marts, org="org_a")
    # Most failed calls first, a tie by class then type; another organization's are not.
    assert [(k.status_class, k.error_type, k.failed_calls_30d) for k in kinds] == [
        ("4xx", "validation", 1200),
        ("5xx", "unspecified", 1200),
        ("4xx", "auth", 30),
    ]
    assert len(queries.fetch_error_types(marts, org="org_a", limit=1)) == 1
    assert queries.fetch_error_types(marts, org=INJECTION) == []
    text = render_customer_endpoints([], org="org_a", as_of=AS_OF, sort="calls", error_types=kinds)
    assert "No call from org_a" in text
    text = render_customer_endpoints([_endpoint()], org="org_a", as_of=AS_OF, sort="calls", error_types=kinds)
    assert " ".join(text.split()).endswith(
        "Failed calls by error type, 30 days (marts.error_breakdown_30d): 4xx validation 1,200,"
        " 5xx unspecified 1,200, 4xx auth 30."
    )


def _endpoint() -> queries.CustomerEndpoint:
    return queries.CustomerEndpoint(
        "org_a", "/v1/orders", "POST", 2430, 1.0, 0.5, 0.49, 1230, 1200, 30, 10.0, 20.0, 30.0, 30, None
    )


def test_incidents_list_the_customers_each_hit(marts: duckdb.DuckDBPyConnection) -> None:
    incidents = queries.fetch_incidents(marts, as_of=AS_OF, days=30)
    customers = queries.fetch_incident_customers(marts, as_of=AS_OF, days=30)
    assert [(i.route, i.affected_customers) for i in incidents] == [("/v1/orders", 2)]
    assert [(c.organization_id, c.calls, c.slow_calls) for c in customers] == [
        ("org_a", 100, 40),
        ("org_b", 20, 5),
    ]
    # --org: the incidents that hit it, with all their customers.
    assert len(queries.fetch_incidents(marts, as_of=AS_OF, days=30, org="org_b")) == 1
    assert len(queries.fetch_incident_customers(marts, as_of=AS_OF, days=30, org="org_b")) == 2
    assert queries.fetch_incidents(marts, as_of=AS_OF, days=30, org=INJECTION) == []
    assert queries.fetch_incidents(marts, as_of=AS_OF, days=30, scope="widespread") == []
    text = render_incidents(incidents, customers, as_of=AS_OF, days=30, scope=None)
    lines = text.splitlines()
    assert lines[3].split()[:4] == ["2026-04-30", "GET", "/v1/orders", "both"]
    assert lines[5].split() == ["org_a", "100", "2,100.0", "10", "40"]
    assert lines[6].split() == ["org_b", "20", "1,900.0", "0", "5"]


def test_a_missing_mart_is_one_line_telling_to_build(marts: duckdb.DuckDBPyConnection) -> None:
    marts.execute("drop table marts.endpoint_incidents")
    with pytest.raises(
        WarehouseNotBuiltError, match=r"^the reliability marts are not built yet: run `apiwh run`"
    ):
        queries.fetch_incidents(marts, as_of=AS_OF, days=30)


def test_no_incident_says_so() -> None:
    text = render_incidents([], [], as_of=AS_OF, days=7, scope="widespread")
    assert text.splitlines() == [
        "Widespread incidents (routes degraded against their 28-day baseline),"
        " 2026-04-24 .. 2026-04-30 (as-of date)",
        "No route degraded in that window.",
    ]
