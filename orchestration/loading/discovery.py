"""Finding landed files and knowing which ones are already loaded (the manifest).

A file is identified by the sha256 of its content, so a renamed or copied file is never loaded
twice. Hashing reads the whole file, so a file whose path, size and modification time all equal
a manifest row's is known without reading it: a rerun with nothing new reads no data at all.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.loading.report import FileResult

ACCEPTED_SUFFIXES = (".ndjson", ".jsonl", ".ndjson.gz", ".jsonl.gz", ".parquet")
# Names of files that are still being written by an uploader or editor.
IN_PROGRESS_SUFFIXES = (".tmp", ".partial", ".part", ".crdownload", ".inprogress", ".swp")
GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"


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
    """Candidate files under root (sorted, so loads are ordered) and the ones set aside."""
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
            real = path.resolve()
            if not real.is_relative_to(root) or not real.is_file():
                ignored.append(FileResult(relative, "", "outside", error="symlink leaves the landing folder"))
                continue
            stat = real.stat()
            candidates.append(Candidate(path, relative, stat.st_size, stat.st_mtime_ns))
    return candidates, ignored


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


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
