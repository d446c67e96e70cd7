"""Portfolio health, hand-computed on a small situation of its own (docs/contract.md 2b
active_customers_daily, customer_lifecycle_weekly): real load, real `dbt build`.

2026-03-02 is a Monday; the as-of date 2026-03-31 a Tuesday (its week is not complete).
One key per organization (k_<org>), every call status 200 unless said otherwise:
- steady: a call every day 03-02..03-31; its second key k_steady2 calls on 03-30 only.
- gap: 03-03 (week 03-02), nothing in week 03-09 (dormant), 03-18 (week 03-16: resurrecting).
- quit: 03-04 and 03-10, then nothing (dormant in week 03-16).
- recent: 03-27 only (new in week 03-23, dormant in week 03-30).
- broken: a 500 every day: never active (only successful calls count).
On 03-31: 1 organization active in the day, 2 in the 7 days (03-25..03-31), 4 in the 28 days
(03-04..03-31: gap's 03-18 and quit's 03-04 and 03-10 count; gap's 03-03 is one day too early).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.support import api_request, build_warehouse, query

FIRST_DAY = dt.date(2026, 3, 2)
AS_OF = dt.date(2026, 3, 31)


def _successful(org: str, day: str, key: str | None = None) -> dict:
    return api_request(org, f"{day}T12:00:00Z", key=key or f"k_{org}")


def portfolio_events() -> list[dict]:
    events = []
    day = FIRST_DAY
    while day <= AS_OF:
        events.append(_successful("steady", day.isoformat()))
        events.append(api_request("broken", f"{day.isoformat()}T12:00:00Z", key="k_broken", status=500))
        day += dt.timedelta(days=1)
    events.append(_successful("steady", "2026-03-30", key="k_steady2"))
    events += [_successful("gap", "2026-03-03"), _successful("gap", "2026-03-18")]
    events += [_successful("quit", "2026-03-04"), _successful("quit", "2026-03-10")]
    events.append(_successful("recent", "2026-03-27"))
    return events


@pytest.fixture(scope="module")
def portfolio_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_warehouse(
        tmp_path_factory.mktemp("portfolio"),
        portfolio_events(),
        select="+active_customers_daily +customer_lifecycle_weekly",
    )


def test_dau_wau_mau_differ_on_the_as_of_date(portfolio_warehouse: Path) -> None:
    assert query(
        portfolio_warehouse,
        "select count(*), min(usage_date), max(usage_date) from marts.active_customers_daily",
    ) == [(30, FIRST_DAY, AS_OF)]
    # Keys: k_steady on the day; with k_steady2 (03-30) and k_recent (03-27) in the 7 days; with
    # k_gap (03-18) and k_quit (03-04, 03-10) in the 28 days. k_broken never.
    assert query(
        portfolio_warehouse,
        "select active_customers_1d, active_customers_7d, active_customers_28d, "
        "active_keys_1d, active_keys_7d, active_keys_28d "
        "from marts.active_customers_daily where usage_date = '2026-03-31'",
    ) == [(1, 2, 4, 1, 3, 5)]
    # 03-09: steady on the day; gap (03-03) and quit (03-04) in the 7 and the 28 days.
    assert query(
        portfolio_warehouse,
        "select active_customers_1d, active_customers_7d, active_customers_28d "
        "from marts.active_customers_daily where usage_date = '2026-03-09'",
    ) == [(1, 3, 3)]


def test_lifecycle_weeks_new_returning_resurrecting_and_dormant(portfolio_warehouse: Path) -> None:
    weeks = query(
        portfolio_warehouse,
        "select week, active_customers, new_customers, returning_customers, "
        "resurrecting_customers, dormant_customers, is_complete_week "
        "from marts.customer_lifecycle_weekly order by week",
    )
    assert weeks == [
        # steady, gap, quit: all new.
        (dt.date(2026, 3, 2), 3, 3, 0, 0, 0, True),
        # steady and quit return; gap is dormant.
        (dt.date(2026, 3, 9), 2, 0, 2, 0, 1, True),
        # steady returns, gap resurrects (active before 03-09's week); quit is dormant.
        (dt.date(2026, 3, 16), 2, 0, 1, 1, 1, True),
        # steady returns, recent is new; gap is dormant.
        (dt.date(2026, 3, 23), 2, 1, 1, 0, 1, True),
        # The as-of week: steady returns, recent is dormant.
        (dt.date(2026, 3, 30), 1, 0, 1, 0, 1, False),
    ]
