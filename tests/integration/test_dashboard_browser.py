"""The dashboard and the customer report, built from a real warehouse and rendered by headless
Chromium (Debian's package): charts drawn, figures equal to the marts, nothing of another
customer in a report. Screenshots go to test-artifacts/ (docs/dashboard.md)."""

from __future__ import annotations

import csv
import datetime as dt
import re
import signal
import urllib.request
from html import unescape
from pathlib import Path

import dagster as dg
import pytest

from orchestration.defs.dashboard import dashboard
from orchestration.verdict_words import QUOTA_ACTION_ADVICE, customer_quota_sentence, outlook_cell
from tests import dashboard_support as ds
from tests.support import apiwh, query, resources_from_env, set_environment, warehouse_env

AS_OF = dt.date(2026, 3, 10)


@pytest.fixture(scope="module")
def built(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("dashboard") / "copy"
    warehouse = ds.published_copy(shared, tmp)
    organizations = ds.organizations_csv(tmp / "organizations.csv")
    return {
        "tmp": tmp,
        "warehouse": warehouse,
        "snapshot": warehouse.parent / "published" / "warehouse.duckdb",
        "site": warehouse.parent / "dashboard",
        "organizations": organizations,
        "env": warehouse_env(tmp, ORGANIZATIONS_FILE=str(organizations)),
    }


@pytest.fixture(scope="module")
def site(built: dict[str, Path]) -> Path:
    """The Dagster asset, materialized for real against the published snapshot."""
    with pytest.MonkeyPatch.context() as patch:
        set_environment(patch, built["env"])
        result = dg.materialize(
            [dashboard], instance=dg.DagsterInstance.ephemeral(), resources=resources_from_env()
        )
    assert result.success
    return built["site"]


def _field(dom: str, name: str) -> str:
    found = re.search(rf'data-field="{name}">([^<]*)<', dom)
    assert found, f"no {name} in the page"
    return unescape(found.group(1)).strip()


def _chart(dom: str, name: str) -> str:
    found = re.search(rf'<figure class="chart" data-chart="{name}">(.*?)</figure>', dom, re.S)
    assert found, f"no chart {name}"
    return found.group(1)


def _assert_chart_drawn(dom: str, name: str, *, min_marks: int) -> None:
    """An SVG whose mark groups hold at least min_marks drawn shapes with geometry (drawn by
    vl-convert into the file, or by the browser from the specification the figure carries)."""
    figure = _chart(dom, name)
    assert "<svg" in figure, f"chart {name} not drawn"
    svg = figure[figure.index("<svg") :]
    marks = re.findall(r'<g class="mark-[a-z]+ role-mark[^"]*"[^>]*>(.*?)</g>', svg, re.S)
    shapes = sum(len(re.findall(r'<path[^>]* d="M[^"]+"', group)) for group in marks)
    shapes += sum(len(re.findall(r"<path[^>]* d='M[^']+'", group)) for group in marks)
    assert shapes >= min_marks, f"chart {name}: {shapes} shapes drawn"


def _cells(dom: str, name: str) -> list[list[str]]:
    """Every cell's text of each row of a data table (tags dropped)."""
    table = re.search(rf'<table data-table="{name}">(.*?)</table>', dom, re.S)
    assert table, f"no table {name}"
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(1), re.S)[1:]
    return [
        [
            unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in rows
    ]


def _table_rows(dom: str, name: str) -> list[list[str]]:
    """Method, route, calls, error rate and p95 of each row of a data table."""
    table = re.search(rf'<table data-table="{name}">(.*?)</table>', dom, re.S)
    assert table, f"no table {name}"
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)[1:]
    cells = [[unescape(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)] for row in rows]
    return [row[:4] + row[5:6] for row in cells]


def _pct(rate: float) -> str:
    return f"{100 * rate:.1f}%"


def _expected_customer(snapshot: Path) -> dict[str, str]:
    """The figures of the target's page and report: marts.customer_usage_summary's 30 days and
    marts.quota_outlook's share of the cap, as they are."""
    calls, active_days, change, error_rate, c4, c5, p95 = query(
        snapshot,
        "select calls_30d, active_days_30d, usage_change_30d_pct, error_rate_30d, client_errors_30d,"
        " server_errors_30d, latency_p95_30d_ms from marts.customer_usage_summary where organization_id = ?",
        [ds.TARGET],
    )[0]
    (pct_of_cap,) = query(
        snapshot, "select pct_of_cap from marts.quota_outlook where organization_id = ?", [ds.TARGET]
    )[0]
    return {
        "calls": f"{calls:,}",
        "active-days": f"{active_days:,}",
        "change-30d": "-" if change is None else f"{change:+,.1f}%",
        "pct-of-cap": f"{pct_of_cap:,.1f}%",
        "error-rate-30d": _pct(error_rate),
        "errors-30d": f"{c4:,} / {c5:,}",
        "p95-30d": f"{p95:,.1f} ms",
    }


