"""Bad files stay local to themselves: each is reported with its reason and the others load.

Real files on disk and a real warehouse: symlink loops, files that vanish or cannot be read,
gzip bombs and line floods past the limits, NUL bytes, and files still being written.
"""

from __future__ import annotations

import datetime as dt
import gzip
import os
import time
from pathlib import Path

import pytest

from orchestration.loading import ensure_raw_schema
from orchestration.loading.discovery import discover_files
from orchestration.loading.limits import FileLimits, scan_file
from orchestration.loading.transactions import load_file
from tests.support import TEST_SALT, api_request, load_events, write_ndjson

NOW = dt.datetime(2026, 11, 1, 12, 0, 0)


def _events(prefix: str, n: int) -> list[dict]:
    return [api_request("org_a", f"2026-10-01T10:{i:02d}:00Z", event_id=f"{prefix}{i}") for i in range(n)]


def _failed_rows(con) -> list[tuple[str, str]]:
    return con.execute(
        "select path, error from raw.loaded_files where status = 'failed' order by path"
    ).fetchall()


def _event_ids(con) -> list[str]:
    return [row[0] for row in con.execute("select event_id from raw.events order by event_id").fetchall()]


def test_a_symlink_loop_is_reported_and_the_files_beside_it_load(con, landing: Path) -> None:
    write_ndjson(landing / "a_good.ndjson", _events("a", 2))
    (landing / "loop_one.ndjson").symlink_to("loop_two.ndjson")
    (landing / "loop_two.ndjson").symlink_to("loop_one.ndjson")
    write_ndjson(landing / "z_good.ndjson", _events("z", 3))

    report = load_events(landing, con)

    assert _event_ids(con) == ["a0", "a1", "z0", "z1", "z2"]
    failed = {f.path: f.error for f in report.files if f.status == "failed"}
    assert failed == {
        "loop_one.ndjson": "symlink loop: the link never reaches a file",
        "loop_two.ndjson": "symlink loop: the link never reaches a file",
    }
    assert "2 file(s) loaded, 0 empty, 2 failed" in report.summary()
    # Recorded like any failed file, so `apiwh rejects` and `apiwh status` show it.
    assert _failed_rows(con) == sorted(failed.items())

    # The next run still reports it (the problem is still there) without a second row.
    again = load_events(landing, con)
    assert again.count("failed") == 2 and again.count("skipped") == 2
    assert len(_failed_rows(con)) == 2

    # Once the link is fixed, the file loads and its failure row goes.
    (landing / "loop_one.ndjson").unlink()
    write_ndjson(landing / "loop_one.ndjson", _events("l", 1))
    fixed = load_events(landing, con)
    assert fixed.count("loaded") == 1
    assert [path for path, _ in _failed_rows(con)] == ["loop_two.ndjson"]


def test_a_file_that_vanishes_after_discovery_is_reported_and_the_next_one_loads(con, landing: Path) -> None:
    write_ndjson(landing / "gone.ndjson", _events("g", 2))
    write_ndjson(landing / "kept.ndjson", _events("k", 2))
    candidates, _ = discover_files(landing)
    scans = {c.relative: scan_file(c.path, FileLimits()) for c in candidates}
    (landing / "gone.ndjson").unlink()  # between discovery (and hashing) and the read
    ensure_raw_schema(con)

    results = [load_file(con, c, scans[c.relative], salt=TEST_SALT, now=NOW) for c in candidates]

    assert [(r.path, r.status) for r in results] == [("gone.ndjson", "failed"), ("kept.ndjson", "loaded")]
    assert results[0].error == "vanished before it was read (removed or renamed while loading)"
    assert _event_ids(con) == ["k0", "k1"]
    assert _failed_rows(con) == [("gone.ndjson", results[0].error)]
    # Its content was never loaded, so the same content landing again later loads.
    write_ndjson(landing / "gone.ndjson", _events("g", 2))
    assert load_events(landing, con).events == 2
    assert _failed_rows(con) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_an_unreadable_file_is_reported_and_the_others_load(con, landing: Path) -> None:
    write_ndjson(landing / "a.ndjson", _events("a", 1))
    locked = write_ndjson(landing / "locked.ndjson", _events("l", 1))
    locked.chmod(0)
    try:
        report = load_events(landing, con)
    finally:
        locked.chmod(0o644)
    assert _event_ids(con) == ["a0"]
    assert {f.path: f.error for f in report.files if f.status == "failed"} == {
        "locked.ndjson": "cannot be read: permission denied"
    }
    assert load_events(landing, con).events == 1  # readable again: it loads


