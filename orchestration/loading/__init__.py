"""Loading raw event files into DuckDB exactly once, keeping every bad line visible.

Plain functions with no Dagster import: the asset raw/events only calls load_directory().

The seams, one module each:
- schema: the one definition of the raw event fields, and the raw tables' DDL;
- discovery: landed files, their format, and the manifest of what is loaded (by sha256);
- fast_path: DuckDB's own readers, and the bulk proof that a line is clean;
- lines + validation: the exact per-line path, the reference for every rule and reject;
- transactions: one file, one transaction, one manifest row.
"""

from orchestration.loading.lines import MAX_LINE_BYTES
from orchestration.loading.report import FileResult, LoadReport
from orchestration.loading.schema import ensure_raw_schema
from orchestration.loading.transactions import load_directory

__all__ = ["MAX_LINE_BYTES", "FileResult", "LoadReport", "ensure_raw_schema", "load_directory"]
