"""The committed sample in seeds/ exercises every mart: the questions the seeds docs ask have
answers of every kind (each trend, each quota band, each funnel step, many cohorts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.shared_builds import sample_run
from tests.support import query


@pytest.fixture(scope="module")
def sample_warehouse(shared: Path) -> Path:
    """The sample as `apiwh run` builds it (read only: shared by the session)."""
    return sample_run(shared).warehouse


def test_sample_loads_with_its_planted_rejects(sample_warehouse: Path) -> None:
    assert query(sample_warehouse, "select count(*) from raw.loaded_files where status = 'loaded'") == [
        (118,)
    ]
    assert query(sample_warehouse, "select count(*) from raw.event_rejects") == [(12,)]
    assert query(sample_warehouse, "select as_of_date::varchar from intermediate.int_as_of_date") == [
        ("2026-10-31",)
    ]


def test_every_trend_and_every_threshold_band_occurs(sample_warehouse: Path) -> None:
    trends = {r[0] for r in query(sample_warehouse, "select trend from marts.customer_usage_summary")}
    assert trends == {"dormant", "new", "declining", "growing", "steady"}
    bands = {
        r[0]
        for r in query(
            sample_warehouse,
            "select threshold_band from marts.quota_utilization q "
            "join intermediate.int_as_of_date a on q.usage_date = a.as_of_date",
        )
    }
    assert bands == {0, 50, 80, 95, 100}
    assert query(sample_warehouse, "select count(*) > 0 from marts.quota_utilization where will_exceed") == [
        (True,)
    ]


def test_every_funnel_step_occurs_and_retention_differs_by_plan(sample_warehouse: Path) -> None:
    steps = {r[0] for r in query(sample_warehouse, "select furthest_step from marts.onboarding_funnel")}
    assert steps == {"key_issued", "first_success", "hundred_calls", "error_free_day"}
    (cohort_weeks,) = query(
        sample_warehouse, "select count(distinct cohort_week) from marts.cohort_retention"
    )[0]
    assert cohort_weeks >= 8
    curves = dict(
        query(
            sample_warehouse,
            """
            select plan_id, round(sum(active_customers) / sum(cohort_size), 2)
            from marts.cohort_retention
            where weeks_since_signup between 1 and 8 and is_complete_week
            group by plan_id
            """,
        )
    )
    assert curves["enterprise"] > curves["pro"] > curves["free"]


def test_sample_raises_both_kinds_of_alert(sample_warehouse: Path) -> None:
    kinds = dict(
        query(sample_warehouse, "select alert_type, count(*) from marts.alert_candidates group by 1")
    )
    assert kinds.get("quota_threshold", 0) > 0 and kinds.get("churn_risk", 0) > 0
