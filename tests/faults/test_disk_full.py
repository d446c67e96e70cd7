"""Disk full during a load (a real, tiny tmpfs under the warehouse): the run fails loudly,
what was committed before stays, and the next run succeeds once there is room."""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path

import pytest

from orchestration.warehouse import connect
from tests.support import api_request, load_events


@pytest.fixture
def small_disk(tmp_path: Path):
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _write(path: Path, prefix: str, n: int) -> None:
    """Events with random ids in their paths, so DuckDB cannot compress them away."""
    rng = random.Random(prefix)
    event = api_request("org_disk", "2026-10-01T10:00:00Z")
    with path.open("w") as handle:
        for i in range(n):
            event["event_id"] = f"{prefix}-{i}-{rng.getrandbits(64):016x}"
            event["api"]["endpoint"] = f"/v1/items/{rng.getrandbits(128):032x}"
            handle.write(json.dumps(event) + "\n")


def test_disk_full_fails_loudly_keeps_what_was_committed_and_recovers(
    tmp_path: Path, small_disk: Path
) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    _write(landing / "a_small.ndjson", "a", 1_000)
    _write(landing / "b_big.ndjson", "b", 150_000)
    warehouse = small_disk / "warehouse.duckdb"

    with pytest.raises(Exception, match="No space left on device"):
        load_events(landing, warehouse)

    # Make room (the same folder, a bigger disk) and run again.
    subprocess.run(["mount", "-o", "remount,size=256m", str(small_disk)], check=True)
    con = connect(warehouse)
    try:
        assert con.execute("select path from raw.loaded_files").fetchall() == [("a_small.ndjson",)]
        assert con.execute("select count(*) from raw.events").fetchall() == [(1_000,)]
        report = load_events(landing, con)
        assert report.count("loaded") == 1 and report.count("skipped") == 1
        assert con.execute(
            "select source_file, count(*) from raw.events group by 1 order by 1"
        ).fetchall() == [("a_small.ndjson", 1_000), ("b_big.ndjson", 150_000)]
    finally:
        con.close()
    assert os.path.ismount(small_disk)
