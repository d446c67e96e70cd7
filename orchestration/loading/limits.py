"""What a landed file may cost, checked while it is hashed, before any reader sees it.

Hashing reads the whole file anyway; the same pass counts the lines and the bytes a gzip file
expands to, and stops expanding as soon as a limit is passed. So a small gzip that expands to
gigabytes of newlines is rejected after reading only as far as the limit, in bounded memory,
and never reaches DuckDB. The counts also let the loader check that DuckDB's reader saw every
line (a file of NUL bytes once read as zero lines, and was recorded as "empty").
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from pathlib import Path

from orchestration.loading.discovery import GZIP_MAGIC, PARQUET_MAGIC
from orchestration.settings import DEFAULT_MAX_DECOMPRESSED_BYTES, DEFAULT_MAX_LINES

_READ_BYTES = 1 << 20
# Output of one decompression step: memory stays bounded whatever the compression ratio.
_EXPAND_BYTES = 1 << 20
_GZIP_WINDOW = 16 + zlib.MAX_WBITS  # a gzip header and trailer around each member


@dataclass(frozen=True)
class FileLimits:
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES
    max_lines: int = DEFAULT_MAX_LINES

    def breach(self, size: int, lines: int, *, compressed: bool) -> str | None:
        """Why a file of this (decompressed) size and line count is refused, or None."""
        if size > self.max_decompressed_bytes:
            verb = "expands" if compressed else "is"
            limit = describe_bytes(self.max_decompressed_bytes)
            return f"{verb} past the {limit} limit (MAX_FILE_DECOMPRESSED_BYTES)"
        if lines > self.max_lines:
            return f"has more than {self.max_lines:,} lines, the limit (MAX_FILE_LINES)"
        return None


def describe_bytes(n: int) -> str:
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n:,} bytes"


@dataclass
class FileScan:
    """One pass over a file: its sha256 and, for NDJSON, what a line reader will see."""

    sha256: str
    # Lines as a line reader numbers them; None when unknown (Parquet, a gzip that does not
    # decompress to the end: its reader reports why).
    lines: int | None = None
    has_nul: bool = False
    over_limit: str | None = None  # the reason the whole file is refused


class _TextCount:
    """Bytes, newlines and NUL bytes of a text stream, fed in pieces."""

    def __init__(self) -> None:
        self.size = 0
        self.newlines = 0
        self.has_nul = False
        self.ends_with_newline = True

    def feed(self, data: bytes) -> None:
        if data:
            self.size += len(data)
            self.newlines += data.count(b"\n")
            self.has_nul = self.has_nul or b"\0" in data
            self.ends_with_newline = data.endswith(b"\n")

    @property
    def lines(self) -> int:
        return self.newlines + (0 if self.ends_with_newline else 1)


class _GzipExpansion:
    """Decompresses gzip members as compressed pieces arrive, never more than a step at once."""

    def __init__(self, text: _TextCount, limits: FileLimits) -> None:
        self.text = text
        self.limits = limits
        self.inflater = None  # the current member's decompressor
        self.stopped = False  # past a limit, or not decompressible: nothing more is expanded
        self.broken = False

    def feed(self, data: bytes) -> None:
        while not self.stopped:
            if self.inflater is None:
                data = data.lstrip(b"\0")  # zero padding between members, as gzip allows
                if not data:
                    return
                self.inflater = zlib.decompressobj(_GZIP_WINDOW)
            try:
                out = self.inflater.decompress(data, _EXPAND_BYTES)
            except zlib.error:
                self.stopped = self.broken = True
                return
            self.text.feed(out)
            if self.limits.breach(self.text.size, self.text.lines, compressed=True):
                self.stopped = True
                return
            if self.inflater.eof:
                data, self.inflater = self.inflater.unused_data, None
                continue
            data = self.inflater.unconsumed_tail
            if not data and len(out) < _EXPAND_BYTES:
                return  # needs the next compressed piece

    def finish(self) -> None:
        if self.inflater is not None and not self.stopped:
            self.broken = True  # truncated: the reader rejects it with its own reason


def _kind(head: bytes) -> str:
    """The same sniffing as discovery.sniff_format: by content, never by name."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    return "parquet" if head[:4] == PARQUET_MAGIC else "text"


def scan_file(path: Path, limits: FileLimits) -> FileScan:
    """Hash the file and count what it holds, expanding gzip only as far as the limits."""
    digest = hashlib.sha256()
    text = _TextCount()
    expansion: _GzipExpansion | None = None
    kind = None
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_READ_BYTES), b""):
            digest.update(chunk)
            if kind is None:
                kind = _kind(chunk)
                if kind == "gzip":
                    expansion = _GzipExpansion(text, limits)
            if expansion is not None:
                expansion.feed(chunk)
            elif kind == "text" and not limits.breach(text.size, text.lines, compressed=False):
                text.feed(chunk)
    scan = FileScan(digest.hexdigest())
    if kind == "parquet" or kind is None:
        return scan
    scan.over_limit = limits.breach(text.size, text.lines, compressed=kind == "gzip")
    if expansion is not None:
        expansion.finish()
        if expansion.broken:
            return scan
    scan.lines, scan.has_nul = text.lines, text.has_nul
    return scan
