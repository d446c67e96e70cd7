"""Warehouses that several test modules read, built once per test session.

A full build is a real `apiwh run` or `dbt build` (about a minute each on two cores); several
modules read the same kind. The first pytest-xdist worker to ask for one builds it under a file
lock in a folder every worker of this session shares; the others wait for it and read the same
files. A module that changes a shared warehouse (plants rows, runs again, writes pages into it)
works on a copy of its folder: `copy_of`.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from orchestration.settings import PROJECT_ROOT
from tests.support import BuiltWarehouse, apiwh_run, warehouse_env, write_ndjson

DONE = ".built"


def session_folder(tmp_path_factory: pytest.TempPathFactory, testrun_uid: str) -> Path:
    """The folder this test session's workers share: beside their own temporary folders."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # .../pytest-N/popen-gw0 -> .../pytest-N, common to the workers
    folder = base / f"shared-{testrun_uid}"
    folder.mkdir(exist_ok=True)
    return folder


@contextmanager
def locked(lock_file: Path) -> Iterator[None]:
    """Held by one worker of the session at a time."""
    with lock_file.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes
        yield


def built_once(shared: Path, name: str, build: Callable[[Path], None]) -> Path:
    """The folder shared/name, made by build(folder) the first time any worker asks for it."""
    root = shared / name
    with locked(shared / f"{name}.lock"):
        if not (root / DONE).exists():
            shutil.rmtree(root, ignore_errors=True)  # a build that failed half-way
            root.mkdir()
            build(root)
            (root / DONE).touch()
    return root


def copy_of(root: Path, destination: Path) -> Path:
    """A copy of a shared folder, file times kept, for a test that changes what it holds."""
    shutil.copytree(root, destination, ignore=shutil.ignore_patterns(DONE))
    return destination


def _record_run(root: Path, run: subprocess.CompletedProcess) -> None:
    (root / "apiwh-run.json").write_text(
        json.dumps({"returncode": run.returncode, "stdout": run.stdout, "stderr": run.stderr}),
        encoding="utf-8",
    )


def apiwh_run_once(
    shared: Path, name: str, landed: dict[str, list[dict]] | None = None, **extra: str
) -> BuiltWarehouse:
    """`apiwh run` in shared/name once per session, with warehouse_env's `extra` settings and
    `landed` ({file name: events}) in its landing folder; every caller gets the run's output."""

    def build(root: Path) -> None:
        for file_name, events in (landed or {}).items():
            write_ndjson(root / "landing" / file_name, events)
        _record_run(root, apiwh_run(root, **extra).run)

    root = built_once(shared, name, build)
    recorded = json.loads((root / "apiwh-run.json").read_text(encoding="utf-8"))
    run = subprocess.CompletedProcess(["apiwh", "run"], **recorded)
    return BuiltWarehouse(root=root, env=warehouse_env(root, **extra), run=run)


def sample_run(shared: Path) -> BuiltWarehouse:
    """The bundled sample (seeds/) through `apiwh run`, as a newcomer builds it, once per session."""
    return apiwh_run_once(shared, "sample", RAW_DATA_DIR=str(PROJECT_ROOT / "seeds"))


# A generated set whose as-of date can fall on a month's last day or in mid-month (the face test).
GENERATED = {"orgs": 24, "days": 40, "seed": 3}
GENERATED_END = "2026-10-31"


def generated_run(shared: Path, as_of: str) -> BuiltWarehouse:
    """apiwh generate (GENERATED, to GENERATED_END) through `apiwh run` with AS_OF and the sample's
    plan catalogue, once per session and as-of date."""
    from orchestration.sample_data.files import generate

    data = built_once(
        shared,
        "generated-data",
        lambda root: generate(root / "raw", **GENERATED, end_date=dt.date.fromisoformat(GENERATED_END)),
    )
    return apiwh_run_once(
        shared,
        f"generated-{as_of}",
        RAW_DATA_DIR=str(data / "raw"),
        AS_OF=as_of,
        PLANS_FILE=str(PROJECT_ROOT / "seeds" / "plans.csv"),
    )
