"""The exact line reader: Python splits a file into numbered lines, nothing more.

It is the reference for what a line is (its number, its text, why it cannot even be parsed) and
the path for every file the fast reader cannot take: invalid UTF-8, over-long lines, CR line
ends, corrupt gzip. JSON parsing and validation still happen in DuckDB (validation.py).
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from orchestration.loading.limits import FileLimits
from orchestration.loading.report import FileRejectedError

if TYPE_CHECKING:
    import pyarrow as pa

MAX_LINE_BYTES = 1024 * 1024
BATCH_LINES = 100_000
# Rejected lines keep this many characters; Python hands DuckDB twice as many so that IP
# masking runs before the cut and no partial address survives at the edge.
SNIPPET_CHARS = 300
# What Python's bytes.strip() removes: the fast reader trims the same set (fast_path.py).
ASCII_WHITESPACE = " \t\n\r\x0b\x0c"


@dataclass
class LineStats:
    lines: int = 0
    blank: int = 0


def _read_capped_line(handle, cap: int) -> tuple[bytes, bool]:
    """The next line, or its first `cap` bytes and True when it is longer (rest is skipped)."""
    line = handle.readline(cap + 1)
    if len(line) <= cap or line.endswith(b"\n"):
        return line, False
    while True:  # drain the rest of the over-long line without keeping it
        rest = handle.readline(cap)
        if not rest or rest.endswith(b"\n"):
            return line[:cap], True


def iter_line_batches(
    path: Path, file_format: str, stats: LineStats, limits: FileLimits
) -> Iterator[list[tuple[int, str | None, str | None]]]:
    """Batches of (line_number, text, pre_reason); blank lines are counted, not yielded.

    The file's limits were checked when it was hashed; they hold here too, in case it grew.
    """
    opener = gzip.open if file_format == "ndjson.gz" else open
    batch: list[tuple[int, str | None, str | None]] = []
    try:
        with opener(path, "rb") as handle:
            line_number = 0
            while True:
                raw, too_long = _read_capped_line(handle, MAX_LINE_BYTES)
                if not raw:
                    break
                line_number += 1
                breach = limits.breach(handle.tell(), line_number, compressed=file_format == "ndjson.gz")
                if breach:
                    raise FileRejectedError(breach)
                if line_number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                if too_long:
                    snippet = raw[: 2 * SNIPPET_CHARS].decode("utf-8", "replace")
                    reason = f"line longer than {MAX_LINE_BYTES} bytes"
                    batch.append((line_number, snippet, reason))
                else:
                    stripped = raw.strip()
                    if not stripped:
                        stats.blank += 1
                        stats.lines = line_number
                        continue
                    try:
                        batch.append((line_number, stripped.decode("utf-8"), None))
                    except UnicodeDecodeError as exc:
                        snippet = stripped[: 2 * SNIPPET_CHARS].decode("utf-8", "replace")
                        batch.append((line_number, snippet, f"invalid UTF-8 ({exc.reason})"))
                stats.lines = line_number
                if len(batch) >= BATCH_LINES:
                    yield batch
                    batch = []
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise FileRejectedError(f"corrupt or truncated gzip: {exc}") from exc
    if batch:
        yield batch


def lines_table(batch: list[tuple[int, str | None, str | None]]) -> pa.Table:
    # Imported here: pyarrow and numpy are a third of every `apiwh` command's start-up, and only
    # a load needs them.
    import pyarrow as pa

    numbers, texts, reasons = zip(*batch, strict=True)
    return pa.table(
        {
            "line_number": pa.array(numbers, pa.int64()),
            "line": pa.array(texts, pa.string()),
            "pre_reason": pa.array(reasons, pa.string()),
        }
    )