def _endpoints_30d(snapshot: Path) -> list[list[str]]:
    """The target's routes as the endpoints table shows them (marts.customer_endpoint_30d)."""
    endpoints = query(
        snapshot,
        """
        select method, route, calls_30d, error_rate_30d, latency_p95_30d_ms
        from marts.customer_endpoint_30d where organization_id = ? order by calls_30d desc, route, method
        """,
        [ds.TARGET],
    )
    assert [(route, calls) for _, route, calls, *_ in endpoints] == [
        ("/v1/orders/{id}", 50),
        ("/v1/items", 40),
    ]
    return [
        [method, route, f"{calls:,}", _pct(rate), f"{p95:,.1f}"]
        for method, route, calls, rate, p95 in endpoints
    ]


# The sales team's words: never in the report a customer receives (issue 24).
SALES_WORDS = ("CRITICAL", "UPSELL NOW", "upsell", "AE call", "AE outreach")


def test_overview_renders_charts_and_platform_figures(site: Path, built: dict[str, Path]) -> None:
    dom = ds.chromium(
        (site / "index.html").as_uri(),
        screenshot=ds.ARTIFACTS / "dashboard-overview.png",
        profile=built["tmp"] / "chromium-overview",
    )
    for name in ("calls", "error-rate", "latency"):
        _assert_chart_drawn(dom, name, min_marks=1)
    # 10 days x 4 status classes of stacked bars.
    _assert_chart_drawn(dom, "calls", min_marks=ds.DAYS)
    # The headline: the 30 days of marts.platform_window_usage, exact over the window's calls.
    windows = query(
        built["snapshot"],
        "select window_days, calls, successful_calls, client_errors, server_errors, rate_limited_calls,"
        " error_rate, latency_p50_ms, latency_p95_ms, latency_p99_ms, active_customers"
        " from marts.platform_window_usage order by window_days",
    )
    assert [row[0] for row in windows] == [1, 7, 30]
    _, calls, ok, c4, c5, c429, error_rate, p50, p95, p99, customers = windows[-1]
    # 34 calls a day, and one that arrived late (on March 5).
    assert (calls, customers) == (ds.DAYS * (9 + 5 + 20) + 1, 3)
    assert _field(dom, "calls-30d") == f"{calls:,}"
    assert _field(dom, "error-rate-30d") == _pct(error_rate)
    assert _field(dom, "split-30d") == f"{ok:,} / {c4:,} / {c5:,}"
    assert _field(dom, "p95-30d") == f"{p95:,.1f} ms"
    # Its 1-day window is the as-of date's row of marts.platform_daily_usage.
    day = query(
        built["snapshot"],
        "select calls, error_rate, latency_p95_ms from marts.platform_daily_usage where usage_date = ?",
        [AS_OF],
    )[0]
    assert day == (windows[0][1], windows[0][6], windows[0][8]) and day[0] == 9 + 5 + 20
    assert [row[2:] for row in _cells(dom, "platform-windows")] == [
        [
            f"{n:,}",
            _pct(rate),
            f"{ok:,} / {c4:,} / {c5:,}",
            f"{c429:,}",
            f"{p50:,.1f}",
            f"{p95:,.1f}",
            f"{p99:,.1f}",
            f"{who:,}",
        ]
        for _, n, ok, c4, c5, c429, rate, p50, p95, p99, who in windows
    ]
    # Top endpoints: the 30-day p95 of marts.endpoint_window_performance, under the CLI's label.
    assert "p95 over the 30 days' calls" in unescape(dom)
    window = query(
        built["snapshot"],
        "select method, route, calls, error_rate, latency_p95_ms, distinct_customers"
        " from marts.endpoint_window_performance where window_days = 30 order by calls desc, route, method"
        " limit 10",
    )
    assert _cells(dom, "top-endpoints") == [
        [method, route, f"{calls:,}", _pct(rate), f"{p95:,.1f}", str(customers)]
        for method, route, calls, rate, p95, customers in window
    ]
    assert _field(dom, "as-of-date") == AS_OF.isoformat()
    health = _field(dom, "data-health")
    assert "1 rejected line(s), 1 late event(s), 0 failed file(s)" in health
    # One bad line among hundreds and no failed file: plain text, no warning (marts.data_health).
    assert query(built["snapshot"], "select needs_attention from marts.data_health") == [(False,)]
    assert '<div class="health" data-field="data-health">' in dom
    # Names from the organizations file, never the bare id, in the top-customers table.
    assert ds.TARGET_NAME in dom and ds.OTHER_NAME in dom
    # Active customers (marts.active_customers_daily): the three organizations call every day.
    active = query(
        built["snapshot"],
        "select active_customers_1d, active_customers_7d, active_customers_28d"
        " from marts.active_customers_daily where usage_date = ?",
        [AS_OF],
    )[0]
    assert active == (3, 3, 3)
    assert [_field(dom, f"active-{n}") for n in ("1d", "7d", "28d")] == ["3", "3", "3"]
    # By ISO week, newest first: all three new in the week of Sunday March 1, returning since.
    # marts.customer_lifecycle_weekly by plan (it has no all-plans row), newest week first.
    lifecycle = query(
        built["snapshot"],
        """
        select week, plan_id, active_customers, new_customers, returning_customers,
            resurrecting_customers, dormant_customers, is_complete_week
        from marts.customer_lifecycle_weekly where week >= ? order by week desc, plan_id nulls last
        """,
        [AS_OF - dt.timedelta(days=41)],
    )
    assert {week for week, *_ in lifecycle} == {
        dt.date(2026, 3, 9),
        dt.date(2026, 3, 2),
        dt.date(2026, 2, 23),
    }
    # The weekly lifecycle's dormant_customers is "Went quiet", apart from the trend "dormant".
    assert "<th>Went quiet</th>" in dom.replace(' class="num"', "") and "the trend <em>dormant</em>" in dom
    assert _cells(dom, "lifecycle") == [
        [f"{week}{'' if complete else ' (so far)'}", plan or "-", *(str(n) for n in counts)]
        for week, plan, *counts, complete in lifecycle
    ]
    # Each top customer's 30-day error rate and p95 are customer_usage_summary's.
    top = query(
        built["snapshot"],
        "select calls_30d, error_rate_30d, latency_p95_30d_ms from marts.customer_usage_summary"
        " order by rank_30d, organization_id limit 10",
    )
    assert [row[3:6] for row in _cells(dom, "top-customers")] == [
        [f"{calls:,}", _pct(rate), f"{p95:,.1f}"] for calls, rate, p95 in top
    ]
    # Upsell marks only customer_usage_summary.is_upsell_signal.
    flagged = {org for (org,) in query(built["snapshot"], UPSELL_SQL)}
    for name, org in ((ds.TARGET_NAME, ds.TARGET), (ds.OTHER_NAME, ds.OTHER_ORG)):
        row = re.search(rf"{name}</a>.*?</tr>", dom, re.S)
        assert row and (("★ upsell" in row.group(0)) == (org in flagged)), name


