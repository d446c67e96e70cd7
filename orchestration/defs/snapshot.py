"""The published snapshot as a Dagster asset: the marts copied for readers, swapped in atomically.

No `from __future__ import annotations` here: Dagster inspects the context annotation.
"""

import datetime as dt
from collections.abc import Sequence

import dagster as dg

from orchestration import build_state
from orchestration.defs.resources import WarehouseResource
from orchestration.snapshot import publish_snapshot
from orchestration.warehouse import DUCKDB_WRITER_POOL


def build_published_snapshot(upstream: Sequence[dg.AssetKey]) -> dg.AssetsDefinition:
    """The snapshot asset, downstream of every marts asset it copies."""

    @dg.asset(
        key=["marts", "published_snapshot"],
        group_name="marts",
        pool=DUCKDB_WRITER_POOL,
        kinds={"duckdb"},
        deps=list(upstream),
        description=(
            "A read-only copy of every marts table for analysts and the CLI, swapped in "
            "atomically so readers never block a run nor see a half-built state."
        ),
    )
    def published_snapshot(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        settings = warehouse.settings
        with warehouse.connect() as con:
            counts = publish_snapshot(con, settings.snapshot_path)
            build_state.record_published(con, dt.datetime.now(dt.UTC).replace(tzinfo=None))
        context.log.info(f"published {len(counts)} tables to {settings.snapshot_path}")
        return dg.MaterializeResult(
            metadata={"path": str(settings.snapshot_path), "tables": len(counts), **counts}
        )

    return published_snapshot
