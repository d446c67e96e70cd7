"""Loading files: each file in one transaction, recorded in the manifest with what it gave.

A kill at any moment leaves a file either fully loaded (events, rejects and manifest row) or
not at all. Per file, lines = events + rejects + blank lines. A file that cannot be read at all
(a symlink loop, gone, no permission) is recorded as failed and skipped, never stopping the
others; it is tried again on the next run, and its failure row goes once it loads.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import duckdb

from orchestration.loading import fast_path
from orchestration.loading.discovery import (
    UNREAD_KEY_PREFIX,
    Candidate,
    Manifest,
    discover_files,
    insert_manifest_row,
    next_load_id,
    record_unreadable,
    sniff_format,
    unreadable_reason,
)
from orchestration.loading.erasure_list import drop_erased_events
from orchestration.loading.limits import (
    DEFAULT_MAX_DECOMPRESSED_BYTES,
    DEFAULT_MAX_LINES,
    FileLimits,
    FileScan,
    scan_file,
)
from orchestration.loading.lines import LineStats, iter_line_batches, lines_table
from orchestration.loading.report import FileRejectedError, FileResult, LoadReport
from orchestration.loading.schema import KNOWN_EVENT_TYPES_SQL, ensure_raw_schema
from orchestration.loading.sealed_days import drop_events_of_sealed_days
from orchestration.loading.validation import (
    INSERT_REJECTS_SQL,
    exact_checks_sql,
    insert_events_sql,
    plausible_window,
)

# Files read and checked side by side (each DuckDB gzip reader keeps one core busy); they are
# still stored one at a time, in order.
FILES_READ_AT_ONCE = 2

_EXACT_COUNTS_SQL = f"""
select
    count(*) filter (where reason = ''),
    count(*) filter (where reason <> ''),
    count(*) filter (where reason = '' and v_event_type not in
        ({KNOWN_EVENT_TYPES_SQL}))
from _checked
"""


class _FileLoad:
    """The statements of one file's load, with its bound parameters."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        result: FileResult,
        params: dict,
        now: dt.datetime,
        limits: FileLimits,
    ):
        self.con = con
        self.result = result
        self.params = params
        self.window = plausible_window(now)
        self.limits = limits

    def _bound(self, *names: str) -> dict:
        return {name: self.params[name] for name in names}

    def validate_exactly(self) -> None:
        """Validate temp table _lines with the exact rules; store its events and rejects."""
        self.con.execute(f"create or replace temp table _checked as {exact_checks_sql()}", self.window)
        events, rejects, unknown = self.con.execute(_EXACT_COUNTS_SQL).fetchall()[0]
        self.con.execute(
            insert_events_sql("_checked", "reason = ''"),
            self._bound("load_id", "source_file", "loaded_at", "salt"),
        )
        self.con.execute(INSERT_REJECTS_SQL, self._bound("load_id", "source_file", "sha256", "loaded_at"))
        self.result.events += events
        self.result.rejects += rejects
        self.result.unknown_type_events += unknown
        self.result.exact_lines += events + rejects

    def load_checked_lines(self) -> None:
        """Temp table _fast (from the fast readers): proven lines in bulk, the rest exactly."""
        lines, blank, proven, unknown = self.con.execute(fast_path.FAST_COUNTS_SQL).fetchall()[0]
        self.con.execute(
            insert_events_sql("_fast", "is_proven"),
            self._bound("load_id", "source_file", "loaded_at", "salt"),
        )
        self.result.lines, self.result.blank_lines = lines, blank
        self.result.events += proven
        self.result.unknown_type_events += unknown
        if proven + blank < lines:
            self.con.execute(fast_path.DOUBTFUL_LINES_SQL)
            self.validate_exactly()
        self.result.read_path = "fast"

    def load_lines_exactly(self, path: Path) -> None:
        """Every line through the Python line reader and the exact validation."""
        stats = LineStats()
        for batch in iter_line_batches(path, self.result.file_format, stats, self.limits):
            self.con.register("_line_batch", lines_table(batch))
            self.con.execute("create or replace temp table _lines as select * from _line_batch")
            self.con.unregister("_line_batch")
            self.validate_exactly()
        self.result.lines, self.result.blank_lines = stats.lines, stats.blank
        self.result.read_path = "exact"


def _drop_temp_tables(con: duckdb.DuckDBPyConnection) -> None:
    for name in ("_fast", "_lines", "_checked"):
        con.execute(f"drop table if exists {name}")