UPSELL_SQL = "select organization_id from marts.customer_usage_summary where is_upsell_signal"


def test_customer_page_over_http_equals_the_marts(site: Path, built: dict[str, Path]) -> None:
    # Started with SIGINT ignored, as a script's background job is: Ctrl-C must still stop it.
    with ds.dashboard_server(
        built["env"],
        built["tmp"] / "dashboard-server.log",
        stop=signal.SIGINT,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    ) as (port, _):
        dom = ds.chromium(
            f"http://127.0.0.1:{port}/customer/{ds.TARGET}.html",
            screenshot=ds.ARTIFACTS / "dashboard-customer.png",
            profile=built["tmp"] / "chromium-customer",
        )
        # The page's two report links: the customer's 30-day report, written when clicked.
        links = re.findall(
            r'href="\.\./(reports/[^"]+)"', re.search(r'data-field="report-links">.*?</p>', dom).group(0)
        )
        assert links == [f"reports/{ds.TARGET}-30d.html", f"reports/{ds.TARGET}-30d.csv"]
        report = ds.chromium(
            f"http://127.0.0.1:{port}/{links[0]}",
            screenshot=built["tmp"] / "report.png",
            profile=built["tmp"] / "chromium-report",
        )
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/{links[1]}", timeout=60) as answer:
            csv_type, daily = answer.headers["Content-Type"], answer.read().decode().splitlines()
    assert f"API usage report: {ds.TARGET_NAME}" in report and "the 30 days " in report
    # The report's CSV: its daily rows, 90 calls in all, as on the page.
    assert csv_type.startswith("text/csv")
    assert sum(int(row["calls"]) for row in csv.DictReader(daily)) == 90
    expected = _expected_customer(built["snapshot"])
    for name, value in expected.items():
        assert _field(dom, name) == value, name
    # The file carries the charts' specifications; the browser drew them (vega-charts.js).
    served = (site / "customer" / f"{ds.TARGET}.html").read_text(encoding="utf-8")
    assert "<svg" not in served and served.count('class="chart-spec"') == 3
    assert (expected["calls"], expected["active-days"], expected["pct-of-cap"]) == ("90", "10", "90.0%")
    # One 404 and one 500 a day over the 10 days: 20 of its 90 calls failed.
    assert (expected["error-rate-30d"], expected["errors-30d"]) == (_pct(20 / 90), "10 / 10")
    # The quota's outlook and action as marts.quota_outlook has them.
    outlook, action, cap_date, resets_on, days_to_cap = query(
        built["snapshot"],
        "select outlook, action, cap_date, resets_on, days_to_cap from marts.quota_outlook"
        " where organization_id = ?",
        [ds.TARGET],
    )[0]
    assert _field(dom, "quota-action") == action
    assert _field(dom, "outlook") == outlook_cell(outlook, days_to_cap, cap_date, resets_on)
    _assert_chart_drawn(dom, "calls", min_marks=ds.DAYS)
    _assert_chart_drawn(dom, "latency", min_marks=3)
    _assert_chart_drawn(dom, "quota", min_marks=2)
    # Its routes over the 30 days, exact over the window's calls (marts.customer_endpoint_30d).
    assert _table_rows(dom, "endpoints") == _endpoints_30d(built["snapshot"])
    assert f"{ds.TARGET_NAME} ({ds.TARGET})" in dom
    assert ds.TARGET_CONTACT in dom
    assert "key_acme" in dom