def test_a_gzip_bomb_is_rejected_as_a_file_before_any_reader_sees_it(con, landing: Path) -> None:
    # 8 KB of gzip that expands to 8 MiB, with the limit lowered to 1 MiB to match.
    (landing / "bomb.ndjson.gz").write_bytes(gzip.compress(b"\n" * (8 << 20), compresslevel=9))
    write_ndjson(landing / "small.ndjson", _events("s", 3))

    report = load_events(landing, con, max_decompressed_bytes=1 << 20)

    by_path = {f.path: f for f in report.files}
    bomb = by_path["bomb.ndjson.gz"]
    assert (bomb.status, bomb.error) == (
        "failed",
        "expands past the 1 MiB limit (MAX_FILE_DECOMPRESSED_BYTES)",
    )
    assert (bomb.lines, bomb.read_path) == (0, "")  # never handed to a reader
    assert by_path["small.ndjson"].events == 3
    assert _failed_rows(con) == [("bomb.ndjson.gz", bomb.error)]
    # Rejected by content, once: the next run does not read it again.
    again = load_events(landing, con, max_decompressed_bytes=1 << 20)
    assert again.count("skipped") == 2 and again.count("failed") == 0


def test_a_flood_of_lines_is_rejected_and_blank_lines_never_count_as_events(con, landing: Path) -> None:
    content = b"\n" * 500 + b'{"event_id":"x"}\n' + b"\n" * 499  # 1,000 lines
    (landing / "at_limit.ndjson.gz").write_bytes(gzip.compress(content))
    (landing / "over.ndjson.gz").write_bytes(gzip.compress(content + b"\n"))
    (landing / "over_plain.ndjson").write_bytes(content + b" \n")

    report = load_events(landing, con, max_lines=1000)

    by_path = {f.path: f for f in report.files}
    at_limit = by_path["at_limit.ndjson.gz"]
    assert (at_limit.status, at_limit.lines, at_limit.blank_lines) == ("loaded", 1000, 999)
    assert (at_limit.events, at_limit.rejects) == (0, 1)
    for name in ("over.ndjson.gz", "over_plain.ndjson"):
        assert (by_path[name].status, by_path[name].error) == (
            "failed",
            "has more than 1,000 lines, the limit (MAX_FILE_LINES)",
        )


@pytest.mark.parametrize("exact_only", [False, True], ids=["fast", "exact"])
def test_nul_bytes_are_rejected_lines_never_an_empty_file(con, landing: Path, exact_only: bool) -> None:
    # Past DuckDB's 32 MiB read buffer its reader saw no line at all in them: "empty".
    (landing / "zeros.ndjson.gz").write_bytes(gzip.compress(b"\0" * (33 << 20)))
    good = write_ndjson(landing.parent / "good.ndjson", _events("n", 1)).read_bytes()
    (landing / "tail.ndjson.gz").write_bytes(gzip.compress(good + b"\0" * (33 << 20)))
    (landing / "lines.ndjson").write_bytes(good + b"\0\0\0\n" + b'{"event_id":"x\0y"}\n')

    report = load_events(landing, con, exact_only=exact_only)

    by_path = {f.path: f for f in report.files}
    assert (by_path["zeros.ndjson.gz"].status, by_path["zeros.ndjson.gz"].rejects) == ("loaded", 1)
    assert (by_path["tail.ndjson.gz"].events, by_path["tail.ndjson.gz"].rejects) == (1, 1)
    assert (by_path["lines.ndjson"].events, by_path["lines.ndjson"].rejects) == (1, 2)
    rejects = con.execute(
        "select source_file, line_number, reason, snippet from raw.event_rejects order by 1, 2"
    ).fetchall()
    assert [row[:3] for row in rejects] == [
        ("lines.ndjson", 2, "invalid JSON (NUL byte)"),
        ("lines.ndjson", 3, "invalid JSON (NUL byte)"),
        ("tail.ndjson.gz", 2, "line longer than 1048576 bytes"),
        ("zeros.ndjson.gz", 1, "line longer than 1048576 bytes"),
    ]
    # The snippets show the NULs escaped, never raw.
    assert rejects[0][3] == "\\u0000\\u0000\\u0000"
    assert all("\0" not in row[3] for row in rejects)


def test_a_file_still_being_written_waits_until_it_settles(con, landing: Path) -> None:
    growing = landing / "growing.ndjson"
    write_ndjson(growing, _events("g", 2))
    with growing.open("a") as handle:
        handle.write('{"event_id": "g2", "event_type": "api_req')  # the writer is mid-line
    write_ndjson(landing / "old.ndjson", _events("o", 1))
    long_ago = time.time() - 3600
    os.utime(landing / "old.ndjson", (long_ago, long_ago))

    first = load_events(landing, con, settle_seconds=60)

    assert {f.path: f.status for f in first.files} == {"growing.ndjson": "settling", "old.ndjson": "loaded"}
    assert first.summary().endswith("; 1 file(s) still being written, next run")
    assert con.execute("select path from raw.loaded_files").fetchall() == [("old.ndjson",)]
    assert con.execute("select count(*) from raw.event_rejects").fetchall() == [(0,)]

    # The writer finishes; once the file is older than the window it loads, whole, once.
    write_ndjson(growing, _events("g", 4))
    settled = time.time() - 61
    os.utime(growing, (settled, settled))
    second = load_events(landing, con, settle_seconds=60)
    assert {f.path: f.status for f in second.files} == {"growing.ndjson": "loaded", "old.ndjson": "skipped"}
    assert _event_ids(con) == ["g0", "g1", "g2", "g3", "o0"]
    assert con.execute("select count(*) from raw.event_rejects").fetchall() == [(0,)]
