"""Ids are data, never control (issue 23): an organization id holding BEL and ESC sequences, and
a display name holding them, through every face: `apiwh top`, `apiwh sql`, `apiwh report`, the
dashboard asset (charts included) and the pages in headless Chromium served by `apiwh dashboard`.

The loader rejects such lines, so the marts of a real build are changed here to hold them, as
if one got through. A route holding U+FFFF (not a control character, so the loader keeps it)
makes vl-convert abort its process: the charts that carry it are left out with a note.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import dagster as dg
import pytest

from orchestration.dashboard.customer_view import page_name
from orchestration.defs.dashboard import dashboard
from orchestration.snapshot import publish_snapshot
from orchestration.warehouse import connect
from tests import dashboard_support as ds
from tests.support import apiwh, resources_from_env, set_environment, warehouse_env

# Rings the bell, sets the terminal's title, clears the screen.
BAD_ORG = "acme\x07bell\x1b]0;pwned\x07\x1b[2J"
BAD_NAME = "Bigco \x1b[31mRed\x1b[0m\x07"
BAD_ROUTE = "/v1/canary\uffff-only"
# Raw C0 controls but tab, newline and carriage return, DEL, and the C1 controls.
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _plant(warehouse: Path) -> None:
    """The target's id becomes BAD_ORG and the canary's route BAD_ROUTE in every mart."""
    with connect(warehouse) as con:
        columns = con.execute(
            "select table_name, column_name from information_schema.columns"
            " where table_schema = 'marts' and column_name in ('organization_id', 'route')"
        ).fetchall()
        for table, column in columns:
            old, new = (ds.TARGET, BAD_ORG) if column == "organization_id" else ("/v1/canary-only", BAD_ROUTE)
            con.execute(f"update marts.{table} set {column} = ? where {column} = ?", [new, old])
        publish_snapshot(con, warehouse.parent / "published" / "warehouse.duckdb")


@pytest.fixture(scope="module")
def built(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("control_characters") / "copy"
    warehouse = ds.published_copy(shared, tmp)
    _plant(warehouse)
    organizations = tmp / "organizations.csv"
    organizations.write_text(
        f"organization_id,display_name,primary_contact_email\n{ds.OTHER_ORG},{BAD_NAME},{ds.OTHER_CONTACT}\n",
        encoding="utf-8",
    )
    return {
        "tmp": tmp,
        "warehouse": warehouse,
        "site": warehouse.parent / "dashboard",
        "organizations": organizations,
        "env": warehouse_env(tmp, ORGANIZATIONS_FILE=str(organizations)),
    }


@pytest.fixture(scope="module")
def site(built: dict) -> dict:
    """The Dagster asset, materialized for real, and the warnings its run logged."""
    instance = dg.DagsterInstance.ephemeral()
    with pytest.MonkeyPatch.context() as patch:
        set_environment(patch, built["env"])
        result = dg.materialize([dashboard], instance=instance, resources=resources_from_env())
    assert result.success
    warnings = [
        entry.user_message for entry in instance.all_logs(result.run_id) if entry.level == logging.WARNING
    ]
    metadata = result.asset_materializations_for_node("reports__dashboard")[0].metadata
    return {"path": built["site"], "metadata": metadata, "warnings": warnings}


def _assert_no_raw_control(text: str, where: str) -> None:
    found = RAW_CONTROL.search(text)
    assert found is None, (
        f"{where}: raw {found.group(0)!r} at {found.start()}: {text[found.start() - 60 :][:120]!r}"
    )


def test_top_and_sql_show_control_characters_escaped(built: dict) -> None:
    top = apiwh(built["env"], "top")
    assert top.returncode == 0, top.stderr
    _assert_no_raw_control(top.stdout + top.stderr, "apiwh top")
    assert "acme\\x07bell\\x1b]0;pwned" in top.stdout
    table = apiwh(
        built["env"], "sql", "select organization_id, calls_30d from marts.customer_usage_summary order by 1"
    )
    assert table.returncode == 0, table.stderr
    _assert_no_raw_control(table.stdout + table.stderr, "apiwh sql")
    assert table.stdout.splitlines()[2].startswith("acme\\x07bell\\x1b]0;pwned\\x07\\x1b[2J  ")


def test_report_for_an_id_with_escape_sequences_draws_its_charts(built: dict) -> None:
    out = built["tmp"] / "report-bad-id"
    completed = apiwh(built["env"], "report", BAD_ORG, "--out", str(out))
    assert completed.returncode == 0, completed.stderr
    _assert_no_raw_control(completed.stdout + completed.stderr, "apiwh report")
    stem = page_name(BAD_ORG).removesuffix(".html")
    html = (out / f"{stem}-usage-2026-02-09_2026-03-10.html").read_text(encoding="utf-8")
    _assert_no_raw_control(html, "the report")
    assert "Calls per day, acme\\x07bell\\x1b]0;pwned\\x07\\x1b[2J" in html
    assert html.count("<svg") == 3 and "chart not drawn" not in html


def test_dashboard_pages_escape_control_characters_and_leave_out_the_chart_that_aborts(site: dict) -> None:
    root = site["path"]
    pages = sorted(root.rglob("*.html"))
    assert len(pages) >= 9
    for page in pages:
        _assert_no_raw_control(page.read_text(encoding="utf-8"), page.name)
    # The quota chart, labelled with the id (vl-convert used to abort on its BEL), is drawn.
    quota = (root / "quota.html").read_text(encoding="utf-8")
    chart = re.search(r'<figure class="chart" data-chart="quota">(.*?)</figure>', quota, re.S).group(1)
    assert chart.startswith("<svg") and "acme\\x07bell" in chart
    customers = (root / "customers.html").read_text(encoding="utf-8")
    assert "Bigco \\x1b[31mRed\\x1b[0m\\x07" in customers and customers.count("<svg") == 3
    # Both heatmaps carry the route with U+FFFF: each is a note, the run carries on and says so.
    endpoints = (root / "endpoints.html").read_text(encoding="utf-8")
    assert endpoints.count("chart not drawn: the chart renderer crashed on this chart") == 2
    assert "<svg" not in endpoints
    assert (root / "index.html").read_text(encoding="utf-8").count("<svg") == 3
    assert site["metadata"]["charts_not_drawn"].value == 2
    not_drawn = [w for w in site["warnings"] if "not drawn" in w]
    assert len(not_drawn) == 2 and "p95 latency (ms) by day" in not_drawn[0], site["warnings"]
    assert "SIGABRT" in not_drawn[0] and "NonXmlChar" in not_drawn[0]
    assert (root / "customer" / page_name(BAD_ORG)).is_file()


def test_pages_in_chromium_over_the_server_hold_no_control_characters(site: dict, built: dict) -> None:
    """Served by `apiwh dashboard` (its Content-Security-Policy must let the charts draw)."""
    server_log = built["tmp"] / "server.log"
    with ds.dashboard_server(built["env"], server_log) as (port, _):
        base = f"http://127.0.0.1:{port}"
        customer = ds.chromium(
            f"{base}/customer/{page_name(BAD_ORG)}",
            screenshot=ds.ARTIFACTS / "control-characters-customer.png",
            profile=built["tmp"] / "chromium-customer",
        )
        quota = ds.chromium(
            f"{base}/quota.html",
            screenshot=ds.ARTIFACTS / "control-characters-quota.png",
            profile=built["tmp"] / "chromium-quota",
        )
    for name, dom in (("customer page", customer), ("quota page", quota)):
        _assert_no_raw_control(dom, name)
    # The browser drew the three charts (vega-charts.js, allowed by the policy), labels escaped.
    assert len(re.findall(r'<figure class="chart"[^>]*>.*?<svg', customer, re.S)) == 3
    assert "Calls per day, acme\\x07bell\\x1b]0;pwned" in customer
    assert "acme\\x07bell" in quota and "Traceback" not in server_log.read_text()


def test_report_leaves_out_a_chart_that_aborts_the_renderer_and_says_so(built: dict) -> None:
    organizations = built["tmp"] / "organizations-noncharacter.csv"
    organizations.write_text(
        f"organization_id,display_name,primary_contact_email\n{ds.CANARY_ORG},Canary \uffff Holdings,\n",
        encoding="utf-8",
    )
    out = built["tmp"] / "report-noncharacter"
    completed = apiwh(
        built["env"],
        "report",
        ds.CANARY_ORG,
        "--out",
        str(out),
        extra={"ORGANIZATIONS_FILE": str(organizations)},
    )
    assert completed.returncode == 0, completed.stderr
    warnings = completed.stderr.strip().splitlines()
    assert len(warnings) == 1 and warnings[0].startswith(
        'apiwh report: warning: chart "Calls per day, Canary'
    )
    html = next(out.glob("*.html")).read_text(encoding="utf-8")
    # Its title names the organization: that chart is a note, the latency and quota charts drawn.
    assert html.count("chart not drawn: the chart renderer crashed") == 1
    assert html.count("<svg") == 2


# ------------------------------------------------------------------ the report writer's output


def test_report_refuses_an_existing_file_unless_forced_and_never_a_symlink(built: dict) -> None:
    out = built["tmp"] / "report-targets"
    first = apiwh(built["env"], "report", ds.OTHER_ORG, "--month", "2026-03", "--out", str(out))
    assert first.returncode == 0, first.stderr
    html = out / f"{ds.OTHER_ORG}-usage-2026-03.html"
    csv = out / f"{ds.OTHER_ORG}-usage-2026-03.csv"
    html.write_text("kept", encoding="utf-8")
    again = apiwh(built["env"], "report", ds.OTHER_ORG, "--month", "2026-03", "--out", str(out))
    assert again.returncode == 2
    assert again.stderr.splitlines() == [
        f"apiwh report: error: {html} is already a file: --force overwrites a file"
    ]
    assert html.read_text(encoding="utf-8") == "kept"
    forced = apiwh(built["env"], "report", ds.OTHER_ORG, "--month", "2026-03", "--out", str(out), "--force")
    assert forced.returncode == 0, forced.stderr
    assert html.read_text(encoding="utf-8").startswith("<!doctype html>")
    # A link at the output path (to a file the user may not mean to lose): refused, even forced.
    victim = built["tmp"] / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    csv.unlink()
    csv.symlink_to(victim)
    for extra in ([], ["--force"]):
        refused = apiwh(built["env"], "report", ds.OTHER_ORG, "--month", "2026-03", "--out", str(out), *extra)
        assert refused.returncode == 2
        assert refused.stderr.splitlines() == [
            f"apiwh report: error: {csv} is a symbolic link: not writing through it; remove it first"
        ]
    assert victim.read_text(encoding="utf-8") == "precious" and csv.is_symlink()
    dangling = out / f"{ds.OTHER_ORG}-usage-2026-02.html"
    dangling.symlink_to(built["tmp"] / "nowhere.html")
    refused = apiwh(built["env"], "report", ds.OTHER_ORG, "--month", "2026-02", "--out", str(out), "--force")
    assert refused.returncode == 2 and "is a symbolic link" in refused.stderr
    assert not (built["tmp"] / "nowhere.html").exists()