def test_report_renders_offline_and_matches_the_marts(built: dict[str, Path]) -> None:
    out = built["tmp"] / "report-month"
    completed = apiwh(built["env"], "report", ds.TARGET, "--month", "2026-03", "--out", str(out))
    assert completed.returncode == 0, completed.stderr
    html_path = out / f"{ds.TARGET}-usage-2026-03.html"
    csv_path = out / f"{ds.TARGET}-usage-2026-03.csv"
    assert sorted(out.iterdir()) == sorted([html_path, csv_path])
    text = html_path.read_text(encoding="utf-8")
    # Self-contained: nothing fetched (no script, stylesheet, image or frame source).
    assert not re.search(r"<script|<link|<img|<iframe|src=|url\(", text)
    dom = ds.chromium(
        html_path.as_uri(),
        screenshot=ds.ARTIFACTS / "customer-report.png",
        profile=built["tmp"] / "chromium-report",
    )
    for name, value in _expected_customer(built["snapshot"]).items():
        assert _field(dom, name) == value, name
    # The outlook in the customer's terms, never the sales team's words.
    outlook = query(
        built["snapshot"],
        "select outlook, used_mtd, monthly_call_limit, projected_eom, days_to_cap, cap_date, resets_on,"
        " billing_month from marts.quota_outlook where organization_id = ?",
        [ds.TARGET],
    )[0]
    names = ("outlook", "used_mtd", "monthly_call_limit", "projected_eom", "days_to_cap", "cap_date")
    sentence = customer_quota_sentence(
        **dict(zip(names, outlook[:6], strict=True)), resets_on=outlook[6], billing_month=outlook[7]
    )
    assert _field(dom, "quota-sentence") == sentence
    for word in SALES_WORDS:
        assert word.lower() not in text.lower(), word
    assert "<nav" not in dom  # nothing to click in a file sent to a customer
    pdf = ds.chromium_pdf(
        html_path.as_uri(), pdf=ds.ARTIFACTS / "customer-report.pdf", profile=built["tmp"] / "chromium-pdf"
    )
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 2
    _assert_chart_drawn(dom, "calls", min_marks=ds.DAYS)
    _assert_chart_drawn(dom, "quota", min_marks=2)
    # Its routes over the 30 days to the as-of date, as on its dashboard page.
    assert _table_rows(dom, "endpoints") == _endpoints_30d(built["snapshot"])
    # Errors by class and type: one 404 and one 500 a day, no error type given.
    assert "4xx" in dom and "unspecified" in dom
    with csv_path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    marts = query(
        built["snapshot"],
        """
        select usage_date, calls, client_errors, server_errors, latency_p95_ms
        from marts.customer_daily_usage where organization_id = ? order by usage_date
        """,
        [ds.TARGET],
    )
    assert [
        (row["date"], int(row["calls"]), int(row["client_errors"]), int(row["server_errors"])) for row in rows
    ] == [(day.isoformat(), calls, c4, c5) for day, calls, c4, c5, _ in marts]
    assert [float(row["latency_p95_ms"]) for row in rows] == [round(p95, 3) for *_, p95 in marts]
    assert rows[-1]["pct_of_cap"] == "90.0"


