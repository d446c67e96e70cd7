"""Retention per field class as a Dagster asset: the last step of a refresh that built the models.

No `from __future__ import annotations` here: Dagster inspects the context annotation.
"""

import datetime as dt

import dagster as dg

from orchestration.defs.dashboard import PUBLISHED_SNAPSHOT_KEY
from orchestration.defs.resources import WarehouseResource
from orchestration.privacy.retention import apply_retention
from orchestration.warehouse import DUCKDB_WRITER_POOL


@dg.asset(
    key=["raw", "retention"],
    group_name="raw",
    # After the snapshot: only what a finished refresh aggregated is dropped.
    deps=[PUBLISHED_SNAPSHOT_KEY],
    pool=DUCKDB_WRITER_POOL,
    kinds={"duckdb"},
    description=(
        "Drops the call payloads past RAW_RETENTION_DAYS and nulls the IP hashes past "
        "IP_HASH_RETENTION_DAYS, counted back from the as-of date, and seals those days "
        "(raw.retention_seals): docs/governance.md. Nothing when neither is set."
    ),
)
def retention(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings
    if settings.raw_retention_days is None and settings.ip_hash_retention_days is None:
        return dg.MaterializeResult(metadata={"retention": "off: every field class is kept until erased"})
    with warehouse.connect() as con:
        seals = apply_retention(con, settings, dt.datetime.now(dt.UTC).replace(tzinfo=None))
    for seal in seals:
        context.log.info(
            f"retention: {seal.field_class} through {seal.sealed_through}, {seal.rows_changed:,} rows"
        )
    return dg.MaterializeResult(
        metadata={
            **{f"{seal.field_class} sealed through": seal.sealed_through.isoformat() for seal in seals},
            **{f"{seal.field_class} rows": seal.rows_changed for seal in seals},
            "seals moved": len(seals),
        }
    )
