"""The plan catalogue (PLANS_FILE): what is accepted, the one-line error for each bad line, the
sample catalogue against the generator's plans, and the words the prices become (quota table
footer, drafted note). The checks run the dbt macro's own SQL in DuckDB (orchestration/plans.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestration import cli
from orchestration.alerts.render import upgrade_offer
from orchestration.plans import Plan, PlanCatalogueError, read_plan_catalogue
from orchestration.sample_data import catalogue
from orchestration.settings import PROJECT_ROOT

HEADER = "plan_id,monthly_price,monthly_call_limit,next_plan_id,overage_price_per_1k_calls\n"


def _write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "plans.csv"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_sample_catalogue_matches_the_generator_plans() -> None:
    plans = read_plan_catalogue(PROJECT_ROOT / "seeds" / "plans.csv")
    by_id = {plan.plan_id: plan for plan in plans}
    assert set(by_id) == {name for name, _ in catalogue.PLAN_SHARES}
    assert {p: by_id[p].monthly_call_limit for p in by_id} == catalogue.DEFAULT_LIMIT
    assert {p: by_id[p].next_plan_id for p in by_id if by_id[p].next_plan_id} == catalogue.NEXT_PLAN
    # Each step up costs more and includes more calls.
    for plan in plans:
        if plan.next_plan_id:
            upper = by_id[plan.next_plan_id]
            assert upper.monthly_price > plan.monthly_price
            assert upper.monthly_call_limit > plan.monthly_call_limit


def test_header_in_any_order_quotes_crlf_bom_and_blank_lines_are_accepted(tmp_path: Path) -> None:
    text = (
        "\ufeffnext_plan_id, plan_id ,monthly_call_limit,overage_price_per_1k_calls,monthly_price\r\n"
        "\r\n"
        '"pro","starter",5000,"2.5", 19.99\r\n'
        ",pro,50000,1.5,99\r\n"
    )
    assert read_plan_catalogue(_write(tmp_path, text)) == [
        Plan("starter", 19.99, 5_000, "pro", 2.5, 3),
        Plan("pro", 99.0, 50_000, None, 1.5, 4),
    ]


# Lines that contradict another line of the file (or themselves).
BAD_REFERENCES = [
    ("free,0,1000,,0\nfree,1,2000,,0\n", 3, "plan_id 'free' is already on line 2"),
    ("free,0,1000,pro,0\n", 2, "next_plan_id 'pro' is not a plan_id in the file"),
    ("free,0,1000,free,0\n", 2, "plan 'free' is its own next plan"),
]
# Lines with a value out of its range or the wrong number of fields.
BAD_VALUES = [
    ("free,0,1000,,0\npro,abc,10000,,4\n", 3, "monthly_price 'abc' is not a number >= 0"),
    ("pro,-5,10000,,4\n", 2, "monthly_price '-5' is not a number >= 0"),
    ("pro,49,10000.5,,4\n", 2, "monthly_call_limit '10000.5' is not a whole number > 0"),
    ("pro,49,0,,4\n", 2, "monthly_call_limit '0' is not a whole number > 0"),
    ("pro,49,10000,,\n", 2, "overage_price_per_1k_calls '' is not a number >= 0"),
    ("pro,49,10000,,nan\n", 2, "overage_price_per_1k_calls 'nan' is not a number >= 0"),
    ("pro,49,10000,,4,extra\n", 2, "expected 5 fields like the header, found 6"),
    ("pro,49,10000\n", 2, "expected 5 fields like the header, found 3"),
    (",49,10000,,4\n", 2, "plan_id is empty"),
]


@pytest.mark.parametrize(("lines", "line", "reason"), BAD_REFERENCES + BAD_VALUES)
def test_a_bad_line_gives_one_error_with_file_and_line(
    tmp_path: Path, lines: str, line: int, reason: str
) -> None:
    path = _write(tmp_path, HEADER + lines)
    with pytest.raises(PlanCatalogueError) as raised:
        read_plan_catalogue(path)
    assert str(raised.value) == f"PLANS_FILE {path} line {line}: {reason}"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "line 1: the file is empty; expected a header line"),
        ("\n\nplan_id,monthly_price\npro,49\n", "line 3: the header lacks monthly_call_limit, next_plan_id,"),
        (b"plan_id\n\xff\xfe\n", "cannot be read (Invalid Input Error: read_text: could not read content"),
    ],
)
def test_a_bad_file_gives_one_error(tmp_path: Path, text: str | bytes, reason: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(PlanCatalogueError) as raised:
        read_plan_catalogue(path)
    message = str(raised.value)
    assert message.startswith(f"PLANS_FILE {path}")
    assert reason in message
    assert "\n" not in message


def test_apiwh_plans(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.delenv("PLANS_FILE", raising=False)
    monkeypatch.setenv("RAW_DATA_DIR", str(tmp_path))  # data of your own: no catalogue by default
    assert cli.main(["plans"]) == 0
    assert "PLANS_FILE is unset" in capsys.readouterr().out

    monkeypatch.setenv("PLANS_FILE", str(tmp_path / "missing.csv"))
    assert cli.main(["plans"]) == 2
    missing = tmp_path / "missing.csv"
    assert capsys.readouterr().err == f"apiwh plans: error: PLANS_FILE {missing}: no such file\n"

    path = _write(tmp_path, HEADER + "free,0,1000,pro,0\npro,49,10000,,4.5\n")
    monkeypatch.setenv("PLANS_FILE", str(path))
    assert cli.main(["plans"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"Plan catalogue {path}: 2 plan(s)"
    assert out[2].split() == ["free", "$0.00", "1,000", "pro", "$0.00"]
    assert out[3].split() == ["pro", "$49.00", "10,000", "-", "$4.50"]
    assert cli.main(["plans", "--check"]) == 0
    assert capsys.readouterr().out == f"Plan catalogue {path}: 2 plan(s) (free, pro)\n"


# ------------------------------------------------------------------- words from the figures


# A quota alert's upgrade figures (detail of marts.alert_candidates).
UPGRADE_DETAIL = {
    "plan_monthly_price": 499.0,
    "next_plan_id": "scale",
    "next_plan_call_limit": 1_000_000,
    "next_plan_monthly_price": 1_999.0,
    "upgrade_mrr_delta": 1_500.0,
    "overage_calls_at_pace": 340_000,
    "overage_cost_at_pace": 1_700.0,
    "fits_next_plan": True,
    "upgrade_net_cost_at_pace": -200.0,
    "projected_eom": 1_340_000,
}


def _detail(**overrides) -> dict:
    return {**UPGRADE_DETAIL, **overrides}


def test_note_says_what_upgrading_saves_or_costs() -> None:
    assert upgrade_offer(_detail()) == (
        "The next plan, scale, includes 1,000,000 calls a month for $1,999.00 a month, $1,500.00"
        " more than your current plan. At this pace the 340,000 calls above your quota come to"
        " $1,700.00 this month. Moving to scale now would save you $200.00 this month."
    )
    costs = upgrade_offer(_detail(upgrade_net_cost_at_pace=300.0, overage_cost_at_pace=1_200.0))
    assert costs.endswith("Overage included, scale would cost $300.00 more this month.")
    free_overage = upgrade_offer(_detail(overage_cost_at_pace=0.0, upgrade_net_cost_at_pace=1_500.0))
    assert free_overage.endswith(
        "more than your current plan. At this pace about 340,000 calls this month would go above your quota."
    )
    within = upgrade_offer(_detail(overage_calls_at_pace=0, overage_cost_at_pace=0.0))
    assert within == (
        "The next plan, scale, includes 1,000,000 calls a month for $1,999.00 a month, $1,500.00"
        " more than your current plan."
    )
    too_small = upgrade_offer(_detail(fits_next_plan=False, next_plan_call_limit=1_000_000))
    assert too_small.endswith(
        "Your projected 1,340,000 calls this month would exceed even the scale quota, so it may be"
        " worth a look beyond it."
    )


def test_note_on_the_top_plan_or_without_prices() -> None:
    top = _detail(next_plan_id=None, upgrade_mrr_delta=None, upgrade_net_cost_at_pace=None)
    assert upgrade_offer(top) == (
        "You are on our largest plan. At this pace the 340,000 calls above your quota come to $1,700.00"
        " this month."
    )
    assert (
        upgrade_offer(_detail(next_plan_id=None, overage_calls_at_pace=0, overage_cost_at_pace=0.0)) is None
    )
    assert upgrade_offer(_detail(plan_monthly_price=None)) is None
    assert upgrade_offer({}) is None
