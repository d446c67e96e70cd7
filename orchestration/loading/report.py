"""What a load did, per file and in total: returned to the asset, the CLI and the benchmark."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FileResult:
    path: str  # relative to the landing folder
    sha256: str
    # loaded, empty, failed, skipped (already loaded), in_progress, outside, settling (changed
    # within LANDING_SETTLE_SECONDS: left for a later run)
    status: str
    file_format: str = "unknown"
    lines: int = 0
    events: int = 0
    rejects: int = 0
    blank_lines: int = 0
    unknown_type_events: int = 0
    error: str | None = None
    # How the lines were read: "fast" (DuckDB reader, exact path only for doubtful lines),
    # "exact" (every line through the per-line reader) or "" when nothing was read.
    read_path: str = ""
    exact_lines: int = 0  # lines that went through the exact per-line validation


@dataclass
class LoadReport:
    files: list[FileResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def events(self) -> int:
        return sum(f.events for f in self.files)

    @property
    def rejects(self) -> int:
        return sum(f.rejects for f in self.files)

    @property
    def unknown_type_events(self) -> int:
        return sum(f.unknown_type_events for f in self.files)

    def summary(self) -> str:
        text = (
            f"{self.count('loaded')} file(s) loaded, {self.count('empty')} empty, "
            f"{self.count('failed')} failed, {self.count('skipped')} already loaded, "
            f"{self.count('in_progress') + self.count('outside')} ignored; "
            f"{self.events:,} events, {self.rejects:,} rejected lines"
        )
        if self.count("settling"):
            text += f"; {settling_phrase(self.count('settling'))}"
        return text


def settling_phrase(n: int) -> str:
    return f"{n} file(s) still being written, next run"


class FileRejectedError(Exception):
    """The whole file is unusable (corrupt gzip, not Parquet, incompatible schema, too big)."""
