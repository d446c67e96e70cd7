"""The onboarding marts (docs/contract.md section 2) on a small landing folder, against hand-computed
values: onboarding_funnel, onboarding_funnel_summary, onboarding_funnel_weekly and
cohort_retention.

The story (all 2026, UTC; the as-of date is Wednesday 03-25, the last day with calls, so the
as-of week starts Monday 03-23):
- org_a signs up Monday 03-02 09:00 with key_a1 on plan free (key_a1 is issued again on 03-05:
  the first issuance counts). A call a second before issuance is ignored by the funnel; a 500 at
  10:30, a 200 at 11:30 (2.5 h), then 100 200s on 03-03 from 09:00, a minute apart: the 100th
  call after issuance is 03-03 10:37 and 03-03 is its first error-free day. It moves to plan pro
  on 03-09 (quota_set) and gets key_a2 on 03-10 (plan pro, never used): the organization still
  signs up once, in the 03-02 cohort on free. Successful calls in weeks 0, 1 and 3.
- org_b: key_b1 issued Wednesday 03-04 12:00 (free); a 401 at 12:00, a 201 at 17:30 (5.5 h), a
  302 alone on 03-05 (error-free day, no 100 calls), a 200 on 03-17. Active weeks 0 and 2.
- org_c: key_c1 issued Sunday 03-08 23:30 (cohort 03-02, free); only a 404 on 03-09 with it;
  a 200 on 03-19 with a key never issued still makes the organization active in week 2.
- org_d: key_d1 issued 03-11 09:00, no plan known anywhere; a 200 at 10:00 (1 h), and 03-18.
- org_f: key_f1 issued 03-12 09:00 on pro; one 200 at 09:30 (0.5 h).
- org_e has calls but no key: in no cohort. Its call on 03-25 sets the as-of date.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.support import api_request, build_warehouse, key_issued, query, quota_set

ONBOARDING_MODELS = "+onboarding_funnel_summary +onboarding_funnel_weekly +cohort_retention"


def onboarding_events() -> list[dict]:
    events = [
        key_issued("org_a", "2026-03-02T09:00:00Z", "key_a1", plan="free", event_id="ki_a1"),
        key_issued("org_a", "2026-03-05T09:00:00Z", "key_a1", plan="free", event_id="ki_a1_again"),
        quota_set("org_a", "2026-03-09T08:00:00Z", 100000, plan="pro", event_id="q_a"),
        key_issued("org_a", "2026-03-10T09:00:00Z", "key_a2", event_id="ki_a2"),
        api_request("org_a", "2026-03-02T08:59:59Z", key="key_a1", event_id="a_before"),
        api_request("org_a", "2026-03-02T10:30:00Z", key="key_a1", status=500, event_id="a_500"),
        api_request("org_a", "2026-03-02T11:30:00Z", key="key_a1", event_id="a_first_ok"),
        api_request("org_a", "2026-03-12T10:00:00Z", key="key_a1", event_id="a_week1"),
        api_request("org_a", "2026-03-24T10:00:00Z", key="key_a1", event_id="a_week3"),
        key_issued("org_b", "2026-03-04T12:00:00+00:00", "key_b1", plan="free", event_id="ki_b1"),
        api_request("org_b", "2026-03-04T12:00:00Z", key="key_b1", status=401, event_id="b_401"),
        api_request("org_b", "2026-03-04T17:30:00Z", key="key_b1", status=201, event_id="b_201"),
        api_request("org_b", "2026-03-05T08:00:00Z", key="key_b1", status=302, event_id="b_302"),
        api_request("org_b", "2026-03-17T08:00:00Z", key="key_b1", event_id="b_week2"),
        key_issued("org_c", "2026-03-08T23:30:00Z", "key_c1", plan="free", event_id="ki_c1"),
        api_request("org_c", "2026-03-09T10:00:00Z", key="key_c1", status=404, event_id="c_404"),
        api_request("org_c", "2026-03-19T10:00:00Z", key="key_c9", event_id="c_other_key"),
        key_issued("org_d", "2026-03-11T09:00:00Z", "key_d1", event_id="ki_d1"),
        api_request("org_d", "2026-03-11T10:00:00Z", key="key_d1", event_id="d_first"),
        api_request("org_d", "2026-03-18T10:00:00Z", key="key_d1", event_id="d_week1"),
        key_issued("org_f", "2026-03-12T09:00:00Z", "key_f1", plan="pro", event_id="ki_f1"),
        api_request("org_f", "2026-03-12T09:30:00Z", key="key_f1", plan="pro", event_id="f_ok"),
    ]
    events += [
        api_request(
            "org_a", f"2026-03-03T{9 + i // 60:02d}:{i % 60:02d}:00Z", key="key_a1", event_id=f"a_{i}"
        )
        for i in range(100)
    ]
    events += [
        api_request("org_e", f"2026-03-{day:02d}T12:00:00Z", key="key_e", event_id=f"e_{day}")
        for day in (2, 10, 25)
    ]
    return events


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_warehouse(
        tmp_path_factory.mktemp("onboarding"), onboarding_events(), select=ONBOARDING_MODELS
    )


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def test_onboarding_funnel_one_row_per_key_with_its_milestones(warehouse: Path) -> None:
    rows = query(
        warehouse,
        """
        select
            api_key_id, organization_id, developer_id, plan_id, key_issued_at, cohort_week,
            first_call_at, first_success_at, hundredth_call_at, first_error_free_day,
            hours_to_first_success, furthest_step
        from marts.onboarding_funnel
        order by api_key_id
        """,
    )
    assert rows == [
        (
            "key_a1", "org_a", "dev_1", "free", ts("2026-03-02 09:00"), d("2026-03-02"),
            ts("2026-03-02 10:30"), ts("2026-03-02 11:30"), ts("2026-03-03 10:37"),
            d("2026-03-03"), 2.5, "error_free_day",
        ),
        (
            "key_a2", "org_a", "dev_1", "pro", ts("2026-03-10 09:00"), d("2026-03-09"),
            None, None, None, None, None, "key_issued",
        ),
        (
            "key_b1", "org_b", "dev_1", "free", ts("2026-03-04 12:00"), d("2026-03-02"),
            ts("2026-03-04 12:00"), ts("2026-03-04 17:30"), None, d("2026-03-05"), 5.5,
            "first_success",
        ),
        (
            "key_c1", "org_c", "dev_1", "free", ts("2026-03-08 23:30"), d("2026-03-02"),
            ts("2026-03-09 10:00"), None, None, None, None, "key_issued",
        ),
        (
            "key_d1", "org_d", "dev_1", None, ts("2026-03-11 09:00"), d("2026-03-09"),
            ts("2026-03-11 10:00"), ts("2026-03-11 10:00"), None, d("2026-03-11"), 1.0,
            "first_success",
        ),
        (
            "key_f1", "org_f", "dev_1", "pro", ts("2026-03-12 09:00"), d("2026-03-09"),
            ts("2026-03-12 09:30"), ts("2026-03-12 09:30"), None, d("2026-03-12"), 0.5,
            "first_success",
        ),
    ]  # fmt: skip


def test_onboarding_funnel_summary_per_cohort_week_and_plan(warehouse: Path) -> None:
    rows = query(
        warehouse,
        """
        select
            cohort_week, plan_id, keys_issued, reached_first_success, reached_hundred_calls,
            reached_error_free_day, first_success_rate, hundred_calls_rate, error_free_day_rate,
            median_hours_to_first_success
        from marts.onboarding_funnel_summary
        order by cohort_week, plan_id nulls last
        """,
    )
    assert rows == [
        (d("2026-03-02"), "free", 3, 2, 1, 1, pytest.approx(2 / 3), pytest.approx(1 / 3),
         pytest.approx(1 / 3), 4.0),
        (d("2026-03-09"), "pro", 2, 1, 0, 0, 0.5, 0.0, 0.0, 0.5),
        (d("2026-03-09"), None, 1, 1, 0, 0, 1.0, 0.0, 0.0, 1.0),
    ]  # fmt: skip


def test_onboarding_funnel_weekly_counts_every_plan_with_its_own_median(warehouse: Path) -> None:
    rows = query(
        warehouse,
        """
        select
            cohort_week, keys_issued, reached_first_success, reached_hundred_calls,
            reached_error_free_day, first_success_rate, median_hours_to_first_success
        from marts.onboarding_funnel_weekly
        order by cohort_week
        """,
    )
    # 2026-03-09 over every plan: key_a2 (pro, no call), key_d1 (1.0 h), key_f1 (pro, 0.5 h):
    # the week's own median 0.75 h, where the per-plan rows say 0.5 and 1.0.
    assert rows == [
        (d("2026-03-02"), 3, 2, 1, 1, pytest.approx(2 / 3), 4.0),
        (d("2026-03-09"), 3, 2, 0, 0, pytest.approx(2 / 3), 0.75),
    ]


def test_cohort_retention_triangle(warehouse: Path) -> None:
    rows = query(
        warehouse,
        """
        select
            cohort_week, plan_id, weeks_since_signup, cohort_size, active_customers,
            retention_rate, is_complete_week
        from marts.cohort_retention
        order by cohort_week, plan_id nulls last, weeks_since_signup
        """,
    )
    third = pytest.approx(1 / 3)
    two_thirds = pytest.approx(2 / 3)
    assert rows == [
        # org_a, org_b, org_c on free; week 2 (org_b, org_c) is higher than week 1 (org_a).
        (d("2026-03-02"), "free", 0, 3, 2, two_thirds, True),
        (d("2026-03-02"), "free", 1, 3, 1, third, True),
        (d("2026-03-02"), "free", 2, 3, 2, two_thirds, True),
        (d("2026-03-02"), "free", 3, 3, 1, third, False),
        # org_f on pro (org_a's second key on pro does not sign it up again).
        (d("2026-03-09"), "pro", 0, 1, 1, 1.0, True),
        (d("2026-03-09"), "pro", 1, 1, 0, 0.0, True),
        (d("2026-03-09"), "pro", 2, 1, 0, 0.0, False),
        # org_d, no plan known.
        (d("2026-03-09"), None, 0, 1, 1, 1.0, True),
        (d("2026-03-09"), None, 1, 1, 1, 1.0, True),
        (d("2026-03-09"), None, 2, 1, 0, 0.0, False),
    ]


def test_onboarding_marts_columns_and_types(warehouse: Path) -> None:
    """The contract's columns, in order, with their types (dbt contracts enforce the same)."""
    columns = query(
        warehouse,
        """
        select table_name, list(column_name order by ordinal_position)
        from information_schema.columns
        where table_schema = 'marts'
          and table_name in ('onboarding_funnel', 'onboarding_funnel_summary', 'cohort_retention')
        group by table_name
        order by table_name
        """,
    )
    assert columns == [
        ("cohort_retention", ["cohort_week", "plan_id", "weeks_since_signup", "cohort_size",
                              "active_customers", "retention_rate", "is_complete_week"]),
        ("onboarding_funnel", ["api_key_id", "organization_id", "developer_id", "plan_id",
                               "key_issued_at", "cohort_week", "first_call_at", "first_success_at",
                               "hundredth_call_at", "first_error_free_day",
                               "hours_to_first_success", "furthest_step", "step_reached_at",
                               "days_at_step", "is_stuck"]),
        ("onboarding_funnel_summary", ["cohort_week", "plan_id", "keys_issued",
                                       "reached_first_success", "reached_hundred_calls",
                                       "reached_error_free_day", "first_success_rate",
                                       "hundred_calls_rate", "error_free_day_rate",
                                       "median_hours_to_first_success"]),
    ]  # fmt: skip
