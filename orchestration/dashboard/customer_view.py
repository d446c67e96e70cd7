"""What a customer's page and its report share: the figures, tables and charts of one period.

Everything here is read with the organization ids asked for bound into each query: a report asks
for its one customer, so it can carry nothing of another.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Sequence
from typing import Any

import duckdb
from markupsafe import Markup

from orchestration.dashboard import charts, customer_queries, queries, words
from orchestration.dashboard.organizations import Directory

# How a chart reaches the page: ChartBatch.svg (drawn here) or charts.embedded (drawn by the browser).
Draw = Callable[[charts.Spec], Markup]
_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")


def page_name(organization_id: str) -> str:
    """A file name for the customer's page: the id itself when it is filename-safe."""
    if _SAFE_ID.fullmatch(organization_id):
        return f"{organization_id}.html"
    return f"org-{hashlib.sha256(organization_id.encode()).hexdigest()[:16]}.html"


def display_daily(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [
        {
            "usage_date": row["usage_date"].isoformat(),
            "calls": words.format_count(row["calls"]),
            "successful_calls": words.format_count(row["successful_calls"]),
            "client_errors": words.format_count(row["client_errors"]),
            "server_errors": words.format_count(row["server_errors"]),
            "error_rate": words.format_rate(row["error_rate"]),
            "latency_p50_ms": words.format_ms(row["latency_p50_ms"]),
            "latency_p95_ms": words.format_ms(row["latency_p95_ms"]),
            "latency_p99_ms": words.format_ms(row["latency_p99_ms"]),
        }
        for row in rows
    ]


def _endpoint_row(row: dict[str, Any]) -> dict[str, str]:
    shown = {
        "method": row["method"],
        "route": row["route"],
        "calls": words.format_count(row["calls"]),
        "error_rate": words.format_rate(row["error_rate"]),
        "server_errors": words.format_count(row["server_errors"]),
    }
    if "window_p95_ms" in row:
        shown["p95"] = words.format_ms(row["window_p95_ms"])
        shown["p99"] = words.format_ms(row["window_p99_ms"])
    else:
        shown["p95"] = words.format_ms(row["median_day_p95_ms"])
        shown["p99"] = words.format_ms(row["slowest_day_p95_ms"])
    return shown


def _quota(
    account: dict[str, Any] | None, month_rows: list[dict[str, Any]], draw: Draw
) -> tuple[dict | None, Markup]:
    if account is None:
        return None, Markup("")
    chart = draw(
        charts.quota_projection(
            month_rows,
            month_end=account["month_end_date"],
            title=f"Calls this month against the quota, projected to {account['month_end_date']:%B %-d}",
        )
    )
    shown = {
        "usage_date": account["usage_date"].isoformat(),
        "month": f"{account['usage_date']:%B %Y}",
        "plan_id": account["plan_id"],
        "monthly_call_limit": words.format_count(account["monthly_call_limit"]),
        "used_mtd": words.format_count(account["used_mtd"]),
        "pct_of_cap": words.format_pct(account["pct_of_cap"]),
        "projected_eom": words.format_count(account["projected_eom"]),
        "days_to_cap": words.days_to_cap_text(
            account["days_to_cap"], at_cap=account["used_mtd"] >= account["monthly_call_limit"]
        ),
        "raw": account,
    }
    return shown, chart


def period_contexts(
    con: duckdb.DuckDBPyConnection,
    organization_ids: Sequence[str],
    start: dt.date,
    end: dt.date,
    directory: Directory,
    draw: Draw,
) -> dict[str, dict[str, Any]]:
    """Figures, tables and charts of each organization from start through end.

    Each kind of figure is one query for all the organizations (customer_queries says why).
    """
    as_of = queries.data_health(con)["as_of_date"]
    daily = customer_queries.customer_daily(con, organization_ids, start, end)
    totals = customer_queries.customer_totals(con, organization_ids, start, end)
    endpoints = customer_queries.customer_endpoints(con, organization_ids, start, end, as_of=as_of)
    errors = customer_queries.errors_by_type(con, organization_ids, start, end)
    plans = customer_queries.plan_history(con, organization_ids, end)
    accounts = {row["organization_id"]: row for row in queries.quota_accounts(con, end, organization_ids)}
    quota_months = queries.quota_month(con, organization_ids, end)
    return {
        organization_id: _period_context(
            daily=daily[organization_id],
            totals=totals[organization_id],
            endpoints=None if endpoints is None else endpoints[organization_id],
            errors=None if errors is None else errors[organization_id],
            quota=_quota(accounts.get(organization_id), quota_months[organization_id], draw),
            plans=plans[organization_id],
            name=directory.name(organization_id),
            draw=draw,
        )
        for organization_id in organization_ids
    }


def _period_context(
    *,
    daily: list[dict[str, Any]],
    totals: dict[str, Any],
    endpoints: list[dict[str, Any]] | None,
    errors: list[dict[str, Any]] | None,
    quota: tuple[dict | None, Markup],
    plans: list[dict[str, Any]],
    name: str,
    draw: Draw,
) -> dict[str, Any]:
    calls_chart = charts.stacked_daily_calls(
        daily,
        {"successful": "successful_calls", "4xx": "client_errors", "5xx": "server_errors"},
        title=f"Calls per day, {name}",
    )
    latency_chart = charts.daily_line(
        daily,
        {"p50": "latency_p50_ms", "p95": "latency_p95_ms", "p99": "latency_p99_ms"},
        title="Latency per day (exact percentiles of the day's calls)",
        y_title="ms",
    )
    quota_shown, quota_chart = quota
    return {
        "daily_rows": daily,
        "daily": display_daily(daily),
        "totals_raw": totals,
        "totals": {
            "calls": words.format_count(totals.get("calls")),
            "error_rate": words.format_rate(totals.get("error_rate")),
            "client_errors": words.format_count(totals.get("client_errors")),
            "server_errors": words.format_count(totals.get("server_errors")),
            "rate_limited_calls": words.format_count(totals.get("rate_limited_calls")),
            "p95": words.format_ms(totals.get("median_day_p95_ms")),
            "slowest_p95": words.format_ms(totals.get("slowest_day_p95_ms")),
        },
        "latency_text": words.latency_summary(totals),
        "endpoints_raw": endpoints,
        "endpoints": None if endpoints is None else [_endpoint_row(row) for row in endpoints],
        "endpoints_exact": bool(endpoints) and "window_p95_ms" in endpoints[0],
        "errors_by_type": None
        if errors is None
        else [{**row, "failed_calls": words.format_count(row["failed_calls"])} for row in errors],
        "quota": quota_shown,
        "plans": plans,
        "charts": {
            "calls": draw(calls_chart),
            "latency": draw(latency_chart),
            "quota": quota_chart,
        },
    }
