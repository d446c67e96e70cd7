"""The usage and quota marts on a small hand-made dataset, built for real (loader + dbt build).

As-of date 2026-04-22 (the last day with calls): day 22 of a 30-day month. Every expected value
below is computed by hand from the events in `_events()`:

- org_a: quota 50 set 2026-03-25 (plan starter), raised to 100 on 2026-04-10 (plan pro); 5
  calls on 03-20 (before any quota), 10 on 03-31, 30 on 04-01, 20 on 04-15 (5 of them 503), 30
  on 04-22 (3 of them 429) -> on 04-22: used_mtd 80 of 100 = 80.0%, band 80, projected
  round(80 / 22 * 30) = 109 (will exceed), days_to_cap floor(20 * 22 / 80) = 5.
- org_b: declining (120 calls on 04-10, 50 on 04-20, one on 03-01 so not new).
- org_c: a quota of 1000 from 04-05 and no call at all.
- org_d: new, latency percentiles on two values, a redelivered event and a client retry.
- org_e: dormant; org_f: new, one failed call; org_g: steady.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestration.cli import main
from tests.support import api_request, build_warehouse, query, quota_set, use_warehouse

AS_OF = "2026-04-22"
SELECT = (
    "+customer_daily_usage +customer_usage_summary +endpoint_daily_performance +quota_utilization"
    " +quota_outlook +endpoint_window_performance"
)
INJECTION = "x' or '1'='1"


def _calls(org: str, day: str, count: int, **kwargs) -> list[dict]:
    return [api_request(org, f"{day}T{10 + i // 60:02d}:{i % 60:02d}:00Z", **kwargs) for i in range(count)]


def _events() -> list[dict]:
    events: list[dict] = []
    # org_a: the quota account at exactly 80.0% on day 22 of April.
    events += _calls("org_a", "2026-03-20", 5)
    events.append(quota_set("org_a", "2026-03-25T09:00:00Z", 50, plan="starter"))
    events += _calls("org_a", "2026-03-31", 10)
    events += _calls("org_a", "2026-04-01", 30)
    events.append(quota_set("org_a", "2026-04-10T12:00:00Z", 100, plan="pro"))
    events += _calls("org_a", "2026-04-15", 15)
    events += _calls("org_a", "2026-04-15", 5, status=503)
    events += _calls("org_a", "2026-04-22", 27)
    events += _calls("org_a", "2026-04-22", 3, status=429)
    # org_b: declining, the drop is on /v1/search.
    events += _calls("org_b", "2026-03-01", 1, endpoint="/v1/search")
    events += _calls("org_b", "2026-04-10", 100, endpoint="/v1/search")
    events += _calls("org_b", "2026-04-10", 20, endpoint="/v1/orders/7")
    events += _calls("org_b", "2026-04-20", 40, endpoint="/v1/search")
    events += _calls("org_b", "2026-04-20", 10, endpoint="/v1/orders/9")
    # org_c: a quota and no calls.
    events.append(quota_set("org_c", "2026-04-05T00:00:00Z", 1000))
    # org_d: new; two keys, GET and POST on one route; a redelivery and a client retry.
    events.append(
        api_request("org_d", "2026-04-20T08:00:00Z", endpoint="/v2/widgets", key="k1", duration_ms=100.0)
    )
    events.append(
        api_request(
            "org_d",
            "2026-04-20T09:00:00Z",
            endpoint="/v2/widgets",
            method="post",
            key="k2",
            status=201,
            duration_ms=10.0,
        )
    )
    first_try = api_request(
        "org_d", "2026-04-21T08:00:00Z", duration_ms=40.0, event_id="d_once", idempotency_key="idem-1"
    )
    retry = api_request(
        "org_d", "2026-04-21T08:00:05Z", duration_ms=40.0, event_id="d_retry", idempotency_key="idem-1"
    )
    events += [first_try, first_try, retry]
    # org_e: dormant.
    events += _calls("org_e", "2026-03-01", 1)
    events += _calls("org_e", "2026-04-01", 5)
    # org_f: new, one failed call on the route org_d also called that day.
    events.append(
        api_request("org_f", "2026-04-20T12:00:00Z", endpoint="/v2/widgets", status=404, duration_ms=200.0)
    )
    # org_g: steady.
    events += _calls("org_g", "2026-03-01", 1)
    events += _calls("org_g", "2026-04-12", 10)
    events += _calls("org_g", "2026-04-19", 10)
    return events


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("usage_marts"), _events(), select=SELECT)


def test_quota_utilization_80_pct_on_day_22_of_30(warehouse: Path) -> None:
    rows = query(
        warehouse,
        """
        select billing_month, plan_id, monthly_call_limit, used_today, used_mtd, pct_of_cap,
            projected_eom, days_to_cap, threshold_band, will_exceed, day_of_month, days_in_month,
            failed_mtd, failed_mtd_rate, rate_limited_mtd
        from marts.quota_utilization
        where organization_id = ? and usage_date = ?
        """,
        ["org_a", AS_OF],
    )
    assert len(rows) == 1
    (
        billing_month,
        plan_id,
        limit,
        used_today,
        used_mtd,
        pct,
        projected,
        days_to_cap,
        band,
        will_exceed,
        day_of_month,
        days_in_month,
        failed_mtd,
        failed_mtd_rate,
        rate_limited_mtd,
    ) = rows[0]
    assert str(billing_month) == "2026-04-01"
    assert plan_id == "pro"
    assert (limit, used_today, used_mtd) == (100, 30, 80)
    assert pct == 80.0
    assert (projected, days_to_cap, band, will_exceed) == (109, 5, 80, True)
    assert (day_of_month, days_in_month) == (22, 30)
    assert (failed_mtd, rate_limited_mtd) == (8, 3)
    assert failed_mtd_rate == pytest.approx(0.1)


def test_quota_utilization_rows_months_and_raise(warehouse: Path) -> None:
    rows = query(
        warehouse,
        """
        select cast(usage_date as varchar), plan_id, monthly_call_limit, used_mtd, pct_of_cap
        from marts.quota_utilization
        where organization_id = ?
        order by usage_date
        """,
        ["org_a"],
    )
    by_day = {row[0]: row[1:] for row in rows}
    # From the first quota_set (03-25) to the as-of date: 7 days of March + 22 of April.
    assert len(rows) == 29 and rows[0][0] == "2026-03-25" and rows[-1][0] == AS_OF
    # used_mtd counts the 5 calls of 03-20, made before the first quota_set.
    assert by_day["2026-03-25"] == ("starter", 50, 5, 10.0)
    assert by_day["2026-03-31"] == ("starter", 50, 15, 30.0)
    # A new month starts from zero.
    assert by_day["2026-04-01"] == ("starter", 50, 30, 60.0)
    assert by_day["2026-04-09"] == ("starter", 50, 30, 60.0)
    # Raised mid-month at 12:00: the new limit is in force at the end of 04-10.
    assert by_day["2026-04-10"] == ("pro", 100, 30, 30.0)


def test_quota_utilization_quota_without_calls(warehouse: Path) -> None:
    rows = query(
        warehouse,
        """
        select count(*), min(usage_date)::varchar, max(used_mtd), max(pct_of_cap),
            count(days_to_cap), max(threshold_band), bool_or(will_exceed)
        from marts.quota_utilization
        where organization_id = ?
        """,
        ["org_c"],
    )
    assert rows == [(18, "2026-04-05", 0, 0.0, 0, 0, False)]


def test_customer_usage_summary(warehouse: Path) -> None:
    rows = query(
        warehouse,
        """
        select organization_id, calls_30d, active_days_30d, calls_7d, calls_prior_7d,
            usage_change_7d_pct, days_since_last_call, rank_30d, trend
        from marts.customer_usage_summary
        order by rank_30d
        """,
    )
    assert rows == [
        ("org_b", 170, 2, 50, 120, -58.3, 2, 1, "declining"),
        ("org_a", 90, 4, 30, 20, 50.0, 0, 2, "growing"),
        ("org_g", 20, 2, 10, 10, 0.0, 3, 3, "steady"),
        ("org_e", 5, 1, 0, 0, None, 21, 4, "dormant"),
        ("org_d", 4, 2, 4, 0, None, 1, 5, "new"),
        ("org_f", 1, 1, 1, 0, None, 2, 6, "new"),
    ]
    changes = query(
        warehouse,
        "select top_endpoint_changes from marts.customer_usage_summary where organization_id = ?",
        ["org_b"],
    )
    assert changes == [("/v1/search -60, /v1/orders/{id} -10",)]


def test_customer_daily_usage(warehouse: Path) -> None:
    rows = query(
        warehouse,
        """
        select cast(usage_date as varchar), calls, successful_calls, client_errors,
            latency_p50_ms, latency_p95_ms, latency_p99_ms, distinct_endpoints, active_api_keys,
            error_rate
        from marts.customer_daily_usage
        where organization_id = ?
        order by usage_date
        """,
        ["org_d"],
    )
    assert [row[0] for row in rows] == ["2026-04-20", "2026-04-21", AS_OF]
    day_20, day_21, day_22 = rows
    # Two values, 10 and 100: linear interpolation.
    assert day_20[1:4] == (2, 2, 0)
    assert day_20[4:7] == pytest.approx((55.0, 95.5, 99.1))
    assert day_20[7:] == (1, 2, 0.0)
    # A redelivered event counts once, a client retry (new event_id) is a call.
    assert day_21[1:7] == (2, 2, 0, 40.0, 40.0, 40.0)
    # Zero-filled up to the as-of date.
    assert day_22 == (AS_OF, 0, 0, 0, None, None, None, 0, 0, None)

    org_a = query(
        warehouse,
        """
        select count(*), min(usage_date)::varchar, sum(calls),
            count(*) filter (where calls = 0)
        from marts.customer_daily_usage
        where organization_id = ?
        """,
        ["org_a"],
    )
    # Dense 03-20 .. 04-22 (12 + 22 days), 5 days with calls.
    assert org_a == [(34, "2026-03-20", 95, 29)]
    plans = query(
        warehouse,
        """
        select cast(usage_date as varchar), plan_id from marts.customer_daily_usage
        where organization_id = ? and usage_date in ('2026-03-20', '2026-03-25', '2026-04-10')
        order by usage_date
        """,
        ["org_a"],
    )
    assert plans == [("2026-03-20", None), ("2026-03-25", "starter"), ("2026-04-10", "pro")]


def test_endpoint_daily_performance(warehouse: Path) -> None:
    rows = query(
        warehouse,
        """
        select method, calls, distinct_customers, client_errors, server_errors, error_rate,
            latency_p50_ms, latency_p95_ms, latency_p99_ms
        from marts.endpoint_daily_performance
        where route = ? and usage_date = ?
        order by method
        """,
        ["/v2/widgets", "2026-04-20"],
    )
    get, post = rows
    assert get[:6] == ("GET", 2, 2, 1, 0, 0.5)
    assert get[6:] == pytest.approx((150.0, 195.0, 199.0))
    assert post == ("POST", 1, 1, 0, 0, 0.0, 10.0, 10.0, 10.0)
    templated = query(
        warehouse,
        """
        select usage_date::varchar, calls from marts.endpoint_daily_performance
        where route = ? order by usage_date
        """,
        ["/v1/orders/{id}"],
    )
    assert templated == [("2026-04-10", 20), ("2026-04-20", 10)]


@pytest.fixture
def cli_env(warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return use_warehouse(monkeypatch, warehouse)


def test_cli_top(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["top"]) == 0
    out = capsys.readouterr().out
    assert AS_OF in out.splitlines()[0]
    org_b = next(line for line in out.splitlines() if line.startswith("1  org_b"))
    assert "170" in org_b and "2026-04-20" in org_b and "declining" in org_b  # the last call, 2 days before
    assert "/v1/search -60, /v1/orders/{id} -10" in out

    assert main(["top", "--org", INJECTION]) == 2  # an unknown organization, matched as a value
    captured = capsys.readouterr()
    assert "org_" not in captured.out and "unknown organization" in captured.err
    assert main(["top", "--org", "org_g"]) == 0
    assert [line for line in capsys.readouterr().out.splitlines() if "org_" in line][0].startswith("3  org_g")


def test_cli_quota(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["quota"]) == 0
    out = capsys.readouterr().out
    assert f"{AS_OF} (as-of date, day 22 of 30)" in out
    org_a = next(line for line in out.splitlines() if line.startswith("org_a"))
    # marts.quota_outlook: on course for the cap in 5 days (reaches_cap), so UPSELL NOW; no
    # plan catalogue in this build, so no next plan, prices or upgrade cost.
    assert org_a.split() == ["org_a", "pro", "100", "30", "80", "80.0%", "109", "cap", "in", "5", "days"] + [
        "(Apr",
        "27)",
        "10.0%",
        "UPSELL",
        "NOW",
        "-",
        "-",
        "-",
        "-",
    ]
    assert "org_c" not in out  # 0% of its cap, below --min-pct 50

    assert main(["quota", "--min-pct", "0"]) == 0
    lines = capsys.readouterr().out.splitlines()
    order = [line.split()[0] for line in lines if line.startswith("org_")]
    assert order == ["org_a", "org_c"]  # on course for the cap first

    assert main(["quota", "--min-pct", "0", "--org", INJECTION]) == 2
    captured = capsys.readouterr()
    assert "org_" not in captured.out and "unknown organization" in captured.err


def test_cli_endpoints(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["endpoints", "--days", "7"]) == 0
    out = capsys.readouterr().out
    assert "2026-04-16 .. 2026-04-22" in out.splitlines()[0]
    widgets = next(line for line in out.splitlines() if line.startswith("GET     /v2/widgets"))
    # Two calls on 04-20 (100 ms, 200 ms and a 404): the window's exact percentiles.
    assert widgets.split() == (
        ["GET", "/v2/widgets", "2", "2", "150.0", "195.0", "199.0", "1", "0", "50.0%", "0.0%"]
    )
