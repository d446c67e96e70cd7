"""Bad files in the landing folder, as the refresh and an operator meet them: the raw asset with
the settings from the environment, and `apiwh load` / `apiwh rejects` in real subprocesses."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import time
from pathlib import Path

import dagster as dg
import pytest

from orchestration.defs.raw import raw_events
from tests.support import APIWH, api_request, apiwh, resources_from_env, write_ndjson


def _aged(path: Path, seconds: float = 3600) -> Path:
    then = time.time() - seconds
    os.utime(path, (then, then), follow_symlinks=False)
    return path


def _raw_metadata(result: dg.ExecuteInProcessResult) -> dict:
    metadata = result.asset_materializations_for_node("raw__events")[0].metadata
    return {key: value.value for key, value in metadata.items()}


def test_the_refresh_skips_bad_files_and_leaves_a_file_being_written_for_the_next_run(
    pipeline_env: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    landing = pipeline_env["landing"]
    monkeypatch.setenv("LANDING_SETTLE_SECONDS", "60")
    monkeypatch.setenv("MAX_FILE_DECOMPRESSED_BYTES", str(1 << 20))
    _aged(
        write_ndjson(landing / "day1.ndjson", [api_request("org_a", "2026-10-01T10:00:00Z", event_id="d1")])
    )
    (landing / "bomb.ndjson.gz").write_bytes(gzip.compress(b"\n" * (4 << 20)))
    _aged(landing / "bomb.ndjson.gz")
    (landing / "loop.ndjson").symlink_to("loop.ndjson")
    writing = write_ndjson(
        landing / "day2.ndjson", [api_request("org_a", "2026-10-02T10:00:00Z", event_id="d2")]
    )

    first = dg.materialize([raw_events], resources=resources_from_env())

    assert first.success  # bad input never fails the load
    metadata = _raw_metadata(first)
    assert (metadata["files_loaded"], metadata["files_failed"], metadata["files_settling"]) == (1, 2, 1)
    assert metadata["events_loaded"] == 1
    assert "loop.ndjson: symlink loop" in metadata["failed_files"]
    checks = {c.check_name: c.passed for c in first.get_asset_check_evaluations()}
    assert checks["no_failed_files"] is False

    rejects = apiwh(os.environ, "rejects")
    assert rejects.returncode == 0, rejects.stderr
    assert "2 file(s) rejected whole:" in rejects.stdout
    assert "bomb.ndjson.gz: expands past the 1 MiB limit (MAX_FILE_DECOMPRESSED_BYTES)" in rejects.stdout
    assert "loop.ndjson: symlink loop: the link never reaches a file" in rejects.stdout

    _aged(writing, 61)  # the writer is done and the window has passed
    second = dg.materialize([raw_events], resources=resources_from_env())
    metadata = _raw_metadata(second)
    assert (metadata["files_loaded"], metadata["files_settling"], metadata["total_events"]) == (1, 0, 2)


def _without_root_read_override() -> list[str]:
    """A prefix that makes a root process obey file modes, as any other user's does."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: a file's mode cannot stop a read")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search"]


def test_apiwh_load_reports_an_unreadable_file_and_loads_the_others(pipeline_env: dict[str, Path]) -> None:
    landing = pipeline_env["landing"]
    write_ndjson(landing / "a.ndjson", [api_request("org_a", "2026-10-01T10:00:00Z", event_id="a1")])
    locked = write_ndjson(landing / "locked.ndjson", [api_request("org_a", "2026-10-01T11:00:00Z")])
    locked.chmod(0)
    prefix = _without_root_read_override()
    env = {**os.environ, "LANDING_SETTLE_SECONDS": "0"}
    try:
        load = subprocess.run([*prefix, APIWH, "load"], env=env, capture_output=True, text=True, timeout=300)
    finally:
        locked.chmod(0o644)

    assert load.returncode == 0, load.stderr
    assert "Traceback" not in load.stderr
    assert "1 file(s) loaded, 0 empty, 1 failed" in load.stdout
    assert "locked.ndjson: failed (cannot be read: permission denied)" in load.stderr
    rejects = apiwh(env, "rejects")
    assert "locked.ndjson: cannot be read: permission denied" in rejects.stdout

    again = apiwh(env, "load")  # readable again: it loads, and its failure is no longer listed
    assert "1 file(s) loaded, 0 empty, 0 failed, 1 already loaded" in again.stdout
    assert "rejected whole" not in apiwh(env, "rejects").stdout
