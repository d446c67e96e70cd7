"""Loading files: each file in one transaction, recorded in the manifest with what it gave.

A kill at any moment leaves a file either fully loaded (events, rejects and manifest row) or
not at all. Per file, lines = events + rejects + blank lines.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import duckdb

from orchestration.loading import fast_path
from orchestration.loading.discovery import (
    Candidate,
    Manifest,
    discover_files,
    file_sha256,
    next_load_id,
    sniff_format,
)
from orchestration.loading.lines import LineStats, iter_line_batches, lines_table
from orchestration.loading.report import FileRejectedError, FileResult, LoadReport
from orchestration.loading.schema import KNOWN_EVENT_TYPES_SQL, ensure_raw_schema
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

    def __init__(self, con: duckdb.DuckDBPyConnection, result: FileResult, params: dict, now: dt.datetime):
        self.con = con
        self.result = result
        self.params = params
        self.window = plausible_window(now)

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
        for batch in iter_line_batches(path, self.result.file_format, stats):
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
    sha256: str,
    *,
    salt: str,
    now: dt.datetime,
    exact_only: bool = False,
    turn: Callable[[], contextlib.AbstractContextManager[None]] = contextlib.nullcontext,
) -> FileResult:
    """Load one file in one transaction and record it in the manifest.

    The file is read and checked first, outside any transaction; `turn()` is then held while
    it is stored, so files read side by side still commit one at a time, in order.
    `exact_only` sends every line through the exact reader: the reference the fast path is
    tested against, and a way to rule the fast path out when investigating a file.
    """
    path, relative = candidate.path, candidate.relative
    result = FileResult(relative, sha256, "loaded")
    params = {"source_file": relative, "sha256": sha256, "loaded_at": now, "salt": salt}
    load = _FileLoad(con, result, params, now)
    # Read before the transaction: a reader error would otherwise abort it. An unexpected
    # error waits for this file's turn, so the files before it are still committed.
    read_fast = False
    rejected: FileRejectedError | None = None
    read_error: Exception | None = None
    try:
        if candidate.size:
            result.file_format = sniff_format(path)
        if result.file_format == "parquet":
            try:
                fast_path.check_parquet(con, path, load.window, exact_only=exact_only)
                read_fast = True
            except FileRejectedError as exc:
                rejected = exc
        elif candidate.size and not exact_only:
            read_fast = fast_path.check_ndjson(con, path, result.file_format, load.window)
    except Exception as exc:
        read_error = exc
    with turn():
        if read_error is not None:
            _drop_temp_tables(con)
            raise read_error
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
    except FileRejectedError as exc:
        con.execute("rollback")
        con.execute("begin transaction")
        result = FileResult(relative, sha256, "failed", result.file_format, error=str(exc))
    except BaseException:
        con.execute("rollback")
        _drop_temp_tables(con)
        raise
    con.execute(
        """
        insert into raw.loaded_files by name select
            $load_id as load_id, $sha256 as file_sha256, $path as path, $size as size_bytes,
            $format as file_format, $status as status, $lines as lines, $events as events,
            $rejects as rejects, $blank as blank_lines, $unknown as unknown_type_events,
            $error as error, $loaded_at as loaded_at, $mtime_ns as mtime_ns
        """,
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
    con: duckdb.DuckDBPyConnection, candidate: Candidate, sha256: str, turn: Callable, **options
) -> FileResult:
    cursor = con.cursor()  # its own temp tables; the same database and transactions' rules
    try:
        cursor.execute("set TimeZone = 'UTC'")
        return load_file(cursor, candidate, sha256, turn=turn, **options)
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
) -> LoadReport:
    """Load every file under root whose content has not been loaded before."""
    ensure_raw_schema(con)
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    candidates, ignored = discover_files(root)
    report = LoadReport(files=list(ignored))
    manifest = Manifest(con)
    order = _CommitOrder()
    outcomes: list[FileResult | Future[FileResult]] = []
    with ThreadPoolExecutor(max_workers=FILES_READ_AT_ONCE) as pool:
        stopped_early: Exception | None = None
        try:
            try:
                for candidate in candidates:
                    # Hashed here, so a content seen twice in one run is loaded once.
                    sha256 = manifest.hash_if_unchanged(candidate) or file_sha256(candidate.path)
                    if manifest.has(sha256):
                        outcomes.append(FileResult(candidate.relative, sha256, "skipped"))
                        continue
                    manifest.add(sha256, candidate)
                    position = sum(isinstance(o, Future) for o in outcomes)
                    options = {"salt": salt, "now": now, "exact_only": exact_only}
                    turn = functools.partial(order.turn, position)
                    outcomes.append(pool.submit(_load_in_worker, con, candidate, sha256, turn, **options))
            except Exception as exc:  # e.g. a file gone before it was hashed: the ones before it load
                stopped_early = exc
            for index, outcome in enumerate(outcomes, start=1):
                result = outcome.result() if isinstance(outcome, Future) else outcome
                report.files.append(result)
                if progress is not None:
                    progress(index, len(candidates), result)
        except BaseException:
            order.fail()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    if stopped_early is not None:
        raise stopped_early
    return report
