"""Fixtures the reliability test modules share: the day-one warehouse is built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.reliability_situation import day_one_events
from tests.support import build_warehouse


@pytest.fixture(scope="session")
def day_one_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Read only: a test that changes it works on a copy."""
    return build_warehouse(tmp_path_factory.mktemp("reliability"), day_one_events())
