"""One answer everywhere (issue 24): each question asked through every face gets the marts' answer.

The questions: the quota action (and outlook) of each account, the upsell flag of each customer,
the 30-day p95 of each route, the customers an incident hit. The faces: `apiwh sql` (the marts
themselves), `apiwh ... --format json`, the dashboard pages `apiwh run` wrote, read in headless
Chromium, and the customer's own report. On the bundled sample, and on a generated set whose
as-of date is a month's last day and then mid-month (the quota rules' edges differ).

Slow (about four minutes) because it must be: two more real `apiwh run` builds besides the
session's sample, and a real browser on each build's pages.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from html import unescape
from pathlib import Path

import pytest

from orchestration.alerts.quota_notes import customer_sentence
from orchestration.dashboard.organizations import load_directory
from orchestration.settings import SAMPLE_DIR, SAMPLE_ORGANIZATIONS_FILE
from orchestration.verdict_words import UPSELL_FLAG
from tests import dashboard_support as ds
from tests.shared_builds import generated_run, sample_run
from tests.support import BuiltWarehouse

BUILDS = {
    "sample": lambda shared: sample_run(shared),
    "month end": lambda shared: generated_run(shared, "2026-10-31"),
    "mid-month": lambda shared: generated_run(shared, "2026-10-15"),
}


@pytest.fixture(scope="module", params=list(BUILDS))
def built(request, shared: Path) -> BuiltWarehouse:
    return BUILDS[request.param](shared)


def _organization_id(built: BuiltWarehouse) -> dict[str, str]:
    """What the pages show for each organization, back to its id: a run of the sample shows the
    names of seeds/organizations.csv (orchestration/settings.py), a generated set its ids."""
    sample = Path(built.env["RAW_DATA_DIR"]).resolve() == SAMPLE_DIR.resolve()
    directory = load_directory(SAMPLE_ORGANIZATIONS_FILE if sample else None)
    ids = [
        row["organization_id"]
        for row in _sql(built, "select organization_id from marts.customer_usage_summary")
    ]
    shown = {directory.name(org): org for org in ids}
    assert len(shown) == len(ids), "two organizations show the same name"
    return shown


def _sql(built: BuiltWarehouse, sql: str) -> list[dict]:
    """The marts' answer, through `apiwh sql` (a face too)."""
    result = built.apiwh("sql", sql, "--format", "json")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def _cli(built: BuiltWarehouse, *args: str) -> list[dict]:
    result = built.apiwh(*args, "--format", "json")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.fixture(scope="module")
def pages(built: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The DOM Chromium renders for the pages of the dashboard the run wrote."""
    site = built.warehouse.parent / "dashboard"
    shots = tmp_path_factory.mktemp("one-answer")
    return {
        name: ds.chromium(
            (site / name).as_uri(), screenshot=shots / f"{name}.png", profile=shots / f"profile-{name}"
        )
        for name in ("quota.html", "endpoints.html", "customers-all.html")
    }


def _text(cell: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", cell)).strip()


def _table(dom: str, table: str | None = None) -> list[list[str]]:
    """The cells of a table's body rows: the one marked data-table=table, else the page's first."""
    marker = rf'<table data-table="{table}">' if table else r"<table[^>]*>"
    found = re.search(rf"{marker}(.*?)</table>", dom, re.S)
    assert found, f"no table {table or ''} on the page"
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", found.group(1), re.S)
    return [
        [
            unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in rows
        if "<td" in row
    ]


def test_the_quota_action_of_each_account(built: BuiltWarehouse, pages: dict[str, str]) -> None:
    """Its first call per build takes over a minute (the build and the browser): see the module."""
    marts = {
        row["organization_id"]: (row["action"], row["outlook"])
        for row in _sql(built, "select organization_id, action, outlook from marts.quota_outlook")
    }
    assert marts, "every build has accounts with a quota"
    cli = {
        row["organization_id"]: (row["action"], row["outlook"])
        for row in _cli(built, "quota", "--min-pct", "0")
    }
    assert cli == marts
    org_of = _organization_id(built)
    page = {org_of[row[0]]: row[7] for row in _table(pages["quota.html"], "quota")}
    assert page == {org: action for org, (action, _) in marts.items()}


def test_the_customers_report_words_the_marts_outlook(built: BuiltWarehouse, tmp_path: Path) -> None:
    rows = _sql(built, "select * from marts.quota_outlook order by outlook, organization_id")
    one_per_outlook = {row["outlook"]: row for row in rows}  # the report for each kind of outlook
    for outlook, row in one_per_outlook.items():
        for key in ("billing_month", "cap_date", "resets_on"):
            row[key] = None if row[key] is None else dt.date.fromisoformat(row[key])
        out = tmp_path / outlook
        report = built.apiwh("report", row["organization_id"], "--out", str(out))
        assert report.returncode == 0, report.stderr
        [html] = out.glob("*.html")
        text = " ".join(unescape(re.sub(r"<[^>]+>", " ", html.read_text(encoding="utf-8"))).split())
        assert customer_sentence(row) in text, (outlook, row["organization_id"])
        assert "CRITICAL" not in text and "UPSELL NOW" not in text


def test_the_upsell_flag_of_each_customer(built: BuiltWarehouse, pages: dict[str, str]) -> None:
    marts = {
        row["organization_id"]: row["is_upsell_signal"]
        for row in _sql(built, "select organization_id, is_upsell_signal from marts.customer_usage_summary")
    }
    cli = {row["organization_id"]: row["is_upsell_signal"] for row in _cli(built, "top")}
    assert cli == marts
    # customers-all.html: every customer, the flag in the last column.
    org_of = _organization_id(built)
    page = {org_of[row[1]]: row[-1] == UPSELL_FLAG for row in _table(pages["customers-all.html"])}
    assert page == marts


def test_the_30_day_p95_of_each_route(built: BuiltWarehouse, pages: dict[str, str]) -> None:
    marts = {
        (row["method"], row["route"]): row["latency_p95_ms"]
        for row in _sql(
            built,
            "select method, route, latency_p95_ms from marts.endpoint_window_performance"
            " where window_days = 30",
        )
    }
    cli = {
        (row["method"], row["route"]): row["latency_p95_ms"]
        for row in _cli(built, "endpoints", "--days", "30")
    }
    assert cli == marts
    shown = _table(pages["endpoints.html"], "slowest-endpoints")
    assert shown
    for method, route, *_, p95 in [(row[0], row[1], row[4]) for row in shown]:
        assert p95 == f"{marts[(method, route)]:,.1f}", (method, route)


def test_the_customers_each_incident_hit(built: BuiltWarehouse, pages: dict[str, str]) -> None:
    marts: dict[tuple, set[str]] = {}
    for row in _sql(
        built,
        "select usage_date, method, route, organization_id from marts.endpoint_incident_customers"
        " where usage_date > (select as_of_date from meta.snapshot) - 30",
    ):
        marts.setdefault((row["usage_date"], row["method"], row["route"]), set()).add(row["organization_id"])
    cli = {
        (row["usage_date"], row["method"], row["route"]): {c["organization_id"] for c in row["customers"]}
        for row in _cli(built, "incidents", "--days", "30")
    }
    assert {key: hit for key, hit in cli.items() if hit} == marts
    if not marts:
        return  # no incident in these 30 days: the page says so (test_dashboard_browser.py)
    org_of = _organization_id(built)
    page = {
        (row[0], row[1], row[2]): {org_of[name] for name in filter(None, row[-1].split(", "))}
        for row in _table(pages["endpoints.html"], "incidents")
    }
    assert page == marts
