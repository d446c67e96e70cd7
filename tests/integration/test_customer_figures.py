"""Customer figures read for many customers at once equal each customer's read alone.

The dashboard reads each kind of figure for thousands of customers in one query, a report for its
one customer (orchestration/reports/queries/customers.py): a row limit or a slice that mixed
customers would show here.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from orchestration.dashboard import charts
from orchestration.dashboard.customer_view import period_contexts
from orchestration.dashboard.organizations import load_directory
from orchestration.reports.queries import customers as customer_queries
from orchestration.reports.queries import site as queries
from orchestration.warehouse import connect
from tests import dashboard_support as ds


@pytest.fixture(scope="module")
def snapshot(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    warehouse = ds.published_copy(shared, tmp_path_factory.mktemp("figures") / "copy")
    return warehouse.parent / "published" / "warehouse.duckdb"


def test_each_customers_figures_are_the_same_read_together_or_alone(snapshot: Path) -> None:
    directory = load_directory(None)
    with connect(snapshot, read_only=True) as con:
        as_of = queries.data_health(con)["as_of_date"]
        everyone = queries.all_organization_ids(con)
        assert len(everyone) >= 3
        # The 30 days ending on the as-of date, and a month (the days differ, the 30-day marts not).
        for start in (queries.window_start(as_of), as_of.replace(day=1)):
            together = period_contexts(con, everyone, start, as_of, directory, draw=charts.embedded)
            for organization_id in everyone:
                alone = period_contexts(con, [organization_id], start, as_of, directory, draw=charts.embedded)
                assert alone[organization_id] == together[organization_id], (organization_id, start)
        keys = customer_queries.customer_keys(con, everyone)
        alerts = customer_queries.customer_alerts(con, everyone)
        for organization_id in everyone:
            assert customer_queries.customer_keys(con, [organization_id]) == {
                organization_id: keys[organization_id]
            }
            assert customer_queries.customer_alerts(con, [organization_id]) == {
                organization_id: alerts[organization_id]
            }
        # Every customer with traffic has its own days and keys, none of another's.
        assert all(together[organization_id]["daily_rows"] for organization_id in everyone)
        assert (
            sum(len(own) for own in keys.values())
            == con.execute("select count(*) from marts.onboarding_funnel").fetchone()[0]
        )


def test_a_customer_without_rows_gets_zero_figures_and_empty_tables(snapshot: Path) -> None:
    with connect(snapshot, read_only=True) as con:
        as_of = queries.data_health(con)["as_of_date"]
        context = period_contexts(
            con,
            ["org_unknown"],
            as_of - dt.timedelta(days=6),
            as_of,
            load_directory(None),
            draw=charts.embedded,
        )["org_unknown"]
    assert context["summary_raw"] == {}
    assert (context["figures"]["calls"], context["figures"]["active_days"]) == ("0", "0")
    # No call in the 30 days: no errors, and no rate or latency to show.
    figures = context["figures"]
    assert (figures["errors_30d"], figures["error_rate_30d"], figures["p95_30d"]) == ("0 / 0", "-", "-")
    assert context["daily_rows"] == []
    assert context["endpoints_raw"] == []
    assert context["plan_id"] is None
    assert context["quota"] is None
