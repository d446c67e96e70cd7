"""Dagster assets: the raw load, the dbt project, and the published snapshot.

No `from __future__ import annotations` here: Dagster inspects the context annotation.
"""

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration import build_state
from orchestration.dbt_project import ensure_manifest, prune_run_targets, release_dbt_duckdb_connection
from orchestration.loading import load_directory
from orchestration.settings import load_settings
from orchestration.snapshot import publish_snapshot
from orchestration.warehouse import DUCKDB_WRITER_POOL, connect


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
def raw_events(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings = load_settings()
    context.log.info(f"loading new files from {settings.raw_data_dir}")

    def progress(index: int, total: int, result) -> None:
        if result.status != "skipped":
            context.log.info(
                f"[{index}/{total}] {result.path}: {result.status}, {result.events:,} events, "
                f"{result.rejects:,} rejected" + (f" ({result.error})" if result.error else "")
            )

    con = connect(settings.warehouse_path)
    try:
        report = load_directory(con, settings.raw_data_dir, salt=settings.ip_hash_salt, progress=progress)
        total_events, total_rejects = con.execute(
            "select (select count(*) from raw.events), (select count(*) from raw.event_rejects)"
        ).fetchall()[0]
    finally:
        con.close()
    context.log.info(report.summary())
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
            "events_loaded": report.events,
            "lines_rejected": report.rejects,
            "unknown_event_types": report.unknown_type_events,
            "failed_files": dg.MetadataValue.md("\n".join(f"- {f}" for f in failed) or "none"),
            "total_events": total_events,
            "total_rejects": total_rejects,
        },
    )


class WarehouseDbtTranslator(DagsterDbtTranslator):
    """Models are keyed <schema>/<model> (marts/customer_usage_summary) and grouped by layer;
    sources keep the default <source>/<table>, so source('raw', 'events') is raw/events."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "snapshot", "seed"):
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "model":
            return dbt_resource_props["schema"]
        return super().get_group_name(dbt_resource_props)

    def get_asset_check_spec(
        self, asset_spec: dg.AssetSpec, manifest: Mapping[str, Any], unique_id: str, project: Any
    ) -> dg.AssetCheckSpec | None:
        """dbt's checks, each with a description (the UI cuts long generated names short)."""
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        return dg.AssetCheckSpec(
            name=spec.name,
            asset=spec.asset_key,
            description=describe_dbt_test(manifest["nodes"][unique_id]),
            additional_deps=[dep.asset_key for dep in spec.additional_deps],
            metadata=spec.metadata,
            blocking=spec.blocking,
        )


def describe_dbt_test(test: Mapping[str, Any]) -> str:
    """One sentence saying what a dbt data test checks, from its YAML description or its kind."""
    if test.get("description"):
        return str(test["description"])
    metadata = test.get("test_metadata") or {}
    kwargs = metadata.get("kwargs") or {}
    column = kwargs.get("column_name") or test.get("column_name")
    kind = metadata.get("name")
    if kind == "not_null":
        return f"{column} is never null."
    if kind == "unique":
        return f"{column} is unique (no two rows share it)."
    if kind == "accepted_values":
        return f"{column} is one of: {', '.join(str(v) for v in kwargs.get('values', []))}."
    if kind == "relationships":
        return f"Every {column} exists in {kwargs.get('to')} ({kwargs.get('field')})."
    if kind:
        shown = {k: v for k, v in kwargs.items() if k != "model" and not str(v).startswith("{{")}
        details = ", ".join(f"{k}={v}" for k, v in sorted(shown.items()))
        return f"{kind}" + (f" ({details})" if details else "") + ": passes when no row breaks it."
    path = test.get("original_file_path", test.get("name"))
    return f"Singular test {path}: passes when its query returns no rows."


class DbtBuildConfig(dg.Config):
    full_refresh: bool = False
    """Rebuild incremental models from scratch (`dbt build --full-refresh`; `apiwh run --full-refresh`)."""


def build_dbt_assets() -> dg.AssetsDefinition:
    # No `project=`: it would only add code references, and shows as an unserializable
    # "[DbtProject]" entry in every asset's metadata in the UI.
    @dbt_assets(
        manifest=ensure_manifest(),
        dagster_dbt_translator=WarehouseDbtTranslator(),
        pool=DUCKDB_WRITER_POOL,
    )
    def warehouse_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig):
        settings = load_settings()
        con = connect(settings.warehouse_path)
        try:
            inputs = build_state.current_inputs(con, settings.as_of, settings.plans_file)
            whole_project = context.selected_asset_keys == set(context.assets_def.keys)
            skip = whole_project and not config.full_refresh and build_state.is_up_to_date(con, inputs)
            kind = build_state.choose_build_kind(con, inputs, full_refresh_requested=config.full_refresh)
        finally:
            con.close()
        if skip:
            # Nothing new: no dbt run; the assets stay unmaterialized, so the alerts and the
            # snapshot downstream are skipped too, and each model says why in its history.
            reason = f"up to date: no new raw load, the same as-of, models and plans ({inputs.describe()})"
            context.log.info(f"dbt build skipped, {reason}")
            for key in sorted(context.selected_asset_keys, key=lambda k: k.to_user_string()):
                yield dg.AssetObservation(asset_key=key, metadata={"skipped": reason})
            return
        # dbt resolves a relative path from dbt_project/; hand it the one this run uses.
        os.environ["WAREHOUSE_PATH"] = str(settings.warehouse_path)
        if settings.plans_file is not None:
            os.environ["PLANS_FILE"] = str(settings.plans_file)
        prune_run_targets()
        # A full build from raw when asked, on a changed model or an as-of date that moved back;
        # otherwise incremental models replace only the touched days (docs/design.md).
        context.log.info(f"dbt build: {kind.name} ({kind.reason})")
        started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        # Unit tests prove the model code, not the data: they run in `make test` and CI.
        args = ["build", "--full-refresh"] if kind.full else ["build"]
        args += ["--exclude-resource-type", "unit_test"]
        build_metadata = {"build_kind": kind.name, "build_reason": kind.reason}
        # Row counts and column types on every model, as the UI shows them (DuckDB supports both).
        try:
            for event in dbt.cli(args, context=context).stream().fetch_row_counts().fetch_column_metadata():
                if isinstance(event, dg.Output):
                    event = event.with_metadata({**event.metadata, **build_metadata})
                yield event
        finally:
            release_dbt_duckdb_connection()
        con = connect(settings.warehouse_path)
        try:
            build_state.record_built(con, inputs, dt.datetime.now(dt.UTC).replace(tzinfo=None), kind)
            days = build_state.rebuilt_days(con, started)
        finally:
            con.close()
        context.log.info(
            f"dbt build was {kind.name}: "
            + ", ".join(f"{model} {'all days' if n < 0 else f'{n} day(s)'}" for model, n in days.items())
        )

    return warehouse_dbt_models


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
    def published_snapshot(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        settings = load_settings()
        con = connect(settings.warehouse_path)
        try:
            counts = publish_snapshot(con, settings.snapshot_path)
            build_state.record_published(con, dt.datetime.now(dt.UTC).replace(tzinfo=None))
        finally:
            con.close()
        context.log.info(f"published {len(counts)} tables to {settings.snapshot_path}")
        return dg.MaterializeResult(
            metadata={"path": str(settings.snapshot_path), "tables": len(counts), **counts}
        )

    return published_snapshot