def load_file(
    con: duckdb.DuckDBPyConnection,
    candidate: Candidate,
    scan: FileScan,
    *,
    salt: str,
    now: dt.datetime,
    limits: FileLimits | None = None,
    exact_only: bool = False,
    alone: bool = False,
    turn: Callable[[], contextlib.AbstractContextManager[None]] = contextlib.nullcontext,
) -> FileResult:
    """Load one file in one transaction and record it in the manifest.

    The file is read and checked first, outside any transaction; `turn()` is then held while
    it is stored, so files read side by side still commit one at a time, in order.
    `exact_only` sends every line through the exact reader: the reference the fast path is
    tested against, and a way to rule the fast path out when investigating a file. `alone`
    says no other file is read meanwhile: its checks may take every core.
    """
    path, relative = candidate.path, candidate.relative
    result = FileResult(relative, scan.sha256, "loaded")
    params = {"source_file": relative, "sha256": scan.sha256, "loaded_at": now, "salt": salt}
    load = _FileLoad(con, result, params, now, limits or FileLimits())
    # Read before the transaction: a reader error would otherwise abort it. An unexpected
    # error waits for this file's turn, so the files before it are still committed.
    read_fast = False
    rejected: FileRejectedError | None = None
    unreadable: str | None = None
    read_error: Exception | None = None
    try:
        if candidate.size:
            result.file_format = sniff_format(path)
        if scan.over_limit is not None:
            rejected = FileRejectedError(scan.over_limit)
        elif result.file_format == "parquet":
            try:
                fast_path.check_parquet(con, path, load.window, exact_only=exact_only)
                read_fast = True
            except FileRejectedError as exc:
                rejected = exc
                path.open("rb").close()  # a file gone meanwhile is unreadable, not corrupt
        elif candidate.size and not exact_only and not scan.has_nul:
            # NUL bytes: DuckDB's reader once saw no line at all in them; the exact reader
            # rejects each such line with its reason.
            read_fast = fast_path.check_ndjson(
                con, path, result.file_format, load.window, scan.lines, lines_first=alone
            )
    except OSError as exc:
        unreadable = unreadable_reason(exc)
    except Exception as exc:
        read_error = exc
    with turn():
        if read_error is not None:
            _drop_temp_tables(con)
            raise read_error
        if unreadable is not None:
            _drop_temp_tables(con)
            return record_unreadable(con, relative, candidate.size, unreadable, now)
        return _store(con, candidate, load, read_fast=read_fast, rejected=rejected)


def _store(
    con: duckdb.DuckDBPyConnection,
    candidate: Candidate,
    load: _FileLoad,
    *,
    read_fast: bool,
    rejected: FileRejectedError | None,
) -> FileResult:
    """The file's transaction: its events, its rejects and its manifest row, or nothing."""
    result, relative, sha256, now = (
        load.result,
        candidate.relative,
        load.params["sha256"],
        load.params["loaded_at"],
    )
    load_id = next_load_id(con)
    load.params["load_id"] = load_id
    con.execute("begin transaction")
    try:
        if rejected is not None:
            raise rejected
        if candidate.size == 0:
            result.status = "empty"
        else:
            if read_fast:
                load.load_checked_lines()
            else:
                load.load_lines_exactly(candidate.path)
            if result.lines == result.blank_lines:
                result.status = "empty"
            for keep_out in (drop_erased_events, drop_events_of_sealed_days):
                moved, moved_unknown = keep_out(con, load.params)
                result.events -= moved
                result.rejects += moved
                result.unknown_type_events -= moved_unknown
    except FileRejectedError as exc:
        con.execute("rollback")
        con.execute("begin transaction")
        result = FileResult(relative, sha256, "failed", result.file_format, error=str(exc))
    except OSError as exc:  # gone or unreadable since it was hashed: skipped, tried next run
        con.execute("rollback")
        _drop_temp_tables(con)
        return record_unreadable(con, relative, candidate.size, unreadable_reason(exc), now)
    except BaseException:
        con.execute("rollback")
        _drop_temp_tables(con)
        raise
    # It was read: an earlier "could not read" row for this path no longer holds.
    con.execute(
        "delete from raw.loaded_files where path = ? and starts_with(file_sha256, ?)",
        [relative, UNREAD_KEY_PREFIX],
    )
    insert_manifest_row(
        con,
        {
            "load_id": load_id,
            "sha256": sha256,
            "path": relative,
            "size": candidate.size,
            "format": result.file_format,
            "status": result.status,
            "lines": result.lines,
            "events": result.events,
            "rejects": result.rejects,
            "blank": result.blank_lines,
            "unknown": result.unknown_type_events,
            "error": result.error,
            "loaded_at": now,
            "mtime_ns": candidate.mtime_ns,
        },
    )
    con.execute("commit")
    _drop_temp_tables(con)
    return result


class _Abandoned(Exception):
    """A file that was read while an earlier one failed: it is left for the next run."""


