"""One page per customer: the figures read in batches, the pages rendered in worker processes
when there are many.

A page carries its charts as Vega-Lite specifications that the browser draws (charts.embedded).
Its figures come from one query per kind of figure for a whole share of customers
(orchestration/reports/queries/customers.py), not ten queries a page: at 27,428 customers, 10
queries a page took some 90 ms a page, most of a 100M-event refresh. What is left is the
template, a few ms a page, so worker processes, each with its own read-only connection to the
same snapshot file, share the pages out over the machine's cores when there are thousands.
"""

from __future__ import annotations

import datetime as dt
import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import duckdb

from orchestration.alerts.render import alert_title
from orchestration.dashboard import charts, words
from orchestration.dashboard.customer_view import page_name, period_contexts
from orchestration.dashboard.organizations import Directory
from orchestration.dashboard.render import render_page
from orchestration.reports.queries import customers as customer_queries
from orchestration.reports.queries import site as site_queries
from orchestration.verdict_words import UPSELL_MEANING, upsell_cell
from orchestration.warehouse import connect

CUSTOMER_DIR = "customer"
ALERT_ROWS = 20  # the latest alerts a page lists
# Below this many customers, starting workers (about a second each) costs what they save: the
# 556 pages of the 2M-event benchmark take 3 s either way.
PARALLEL_FROM = 2_000
MAX_WORKERS = 4


def customer_pages(
    con: duckdb.DuckDBPyConnection,
    rows: list[dict[str, Any]],
    *,
    as_of: dt.date,
    directory: Directory,
    common: dict[str, Any],
) -> dict[str, str]:
    """The pages of these customers (rows of queries/site.customers) by relative path."""
    organization_ids = [row["organization_id"] for row in rows]
    start = site_queries.window_start(as_of)
    contexts = period_contexts(con, organization_ids, start, as_of, directory, draw=charts.embedded)
    keys = customer_queries.customer_keys(con, organization_ids)
    activity = customer_queries.key_activity_on(con, organization_ids, as_of)
    if activity is not None:
        for organization_id, own in keys.items():
            by_key = {row["api_key_id"]: row for row in activity[organization_id]}
            for key in own:
                key.update(by_key.get(key["api_key_id"], {"calls": 0}))
    alerts = customer_queries.customer_alerts(con, organization_ids)
    keys_have_activity = activity is not None
    return {
        f"{CUSTOMER_DIR}/{page_name(row['organization_id'])}": _customer_page(
            row,
            start=start,
            context=contexts[row["organization_id"]],
            keys=keys[row["organization_id"]],
            alerts=alerts[row["organization_id"]][:ALERT_ROWS],
            keys_have_activity=keys_have_activity,
            directory=directory,
            common=common,
        )
        for row in rows
    }


def _customer_page(
    row: dict[str, Any],
    *,
    start: dt.date,
    context: dict[str, Any],
    keys: list[dict[str, Any]],
    alerts: list[dict[str, Any]],
    keys_have_activity: bool,
    directory: Directory,
    common: dict[str, Any],
) -> str:
    organization_id = row["organization_id"]
    name = directory.name(organization_id)
    shown_alerts = [
        {
            "as_of_date": alert["as_of_date"],
            "alert_type": alert["alert_type"],
            "title": alert_title(alert),
            "delivered": words.format_day(alert["delivered_at"]) if alert["delivered_at"] else "pending",
        }
        for alert in alerts
    ]
    return render_page(
        "customer.html.j2",
        title=name,
        heading=name if name == organization_id else f"{name} ({organization_id})",
        root="../",
        organization_id=organization_id,
        report_stem=page_name(organization_id).removesuffix(".html") + "-30d",
        summary_text=words.customer_summary(row, name=name),
        contact=directory.contact(organization_id),
        flag=upsell_cell(row["is_upsell_signal"]),
        flag_meaning=UPSELL_MEANING,
        start=start.isoformat(),
        keys=[
            {
                **key,
                "key_issued_at": words.format_day(key["key_issued_at"]),
                "first_success_at": words.format_day(key["first_success_at"]),
                "calls": words.format_count(key.get("calls")),
                "flags": words.key_flags(key),
            }
            for key in keys
        ],
        keys_have_activity=keys_have_activity,
        alerts=shown_alerts,
        **context,
        **common,
    )


def _database_file(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The file behind `con`, or None for an in-memory database."""
    path = con.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchall()[0][0]
    return Path(path) if path else None


def _render_share(
    database: Path,
    rows: list[dict[str, Any]],
    as_of: dt.date,
    directory: Directory,
    common: dict[str, Any],
) -> dict[str, str]:
    """A worker's share of the pages, from its own read-only connection."""
    with connect(database, read_only=True) as con:
        return customer_pages(con, rows, as_of=as_of, directory=directory, common=common)


def render_customer_pages(
    con: duckdb.DuckDBPyConnection,
    rows: list[dict[str, Any]],
    as_of: dt.date,
    directory: Directory,
    common: dict[str, Any],
) -> dict[str, str]:
    """Every customer's page by relative path; in parallel when there are many customers and
    `con` is a read-only file (the snapshot), else here, in one batch."""
    workers = min(MAX_WORKERS, os.cpu_count() or 1)
    database = _database_file(con)
    read_only = con.execute("select current_setting('access_mode')").fetchall()[0][0] == "read_only"
    if len(rows) < PARALLEL_FROM or workers < 2 or database is None or not read_only:
        return customer_pages(con, rows, as_of=as_of, directory=directory, common=common)
    # Several shares a worker, so one that gets the big customers does not finish last by far.
    share = max(1, len(rows) // (workers * 4))
    shares = [rows[i : i + share] for i in range(0, len(rows), share)]
    pages: dict[str, str] = {}
    # spawn, not fork: the parent has DuckDB's and Dagster's threads running.
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(_render_share, database, part, as_of, directory, common) for part in shares]
        for future in futures:
            pages.update(future.result())
    return pages
