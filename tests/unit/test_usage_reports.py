"""`apiwh top / quota / endpoints`: rendering (pure, no warehouse). The queries behind them are in
test_usage_reports_queries.py."""

from __future__ import annotations

import datetime as dt

import pytest

from orchestration.reports.formatting import (
    format_count,
    format_last_call,
    format_pct,
    format_rate,
    sparkline,
)
from orchestration.reports.queries.usage import EndpointWindow, QuotaAccount, TopCustomer
from orchestration.reports.render.usage import (
    render_endpoints,
    render_quota,
    render_top,
)
from orchestration.reports.table import render_table

AS_OF = dt.date(2026, 4, 22)


# The customers and accounts the rendering tests show, as the queries return them (the marts'
# columns): ACME and INNOVATE are the defaults of _top and _quota, the others what differs.
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
    "calls_prior_30d": 18_000_000,
    "usage_change_30d_pct": 2.3,
    "is_upsell_signal": False,
    "as_of_date": AS_OF,
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
    "calls_prior_30d": 100_000,
    "usage_change_30d_pct": 80.0,
    "is_upsell_signal": True,
}
DAILY_CALLS = {
    "acme_corp": tuple([600_000] * 30),
    "initech_llc": tuple([None] * 10 + [12_000] * 8 + [0] * 12),
}
INNOVATE = {
    "organization_id": "acct_innovate",
    "plan_id": "growth",
    "billing_month": dt.date(2026, 4, 1),
    "monthly_call_limit": 500_000,
    "used_today": 18_400,
    "used_mtd": 400_000,
    "pct_of_cap": 80.0,
    "projected_eom": 545_455,
    "days_to_cap": 5,
    "will_exceed": True,
    "threshold_band": 80,
    "outlook": "reaches_cap",
    "cap_date": dt.date(2026, 4, 27),
    "resets_on": dt.date(2026, 5, 1),
    "action": "UPSELL NOW",
    "failed_mtd_rate": 0.01,
    "next_plan_id": "scale",
    "next_plan_call_limit": 2_000_000,
    "upgrade_mrr_delta": 450.0,
    "overage_calls_at_pace": 45_455,
    "overage_cost_at_pace": 227.28,
    "fits_next_plan": True,
    "upgrade_net_cost_at_pace": 222.72,
    "is_plan_in_catalogue": True,
    "as_of_date": AS_OF,
}
MEGACORP = {
    "organization_id": "acct_megacorp",
    "plan_id": "scale",
    "monthly_call_limit": 1_000_000,
    "used_mtd": 1_000_000,
    "pct_of_cap": 100.0,
    "projected_eom": 1_363_636,
    "days_to_cap": 0,
    "threshold_band": 100,
    "outlook": "cap_reached",
    "cap_date": None,
    "action": "CRITICAL",
    "failed_mtd_rate": 0.42,
    "next_plan_id": None,
    "next_plan_call_limit": None,
    "upgrade_mrr_delta": None,
    "fits_next_plan": None,
    "upgrade_net_cost_at_pace": None,
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
    "outlook": "resets_first",
    "cap_date": None,
    "action": "ok",
    "failed_mtd_rate": None,
    "next_plan_id": None,
    "next_plan_call_limit": None,
    "upgrade_mrr_delta": None,
    "overage_calls_at_pace": None,
    "overage_cost_at_pace": None,
    "fits_next_plan": None,
    "upgrade_net_cost_at_pace": None,
    "is_plan_in_catalogue": False,
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


def test_format_last_call_gives_the_date() -> None:
    assert format_last_call(dt.datetime(2026, 10, 29, 13, 5)) == "2026-10-29"
    assert format_last_call(None) == "-"


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
    customers = [_top(), _top(**INITECH)]
    text = render_top(customers, as_of=AS_OF, daily_calls=DAILY_CALLS)
    lines = text.splitlines()
    assert lines[0] == (
        "Top customers by calls, 30 days ending 2026-04-22 (as-of date); daily calls 2026-03-24 .. 2026-04-22"
    )
    assert lines[1].split() == (
        ["#", "ORGANIZATION", "PLAN", "CALLS", "30D", "VS", "PRIOR", "30D", "DAYS", "LAST", "CALL"]
        + ["7D", "VS", "PRIOR", "TREND", "UPSELL", "DAILY", "CALLS"]
    )
    acme, initech = lines[3], lines[4]
    assert acme.startswith("1  acme_corp")
    assert "18,420,000" in acme and "+2.3%" in acme and "+2.6%" in acme
    assert "2026-04-22" in acme and "today" not in acme  # the last call's date
    assert "█" * 30 in acme and "★" not in acme
    assert "180,000" in initech and "-100.0%" in initech
    # The upsell mark is the mart's is_upsell_signal, whatever the trend says.
    assert "+80.0%" in initech and "dormant  ★ upsell" in initech
    assert initech.endswith("█" * 8)  # days before the first call and without calls are blank
    # Right-aligned numbers end in the same column.
    assert acme.index("18,420,000") + len("18,420,000") == initech.index("180,000") + len("180,000")
    assert max(len(line) for line in lines) <= 140
    # A customer whose routes moved (the mart's top_endpoint_changes) comes with them.
    assert "initech_llc  dormant    12,000 -> 0: /v1/search -11,000, /v1/orders/{id} -1,000" in text
    assert "acme_corp  steady" not in text
    assert "is_upsell_signal" in text


def test_render_top_empty() -> None:
    assert render_top([], as_of=AS_OF).endswith("No customer has made a call yet.")
    assert render_top([], as_of=AS_OF, org="nope").endswith("No organization 'nope' with a call.")


# --------------------------------------------------------------------- quota


def test_render_quota_reads_outlook_action_and_prices_from_the_mart() -> None:
    accounts = [_quota(**MEGACORP), _quota(), _quota(**GLOBEX)]
    text = render_quota(accounts, as_of=AS_OF, min_pct=50)
    lines = text.splitlines()
    assert lines[0] == (
        "Quota outlook on 2026-04-22 (as-of date, day 22 of 30), at 50%+ of cap, the cap soonest first"
    )
    rows = [line for line in lines if line.startswith("acct_")]
    assert [row.split() for row in rows] == [
        ["acct_megacorp", "scale", "1,000,000", "18,400", "1,000,000", "100.0%", "1,363,636"]
        + ["cap", "reached", "42.0%", "CRITICAL", "top", "plan", "-", "$227.28", "-"],
        ["acct_innovate", "growth", "500,000", "18,400", "400,000", "80.0%", "545,455"]
        + ["cap", "in", "5", "days", "(Apr", "27)", "1.0%", "UPSELL", "NOW", "scale", "+$450.00", "$227.28"]
        + ["+$222.72"],
        # days_to_cap 16 with 8 days left in April: the mart says the quota resets first.
        ["acct_globex", "-", "250,000", "18,400", "142,000", "56.8%", "193,636", "resets", "on", "May", "1"]
        + ["-", "ok", "-", "-", "-", "-"],
    ]
    assert len({row.index("%") for row in rows}) == 1
    assert "  CRITICAL: AE call today: the cap is reached or at most a day away" in lines
    assert "  UPSELL NOW: AE outreach this week: on course for the cap, or at 80% of it" in lines
    assert not any(line.startswith("  warm:") for line in lines)  # only the actions shown
    assert "broken integration" in text
    assert "Prices: no plan" not in text
    unpriced = render_quota([_quota(**GLOBEX)], as_of=AS_OF, min_pct=50)
    assert "Set PLANS_FILE to a plan CSV" in unpriced


def test_render_quota_marks_a_next_plan_too_small_and_a_saving_upgrade() -> None:
    """The "*" is marts.quota_outlook.fits_next_plan false; UPGRADE NET its upgrade_net_cost_at_pace."""
    too_small = _quota(fits_next_plan=False, upgrade_net_cost_at_pace=-35.5)
    text = render_quota([too_small, _quota(organization_id="acct_fits")], as_of=AS_OF, min_pct=50)
    rows = [line.split() for line in text.splitlines() if line.startswith("acct_")]
    assert rows[0][-5:] == ["scale", "*", "+$450.00", "$227.28", "-$35.50"]
    assert rows[1][-4:] == ["scale", "+$450.00", "$227.28", "+$222.72"]
    assert "*: the projection exceeds even the next plan's quota" in " ".join(text.split())


def test_render_quota_empty() -> None:
    assert "No account is at 80%+ of cap on that day" in render_quota([], as_of=AS_OF, min_pct=80)
    assert "No account is at 50%+ of cap or on course for it" in render_quota(
        [], as_of=AS_OF, min_pct=50, with_on_course=True
    )
    assert "Organization 'x' has no quota in force on 2026-04-22" in render_quota(
        [], as_of=AS_OF, min_pct=50, org="x"
    )


def test_quota_on_the_months_last_day_reads_the_outlook_never_days_to_cap() -> None:
    """days_to_cap is 0 (or 329) by the contract formula on the month's last day: the mart's
    outlook is resets_first, so the table says when the quota resets, never a number of days."""
    # Both accounts are read on the month's last day, when the quota resets before any cap.
    last_day = dict(
        as_of_date=dt.date(2026, 10, 31),
        resets_on=dt.date(2026, 11, 1),
        cap_date=None,
        will_exceed=False,
        outlook="resets_first",
    )
    near = _quota(
        **last_day,
        organization_id="acct_near",
        used_mtd=989,
        projected_eom=989,
        days_to_cap=0,
        action="UPSELL NOW",
    )
    far = _quota(
        **last_day, organization_id="acct_far", used_mtd=86, projected_eom=86, days_to_cap=329, action="ok"
    )
    soon = _quota(
        organization_id="acct_soon", days_to_cap=0, cap_date=AS_OF, outlook="reaches_cap", action="CRITICAL"
    )
    text = render_quota([near, far, soon], as_of=dt.date(2026, 10, 31), min_pct=0)
    rows = {line.split()[0]: line for line in text.splitlines() if line.startswith("acct_")}
    assert "resets on Nov 1" in rows["acct_near"] and "UPSELL NOW" in rows["acct_near"]
    assert "329" not in rows["acct_far"] and "resets on Nov 1" in rows["acct_far"]
    assert "cap in less than a day (Apr 22)" in rows["acct_soon"] and "CRITICAL" in rows["acct_soon"]


# ----------------------------------------------------------------- endpoints


def _window(route: str, method: str, calls: int, *figures, days: int = 7) -> EndpointWindow:
    return EndpointWindow(days, route, method, calls, *figures, AS_OF - dt.timedelta(days=days - 1), AS_OF)


def test_render_endpoints_shows_the_windows_exact_figures() -> None:
    endpoints = [
        _window("/v1/search", "GET", 1_234_567, 48, 1_000, 234, 0.001, 0.0002, 42.0, 310.5, 1_204.25),
        _window("/v2/orders/{id}", "POST", 9_000, 3, 0, 0, 0.0, 0.0, 12.0, 20.0, 25.0),
    ]
    text = render_endpoints(endpoints, as_of=AS_OF, days=7, sort="calls")
    lines = text.splitlines()
    assert lines[0] == "Endpoint performance over 7 days, 2026-04-16 .. 2026-04-22 (as-of date), by calls"
    assert lines[3].split() == (
        ["GET", "/v1/search", "1,234,567", "48", "42.0", "310.5", "1,204.2", "1,000", "234", "0.1%", "<0.1%"]
    )
    assert lines[4].split()[:3] == ["POST", "/v2/orders/{id}", "9,000"]
    assert "p95 over the 7 days' calls" in text and "weighted" not in text
    one_day = render_endpoints(endpoints, as_of=AS_OF, days=1, sort="p99")
    assert one_day.splitlines()[0].startswith("Endpoint performance over 1 day, 2026-04-22 .. 2026-04-22")
    assert "by p99 latency" in one_day.splitlines()[0]
    assert "p95 over the 1 day's calls" in one_day