class _CommitOrder:
    """Files are read side by side but stored one at a time, in discovery order.

    DuckDB's reader of a gzip file uses one core; reading the next file while one is stored
    keeps both busy. Committing in order keeps the sequential semantics: a failure stops every
    file after it, and load ids follow the files' order.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._next = 0
        self._failed = False

    def fail(self) -> None:
        with self._changed:
            self._failed = True
            self._changed.notify_all()

    @contextlib.contextmanager
    def turn(self, position: int) -> Iterator[None]:
        with self._changed:
            self._changed.wait_for(lambda: self._next == position or self._failed)
            if self._failed:
                raise _Abandoned
        try:
            yield
        except BaseException:
            self.fail()
            raise
        with self._changed:
            self._next += 1
            self._changed.notify_all()


def _load_in_worker(
    con: duckdb.DuckDBPyConnection, candidate: Candidate, scan: FileScan, turn: Callable, **options
) -> FileResult:
    cursor = con.cursor()  # its own temp tables; the same database and transactions' rules
    try:
        cursor.execute("set TimeZone = 'UTC'")
        return load_file(cursor, candidate, scan, turn=turn, **options)
    finally:
        cursor.close()


def _record_unreadable_in_worker(
    con: duckdb.DuckDBPyConnection, failed: FileResult, size: int, now: dt.datetime, turn: Callable
) -> FileResult:
    cursor = con.cursor()
    try:
        with turn():
            return record_unreadable(cursor, failed.path, size, failed.error or "cannot be read", now)
    finally:
        cursor.close()


def load_directory(
    con: duckdb.DuckDBPyConnection,
    root: Path,
    *,
    salt: str,
    progress: Callable[[int, int, FileResult], None] | None = None,
    now: dt.datetime | None = None,
    exact_only: bool = False,
    settle_seconds: float = 0,
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES,
    max_lines: int = DEFAULT_MAX_LINES,
) -> LoadReport:
    """Load every file under root whose content has not been loaded before.

    A file modified in the last `settle_seconds` may still be being written: it is left for a
    later run (status "settling"). Files past `max_decompressed_bytes` or `max_lines`
    (defaults: orchestration/settings.py) are rejected whole, with the reason.
    """
    ensure_raw_schema(con)
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    limits = FileLimits(max_decompressed_bytes, max_lines)
    settled_before_ns = time.time_ns() - int(settle_seconds * 1e9)
    settling = f"changed in the last {settle_seconds:g} s: loads on a later run"
    candidates, set_aside = discover_files(root)
    report = LoadReport(files=[f for f in set_aside if f.status != "failed"])
    manifest = Manifest(con)
    # At most one file to read (a new day): nothing is read beside it, so it checks on every core.
    alone = sum(manifest.hash_if_unchanged(c) is None for c in candidates) <= 1
    options = {"salt": salt, "now": now, "limits": limits, "exact_only": exact_only, "alone": alone}
    order = _CommitOrder()
    outcomes: list[FileResult | Future[FileResult]] = []
    with ThreadPoolExecutor(max_workers=FILES_READ_AT_ONCE) as pool:

        def submit(task: Callable, *args, **options) -> None:
            turn = functools.partial(order.turn, sum(isinstance(o, Future) for o in outcomes))
            outcomes.append(pool.submit(task, con, *args, turn=turn, **options))

        stopped_early: Exception | None = None
        try:
            try:
                for failed in (f for f in set_aside if f.status == "failed"):
                    submit(_record_unreadable_in_worker, failed, 0, now)
                for candidate in candidates:
                    sha256 = manifest.hash_if_unchanged(candidate)
                    if sha256 is None and settle_seconds > 0 and candidate.mtime_ns > settled_before_ns:
                        outcomes.append(FileResult(candidate.relative, "", "settling", error=settling))
                        continue
                    scan = None
                    if sha256 is None:
                        # Hashed here, so a content seen twice in one run is loaded once.
                        try:
                            scan = scan_file(candidate.path, limits)
                        except OSError as exc:
                            unread = FileResult(
                                candidate.relative, "", "failed", error=unreadable_reason(exc)
                            )
                            submit(_record_unreadable_in_worker, unread, candidate.size, now)
                            continue
                        sha256 = scan.sha256
                    if manifest.has(sha256) or scan is None:
                        outcomes.append(FileResult(candidate.relative, sha256, "skipped"))
                        continue
                    manifest.add(sha256, candidate)
                    submit(_load_in_worker, candidate, scan, **options)
            except Exception as exc:  # unexpected: the files before it still load
                stopped_early = exc
            for index, outcome in enumerate(outcomes, start=1):
                result = outcome.result() if isinstance(outcome, Future) else outcome
                report.files.append(result)
                if progress is not None:
                    progress(index, len(outcomes), result)
        except BaseException:
            order.fail()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    if stopped_early is not None:
        raise stopped_early
    return report
