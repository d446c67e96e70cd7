"""Read-only access for the CLI and analysts: the published snapshot, else the live file.

DESIGN.md: readers use a published copy of the marts so a run never blocks them and they never
block a run. Before the first publish (or in tests) the live warehouse is opened read-only.
"""

from __future__ import annotations

import duckdb

from orchestration.settings import Settings
from orchestration.warehouse import WarehouseBusyError, connect


class WarehouseNotBuiltError(RuntimeError):
    """Nothing to read yet: the pipeline has not run against this WAREHOUSE_PATH."""


def open_marts_connection(settings: Settings) -> duckdb.DuckDBPyConnection:
    """A read-only connection in which `marts.<table>` resolves, snapshot first."""
    for path in (settings.snapshot_path, settings.warehouse_path):
        if path.exists():
            try:
                return connect(path, read_only=True)
            except WarehouseBusyError as exc:
                if path == settings.warehouse_path:
                    raise WarehouseNotBuiltError(f"no published snapshot yet and {exc}") from exc
    raise WarehouseNotBuiltError(
        f"no warehouse at {settings.warehouse_path}: run `make run` (or the daily_refresh job) first"
    )