def test_report_never_carries_another_customers_data(built: dict[str, Path]) -> None:
    for args, folder in ((["--days", "30"], "report-days"), (["--month", "2026-03"], "report-privacy")):
        out = built["tmp"] / folder
        completed = apiwh(built["env"], "report", ds.TARGET, *args, "--out", str(out))
        assert completed.returncode == 0, completed.stderr
        written = list(out.iterdir())
        assert len(written) == 2
        for path in written:
            data = path.read_bytes()
            assert ds.TARGET.encode() in data or path.suffix == ".csv"
            for canary in ds.CANARY_STRINGS:
                assert canary.encode() not in data, f"{canary!r} found in {path.name}"
                assert canary.lower().encode() not in data.lower(), f"{canary!r} found in {path.name}"
    html = (built["tmp"] / "report-privacy" / f"{ds.TARGET}-usage-2026-03.html").read_text()
    assert ds.TARGET_NAME in html


def test_report_for_an_unknown_organization_suggests_the_closest_ids(built: dict[str, Path]) -> None:
    completed = apiwh(built["env"], "report", "acme_targte", "--out", str(built["tmp"] / "nothing"))
    assert completed.returncode == 2
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    assert "no organization 'acme_targte'" in lines[0] and "did you mean acme_target" in lines[0]
    assert not (built["tmp"] / "nothing").exists()
    injected = apiwh(built["env"], "report", "x' or '1'='1", "--out", str(built["tmp"] / "nothing"))
    assert injected.returncode == 2 and "no organization" in injected.stderr


def test_quota_page_shows_the_marts_outlook_and_action_and_drafts_notes(
    site: Path, built: dict[str, Path]
) -> None:
    dom = ds.chromium(
        (site / "quota.html").as_uri(),
        screenshot=ds.ARTIFACTS / "dashboard-quota.png",
        profile=built["tmp"] / "chromium-quota",
    )
    outlooks = query(
        built["snapshot"],
        """
        select organization_id, pct_of_cap, outlook, days_to_cap, cap_date, resets_on, action
        from marts.quota_outlook order by outlook, cap_date nulls last, pct_of_cap desc, organization_id
        """,
    )
    assert len(outlooks) == 2  # the target and the canary have a quota
    names = {ds.TARGET: ds.TARGET_NAME, ds.CANARY_ORG: ds.CANARY_NAME}
    # Every row is the mart's row: its outlook through verdict_words.outlook_cell, its action.
    assert [(row[0], row[4], row[6], row[7]) for row in _cells(dom, "quota")] == [
        (names[org], f"{pct:,.1f}%", outlook_cell(outlook, days, cap_date, resets_on), action)
        for org, pct, outlook, days, cap_date, resets_on, action in outlooks
    ]
    # The target: 90 of 100 calls on day 10 of 31, on course for the cap before the month ends.
    target = next(row for row in outlooks if row[0] == ds.TARGET)
    assert target[2] == "reaches_cap"
    row = re.search(rf"{ds.TARGET_NAME}</a>.*?</tr>", dom, re.S)
    # Priced by the plan catalogue (marts.quota_outlook): next plan scale, $150 more.
    assert row and ">scale<" in row.group(0) and ">+$150.00<" in row.group(0)
    page = unescape(dom)
    # The note's heading is the mart's action; its text the outlook in the customer's terms.
    action = target[6]
    assert f"{ds.TARGET_NAME}: {action} · {QUOTA_ACTION_ADVICE[action]}" in page
    note = re.search(rf"Hi {ds.TARGET_NAME} team,.*?</pre>", page, re.S)
    assert note and "scale" in note.group(0) and "$199.00" in note.group(0)
    assert "within your quota" not in note.group(0)
    assert f"before it resets on {target[5]:%b} {target[5].day}" in note.group(0)
    assert f"To: {ds.TARGET_CONTACT}" in page
    cap_date = target[4]
    assert (
        f"Subject: Heads up: at this pace you reach your monthly API quota on {cap_date:%B} {cap_date.day}"
        in page
    )


