"""Finding landed files and knowing which ones are already loaded (the manifest).

A file is identified by the sha256 of its content, so a renamed or copied file is never loaded
twice. Hashing reads the whole file (limits.scan_file), so a file whose path, size and
modification time all equal a manifest row's is known without reading it: a rerun with nothing
new reads no data at all. A file that cannot even be looked at (a symlink loop, gone since it was
listed) is set aside as failed with its reason; the others load.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import os
import stat as stat_mode
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.loading.report import FileResult

ACCEPTED_SUFFIXES = (".ndjson", ".jsonl", ".ndjson.gz", ".jsonl.gz", ".parquet")
# Names of files that are still being written by an uploader or editor.
IN_PROGRESS_SUFFIXES = (".tmp", ".partial", ".part", ".crdownload", ".inprogress", ".swp")
GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
BROKEN_SYMLINK = "broken symlink: its target does not exist"
# The manifest key of a file that could not be read: no content hash exists, so the path and
# the reason stand in (one row per both); never a sha256, so it never matches a content.
UNREAD_KEY_PREFIX = "unread:"


@dataclass(frozen=True)
class Candidate:
    path: Path
    relative: str  # to the landing folder: what the manifest and the rejects name
    size: int
    mtime_ns: int


def is_in_progress(name: str) -> bool:
    lowered = name.lower()
    return lowered.startswith((".", "~")) or lowered.endswith(IN_PROGRESS_SUFFIXES)


def discover_files(root: Path) -> tuple[list[Candidate], list[FileResult]]:
    """Candidate files under root (sorted, so loads are ordered) and the ones set aside:
    in progress, outside the folder, or failed (a symlink loop, a file gone since listed)."""
    root = root.resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"landing folder {root} does not exist or is not a folder")
    candidates: list[Candidate] = []
    ignored: list[FileResult] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        # Hidden folders are uploads in progress or tool state, never landed data.
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            relative = str(path.relative_to(root))
            if is_in_progress(name):
                ignored.append(FileResult(relative, "", "in_progress"))
                continue
            if not name.lower().endswith(ACCEPTED_SUFFIXES):
                continue
            try:
                real = path.resolve()
                if path.is_symlink() and not os.path.lexists(real):
                    ignored.append(FileResult(relative, "", "failed", error=BROKEN_SYMLINK))
                    continue
                stat = real.stat()
            except (OSError, RuntimeError) as exc:  # RuntimeError: Python's "Symlink loop"
                ignored.append(FileResult(relative, "", "failed", error=unreadable_reason(exc)))
                continue
            if not real.is_relative_to(root):
                ignored.append(FileResult(relative, "", "outside", error="symlink leaves the landing folder"))
                continue
            if not stat_mode.S_ISREG(stat.st_mode):  # a pipe would block the read for ever
                ignored.append(FileResult(relative, "", "failed", error="not a regular file"))
                continue
            candidates.append(Candidate(path, relative, stat.st_size, stat.st_mtime_ns))
    return candidates, ignored


def unreadable_reason(exc: BaseException) -> str:
    """One line for a file that could not be read at all (it is skipped, the others load)."""
    if isinstance(exc, RuntimeError) or getattr(exc, "errno", None) == errno.ELOOP:
        return "symlink loop: the link never reaches a file"
    if isinstance(exc, FileNotFoundError):
        return "vanished before it was read (removed or renamed while loading)"
    if isinstance(exc, PermissionError):
        return "cannot be read: permission denied"
    return f"cannot be read: {getattr(exc, 'strerror', None) or exc}"


def sniff_format(path: Path) -> str:
    """The format from the content's magic bytes, never from the name."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith(GZIP_MAGIC):
        return "ndjson.gz"
    if head == PARQUET_MAGIC:
        return "parquet"
    return "ndjson"


class Manifest:
    """raw.loaded_files as the loader consults it: which contents and which stats are known."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        rows = con.execute("select file_sha256, path, size_bytes, mtime_ns from raw.loaded_files").fetchall()
        self._hashes = {row[0] for row in rows}
        self._stats = {(row[1], row[2], row[3]): row[0] for row in rows if row[3] is not None}

    def hash_if_unchanged(self, candidate: Candidate) -> str | None:
        """The sha256 recorded for this exact path, size and mtime, if any (no read needed)."""
        return self._stats.get((candidate.relative, candidate.size, candidate.mtime_ns))

    def has(self, sha256: str) -> bool:
        return sha256 in self._hashes

    def add(self, sha256: str, candidate: Candidate) -> None:
        self._hashes.add(sha256)
        self._stats[(candidate.relative, candidate.size, candidate.mtime_ns)] = sha256


def next_load_id(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("select coalesce(max(load_id), 0) + 1 from raw.loaded_files").fetchall()[0][0]


def insert_manifest_row(con: duckdb.DuckDBPyConnection, values: dict) -> None:
    con.execute(
        """
        insert into raw.loaded_files by name select
            $load_id as load_id, $sha256 as file_sha256, $path as path, $size as size_bytes,
            $format as file_format, $status as status, $lines as lines, $events as events,
            $rejects as rejects, $blank as blank_lines, $unknown as unknown_type_events,
            $error as error, $loaded_at as loaded_at, $mtime_ns as mtime_ns
        """,
        values,
    )


def record_unreadable(
    con: duckdb.DuckDBPyConnection, relative: str, size: int, reason: str, now: dt.datetime
) -> FileResult:
    """A failed manifest row for a file that could not be read, once per path and reason.

    It has no mtime, so the next run looks at the file again instead of skipping it.
    """
    key = UNREAD_KEY_PREFIX + hashlib.sha256(f"{relative}\0{reason}".encode()).hexdigest()
    known = con.execute("select count(*) from raw.loaded_files where file_sha256 = ?", [key]).fetchall()
    if not known[0][0]:
        insert_manifest_row(
            con,
            {
                "load_id": next_load_id(con),
                "sha256": key,
                "path": relative,
                "size": size,
                "format": "unknown",
                "status": "failed",
                "lines": 0,
                "events": 0,
                "rejects": 0,
                "blank": 0,
                "unknown": 0,
                "error": reason,
                "loaded_at": now,
                "mtime_ns": None,
            },
        )
    return FileResult(relative, "", "failed", error=reason)
