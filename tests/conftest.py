"""Shared fixtures: every test gets its own landing folder, warehouse and Dagster home, in the
layout and environment of tests/support.py (warehouse_env)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from orchestration.dbt_cli import MANIFEST_PATH
from orchestration.pipeline_commands import DAGSTER_YAML, ensure_fresh_manifest
from orchestration.settings import load_settings
from orchestration.warehouse import connect
from tests.shared_builds import locked, session_folder
from tests.support import set_environment, warehouse_env, warehouse_path


def pytest_configure(config: pytest.Config) -> None:
    """Files a test writes are complete at once: no settle window (LANDING_SETTLE_SECONDS) for
    the runs the tests start, unless a test sets one (tests/integration/test_landing_faults.py)."""
    os.environ.setdefault("LANDING_SETTLE_SECONDS", "0")
    # A wide terminal: the tests read a table's rows whole. Output to a pipe is otherwise wrapped
    # at 120 columns, which tests/integration/test_cli_formats.py checks for every table.
    os.environ.setdefault("COLUMNS", "250")


# The modules that take minutes, longest first (pytest's --durations on this 2-core machine). They
# start first, so that no pytest-xdist worker is left running one of them alone at the end; the
# Makefile keeps this order (--dist loadfile --no-loadscope-reorder).
LONGEST_FIRST = (
    "tests/faults/test_repeated_sigkill.py",
    # Builds the face test's two generated warehouses (tests/shared_builds.py) early, while the
    # other workers run modules of their own.
    "tests/integration/test_one_answer.py",
    "tests/integration/test_erase.py",
    "tests/integration/test_retention.py",
    "tests/integration/test_reliability_alerts.py",
    "tests/faults/test_late_events.py",
    "tests/integration/test_incremental_equals_full.py",
    "tests/integration/test_pipeline.py",
    "tests/integration/test_quiet_refresh.py",
    "tests/integration/test_build_kind.py",
    "tests/faults/test_crash_and_concurrency.py",
    "tests/integration/test_cli.py",
    "tests/integration/test_upgrade_opportunities.py",
    "tests/integration/test_alerts_pipeline.py",
    "tests/integration/test_quota_rearm.py",
    "tests/integration/test_usage_marts.py",
    "tests/faults/test_dead_runs.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {path: position for position, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


@pytest.fixture(scope="session")
def dbt_manifest(shared: Path) -> Path:
    """A manifest as new as the models, for the tests that load the Dagster definitions, so
    dagster-dbt never works from an older one (docs/design.md). `dbt parse` runs only when the
    manifest is older than a model (`make pytest` parses first), by one worker at a time: it
    rewrites manifest.json in place, and a worker reading it meanwhile would get half a file."""
    with locked(shared / "dbt-manifest.lock"):
        ensure_fresh_manifest(load_settings())
    return MANIFEST_PATH


@pytest.fixture(scope="session")
def shared(tmp_path_factory: pytest.TempPathFactory, testrun_uid: str) -> Path:
    """The folder of the warehouses built once for the whole session (tests/shared_builds.py)."""
    return session_folder(tmp_path_factory, testrun_uid)


@pytest.fixture
def pipeline_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """This process's environment made warehouse_env(tmp_path) (docs/contract.md section 3), for a
    pipeline run into tmp_path, in process or in a subprocess that inherits it."""
    env = warehouse_env(tmp_path)
    set_environment(monkeypatch, env)
    landing, warehouse, dagster_home = (
        Path(env[name]) for name in ("RAW_DATA_DIR", "WAREHOUSE_PATH", "DAGSTER_HOME")
    )
    landing.mkdir()
    dagster_home.mkdir()
    # The instance config users run (`make` installs it): the writer pool and the run queue.
    shutil.copyfile(DAGSTER_YAML, dagster_home / "dagster.yaml")
    # Its storage made once, here: Dagster's SQLite storages race when two processes create
    # them at the same moment (a test polling the instance while its first run starts).
    import dagster as dg

    with dg.DagsterInstance.from_config(str(dagster_home)):
        pass
    return {"landing": landing, "warehouse": warehouse, "dagster_home": dagster_home}


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    path = tmp_path / "landing"
    path.mkdir()
    return path


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """An open connection to a new warehouse file (warehouse_path(tmp_path))."""
    with connect(warehouse_path(tmp_path)) as connection:
        yield connection


@pytest.fixture
def receiver():
    """A real webhook receiver on 127.0.0.1 (tests/unit/test_alerts_http.py)."""
    from tests.unit.test_alerts_http import Receiver

    server = Receiver().start()
    yield server
    server.stop()