def test_endpoints_page_shows_the_window_p95_and_each_incidents_customers(
    site: Path, built: dict[str, Path]
) -> None:
    page = (site / "endpoints.html").read_text(encoding="utf-8")
    assert "p95 over the 30 days' calls" in unescape(page) and "median day" not in page
    window = query(
        built["snapshot"],
        "select method, route, calls, latency_p95_ms, distinct_customers"
        " from marts.endpoint_window_performance where window_days = 30"
        " order by latency_p95_ms desc nulls last, calls desc, route, method limit 10",
    )
    assert [[row[0], row[1], row[2], row[4], row[6]] for row in _cells(page, "slowest-endpoints")] == [
        [method, route, f"{calls:,}", f"{p95:,.1f}", str(customers)]
        for method, route, calls, p95, customers in window
    ]
    incidents = query(
        built["snapshot"],
        "select usage_date, method, route, affected_customers from marts.endpoint_incidents"
        " where usage_date between ? and ? order by usage_date desc, affected_customers desc, route, method",
        [AS_OF - dt.timedelta(days=29), AS_OF],
    )
    hits = query(
        built["snapshot"],
        "select usage_date, method, route, organization_id from marts.endpoint_incident_customers"
        " where usage_date between ? and ?",
        [AS_OF - dt.timedelta(days=29), AS_OF],
    )
    if not incidents:  # ten days are too few for a 28-day baseline: the page says so
        assert "No incident in the 30 days" in page and not hits
        return
    assert [row[5] for row in _cells(page, "incidents")] == [str(n) for *_, n in incidents]
    names = {ds.TARGET: ds.TARGET_NAME, ds.CANARY_ORG: ds.CANARY_NAME, ds.OTHER_ORG: ds.OTHER_NAME}
    assert sorted(row[:4] for row in _cells(page, "incident-customers")) == sorted(
        [day.isoformat(), method, route, names[org]] for day, method, route, org in hits
    )


def test_endpoint_quota_and_onboarding_pages_draw_their_charts(site: Path, built: dict[str, Path]) -> None:
    endpoints = (site / "endpoints.html").read_text(encoding="utf-8")
    # Heatmaps: one cell per route and day (3 routes x 10 days).
    _assert_chart_drawn(endpoints, "latency-heatmap", min_marks=3 * ds.DAYS)
    _assert_chart_drawn(endpoints, "error-heatmap", min_marks=3 * ds.DAYS)
    onboarding = (site / "onboarding.html").read_text(encoding="utf-8")
    _assert_chart_drawn(onboarding, "funnel", min_marks=2)
    _assert_chart_drawn(onboarding, "retention", min_marks=2)
    # Each cell of the retention heatmap carries its figure (marts.cohort_retention), as text.
    [labels] = re.findall(
        r'<g class="mark-text role-mark[^"]*"[^>]*>(.*?)</g>', _chart(onboarding, "retention"), re.S
    )
    rates = query(built["snapshot"], "select retention_rate from marts.cohort_retention")
    assert sorted(re.findall(r">(\d+%)</text>", labels)) == sorted(f"{rate:.0%}" for (rate,) in rates)
    quota = (site / "quota.html").read_text(encoding="utf-8")
    _assert_chart_drawn(quota, "quota", min_marks=4)  # two accounts, used now and projected


