"""Build the static dashboard: one folder of HTML pages from the published marts.

The pages link to each other with relative paths, so the folder opens straight from disk as well
as from `apiwh dashboard`. A build writes a fresh folder and swaps it in, so a reader never sees
half a site.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path
from typing import Any

import duckdb

from orchestration.alerts.render import upgrade_offer
from orchestration.dashboard import charts, portfolio_queries, queries, words
from orchestration.dashboard.chart_batch import ChartBatch
from orchestration.dashboard.customer_pages import CUSTOMER_DIR, render_customer_pages
from orchestration.dashboard.customer_view import Draw, page_name
from orchestration.dashboard.organizations import Directory
from orchestration.dashboard.render import header, render_page
from orchestration.readers import WarehouseNotBuiltError
from orchestration.reports.formatting import format_money

TOP_CUSTOMERS = 20


def _customer_rows(rows: list[dict[str, Any]], directory: Directory, root: str) -> list[dict[str, Any]]:
    return [
        {
            **row,
            "name": directory.name(row["organization_id"]),
            "href": f"{root}{CUSTOMER_DIR}/{page_name(row['organization_id'])}",
            "calls_30d": words.format_count(row["calls_30d"]),
            "error_rate_30d": words.format_rate(row["error_rate_30d"]),
            "last_call": words.format_day(row["last_call_at"]),
            "change": words.format_pct(row["usage_change_7d_pct"], signed=True),
            "flag": words.action_flag(row["action_flag"]),
        }
        for row in rows
    ]


def _endpoint_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            **row,
            "calls": words.format_count(row["calls"]),
            "error_rate": words.format_rate(row["error_rate"]),
            "median_day_p95_ms": words.format_ms(row["median_day_p95_ms"]),
            "slowest_day_p95_ms": words.format_ms(row["slowest_day_p95_ms"]),
        }
        for row in rows
    ]


def _overview(con, as_of: dt.date, directory: Directory, common: dict[str, Any], draw: Draw) -> str:
    daily = queries.platform_daily(con, as_of)
    totals = queries.platform_totals(con, as_of)
    split = [totals[name] for name in ("calls_2xx", "calls_3xx", "client_errors", "server_errors")]
    return render_page(
        "overview.html.j2",
        title="Overview",
        start=queries.window_start(as_of).isoformat(),
        totals={
            "calls": words.format_count(totals["calls"]),
            "error_rate": words.format_rate(totals["error_rate"]),
            "split": " / ".join(words.format_count(value) for value in split),
            "p50": words.format_ms(totals["median_day_p50_ms"]),
            "p95": words.format_ms(totals["median_day_p95_ms"]),
            "p99": words.format_ms(totals["median_day_p99_ms"]),
        },
        charts={
            "calls": draw(
                charts.stacked_daily_calls(
                    daily,
                    {"2xx": "calls_2xx", "3xx": "calls_3xx", "4xx": "client_errors", "5xx": "server_errors"},
                    title="Calls per day by status class",
                )
            ),
            "error_rate": draw(
                charts.daily_line(
                    daily, {"error rate": "error_rate"}, title="Error rate per day", y_title="", percent=True
                )
            ),
            "latency": draw(
                charts.daily_line(
                    daily,
                    {"p50": "latency_p50_ms", "p95": "latency_p95_ms", "p99": "latency_p99_ms"},
                    title="Latency per day (exact percentiles of all calls)",
                    y_title="ms",
                )
            ),
        },
        top_customers=_customer_rows(queries.customers(con, as_of, limit=10), directory, ""),
        top_endpoints=_endpoint_rows(queries.top_endpoints(con, as_of, limit=10)),
        trends=queries.trend_counts(con),
        active=_counts(portfolio_queries.active_customers(con, as_of)),
        lifecycle=[_counts(week) for week in portfolio_queries.lifecycle_weeks(con) or []],
        **common,
    )


def _counts(row: dict[str, Any] | None) -> dict[str, Any] | None:
    """Whole numbers with thousands separators; other values as they are."""
    if row is None:
        return None
    return {
        name: words.format_count(value) if isinstance(value, int) and not isinstance(value, bool) else value
        for name, value in row.items()
    }


def _customers(
    con, as_of: dt.date, directory: Directory, common: dict[str, Any], draw: Draw
) -> tuple[str, str]:
    everyone = queries.customers(con, as_of)
    top = everyone[:TOP_CUSTOMERS]
    daily = queries.daily_calls_for(con, [row["organization_id"] for row in top], as_of)
    rows = _customer_rows(top, directory, "")
    for row in rows:
        row["sparkline"] = draw(charts.sparkline(daily[row["organization_id"]]))
    top_page = render_page(
        "customers.html.j2",
        title="Customers",
        customers=rows,
        total_customers=len(everyone),
        **common,
    )
    all_page = render_page(
        "customers_all.html.j2",
        title="All customers",
        customers=_customer_rows(everyone, directory, ""),
        **common,
    )
    return top_page, all_page


def _quota(con, as_of: dt.date, directory: Directory, common: dict[str, Any], draw: Draw) -> str:
    accounts = queries.quota_accounts(con, as_of)
    upgrades = queries.upgrade_opportunities(con)
    rows = []
    for account in accounts:
        organization_id = account["organization_id"]
        upgrade = upgrades.get(organization_id, {})
        note = None
        if account["action_label"] != "ok":
            to, subject, body = words.quota_note(
                account,
                name=directory.name(organization_id),
                contact=directory.contact(organization_id),
                offer=upgrade_offer(upgrade) if upgrade else None,
            )
            note = {"to": to, "subject": subject, "body": body}
        rows.append(
            {
                **account,
                "name": directory.name(organization_id),
                "href": f"{CUSTOMER_DIR}/{page_name(organization_id)}",
                "monthly_call_limit": words.format_count(account["monthly_call_limit"]),
                "used_mtd": words.format_count(account["used_mtd"]),
                "pct_of_cap": words.format_pct(account["pct_of_cap"]),
                "projected_eom": words.format_count(account["projected_eom"]),
                "days_to_cap": words.days_to_cap_text(
                    account["days_to_cap"], at_cap=account["used_mtd"] >= account["monthly_call_limit"]
                ),
                "action_text": words.QUOTA_ACTIONS[account["action_label"]],
                "note": note,
                "next_plan_id": upgrade.get("next_plan_id") or "-",
                "upgrade_mrr_delta": format_money(upgrade.get("upgrade_mrr_delta")),
                "overage_cost_at_pace": format_money(upgrade.get("overage_cost_at_pace")),
            }
        )
    chart_accounts = [
        {**account, "label": directory.name(account["organization_id"])}
        for account in accounts
        if account["action_label"] != "ok"
    ]
    chart = (
        draw(
            charts.cap_bars(
                chart_accounts, label="label", title="Share of the monthly cap: used now and projected"
            )
        )
        if chart_accounts
        else ""
    )
    first = accounts[0] if accounts else {"day_of_month": as_of.day, "days_in_month": "-"}
    return render_page(
        "quota.html.j2",
        title="Quota",
        accounts=rows,
        chart=chart,
        has_money=any(upgrades.get(a["organization_id"], {}).get("upgrade_mrr_delta") for a in accounts),
        day_of_month=first["day_of_month"],
        days_in_month=first["days_in_month"],
        **common,
    )


def _endpoints(con, as_of: dt.date, directory: Directory, common: dict[str, Any], draw: Draw) -> str:
    heat = queries.endpoint_heatmap(con, as_of)
    slowest = queries.top_endpoints(con, as_of, limit=10, by="p95")
    names = [f"{row['method']} {row['route']}" for row in slowest]
    affected = queries.endpoint_customers(con, as_of, names)
    rows = _endpoint_rows(slowest)
    for row, endpoint in zip(rows, names, strict=True):
        if affected is None:
            row["customers"] = None
            continue
        found = affected.get(endpoint, [])
        row["customers"] = [
            {
                "name": directory.name(c["organization_id"]),
                "href": f"{CUSTOMER_DIR}/{page_name(c['organization_id'])}",
                "calls": words.format_count(c["calls"]),
            }
            for c in found[:5]
        ]
        row["more_customers"] = max(len(found) - 5, 0)
    return render_page(
        "endpoints.html.j2",
        title="Endpoints",
        start=queries.window_start(as_of).isoformat(),
        heat_routes=len({row["endpoint"] for row in heat}),
        charts={
            "latency": draw(
                charts.endpoint_heatmap(heat, field="latency_p95_ms", title="p95 latency (ms) by day")
            ),
            "errors": draw(
                charts.endpoint_heatmap(heat, field="error_rate", title="Error rate by day", percent=True)
            ),
        },
        slowest=rows,
        incidents=[
            {
                **incident,
                "latency_p95_ms": words.format_ms(incident["latency_p95_ms"]),
                "baseline_latency_p95_ms": words.format_ms(incident["baseline_latency_p95_ms"]),
                "server_error_rate": words.format_rate(incident["server_error_rate"]),
                "baseline_server_error_rate": words.format_rate(incident["baseline_server_error_rate"]),
            }
            for incident in queries.endpoint_incidents(con, as_of) or []
        ],
        **common,
    )


def _onboarding(con, common: dict[str, Any], draw: Draw) -> str:
    funnel = queries.funnel(con)
    retention = queries.retention(con)
    return render_page(
        "onboarding.html.j2",
        title="Onboarding",
        funnel=[
            {key: words.format_count(v) if isinstance(v, int) else v for key, v in f.items()} for f in funnel
        ],
        charts={
            "funnel": draw(charts.funnel_bars(funnel, words.FUNNEL_STEPS, title="Keys reaching each step")),
            "retention": draw(charts.retention_heatmap(retention, title="Retention by cohort week")),
        },
        **common,
    )


def build_site(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    directory: Directory,
    *,
    generated_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """Write every page into out_dir (replaced whole); return the page counts and the charts
    that could not be drawn (each page then says so where the chart would be)."""
    health = queries.data_health(con)
    as_of = health.get("as_of_date")
    if as_of is None:
        raise WarehouseNotBuiltError("the marts have no as-of date yet: run `make run` first")
    common = header(health, generated_at=generated_at)
    # The overview pages' charts, drawn together in a worker process once the pages are made.
    batch = ChartBatch()
    pages: dict[str, str] = {
        "index.html": _overview(con, as_of, directory, common, batch.svg),
        "quota.html": _quota(con, as_of, directory, common, batch.svg),
        "endpoints.html": _endpoints(con, as_of, directory, common, batch.svg),
        "onboarding.html": _onboarding(con, common, batch.svg),
    }
    pages["customers.html"], pages["customers-all.html"] = _customers(
        con, as_of, directory, common, batch.svg
    )
    batch.draw()
    pages = {name: batch.fill(html) for name, html in pages.items()}
    customers = queries.customers(con, as_of)
    pages.update(render_customer_pages(con, customers, as_of, directory, common))
    # The script that draws the customer pages' charts in the browser (not a page).
    scripts = {charts.BUNDLE_FILE: charts.javascript_bundle(previous=out_dir / charts.BUNDLE_FILE)}
    _write_folder(out_dir, {**pages, **scripts})
    return {
        "pages": len(pages),
        "customer_pages": len(customers),
        "charts_not_drawn": [str(failure) for failure in batch.failures],
    }


def _write_folder(out_dir: Path, pages: dict[str, str]) -> None:
    """Write into a sibling folder, then swap it in with renames."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    building = out_dir.with_name(f".{out_dir.name}.{os.getpid()}.building")
    retired = out_dir.with_name(f".{out_dir.name}.{os.getpid()}.retired")
    shutil.rmtree(building, ignore_errors=True)
    for relative, html in pages.items():
        path = building / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
    if out_dir.exists():
        os.replace(out_dir, retired)
    os.replace(building, out_dir)
    shutil.rmtree(retired, ignore_errors=True)


# What the pages were built from, beside them: the asset rebuilds only when it changed.
BUILT_FROM = ".built-from"


def site_inputs(snapshot: Path, organizations: Path | None) -> str:
    """What the pages are made from: the snapshot file and the organizations file, by stat."""
    parts = []
    for path in (snapshot, organizations):
        if path is not None and path.exists():
            stat = path.stat()
            parts.append(f"{path}:{stat.st_mtime_ns}:{stat.st_size}")
        else:
            parts.append(f"{path}:absent")
    return "\n".join(parts) + "\n"
