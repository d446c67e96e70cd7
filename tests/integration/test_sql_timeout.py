"""`apiwh sql` has a time limit and reads only the published snapshot (issue 23): a long query
never holds the live warehouse, which `apiwh run` must be able to write."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from orchestration.snapshot import publish_snapshot
from orchestration.warehouse import connect
from tests.support import APIWH, copy_warehouse, warehouse_env

# About 10^12 rows to join: hours, unless it is stopped.
ENDLESS = "select count(*) from range(1000000) a, range(1000000) b where a.range * b.range = -1"


def _live_copy(source: Path, root: Path) -> dict[str, str]:
    copy_warehouse(source, root)
    return warehouse_env(root)


def _sql(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    # Its own bound (not tests.support.apiwh's 900 s): a query that is never stopped fails fast.
    return subprocess.run([APIWH, "sql", *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def published(day_one_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = _live_copy(day_one_warehouse, tmp_path_factory.mktemp("sql_published"))
    live = Path(env["WAREHOUSE_PATH"])
    with connect(live) as con:
        publish_snapshot(con, live.parent / "published" / "warehouse.duckdb")
    return env


def test_a_long_query_is_stopped_at_the_time_limit(published: dict[str, str]) -> None:
    stopped = _sql(published, ENDLESS, "--timeout", "1")
    assert stopped.returncode == 1 and stopped.stdout == ""
    assert stopped.stderr.splitlines() == ["apiwh sql: error: query stopped after 1 s (--timeout)"]
    half = _sql(published, ENDLESS, "--timeout", "0.5", "--format", "csv")
    assert half.stderr.splitlines() == ["apiwh sql: error: query stopped after 0.5 s (--timeout)"]
    quick = _sql(published, "select count(*) as days from marts.platform_daily_usage", "--format", "csv")
    assert quick.returncode == 0 and quick.stdout.splitlines()[0] == "days", quick.stderr


def test_the_query_reads_the_snapshot_while_a_run_writes_the_live_warehouse(
    published: dict[str, str],
) -> None:
    with connect(Path(published["WAREHOUSE_PATH"])) as writer:  # holds the live file's lock
        writer.execute("create table main.written_meanwhile as select 1 as x")
        result = _sql(published, "select count(*) as n from meta.snapshot", "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["n", "1"]


def test_without_a_snapshot_it_says_so_and_leaves_the_live_warehouse_alone(
    day_one_warehouse: Path, tmp_path: Path
) -> None:
    env = _live_copy(day_one_warehouse, tmp_path)
    result = _sql(env, "select count(*) from marts.platform_daily_usage")
    assert result.returncode == 1
    assert result.stderr.splitlines() == ["apiwh sql: error: no snapshot yet: run `apiwh run` first"]


@pytest.mark.parametrize("value", ["0", "-5", "soon", "inf"])
def test_a_time_limit_that_is_not_a_positive_number_is_refused(published: dict[str, str], value: str) -> None:
    result = _sql(published, "select 1", "--timeout", value)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1
    assert "argument --timeout: expected" in result.stderr


def test_the_default_time_limit_is_a_minute(published: dict[str, str]) -> None:
    help_text = " ".join(_sql(published, "--help").stdout.split())
    assert "--timeout SECONDS stop the query after this long (default 60)" in help_text
