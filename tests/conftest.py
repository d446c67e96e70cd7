"""Shared fixtures: every test gets its own landing folder, warehouse and Dagster home."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from orchestration.dbt_cli import MANIFEST_PATH, parse_project
from orchestration.pipeline_commands import DAGSTER_YAML


def pytest_configure(config: pytest.Config) -> None:
    """Files a test writes are complete at once: no settle window (LANDING_SETTLE_SECONDS) for
    the runs the tests start, unless a test sets one (tests/integration/test_landing_faults.py)."""
    os.environ.setdefault("LANDING_SETTLE_SECONDS", "0")


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """One `dbt parse` per session, for the tests that load the Dagster definitions, so
    dagster-dbt never works from a manifest older than the models (docs/design.md). Tests
    that do not load them never pay for it."""
    parse_project()
    return MANIFEST_PATH


@pytest.fixture
def pipeline_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Environment for a pipeline run into tmp_path (docs/contract.md section 3 variables)."""
    landing = tmp_path / "landing"
    landing.mkdir()
    warehouse = tmp_path / "data" / "warehouse.duckdb"
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    # The instance config users run (`make` installs it): the writer pool and the run queue.
    shutil.copyfile(DAGSTER_YAML, dagster_home / "dagster.yaml")
    monkeypatch.setenv("RAW_DATA_DIR", str(landing))
    monkeypatch.setenv("WAREHOUSE_PATH", str(warehouse))
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    monkeypatch.delenv("AS_OF", raising=False)
    # Test files are complete when written: no settle window (tests/integration/test_landing_faults.py
    # covers it).
    monkeypatch.setenv("LANDING_SETTLE_SECONDS", "0")
    monkeypatch.delenv("PLANS_FILE", raising=False)
    monkeypatch.delenv("ALERT_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("ALERT_WEBHOOK_SECRET", raising=False)
    return {"landing": landing, "warehouse": warehouse, "dagster_home": dagster_home}
