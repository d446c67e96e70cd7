"""One page per customer, rendered in worker processes when there are many.

A page carries its charts as Vega-Lite specifications that the browser draws (charts.embedded):
drawing 3 charts for each of thousands of customers here, about 0.1 CPU-s each, was most of a
daily refresh. What is left is some ten small queries and the template, about 0.04 CPU-s a page,
so worker processes, each with its own read-only connection to the same snapshot file, still
share the pages out over the machine's cores.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import duckdb

from orchestration.dashboard import charts, customer_queries, queries, words
from orchestration.dashboard.customer_view import page_name, period_context
from orchestration.dashboard.organizations import Directory
from orchestration.dashboard.render import render_page
from orchestration.warehouse import connect

CUSTOMER_DIR = "customer"
# Below this many customers, starting workers (about a second each) costs more than it saves.
PARALLEL_FROM = 40
MAX_WORKERS = 4
# customer_page with the as-of date, names and header bound: (connection, row) -> HTML.
PageWriter = Callable[[duckdb.DuckDBPyConnection, dict[str, Any]], str]


def customer_page(
    con: duckdb.DuckDBPyConnection,
    row: dict[str, Any],
    *,
    as_of: dt.date,
    directory: Directory,
    common: dict[str, Any],
) -> str:
    organization_id = row["organization_id"]
    name = directory.name(organization_id)
    start = queries.window_start(as_of)
    context = period_context(con, organization_id, start, as_of, directory, draw=charts.embedded)
    keys = customer_queries.customer_keys(con, organization_id, as_of)
    alerts = []
    for alert in customer_queries.customer_alerts(con, organization_id):
        detail = alert["detail"]
        if isinstance(detail, str):
            try:
                detail = json.loads(detail)
            except ValueError:
                detail = {}
        alerts.append(
            {
                "as_of_date": alert["as_of_date"],
                "alert_type": alert["alert_type"],
                "title": words.alert_title({**alert, "detail": detail}),
                "delivered": words.format_day(alert["delivered_at"]) if alert["delivered_at"] else "pending",
            }
        )
    return render_page(
        "customer.html.j2",
        title=name,
        heading=name if name == organization_id else f"{name} ({organization_id})",
        root="../",
        organization_id=organization_id,
        summary_text=words.customer_summary(row, name=name),
        contact=directory.contact(organization_id),
        flag=words.action_flag(row["action_flag"]),
        start=start.isoformat(),
        keys=[
            {
                **key,
                "key_issued_at": words.format_day(key["key_issued_at"]),
                "first_success_at": words.format_day(key["first_success_at"]),
                "calls_30d": words.format_count(key.get("calls_30d")),
                "last_active_date": words.format_day(key.get("last_active_date")),
                "flags": words.key_flags(key),
            }
            for key in keys
        ],
        keys_have_activity=queries.has_mart(con, "key_daily_activity"),
        alerts=alerts,
        **context,
        **common,
    )


def _database_file(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The file behind `con`, or None for an in-memory database."""
    path = con.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchall()[0][0]
    return Path(path) if path else None


def _render_pages(
    con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]], page: PageWriter
) -> dict[str, str]:
    return {f"{CUSTOMER_DIR}/{page_name(row['organization_id'])}": page(con, row) for row in rows}


def _render_share(database: Path, rows: list[dict[str, Any]], page: PageWriter) -> dict[str, str]:
    """A worker's share of the pages, from its own read-only connection."""
    with connect(database, read_only=True) as con:
        return _render_pages(con, rows, page)


def render_customer_pages(
    con: duckdb.DuckDBPyConnection,
    rows: list[dict[str, Any]],
    as_of: dt.date,
    directory: Directory,
    common: dict[str, Any],
) -> dict[str, str]:
    """Every customer's page by relative path; in parallel when there are many customers and
    `con` is a read-only file (the snapshot), else here, one after another."""
    # A partial of a module-level function pickles, so it travels to the workers as it is.
    page = partial(customer_page, as_of=as_of, directory=directory, common=common)
    workers = min(MAX_WORKERS, os.cpu_count() or 1)
    database = _database_file(con)
    read_only = con.execute("select current_setting('access_mode')").fetchall()[0][0] == "read_only"
    if len(rows) < PARALLEL_FROM or workers < 2 or database is None or not read_only:
        return _render_pages(con, rows, page)
    # Small shares, so a worker that gets the big customers does not finish last by far.
    share = max(1, len(rows) // (workers * 4))
    shares = [rows[i : i + share] for i in range(0, len(rows), share)]
    pages: dict[str, str] = {}
    # spawn, not fork: the parent has DuckDB's and Dagster's threads running.
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        for future in [pool.submit(_render_share, database, part, page) for part in shares]:
            pages.update(future.result())
    return pages
