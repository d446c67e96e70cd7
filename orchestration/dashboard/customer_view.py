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

from orchestration.alerts.quota_notes import customer_sentence, outlook_text, quota_verdict
from orchestration.dashboard import charts, words
from orchestration.dashboard.organizations import Directory
from orchestration.reports.queries import customers as customer_queries
from orchestration.reports.queries import site as site_queries
from orchestration.verdict_words import QUOTA_ACTION_ADVICE

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


# Rows a customer's page shows of its busiest routes and of its error days.
ENDPOINT_ROWS = 10
ERROR_ROWS = 30


def _endpoint_row(row: dict[str, Any]) -> dict[str, str]:
    return {
        "method": row["method"],
        "route": row["route"],
        "calls": words.format_count(row["calls_30d"]),
        "error_rate": words.format_rate(row["error_rate_30d"]),
        "server_errors": words.format_count(row["server_errors_30d"]),
        "p95": words.format_ms(row["latency_p95_30d_ms"]),
        "p99": words.format_ms(row["latency_p99_30d_ms"]),
    }


def _quota(
    account: dict[str, Any] | None, month_rows: list[dict[str, Any]], draw: Draw
) -> tuple[dict | None, Markup]:
    """The account's row of marts.quota_outlook as shown, and its month's chart."""
    verdict = None if account is None else quota_verdict(account)
    if account is None or verdict is None or not month_rows:
        return None, Markup("")
    month_end = account["resets_on"] - dt.timedelta(days=1)
    chart = draw(
        charts.quota_projection(
            month_rows,
            month_end=month_end,
            title=f"Calls this month against the quota, projected to {month_end:%B %-d}",
        )
    )
    shown = {
        "as_of_date": account["as_of_date"].isoformat(),
        "month": f"{account['billing_month']:%B %Y}",
        "plan_id": account["plan_id"],
        "monthly_call_limit": words.format_count(account["monthly_call_limit"]),
        "used_mtd": words.format_count(account["used_mtd"]),
        "pct_of_cap": words.format_pct(account["pct_of_cap"]),
        "projected_eom": words.format_count(account["projected_eom"]),
        "outlook": outlook_text(verdict),
        "action": account["action"],
        "action_advice": QUOTA_ACTION_ADVICE[account["action"]],
        "customer_sentence": customer_sentence(verdict),
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
    """Figures, tables and charts of each organization: its days from start through end, and
    what the marts hold for the 30 days to the as-of date (summary, routes) and on it (quota).

    Each kind of figure is one query for all the organizations (queries/customers.py says why).
    """
    as_of = site_queries.data_health(con)["as_of_date"]
    daily = customer_queries.customer_daily(con, organization_ids, start, end)
    summaries = customer_queries.customer_summary(con, organization_ids)
    endpoints = customer_queries.customer_endpoints_30d(con, organization_ids)
    errors = customer_queries.customer_errors(con, organization_ids, start, end)
    accounts = {row["organization_id"]: row for row in site_queries.quota_outlook(con, organization_ids)}
    quota_months = customer_queries.customer_quota_month(con, organization_ids, as_of.replace(day=1), as_of)
    return {
        organization_id: _period_context(
            daily=daily[organization_id],
            summary=summaries[organization_id],
            endpoints=None if endpoints is None else endpoints[organization_id][:ENDPOINT_ROWS],
            errors=None if errors is None else errors[organization_id][:ERROR_ROWS],
            quota=_quota(accounts.get(organization_id), quota_months[organization_id], draw),
            name=directory.name(organization_id),
            window=(site_queries.window_start(as_of), as_of),
            draw=draw,
        )
        for organization_id in organization_ids
    }


def _period_context(
    *,
    daily: list[dict[str, Any]],
    summary: dict[str, Any],
    endpoints: list[dict[str, Any]] | None,
    errors: list[dict[str, Any]] | None,
    quota: tuple[dict | None, Markup],
    name: str,
    window: tuple[dt.date, dt.date],
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
        "summary_raw": summary,
        "window": {"start": window[0].isoformat(), "end": window[1].isoformat()},
        "figures": {
            "calls": words.format_count(summary.get("calls_30d", 0)),
            "active_days": words.format_count(summary.get("active_days_30d", 0)),
            "calls_7d": words.format_count(summary.get("calls_7d", 0)),
            "change_30d": words.format_pct(summary.get("usage_change_30d_pct"), signed=True),
            "error_rate_30d": words.format_rate(summary.get("error_rate_30d")),
            "errors_30d": words.errors_30d(summary),
            "rate_limited_30d": words.format_count(summary.get("rate_limited_calls_30d", 0)),
            "p50_30d": words.format_ms(summary.get("latency_p50_30d_ms")),
            "p95_30d": words.format_ms(summary.get("latency_p95_30d_ms")),
            "p99_30d": words.format_ms(summary.get("latency_p99_30d_ms")),
            "labels": {"error_rate_30d": words.ERROR_RATE_30D_LABEL, "p95_30d": words.P95_30D_LABEL},
        },
        "plan_id": summary.get("plan_id"),
        "endpoints_raw": endpoints,
        "endpoints": None if endpoints is None else [_endpoint_row(row) for row in endpoints],
        "errors_by_type": None
        if errors is None
        else [
            {
                **row,
                "usage_date": row["usage_date"].isoformat(),
                "failed_calls": words.format_count(row["failed_calls"]),
            }
            for row in errors
        ],
        "quota": quota_shown,
        "charts": {
            "calls": draw(calls_chart),
            "latency": draw(latency_chart),
            "quota": quota_chart,
        },
    }
