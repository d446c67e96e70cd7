"""What makes a refresh up to date (nothing new: no model work) and what brings the build back;
the real refreshes that skip and resume are in tests/integration/test_build_kind.py."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from orchestration import build_state
from orchestration.settings import DBT_PROJECT_DIR
from orchestration.warehouse import connect


def test_a_build_that_did_not_reach_the_snapshot_is_not_up_to_date(tmp_path: Path) -> None:
    con = connect(tmp_path / "warehouse.duckdb")
    inputs = build_state.current_inputs(con, None)
    build_state.record_built(con, inputs, dt.datetime(2026, 11, 1))
    # The alerts or the snapshot failed after dbt: the next refresh must build again.
    assert not build_state.is_up_to_date(con, inputs)
    build_state.record_published(con, dt.datetime(2026, 11, 1, 0, 5))
    assert build_state.is_up_to_date(con, inputs)
    assert not build_state.is_up_to_date(con, build_state.BuildInputs(7, None, inputs.project_fingerprint))
    con.close()


def test_a_changed_model_changes_the_project_fingerprint(tmp_path: Path) -> None:
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    before = build_state.project_fingerprint(project)
    assert build_state.project_fingerprint(project) == before
    model = next((project / "models").rglob("customer_usage_summary.sql"))
    model.write_text(model.read_text() + "\n-- a comment is a change too\n")
    changed = build_state.project_fingerprint(project)
    assert changed != before
    # A new price list changes what the models produce too.
    plans = tmp_path / "plans.csv"
    plans.write_text("plan_id,monthly_price\npro,49\n")
    with_plans = build_state.project_fingerprint(project, plans)
    assert with_plans != changed
    plans.write_text("plan_id,monthly_price\npro,59\n")
    assert build_state.project_fingerprint(project, plans) != with_plans
