"""The dashboard on the bundled sample says what the marts decided (issue 24): the quota page's
action and outlook are marts.quota_outlook's, the incidents list marts.endpoint_incident_customers,
and the customer's report carries none of the sales team's words. Built in-process from the
sample's published snapshot (tests/shared_builds.py sample_run), a few seconds."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest

from orchestration.dashboard.organizations import Directory
from orchestration.dashboard.report import write_report
from orchestration.dashboard.site import build_site
from orchestration.verdict_words import QUOTA_ACTION_ADVICE, outcome_cell, outlook_cell
from orchestration.warehouse import connect
from tests.shared_builds import sample_run
from tests.support import query

SALES_WORDS = ("CRITICAL", "UPSELL NOW", "upsell", "AE call", "AE outreach")


@pytest.fixture(scope="module")
def snapshot(shared: Path) -> Path:
    built = sample_run(shared)
    assert built.run.returncode == 0, built.run.stderr
    return built.warehouse.parent / "published" / "warehouse.duckdb"


@pytest.fixture(scope="module")
def site(snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample-dashboard") / "site"
    with connect(snapshot, read_only=True) as con:
        build_site(con, out, Directory())
    return out


def _rows(page: str, table: str) -> list[list[str]]:
    found = re.search(rf'<table data-table="{table}">(.*?)</table>', page, re.S)
    assert found, f"no table {table}"
    return [
        [
            unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", found.group(1), re.S)[1:]
    ]


def test_quota_page_rows_and_notes_are_the_marts_verdicts(site: Path, snapshot: Path) -> None:
    page = (site / "quota.html").read_text(encoding="utf-8")
    marts = query(
        snapshot,
        """
        select organization_id, outlook, days_to_cap, cap_date, resets_on, action
        from marts.quota_outlook order by outlook, cap_date nulls last, pct_of_cap desc, organization_id
        """,
    )
    assert [(row[0], row[6], row[7]) for row in _rows(page, "quota")] == [
        (org, outlook_cell(outlook, days, cap_date, resets_on), action)
        for org, outlook, days, cap_date, resets_on, action in marts
    ]
    # org_28c06f: 98.9% on the month's last day, projected within the quota, largest plan.
    assert next(row[:4] for row in marts if row[0] == "org_28c06f") == ("org_28c06f", "resets_first", 0, None)
    text = unescape(page)
    assert "org_28c06f: UPSELL NOW · AE outreach this week" in text
    note = re.search(r"Hi org_28c06f team,.*?</pre>", text, re.S)
    assert note and "within your quota, which resets on Nov 1" in note.group(0)
    assert "larger quota" not in note.group(0) and "You are on our largest plan" in note.group(0)
    for org, _, _, _, _, action in marts:
        heading = f"{org}: {action} · {QUOTA_ACTION_ADVICE[action]}"
        assert (heading in text) == (action != "ok"), org


def test_quota_page_after_the_cap_lists_the_marts_outcomes(site: Path, snapshot: Path) -> None:
    page = (site / "quota.html").read_text(encoding="utf-8")
    marts = query(
        snapshot,
        """
        select strftime(billing_month, '%Y-%m'), organization_id, peak_band, limit_at_month_end,
            next_month_limit, outcome, is_next_month_complete
        from marts.quota_outcomes order by billing_month desc, peak_band desc, organization_id
        """,
    )
    assert {row[5] for row in marts} >= {"upgraded", "absorbed_429s"}  # the sample's months at 80%+
    assert '<h2 id="after-the-cap">After the cap</h2>' in page
    shown = _rows(page, "quota-outcomes")
    assert [(row[0], row[1], row[2], row[3], row[5], row[7]) for row in shown] == [
        (month, org, f"{peak}%", f"{limit:,}", f"{next_limit:,}", outcome_cell(outcome, complete))
        for month, org, peak, limit, next_limit, outcome, complete in marts
    ]
    assert ["2026-09", "org_0b6a8a", "100%", "2,400", "0", "10,500", "6,107", "upgraded"] in shown
    assert any(row[7] == "absorbed the 429s" for row in shown)


def test_endpoints_page_lists_each_incidents_customers(site: Path, snapshot: Path) -> None:
    page = (site / "endpoints.html").read_text(encoding="utf-8")
    window = query(
        snapshot,
        "select method, route, latency_p95_ms from marts.endpoint_window_performance where window_days = 30"
        " order by latency_p95_ms desc nulls last, calls desc, route, method limit 10",
    )
    assert [(row[0], row[1], row[4]) for row in _rows(page, "slowest-endpoints")] == [
        (method, route, f"{p95:,.1f}") for method, route, p95 in window
    ]
    shown = _rows(page, "incidents")
    assert shown, "the sample has incidents in its last 30 days"
    for day, method, route, *_, affected, _, _, customers in shown:
        hit = query(
            snapshot,
            "select organization_id from marts.endpoint_incident_customers"
            " where usage_date = ? and method = ? and route = ? order by calls desc, organization_id",
            [day, method, route],
        )
        assert int(affected.replace(",", "")) == len(hit)
        assert customers == ", ".join(org for (org,) in hit)


def test_the_customers_report_has_no_sales_words(snapshot: Path, tmp_path: Path) -> None:
    with connect(snapshot, read_only=True) as con:
        html_path, _, _ = write_report(con, "org_28c06f", tmp_path, Directory())
    text = html_path.read_text(encoding="utf-8")
    for word in SALES_WORDS:
        assert word.lower() not in text.lower(), word
    assert "within your quota, which resets on Nov 1" in unescape(text)
    assert "329 days" not in text


def _field(page: str, name: str) -> str:
    found = re.search(rf'data-field="{name}">([^<]*)<', page)
    assert found, f"no {name} in the page"
    return unescape(found.group(1)).strip()


def test_overview_headline_is_the_platforms_30_days(site: Path, snapshot: Path) -> None:
    page = (site / "index.html").read_text(encoding="utf-8")
    calls, error_rate, p95 = query(
        snapshot,
        "select calls, error_rate, latency_p95_ms from marts.platform_window_usage where window_days = 30",
    )[0]
    assert _field(page, "calls-30d") == f"{calls:,}"
    assert _field(page, "error-rate-30d") == f"{100 * error_rate:.1f}%"
    assert _field(page, "p95-30d") == f"{p95:,.1f} ms"
    # Exact over the 30 days' calls: the sample's 30-day p95 is not its median day's.
    (median_day,) = query(
        snapshot,
        "select median(latency_p95_ms) from marts.platform_daily_usage"
        " where usage_date > (select as_of_date from marts.data_health) - 30",
    )[0]
    assert round(p95, 1) != round(median_day, 1)


def test_customer_page_and_report_show_the_marts_30_day_error_rate_and_latency(
    site: Path, snapshot: Path, tmp_path: Path
) -> None:
    organization_id = "org_634c30"  # a top-10 customer of the sample, a quarter of its calls failed
    error_rate, p95 = query(
        snapshot,
        "select error_rate_30d, latency_p95_30d_ms from marts.customer_usage_summary"
        " where organization_id = ?",
        [organization_id],
    )[0]
    assert error_rate > 0.2
    page = (site / "customer" / f"{organization_id}.html").read_text(encoding="utf-8")
    with connect(snapshot, read_only=True) as con:
        report_path, _, _ = write_report(con, organization_id, tmp_path, Directory())
    report = report_path.read_text(encoding="utf-8")
    for shown in (page, report):
        assert _field(shown, "error-rate-30d") == f"{100 * error_rate:.1f}%"
        assert _field(shown, "p95-30d") == f"{p95:,.1f} ms"
    overview = (site / "index.html").read_text(encoding="utf-8")
    row = re.search(rf"{organization_id}</a>.*?</tr>", overview, re.S)
    assert row and f">{100 * error_rate:.1f}%<" in row.group(0) and f">{p95:,.1f}<" in row.group(0)
