"""The rows behind the daily sales digest and the weekly CS digest, plain selects of mart columns.

Every figure and verdict is a mart's: the quota action and next plan (`marts.quota_outlook`), the
movers' direction and rank (`customer_usage_summary.mover_direction_7d` / `mover_rank_7d`), the
stuck onboarding keys (`onboarding_funnel.is_stuck`), the month's quota outcome counts
(`quota_outcomes.accounts_in_month` / `accounts_with_outcome`). The ledger `marts.alerts` says
which alerts were raised when. Windows arrive as bound values, never formatted into the SQL.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import duckdb

from orchestration.reports.queries import run_query, select_list

_MARTS = "digest"


@dataclass(frozen=True)
class QuotaCrossing:
    """A quota_threshold row of the ledger, with the account's quota_outlook on the as-of date."""

    alert_key: str
    organization_id: str
    threshold: int
    as_of_date: dt.date
    created_at: dt.datetime
    detail: Any
    plan_id: str | None
    pct_of_cap: float | None
    action: str | None
    outlook: str | None
    next_plan_id: str | None
    upgrade_mrr_delta: float | None


@dataclass(frozen=True)
class Mover:
    """A row of marts.customer_usage_summary that moved over the 7 days ending on the as-of date."""

    organization_id: str
    plan_id: str | None
    calls_7d: int
    calls_prior_7d: int
    calls_change_7d: int
    usage_change_7d_pct: float | None
    trend: str
    mover_direction_7d: str
    mover_rank_7d: int


@dataclass(frozen=True)
class LedgerAlert:
    """A row of marts.alerts raised in a window (new churn risks, failing integrations)."""

    alert_key: str
    alert_type: str
    organization_id: str | None
    threshold: int | None
    detail: Any
    as_of_date: dt.date
    created_at: dt.datetime


@dataclass(frozen=True)
class Incident:
    """A row of marts.endpoint_incidents."""

    route: str
    method: str
    usage_date: dt.date
    calls: int
    latency_p95_ms: float | None
    baseline_latency_p95_ms: float | None
    server_error_rate: float | None
    baseline_server_error_rate: float | None
    kind: str
    affected_customers: int
    scope: str


@dataclass(frozen=True)
class IncidentCustomer:
    """A row of marts.endpoint_incident_customers."""

    route: str
    method: str
    usage_date: dt.date
    organization_id: str
    calls: int
    server_errors: int
    slow_calls: int


@dataclass(frozen=True)
class StuckKey:
    """A row of marts.onboarding_funnel with is_stuck."""

    api_key_id: str
    organization_id: str
    plan_id: str | None
    key_issued_at: dt.datetime
    furthest_step: str
    step_reached_at: dt.datetime
    days_at_step: int


@dataclass(frozen=True)
class OutcomeCount:
    """One outcome of a month in marts.quota_outcomes, with the mart's counts."""

    billing_month: dt.date
    outcome: str
    accounts_in_month: int
    accounts_with_outcome: int
    is_next_month_complete: bool


_PREVIOUS_DIGEST_SQL = """
select created_at, detail from marts.alerts
where alert_type = ? and as_of_date < ?
order by as_of_date desc, created_at desc
limit 1
"""

_CROSSINGS_SQL = f"""
select {
    select_list(
        QuotaCrossing,
        "alerts",
        outlook=("plan_id", "pct_of_cap", "action", "outlook", "next_plan_id", "upgrade_mrr_delta"),
    )
}
from marts.alerts as alerts
left join marts.quota_outlook as outlook
    on alerts.organization_id = outlook.organization_id
where alerts.alert_type = 'quota_threshold' and alerts.created_at > ? and alerts.created_at <= ?
order by alerts.organization_id, alerts.threshold, alerts.alert_key
"""

_MOVERS_SQL = f"""
select {select_list(Mover)}
from marts.customer_usage_summary
where mover_direction_7d = ? and mover_rank_7d <= ?
order by mover_rank_7d
"""

