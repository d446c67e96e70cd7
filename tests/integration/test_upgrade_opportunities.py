"""marts.upgrade_opportunities end to end (docs/contract.md section 2b): real events, the real loader,
a real `dbt build` with and without a plan catalogue, then `apiwh quota` and the quota alert's
drafted note read from that warehouse. Figures below are computed by hand.

Fixture, as of 2026-03-10 (day 10 of 31), catalogue free $0 (1,000 calls, next pro, $0/1k),
pro $49 (10,000, next enterprise, $4/1k), enterprise $499 (100,000, top, $2/1k):
- org_a, pro, quota 1,000, 850 calls: 85.0%, projected round(850 / 10 * 31) = 2,635, overage
  1,635 calls = $6.54; next plan enterprise +$450 MRR, fits; upgrading costs 499 - (49 + 6.54)
  = $443.46 more this month.
- org_b, free, quota 100, 120 calls: 120.0%, projected 372, overage 272 calls at $0 = $0; next
  plan pro +$49, fits.
- org_c, plan "legacy" (not in the catalogue), quota 100, 90 calls: 90.0%, projected 279,
  overage 179 calls, every price null.
- org_e, enterprise, quota 100, 100 calls: 100.0%, projected 310, overage 210 calls = $0.42, no
  next plan.
- org_d, pro, quota 10,000, 10 calls: 0.1%, not an opportunity.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestration import cli
from orchestration.alerts.ledger import Alert
from orchestration.alerts.render import alert_text
from tests.support import api_request, build_warehouse, query, quota_set, run_dbt, use_warehouse

AS_OF = "2026-03-10"
CATALOGUE = (
    "plan_id,monthly_price,monthly_call_limit,next_plan_id,overage_price_per_1k_calls\n"
    "free,0,1000,pro,0\n"
    "pro,49,10000,enterprise,4\n"
    "enterprise,499,100000,,2\n"
)
# (organization, plan, quota, calls spread over March 1..10)
ACCOUNTS = (
    ("org_a", "pro", 1_000, 850),
    ("org_b", "free", 100, 120),
    ("org_c", "legacy", 100, 90),
    ("org_e", "enterprise", 100, 100),
    ("org_d", "pro", 10_000, 10),
)


def _events() -> list[dict]:
    events = []
    for org, plan, limit, calls in ACCOUNTS:
        events.append(quota_set(org, "2026-03-01T00:00:00Z", limit, plan=plan))
        for index in range(calls):
            day = 1 + index % 10
            events.append(api_request(org, f"2026-03-{day:02d}T12:{index // 60 % 60:02d}:{index % 60:02d}Z"))
    return events


@pytest.fixture(scope="module")
def catalogue_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("plans") / "plans.csv"
    path.write_text(CATALOGUE)
    return path


@pytest.fixture(scope="module")
def priced_warehouse(tmp_path_factory: pytest.TempPathFactory, catalogue_file: Path) -> Path:
    return build_warehouse(
        tmp_path_factory.mktemp("priced"), _events(), as_of=AS_OF, plans_file=catalogue_file
    )


@pytest.fixture(scope="module")
def unpriced_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("unpriced"), _events(), as_of=AS_OF)


def _quota_report(warehouse: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> str:
    use_warehouse(monkeypatch, warehouse)
    assert cli.main(["quota"]) == 0
    return capsys.readouterr().out


def _quota_alert(warehouse: Path, org: str, threshold: int) -> Alert:
    [(key, detail)] = query(
        warehouse,
        "select alert_key, detail from marts.alert_candidates where organization_id = ? and threshold = ?",
        [org, threshold],
    )
    return Alert(
        alert_key=key,
        alert_type="quota_threshold",
        organization_id=org,
        threshold=threshold,
        detail=json.loads(detail),
        as_of_date=None,
        created_at=None,
    )


def test_opportunities_match_the_hand_computed_figures(priced_warehouse: Path) -> None:
    columns = (
        "organization_id, plan_id, monthly_call_limit, used_mtd, pct_of_cap, projected_eom, next_plan_id, "
        "next_plan_call_limit, upgrade_mrr_delta, overage_calls_at_pace, overage_cost_at_pace, "
        "fits_next_plan, upgrade_net_cost_at_pace"
    )
    rows = query(
        priced_warehouse, f"select {columns} from marts.upgrade_opportunities order by organization_id"
    )
    assert [row[:8] for row in rows] == [
        ("org_a", "pro", 1_000, 850, 85.0, 2_635, "enterprise", 100_000),
        ("org_b", "free", 100, 120, 120.0, 372, "pro", 10_000),
        ("org_c", "legacy", 100, 90, 90.0, 279, None, None),
        ("org_e", "enterprise", 100, 100, 100.0, 310, None, None),
    ]
    money = {row[0]: row[8:] for row in rows}
    assert money["org_a"] == (450.0, 1_635, pytest.approx(6.54), True, pytest.approx(443.46))
    assert money["org_b"] == (49.0, 272, 0.0, True, 49.0)
    assert money["org_c"] == (None, 179, None, None, None)
    assert money["org_e"] == (None, 210, pytest.approx(0.42), None, None)


def test_quota_table_shows_the_prices_of_marts_quota_outlook(
    priced_warehouse: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    out = _quota_report(priced_warehouse, monkeypatch, capsys)
    lines = out.splitlines()
    assert lines[1].split()[-9:] == [
        "NEXT",
        "PLAN",
        "MRR",
        "DELTA",
        "OVERAGE",
        "AT",
        "PACE",
        "UPGRADE",
        "NET",
    ]
    rows = {line.split()[0]: line.split() for line in lines if line.startswith("org_")}
    # Soonest to the cap first: the caps reached, then the ones on course for it.
    assert list(rows) == ["org_b", "org_e", "org_c", "org_a"]
    # NEXT PLAN, MRR DELTA, OVERAGE AT PACE, UPGRADE NET: the mart's next_plan_id,
    # upgrade_mrr_delta, overage_cost_at_pace and upgrade_net_cost_at_pace; "top plan" for a
    # catalogued plan without a next one.
    assert rows["org_a"][-4:] == ["enterprise", "+$450.00", "$6.54", "+$443.46"]
    assert rows["org_b"][-4:] == ["pro", "+$49.00", "$0.00", "+$49.00"]
    assert rows["org_c"][-4:] == ["-", "-", "-", "-"]  # legacy: not in the catalogue
    assert rows["org_e"][-5:] == ["top", "plan", "-", "$0.42", "-"]
    assert "org_d" not in out  # 0.1% of its cap: below the default --min-pct 50
    assert "Set PLANS_FILE" not in out


def test_quota_alert_note_names_the_next_plan_and_its_cost(priced_warehouse: Path) -> None:
    alert = _quota_alert(priced_warehouse, "org_a", 80)
    assert alert.detail["next_plan_id"] == "enterprise"
    assert alert.detail["upgrade_mrr_delta"] == 450.0
    assert alert.detail["overage_cost_at_pace"] == pytest.approx(6.54)
    text = alert_text(alert)
    assert "Next plan: enterprise: 100,000 calls a month, $499.00 a month (+$450.00 MRR)" in text
    assert "Overage at the current pace: 1,635 calls, $6.54" in text
    assert (
        "The next plan, enterprise, includes 100,000 calls a month for $499.00 a month, $450.00 more"
        " than your current plan. At this pace the 1,635 calls above your quota come to $6.54 this"
        " month."
        " Overage included, enterprise would cost $443.46 more this month."
    ) in text


def test_without_plans_file_the_mart_is_empty_and_everything_else_works(
    unpriced_warehouse: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    assert query(unpriced_warehouse, "select count(*) from marts.upgrade_opportunities") == [(0,)]
    on_as_of_date = "select count(*) from marts.quota_utilization where usage_date = ?"
    assert query(unpriced_warehouse, on_as_of_date, [AS_OF]) == [(5,)]
    out = _quota_report(unpriced_warehouse, monkeypatch, capsys)
    assert "org_a" in out
    assert "+$" not in out  # no price without a catalogue
    assert "Set PLANS_FILE to a plan CSV" in out
    alert = _quota_alert(unpriced_warehouse, "org_a", 80)
    assert alert.detail["next_plan_id"] is None
    assert "Next plan" not in alert_text(alert)
    assert "The next plan" not in alert_text(alert)


def test_a_bad_catalogue_stops_the_build_with_the_file_and_line(
    priced_warehouse: Path, catalogue_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    bad = tmp_path / "plans.csv"
    bad.write_text(CATALOGUE + "team,abc,50000,enterprise,3\n")
    message = f"PLANS_FILE {bad} line 5: monthly_price 'abc' is not a number >= 0"

    monkeypatch.setenv("PLANS_FILE", str(bad))
    assert cli.main(["plans", "--check"]) == 2
    assert capsys.readouterr().err == f"apiwh plans: error: {message}\n"

    built = run_dbt(priced_warehouse, "run", "--select", "stg_plan_catalogue", plans_file=bad, check=False)
    assert built.returncode != 0
    assert f"Invalid Input Error: {message}" in built.stdout
    # All or nothing: the catalogue of the last good build is still the one in use.
    assert query(priced_warehouse, "select count(*) from staging.stg_plan_catalogue") == [(3,)]
