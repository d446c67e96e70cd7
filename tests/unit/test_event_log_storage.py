"""The event log the project's dagster.yaml selects (orchestration/event_log_storage.py): Dagster's
files in Dagster's place, written by a run that keeps them open and read at once by another
process, as the webserver and the daemon read a running run."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from orchestration.event_log_storage import KeptOpenSqliteEventLogStorage
from orchestration.pipeline_commands import DAGSTER_YAML

COUNT_RUN_EVENTS = """
import sys
import dagster as dg
with dg.DagsterInstance.get() as instance:
    print(len(instance.all_logs(sys.argv[1])))
"""


@dg.op
def say_hello(context) -> None:  # no annotation: Dagster inspects it
    for number in range(20):
        context.log.info(f"hello {number}")


@dg.job
def hello():
    say_hello()


def test_a_run_is_stored_where_dagster_keeps_it_and_read_by_another_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(DAGSTER_YAML, home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))

    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.event_log_storage, KeptOpenSqliteEventLogStorage)
        result = hello.execute_in_process(instance=instance)
        assert result.success
        stored = instance.all_logs(result.run_id)
        # Another process reads the whole run while this one still holds its files open.
        other = subprocess.run(
            [sys.executable, "-c", COUNT_RUN_EVENTS, result.run_id],
            capture_output=True,
            text=True,
            check=True,
        )
    assert int(other.stdout) == len(stored) > 20
    assert [e.user_message for e in stored if e.user_message.startswith("hello ")][-1] == "hello 19"
    # Dagster's own layout: the index and one file per run under history/runs.
    assert (home / "history" / "runs" / "index.db").exists()
    assert (home / "history" / "runs" / f"{result.run_id}.db").exists()


def test_a_bare_apiwh_run_opens_the_instance_without_dagster_home_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`.venv/bin/apiwh run` outside make has no DAGSTER_HOME; dagster.yaml names the event log's
    folder by that variable, so the folder is given when the instance is opened."""
    from orchestration.job_execution import open_instance

    home = tmp_path / "home"
    home.mkdir()
    shutil.copyfile(DAGSTER_YAML, home / "dagster.yaml")
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    with pytest.raises(dg.DagsterInvalidConfigError, match="DAGSTER_HOME"):
        dg.DagsterInstance.from_config(str(home))  # what the run met before
    with open_instance(home) as instance:
        result = hello.execute_in_process(instance=instance)
        assert result.success
        assert isinstance(instance.event_log_storage, KeptOpenSqliteEventLogStorage)
        assert len(instance.all_logs(result.run_id)) > 20
    assert (home / "history" / "runs" / f"{result.run_id}.db").is_file()