_LEDGER_IN_WINDOW_SQL = f"""
select {select_list(LedgerAlert)}
from marts.alerts
where alert_type = ? and as_of_date between ? and ?
order by as_of_date, alert_key
"""

_INCIDENTS_SQL = f"""
select {select_list(Incident)}
from marts.endpoint_incidents
where usage_date between ? and ?
order by usage_date, route, method
"""

_INCIDENT_CUSTOMERS_SQL = f"""
select {select_list(IncidentCustomer)}
from marts.endpoint_incident_customers
where usage_date between ? and ?
order by usage_date, route, method, calls desc, organization_id
"""

_STUCK_KEYS_SQL = f"""
select {select_list(StuckKey)}
from marts.onboarding_funnel
where is_stuck
order by days_at_step desc, api_key_id
limit ?
"""

_OUTCOMES_SQL = f"""
select distinct {select_list(OutcomeCount)}
from marts.quota_outcomes
where billing_month = ?
order by accounts_with_outcome desc, outcome
"""


def _detail(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def previous_digest(
    con: duckdb.DuckDBPyConnection, alert_type: str, before: dt.date
) -> tuple[dt.datetime, dict[str, Any]] | None:
    """The last digest of this type for an earlier period: when it was recorded, and its detail."""
    rows = run_query(con, _PREVIOUS_DIGEST_SQL, [alert_type, before], marts="alert ledger")
    return (rows[0][0], _detail(rows[0][1])) if rows else None


def quota_crossings(
    con: duckdb.DuckDBPyConnection, *, after: dt.datetime, until: dt.datetime
) -> list[QuotaCrossing]:
    """The quota_threshold alerts recorded in (after, until], with the account's outlook."""
    rows = run_query(con, _CROSSINGS_SQL, [after, until], marts=_MARTS)
    return [QuotaCrossing(*row[:5], _detail(row[5]), *row[6:]) for row in rows]


def movers(con: duckdb.DuckDBPyConnection, direction: str, *, limit: int) -> list[Mover]:
    """The top `limit` organizations that moved `direction` (up or down), by the mart's rank."""
    return [Mover(*row) for row in run_query(con, _MOVERS_SQL, [direction, limit], marts=_MARTS)]


def alerts_in_window(
    con: duckdb.DuckDBPyConnection, alert_type: str, first_day: dt.date, last_day: dt.date
) -> list[LedgerAlert]:
    """The ledger's alerts of one type whose as-of date is in [first_day, last_day]."""
    rows = run_query(con, _LEDGER_IN_WINDOW_SQL, [alert_type, first_day, last_day], marts=_MARTS)
    return [LedgerAlert(*row[:4], _detail(row[4]), *row[5:]) for row in rows]


def incidents(
    con: duckdb.DuckDBPyConnection, first_day: dt.date, last_day: dt.date
) -> tuple[list[Incident], list[IncidentCustomer]]:
    """The endpoint incidents of the window and the organizations each one hit."""
    found = [Incident(*row) for row in run_query(con, _INCIDENTS_SQL, [first_day, last_day], marts=_MARTS)]
    hit = run_query(con, _INCIDENT_CUSTOMERS_SQL, [first_day, last_day], marts=_MARTS)
    return found, [IncidentCustomer(*row) for row in hit]


def stuck_keys(con: duckdb.DuckDBPyConnection, *, limit: int) -> list[StuckKey]:
    """Onboarding keys stuck at a step (the mart's is_stuck), longest first."""
    return [StuckKey(*row) for row in run_query(con, _STUCK_KEYS_SQL, [limit], marts=_MARTS)]


def outcome_counts(con: duckdb.DuckDBPyConnection, billing_month: dt.date) -> list[OutcomeCount]:
    """The month's quota outcomes as the mart counts them: one row per outcome."""
    return [OutcomeCount(*row) for row in run_query(con, _OUTCOMES_SQL, [billing_month], marts=_MARTS)]
