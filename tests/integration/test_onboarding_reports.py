"""`apiwh funnel` and `apiwh retention`: rendering on hand-made rows, then the commands end to end
on the warehouse of test_onboarding_marts.py (same story, values computed by hand there)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from orchestration.cli import main as apiwh
from orchestration.reports.queries.onboarding import FunnelWeekPlan, RetentionCell
from orchestration.reports.render.onboarding import render_funnel, render_retention
from tests.integration.test_onboarding_marts import ONBOARDING_MODELS, onboarding_events
from tests.support import build_warehouse, use_warehouse

MONDAY = dt.date(2026, 3, 2)


def table_rows(output: str) -> list[list[str]]:
    """The table's body (lines starting with a date), split into cells."""
    return [line.split() for line in output.splitlines() if line[:4].isdigit()]


def test_render_funnel_shows_the_marts_rates_and_median() -> None:
    rows = [
        FunnelWeekPlan(MONDAY, 4, 3, 2, 1, 0.75, 0.5, 0.25, 2.25, "free"),
        FunnelWeekPlan(MONDAY, 1, 0, 0, 0, 0.0, 0.0, 0.0, None, None),
    ]
    output = render_funnel(rows, by_plan=True)
    assert table_rows(output) == [
        ["2026-03-02", "free", "4", "75.0%", "50.0%", "25.0%", "2.2"],
        ["2026-03-02", "(none)", "1", "0.0%", "0.0%", "0.0%", "-"],
    ]
    assert "cohort week  plan" in output
    assert render_funnel([], by_plan=False).endswith("No API key issued yet.")


def test_render_retention_triangle_marks_incomplete_weeks() -> None:
    cells = [
        RetentionCell("free", MONDAY, 0, 4, 4, 1.0, True),
        RetentionCell("free", MONDAY, 1, 4, 1, 0.25, True),
        RetentionCell("free", MONDAY, 2, 4, 2, 0.5, False),
        RetentionCell("free", MONDAY + dt.timedelta(7), 0, 2, 1, 0.5, True),
        RetentionCell("free", MONDAY + dt.timedelta(7), 1, 2, 0, 0.0, False),
    ]
    output = render_retention(cells, plan="free")
    lines = output.splitlines()
    assert lines[0] == "Cohort retention by signup week (plan: free)"
    assert lines[1].split() == ["cohort", "week", "size", "week", "0", "week", "1", "week", "2"]
    assert table_rows(output) == [
        ["2026-03-02", "4", "100.0%", "25.0%", "50.0%*"],
        ["2026-03-09", "2", "50.0%", "0.0%*"],
    ]
    assert lines[-1].startswith("* week not complete yet")
    # Percent signs line up down each week column, marked or not.
    assert lines[2].index("25.0%") + 4 == lines[3].index("0.0%*") + 3


def test_render_retention_without_incomplete_weeks_has_no_legend() -> None:
    output = render_retention([RetentionCell("pro", MONDAY, 0, 2, 1, 0.5, True)], plan="pro")
    assert output.splitlines()[0] == "Cohort retention by signup week (plan: pro)"
    assert table_rows(output) == [["2026-03-02", "2", "50.0%"]]
    assert "*" not in output


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_warehouse(
        tmp_path_factory.mktemp("onboarding_cli"), onboarding_events(), select=ONBOARDING_MODELS
    )


@pytest.fixture
def cli_env(warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return use_warehouse(monkeypatch, warehouse)


def test_apiwh_funnel(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert apiwh(["funnel"]) == 0
    assert table_rows(capsys.readouterr().out) == [
        ["2026-03-02", "3", "66.7%", "33.3%", "33.3%", "4.0"],
        # key_a2 (no call), key_d1 (1.0 h), key_f1 (0.5 h): median 0.75 h.
        ["2026-03-09", "3", "66.7%", "0.0%", "0.0%", "0.8"],
    ]


def test_apiwh_funnel_by_plan(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert apiwh(["funnel", "--by", "plan"]) == 0
    assert table_rows(capsys.readouterr().out) == [
        ["2026-03-02", "free", "3", "66.7%", "33.3%", "33.3%", "4.0"],
        ["2026-03-09", "pro", "2", "50.0%", "0.0%", "0.0%", "0.5"],
        ["2026-03-09", "(none)", "1", "100.0%", "0.0%", "0.0%", "1.0"],
    ]


def test_apiwh_retention(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One triangle per signup plan, as marts.cohort_retention holds them (none over every plan)."""
    assert apiwh(["retention"]) == 0
    output = capsys.readouterr().out
    assert table_rows(output) == [
        ["2026-03-02", "3", "66.7%", "33.3%", "66.7%", "33.3%*"],
        ["2026-03-09", "1", "100.0%", "0.0%", "0.0%*"],  # org_f (pro)
        ["2026-03-09", "1", "100.0%", "100.0%", "0.0%*"],  # org_d (no plan)
    ]
    assert [line for line in output.splitlines() if line.startswith("plan ")] == [
        "plan free:",
        "plan pro:",
        "plan (none):",
    ]
    assert "* week not complete yet" in output


def test_apiwh_retention_for_one_plan(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert apiwh(["retention", "--plan", "pro"]) == 0
    assert table_rows(capsys.readouterr().out) == [["2026-03-09", "1", "100.0%", "0.0%", "0.0%*"]]


def test_apiwh_retention_unknown_plan(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert apiwh(["retention", "--plan", "enterprise"]) == 2
    assert "unknown cohort plan 'enterprise'; known: free, pro" in capsys.readouterr().err
