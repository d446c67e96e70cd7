"""The onboarding marts as rows: the funnel (`marts.onboarding_funnel_weekly` over every plan,
`onboarding_funnel_summary` per plan) and the retention triangle (`marts.cohort_retention`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from orchestration.reports.queries import run_query


@dataclass(frozen=True)
class FunnelRow:
    cohort_week: dt.date
    plan_id: str | None
    keys_issued: int
    reached_first_success: int
    reached_hundred_calls: int
    reached_error_free_day: int
    median_hours_to_first_success: float | None

    @property
    def reached(self) -> tuple[int, int, int]:
        return (self.reached_first_success, self.reached_hundred_calls, self.reached_error_free_day)


@dataclass(frozen=True)
class RetentionCell:
    cohort_week: dt.date
    weeks_since_signup: int
    cohort_size: int
    active_customers: int
    is_complete_week: bool


# Both views read the counts as the marts hold them (counted once, in dbt): the week over
# every plan has its own mart, since medians over plans do not add up.
_FUNNEL_ALL_PLANS_SQL = """
select
    cohort_week,
    null as plan_id,
    keys_issued,
    reached_first_success,
    reached_hundred_calls,
    reached_error_free_day,
    median_hours_to_first_success
from marts.onboarding_funnel_weekly
order by cohort_week
"""

_FUNNEL_BY_PLAN_SQL = """
select
    cohort_week,
    plan_id,
    keys_issued,
    reached_first_success,
    reached_hundred_calls,
    reached_error_free_day,
    median_hours_to_first_success
from marts.onboarding_funnel_summary
order by cohort_week, plan_id nulls last
"""

# Without a plan, cohorts of every plan (unknown included) are added up per week and offset.
_RETENTION_SQL = """
select
    cohort_week,
    weeks_since_signup,
    cast(sum(cohort_size) as bigint) as cohort_size,
    cast(sum(active_customers) as bigint) as active_customers,
    bool_and(is_complete_week) as is_complete_week
from marts.cohort_retention
where cast(? as varchar) is null or plan_id = ?
group by cohort_week, weeks_since_signup
order by cohort_week, weeks_since_signup
"""


# Names the family in the "not built yet" error of run_query.
_MARTS = "onboarding"


def fetch_funnel(con: duckdb.DuckDBPyConnection, *, by_plan: bool) -> list[FunnelRow]:
    sql = _FUNNEL_BY_PLAN_SQL if by_plan else _FUNNEL_ALL_PLANS_SQL
    return [FunnelRow(*row) for row in run_query(con, sql, marts=_MARTS)]


def fetch_retention(con: duckdb.DuckDBPyConnection, *, plan: str | None = None) -> list[RetentionCell]:
    return [RetentionCell(*row) for row in run_query(con, _RETENTION_SQL, [plan, plan], marts=_MARTS)]


def fetch_plans(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = run_query(
        con,
        "select distinct plan_id from marts.cohort_retention where plan_id is not null order by 1",
        marts=_MARTS,
    )
    return [plan for (plan,) in rows]
