"""Fixtures the reliability test modules share: the day-one warehouse is built once per test
session, by whichever worker asks first (tests/shared_builds.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.reliability_situation import day_one_events
from tests.shared_builds import built_once
from tests.support import build_warehouse, warehouse_path


@pytest.fixture(scope="session")
def day_one_warehouse(shared: Path) -> Path:
    """Read only: a test that changes it works on a copy."""
    root = built_once(shared, "reliability-day-one", lambda root: build_warehouse(root, day_one_events()))
    return warehouse_path(root)
