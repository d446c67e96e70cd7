"""`apiwh top / quota / endpoints`: rendering (pure, no warehouse). The queries behind them are in
test_usage_reports_queries.py."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from orchestration.reports.formatting import (
    format_count,
    format_days_ago,
    format_pct,
    format_rate,
    sparkline,
)
from orchestration.reports.queries.usage import EndpointStats, QuotaAccount, TopCustomer
from orchestration.reports.render.usage import (
    render_endpoints,
    render_quota,
    render_top,
)
from orchestration.reports.table import render_table

AS_OF = dt.date(2026, 4, 22)


# The customers and accounts the rendering tests show, as the queries return them: ACME and
# INNOVATE are the defaults of _top and _quota, the others what differs from them.
ACME = {
    "rank_30d": 1,
    "organization_id": "acme_corp",
    "plan_id": "enterprise",
    "calls_30d": 18_420_000,
    "active_days_30d": 30,
    "last_call_at": dt.datetime(2026, 4, 22, 13, 42),
    "days_since_last_call": 0,
    "calls_7d": 4_000_000,
    "calls_prior_7d": 3_900_000,
    "usage_change_7d_pct": 2.6,
    "trend": "steady",
    "top_endpoint_changes": None,
    "daily_calls": tuple([600_000] * 30),
}
INITECH = {
    "rank_30d": 2,
    "organization_id": "initech_llc",
    "plan_id": None,
    "calls_30d": 180_000,
    "active_days_30d": 8,
    "days_since_last_call": 12,
    "calls_7d": 0,
    "calls_prior_7d": 12_000,
    "usage_change_7d_pct": -100.0,
    "trend": "dormant",
    "top_endpoint_changes": "/v1/search -11,000, /v1/orders/{id} -1,000",
    "daily_calls": tuple([None] * 10 + [12_000] * 8 + [0] * 12),
}
INNOVATE = {
    "organization_id": "acct_innovate",
    "plan_id": "growth",
    "monthly_call_limit": 500_000,
    "used_today": 18_400,
    "used_mtd": 400_000,
    "pct_of_cap": 80.0,
    "projected_eom": 545_455,
    "days_to_cap": 5,
    "threshold_band": 80,
    "will_exceed": True,
    "failed_mtd": 4_000,
    "failed_mtd_rate": 0.01,
    "day_of_month": 22,
    "days_in_month": 30,
}
MEGACORP = {
    "organization_id": "acct_megacorp",
    "monthly_call_limit": 1_000_000,
    "used_mtd": 1_000_000,
    "pct_of_cap": 100.0,
    "projected_eom": 1_363_636,
    "days_to_cap": 0,
    "threshold_band": 100,
    "failed_mtd_rate": 0.42,
}
GLOBEX = {
    "organization_id": "acct_globex",
    "plan_id": None,
    "monthly_call_limit": 250_000,
    "used_mtd": 142_000,
    "pct_of_cap": 56.8,
    "projected_eom": 193_636,
    "days_to_cap": 16,
    "threshold_band": 50,
    "will_exceed": False,
    "failed_mtd_rate": None,
}
# The last day of a month: days_to_cap is 0 by the contract formula at 98.9%.
NEAR_CAP = {
    "organization_id": "acct_near",
    "monthly_call_limit": 1_000,
    "used_mtd": 989,
    "pct_of_cap": 98.9,
    "projected_eom": 989,
    "days_to_cap": 0,
    "threshold_band": 95,
    "will_exceed": False,
}


def _top(**overrides) -> TopCustomer:
    return TopCustomer(**{**ACME, **overrides})


def _quota(**overrides) -> QuotaAccount:
    return QuotaAccount(**{**INNOVATE, **overrides})


# ------------------------------------------------------------------ small formatters


def test_format_count_and_percent() -> None:
    assert format_count(18_420_000) == "18,420,000"
    assert format_count(0) == "0"
    assert format_count(None) == "-"
    assert format_pct(82.4) == "82.4%"
    assert format_pct(-58.3, signed=True) == "-58.3%"
    assert format_pct(50.0, signed=True) == "+50.0%"
    assert format_pct(None) == "-"
    assert format_rate(0.125) == "12.5%"
    assert format_rate(0.0001) == "<0.1%"
    assert format_rate(0.0) == "0.0%"
    assert format_rate(None) == "-"


def test_format_days_ago() -> None:
    assert format_days_ago(0) == "today"
    assert format_days_ago(1) == "1 day ago"
    assert format_days_ago(2) == "2 days ago"
    assert format_days_ago(1200) == "1,200 days ago"
    assert format_days_ago(None) == "-"


def test_sparkline_scales_to_the_peak_and_blanks_days_without_calls() -> None:
    assert sparkline([None, 0, 1, 8, 4, 2]) == "  ▁█▄▂"
    # Any day with calls shows at least the lowest block, however small next to the peak.
    assert sparkline([1, 1_000_000]) == "▁█"
    assert sparkline([0, 0, None]) == "   "
    assert sparkline([]) == ""
    assert len(sparkline([5] * 30)) == 30


def test_render_table_aligns_columns() -> None:
    lines = render_table(["NAME", "CALLS"], [["a", "1,000"], ["longer name", "5"]], align="lr")
    assert lines == [
        "NAME         CALLS",
        "──────────────────",
        "a            1,000",
        "longer name      5",
    ]
    with pytest.raises(ValueError):
        render_table(["A", "B"], [], align="l")


# ---------------------------------------------------------------------- top


def test_render_top() -> None:
    customers = [
        _top(),
        _top(**INITECH),
    ]
    text = render_top(customers, as_of=AS_OF)
    lines = text.splitlines()
    assert lines[0] == (
        "Top customers by calls, 30 days ending 2026-04-22 (as-of date); daily calls 2026-03-24 .. 2026-04-22"
    )
    assert lines[1].split() == [
        "#",
        "ORGANIZATION",
        "PLAN",
        "CALLS",
        "30D",
        "ACTIVE",
        "DAYS",
        "LAST",
        "CALL",
        "7D",
        "VS",
        "PRIOR",
        "TREND",
        "DAILY",
        "CALLS",
        "(30",
        "DAYS)",
    ]
    acme, initech = lines[3], lines[4]
    assert acme.startswith("1  acme_corp")
    assert "18,420,000" in acme and "today" in acme and "+2.6%" in acme and "█" * 30 in acme
    assert "180,000" in initech and "12 days ago" in initech and "-100.0%" in initech
    assert initech.endswith("█" * 8)  # days before the first call and without calls are blank
    # Right-aligned numbers end in the same column.
    assert acme.index("18,420,000") + len("18,420,000") == initech.index("180,000") + len("180,000")
    # Wider than 100 columns is fine, but every line fits a 120-column terminal.
    assert max(len(line) for line in lines) <= 120
    # A dormant or declining customer comes with the routes that moved.
    assert "initech_llc  dormant    12,000 -> 0: /v1/search -11,000, /v1/orders/{id} -1,000" in text
    assert "acme_corp  steady" not in text


def test_render_top_empty() -> None:
    assert render_top([], as_of=AS_OF).endswith("No customer has made a call yet.")
    assert render_top([], as_of=AS_OF, org="nope").endswith("No organization 'nope' with a call.")


# --------------------------------------------------------------------- quota


def test_render_quota() -> None:
    accounts = [
        _quota(**MEGACORP),
        _quota(),
        _quota(**GLOBEX),
    ]
    text = render_quota(accounts, as_of=AS_OF, min_pct=50)
    lines = text.splitlines()
    assert lines[0] == (
        "Quota utilization on 2026-04-22 (as-of date, day 22 of 30), at 50%+ of cap, soonest to the cap first"
    )
    rows = [line for line in lines if line.startswith("acct_")]
    assert [row.split() for row in rows] == [
        ["acct_megacorp", "growth", "1,000,000", "18,400", "1,000,000", "100.0%", "1,363,636", "!"]
        + ["at", "cap", "100%", "42.0%", "upgrade", "or", "bill", "overage"],
        ["acct_innovate", "growth", "500,000", "18,400", "400,000", "80.0%", "545,455", "!"]
        + ["5", "days", "80%", "1.0%", "offer", "upgrade"],
        # days_to_cap 16 with 8 days left in April: the quota resets first, whatever 16 says.
        ["acct_globex", "-", "250,000", "18,400", "142,000", "56.8%", "193,636", "resets", "before", "cap"]
        + ["50%", "-", "none:", "resets", "first"],
    ]
    # Columns line up: the "%" of % OF CAP ends in one column on every row.
    assert len({row.index("%") for row in rows}) == 1
    assert all(len(line) <= 140 for line in lines)
    assert "broken integration" in text


def test_render_quota_empty() -> None:
    assert "No account has a quota at or above 80%" in render_quota([], as_of=AS_OF, min_pct=80)
    assert "Organization 'x' has no quota in force on 2026-04-22" in render_quota(
        [], as_of=AS_OF, min_pct=50, org="x"
    )


# ----------------------------------------------------------------- endpoints


def test_render_endpoints() -> None:
    endpoints = [
        EndpointStats("/v1/search", "GET", 1_234_567, 1_000, 234, 0.001, 42.0, 310.5, 1_204.25, 48, 7),
        EndpointStats("/v2/orders/{id}", "POST", 9_000, 0, 0, 0.0, 12.0, 20.0, 25.0, 3, 7),
    ]
    text = render_endpoints(endpoints, as_of=AS_OF, days=7, sort="calls")
    lines = text.splitlines()
    assert lines[0] == "Endpoint performance over 7 days, 2026-04-16 .. 2026-04-22 (as-of date), by calls"
    assert lines[3].split() == [
        "GET",
        "/v1/search",
        "1,234,567",
        "48",
        "42.0",
        "310.5",
        "1,204.2",
        "1,000",
        "234",
        "0.1%",
    ]
    assert lines[4].split()[:3] == ["POST", "/v2/orders/{id}", "9,000"]
    assert "weighted by" in text
    one_day = render_endpoints(endpoints, as_of=AS_OF, days=1, sort="p99")
    assert one_day.splitlines()[0].startswith("Endpoint performance over 1 day, 2026-04-22 .. 2026-04-22")
    assert "by p99 latency" in one_day.splitlines()[0]
    assert "weighted by" not in one_day


def test_quota_days_to_cap_zero_is_at_cap_only_when_used_up() -> None:
    """The last day of a month: days_to_cap is 0 by the contract formula at 98.9%."""
    near = _quota(**NEAR_CAP)
    soon = replace(near, organization_id="acct_soon", used_mtd=990, projected_eom=1_300, will_exceed=True)
    text = render_quota([near, soon], as_of=dt.date(2026, 10, 31), min_pct=50)
    rows = {line.split()[0]: line for line in text.splitlines() if line.startswith("acct_")}
    assert "resets before cap" in rows["acct_near"] and "at cap" not in rows["acct_near"]
    assert "< 1 day" in rows["acct_soon"] and "upgrade now" in rows["acct_soon"]
