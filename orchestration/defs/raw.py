"""The raw load as a Dagster asset: raw/events, the name dbt knows as source('raw', 'events').

No `from __future__ import annotations` here: Dagster inspects the context annotation.
"""

import dagster as dg

from orchestration.defs.resources import WarehouseResource
from orchestration.loading import load_directory
from orchestration.loading.landing import land_raw_tables
from orchestration.loading.report import settling_phrase
from orchestration.privacy.erase import finish_interrupted
from orchestration.warehouse import DUCKDB_WRITER_POOL


@dg.asset(
    key=["raw", "events"],
    group_name="raw",
    pool=DUCKDB_WRITER_POOL,
    kinds={"duckdb", "python"},
    description=(
        "Every raw event file under RAW_DATA_DIR not loaded before (by content sha256), typed, "
        "with bad lines kept in raw.event_rejects."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            "no_rejected_lines",
            asset=["raw", "events"],
            description="Warns when this load rejected lines (raw.event_rejects has them all).",
        ),
        dg.AssetCheckSpec(
            "no_failed_files",
            asset=["raw", "events"],
            description="Warns when this load found a file it could not read at all.",
        ),
    ],
)
def raw_events(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings
    # An erase killed after its commit point is finished before anything reads the warehouse.
    finish_interrupted(settings, context.log.info)
    context.log.info(f"loading new files from {settings.raw_data_dir}")

    def progress(index: int, total: int, result) -> None:
        if result.status != "skipped":
            context.log.info(
                f"[{index}/{total}] {result.path}: {result.status}, {result.events:,} events, "
                f"{result.rejects:,} rejected" + (f" ({result.error})" if result.error else "")
            )

    with warehouse.connect() as con:
        report = load_directory(
            con,
            settings.raw_data_dir,
            salt=settings.ip_hash_salt,
            progress=progress,
            settle_seconds=settings.landing_settle_seconds,
            max_decompressed_bytes=settings.max_file_decompressed_bytes,
            max_lines=settings.max_file_lines,
        )
        if settings.warehouse_engine == "spark":
            # Spark reads the raw tables as Parquet (docs/scaling.md): land each new load.
            landed = land_raw_tables(con, settings.landing_dir)
            context.log.info(f"landed {len(landed)} load(s) as Parquet in {settings.landing_dir}")
        total_events, total_rejects = con.execute(
            "select (select count(*) from raw.events), (select count(*) from raw.event_rejects)"
        ).fetchall()[0]
    context.log.info(report.summary())
    settling = [f.path for f in report.files if f.status == "settling"]
    if settling:
        context.log.info(
            f"{settling_phrase(len(settling))} (changed in the last {settings.landing_settle_seconds:g} s, "
            f"LANDING_SETTLE_SECONDS): {', '.join(settling[:5])}" + (" ..." if len(settling) > 5 else "")
        )
    if report.rejects:
        context.log.warning(
            f"{report.rejects:,} line(s) rejected this run: see raw.event_rejects "
            "(`apiwh rejects` lists them)"
        )
    failed = [f"{f.path}: {f.error}" for f in report.files if f.status == "failed"]
    # Bad input never fails the load: it shows as a warning check with the figures.
    check_results = [
        dg.AssetCheckResult(
            check_name="no_rejected_lines",
            passed=report.rejects == 0,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"lines_rejected": report.rejects, "see": "apiwh rejects"},
        ),
        dg.AssetCheckResult(
            check_name="no_failed_files",
            passed=not failed,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"files_failed": len(failed)},
        ),
    ]
    return dg.MaterializeResult(
        check_results=check_results,
        metadata={
            "files_loaded": report.count("loaded"),
            "files_empty": report.count("empty"),
            "files_failed": report.count("failed"),
            "files_skipped": report.count("skipped"),
            "files_ignored": report.count("in_progress") + report.count("outside"),
            "files_settling": report.count("settling"),
            "events_loaded": report.events,
            "lines_rejected": report.rejects,
            "unknown_event_types": report.unknown_type_events,
            "failed_files": dg.MetadataValue.md("\n".join(f"- {f}" for f in failed) or "none"),
            "total_events": total_events,
            "total_rejects": total_rejects,
        },
    )
