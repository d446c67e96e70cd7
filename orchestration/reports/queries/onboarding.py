"""The onboarding marts as rows, plain selects of mart columns: the funnel
(`marts.onboarding_funnel_weekly` over every plan, `onboarding_funnel_summary` per plan) and the
retention triangle per signup plan (`marts.cohort_retention`). Counts and rates are the marts'."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from orchestration.reports.queries import run_query, select_list


@dataclass(frozen=True)
class FunnelWeek:
    """A row of marts.onboarding_funnel_weekly: one cohort week over every plan."""

    cohort_week: dt.date
    keys_issued: int
    reached_first_success: int
    reached_hundred_calls: int
    reached_error_free_day: int
    first_success_rate: float | None
    hundred_calls_rate: float | None
    error_free_day_rate: float | None
    median_hours_to_first_success: float | None

    @property
    def rates(self) -> tuple[float | None, float | None, float | None]:
        return (self.first_success_rate, self.hundred_calls_rate, self.error_free_day_rate)


@dataclass(frozen=True)
class FunnelWeekPlan(FunnelWeek):
    """A row of marts.onboarding_funnel_summary: one cohort week and plan at issuance."""

    plan_id: str | None = None


@dataclass(frozen=True)
class RetentionCell:
    """A row of marts.cohort_retention."""

    plan_id: str | None
    cohort_week: dt.date
    weeks_since_signup: int
    cohort_size: int
    active_customers: int
    retention_rate: float | None
    is_complete_week: bool


_FUNNEL_ALL_PLANS_SQL = f"""
select {select_list(FunnelWeek)}
from marts.onboarding_funnel_weekly
order by cohort_week
limit ?
"""

_FUNNEL_BY_PLAN_SQL = f"""
select {select_list(FunnelWeekPlan)}
from marts.onboarding_funnel_summary
order by cohort_week, plan_id nulls last
limit ?
"""

# One triangle per signup plan: the mart holds no triangle over every plan.
_RETENTION_SQL = f"""
select {select_list(RetentionCell)}
from marts.cohort_retention
where cast(? as varchar) is null or plan_id = ?
order by plan_id nulls last, cohort_week, weeks_since_signup
limit ?
"""

_PLANS_SQL = "select distinct plan_id from marts.cohort_retention where plan_id is not null order by 1"

# Names the family in the "not built yet" error of run_query.
_MARTS = "onboarding"


def fetch_funnel(
    con: duckdb.DuckDBPyConnection, *, by_plan: bool, limit: int | None = None
) -> list[FunnelWeek]:
    if by_plan:
        return [FunnelWeekPlan(*row) for row in run_query(con, _FUNNEL_BY_PLAN_SQL, [limit], marts=_MARTS)]
    return [FunnelWeek(*row) for row in run_query(con, _FUNNEL_ALL_PLANS_SQL, [limit], marts=_MARTS)]


def fetch_retention(
    con: duckdb.DuckDBPyConnection, *, plan: str | None = None, limit: int | None = None
) -> list[RetentionCell]:
    params = [plan, plan, limit]
    return [RetentionCell(*row) for row in run_query(con, _RETENTION_SQL, params, marts=_MARTS)]


def fetch_plans(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The signup plans of marts.cohort_retention, to name them when --plan matches none."""
    return [plan for (plan,) in run_query(con, _PLANS_SQL, marts=_MARTS)]