def test_charts_use_the_width_of_the_page(site: Path, built: dict[str, Path]) -> None:
    """Laid out by Chromium (1200 px wide): each chart as wide as the page's text, not its
    drawn size (about 650 px)."""
    probe = site / "measure-charts.html"
    measure = (
        "<script>document.body.setAttribute('data-widths', [...document.querySelectorAll("
        "'figure.chart svg')].map(c => Math.round(c.getBoundingClientRect().width)).join(' ')"
        " + ' of ' + Math.round(document.querySelector('h1').getBoundingClientRect().width))</script>"
    )
    probe.write_text((site / "index.html").read_text().replace("</body>", measure + "</body>"))
    try:
        dom = ds.chromium(
            probe.as_uri(), screenshot=built["tmp"] / "measure.png", profile=built["tmp"] / "chromium-measure"
        )
    finally:
        probe.unlink()
    charts, page = re.search(r'data-widths="([\d ]+) of (\d+)"', dom).groups()
    assert int(page) > 1000 and charts.split() and all(int(width) == int(page) for width in charts.split())


@pytest.mark.usefixtures("dbt_manifest")
def test_dashboard_asset_runs_in_daily_refresh_after_the_snapshot() -> None:
    from orchestration.definitions import defs

    location = defs()
    graph = location.resolve_asset_graph()
    key = dg.AssetKey(["reports", "dashboard"])
    assert dg.AssetKey(["marts", "published_snapshot"]) in graph.get(key).parent_keys
    job = location.resolve_job_def("daily_refresh")
    assert key in job.asset_layer.executable_asset_keys


def test_dashboard_pages_link_relatively_and_open_from_the_folder(site: Path) -> None:
    names = {path.relative_to(site).as_posix() for path in site.rglob("*.html")}
    assert {"index.html", "customers.html", "quota.html", "endpoints.html", "onboarding.html"} <= names
    assert {f"customer/{org}.html" for org in (ds.TARGET, ds.CANARY_ORG, ds.OTHER_ORG)} <= names
    for name in names:
        html = (site / name).read_text(encoding="utf-8")
        links = re.findall(r'href="([^"]+)"', html)
        assert links, name
        for link in links:
            assert not re.match(r"[a-z]+:|/", link), f"{name} links to {link}"
            if link.startswith("../reports/"):  # the 30-day report: written by `apiwh dashboard` when asked
                continue
            assert (site / name).parent.joinpath(link).resolve().is_file(), f"{name}: {link}"
        # Only customer pages have scripts: the site's chart bundle and the lines that call it.
        scripts = re.findall(r"<script(?: [^>]*)?>", html)
        if name.startswith("customer/"):
            assert re.findall(r'<script src="([^"]+)">', html) == ["../vega-charts.js"], name
            assert (site / "vega-charts.js").stat().st_size > 500_000
            assert len(scripts) == 2 + html.count('class="chart-spec"'), name
        else:
            assert scripts == [], name
        assert 'data-field="data-health"' in html and 'data-field="as-of-date"' in html


def test_dashboard_asset_skips_when_nothing_changed(site: Path, built: dict[str, Path]) -> None:
    before = (site / "index.html").stat().st_mtime_ns
    with pytest.MonkeyPatch.context() as patch:
        set_environment(patch, built["env"])
        result = dg.materialize(
            [dashboard], instance=dg.DagsterInstance.ephemeral(), resources=resources_from_env()
        )
    assert result.success
    metadata = result.asset_materializations_for_node("reports__dashboard")[0].metadata
    assert metadata["rebuilt"].value is False
    assert (site / "index.html").stat().st_mtime_ns == before


def test_customer_pages_from_worker_processes_equal_the_ones_drawn_in_process(
    built: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many customers are drawn by worker processes (orchestration/dashboard/customer_pages.py),
    each with its own read-only connection: the pages must be the very same."""
    from orchestration.dashboard import customer_pages
    from orchestration.dashboard.organizations import load_directory
    from orchestration.dashboard.render import header
    from orchestration.reports.queries import site as queries
    from orchestration.warehouse import connect

    directory = load_directory(built["organizations"])
    with connect(built["snapshot"], read_only=True) as con:
        health = queries.data_health(con)
        common = header(health, generated_at=dt.datetime(2026, 3, 11))
        customers = queries.customers(con)
        assert len(customers) >= 3  # one share per customer with PARALLEL_FROM = 2
        monkeypatch.setattr(customer_pages, "PARALLEL_FROM", 10**9)
        in_process = customer_pages.render_customer_pages(
            con, customers, health["as_of_date"], directory, common
        )
        monkeypatch.setattr(customer_pages, "PARALLEL_FROM", 2)
        by_workers = customer_pages.render_customer_pages(
            con, customers, health["as_of_date"], directory, common
        )
    assert len(in_process) == len(customers)
    assert by_workers == in_process
