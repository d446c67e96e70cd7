"""The dbt project as Dagster assets: one asset per model, dbt tests as asset checks.

No `from __future__ import annotations` here: Dagster inspects the context annotation.
"""

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg

from orchestration import build_state
from orchestration.dbt_cli import (
    keep_parse_state,
    new_run_target,
    parse_state_path,
    prune_run_targets,
)
from orchestration.defs.dagster_dbt_api import (
    DagsterDbtTranslator,
    DbtCliInvocation,
    DbtCliResource,
    dbt_assets,
)
from orchestration.defs.resources import WarehouseResource
from orchestration.privacy.retention import kept_days
from orchestration.warehouse import DUCKDB_WRITER_POOL


def _events_with_row_counts(invocation: DbtCliInvocation, warehouse: WarehouseResource) -> Iterator[Any]:
    """dbt's events once dbt has finished, each built model's with its row count.

    DuckDB lets one process write a file: the rows are counted when dbt has exited, over one
    connection of this run's (dagster-dbt would open a dbt adapter in this process for it:
    WarehouseDbtCliResource). No column types either: each asset's definition already carries
    its columns and types from the manifest, and the marts' contracts make them the table's.
    """
    events: list[Any] = []
    failure: Exception | None = None
    try:
        events.extend(invocation.stream())
    except Exception as error:  # a failed build: its events still reach Dagster, then the error
        failure = error
    nodes = invocation.manifest["nodes"]
    with warehouse.connect() as con:
        for event in events:
            unique_id = event.metadata.get("unique_id") if isinstance(event, dg.Output) else None
            relation = nodes[unique_id.value].get("relation_name") if unique_id else None
            if relation:
                (count,) = con.execute(f"select count(*) from {relation}").fetchone()
                row_count = {"dagster/row_count": dg.MetadataValue.int(count)}
                event = event.with_metadata({**event.metadata, **row_count})
            yield event
    if failure is not None:
        raise failure


# How many of a check's newest executions to look through for its last result: this run's, and
# runs that skipped it (a run stopped before its dbt step) come first.
LOOK_BACK = 10


def _last_results_still_hold(context: dg.AssetExecutionContext) -> Iterator[dg.AssetCheckResult]:
    """Each check's last result, again, for a run that built nothing: the data it checked is
    unchanged, so the result still holds, and the UI shows it instead of "Skipped"."""
    storage = context.instance.event_log_storage
    for check_key in sorted(context.selected_asset_check_keys, key=lambda k: k.to_user_string()):
        # The newest executions: this run's (planned only) first, then earlier runs'.
        evaluated = [
            record
            for record in storage.get_asset_check_execution_history(check_key, limit=LOOK_BACK)
            if record.event is not None
            and record.event.dagster_event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
        ]
        if not evaluated:
            continue  # never evaluated (only planned, or skipped): no result to carry
        record = evaluated[0]
        evaluation = record.event.dagster_event.event_specific_data
        yield dg.AssetCheckResult(
            asset_key=check_key.asset_key,
            check_name=check_key.name,
            passed=evaluation.passed,
            severity=evaluation.severity,
            description=evaluation.description,
            # The run that really checked it: a result carried again keeps its first run.
            metadata={"result_of_run": dg.MetadataValue.dagster_run(record.run_id), **evaluation.metadata},
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
    if kind == "primary_key":
        return f"{', '.join(kwargs.get('columns', []))} identify a row: unique and never null."
    if kind == "not_null_columns":
        return f"Never null: {', '.join(kwargs.get('columns', []))}."
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
    allow_future_as_of: bool = False
    """Build with an AS_OF after the last day with calls (`apiwh run --allow-future-as-of`)."""
    allow_history_loss: bool = False
    """Let a full rebuild drop the sealed days from every mart (`apiwh run --allow-history-loss`)."""


def build_dbt_assets(manifest: str) -> dg.AssetsDefinition:
    """The dbt assets of `manifest` (a path): built when the definitions load, not at import."""

    # No `project=`: it would only add code references, and shows as an unserializable
    # "[DbtProject]" entry in every asset's metadata in the UI.
    @dbt_assets(
        manifest=manifest,
        dagster_dbt_translator=WarehouseDbtTranslator(),
        pool=DUCKDB_WRITER_POOL,
    )
    def warehouse_dbt_models(
        context: dg.AssetExecutionContext,
        dbt: DbtCliResource,
        warehouse: WarehouseResource,
        config: DbtBuildConfig,
    ):
        settings = warehouse.settings
        with warehouse.connect() as con:
            last_day = build_state.as_of_after_the_data(con, settings.as_of)
            if last_day is not None and not config.allow_future_as_of:
                # Every account would look silent since the last call: churn alerts for all.
                raise dg.Failure(
                    description=f"AS_OF {settings.as_of.isoformat()} is after the last day with calls,"
                    f" {last_day.isoformat()}: nothing was built (`apiwh run --allow-future-as-of` builds"
                    " it anyway and delivers no alert)"
                )
            inputs = build_state.current_inputs(con, settings.as_of, settings.plans_file)
            whole_project = context.selected_asset_keys == set(context.assets_def.keys)
            # Up to date unless a retention setting has days left to seal: the build then runs
            # (nothing to rebuild) so the retention step after it can apply them.
            up_to_date = build_state.is_up_to_date(con, inputs, retention=kept_days(settings))
            skip = whole_project and not config.full_refresh and up_to_date
            kind = build_state.choose_build_kind(con, inputs, full_refresh_requested=config.full_refresh)
            refusal = build_state.history_loss(con, kind)
        if skip:
            # Nothing new: no dbt run; the assets stay unmaterialized, so the alerts and the
            # snapshot downstream are skipped too, and each model says why in its history.
            reason = f"up to date: no new raw load, the same as-of, models and plans ({inputs.describe()})"
            context.log.info(f"dbt build skipped, {reason}")
            for key in sorted(context.selected_asset_keys, key=lambda k: k.to_user_string()):
                yield dg.AssetObservation(asset_key=key, metadata={"skipped": reason})
            yield from _last_results_still_hold(context)
            return
        if refusal is not None and not config.allow_history_loss:
            raise dg.Failure(description=refusal)
        prune_run_targets()
        # A full build from raw when asked, on a changed model or an as-of date that moved back;
        # otherwise incremental models replace only the touched days (docs/design.md).
        context.log.info(f"dbt build: {kind.name} ({kind.reason})")
        started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        # Unit tests prove the model code, not the data: they run in `make test` and CI.
        args = ["build", "--full-refresh"] if kind.full else ["build"]
        # This run's warehouse file, as-of date and plans reach dbt as vars, not through os.environ.
        args += ["--exclude-resource-type", "unit_test", "--vars", warehouse.dbt_vars()]
        args += ["--target", settings.dbt_target]
        parse_state = parse_state_path(warehouse.dbt_vars(), settings.dbt_target)
        run_target = new_run_target(f"{context.op.name}-{context.run.run_id[:7]}", parse_state)
        if settings.warehouse_engine == "spark":
            yield from dbt.cli(args, context=context, target_path=run_target).stream()
            return
        if kind.full:
            # One model at a time: over all history one aggregate with p50/p95/p99 per group
            # needs most of DuckDB's memory limit alone. Two at once (the profile's 2 threads)
            # spilled more than 37 GB at 100M events and filled the disk. DuckDB still runs each
            # statement on every core.
            args += ["--threads", "1"]
        build_metadata = {"build_kind": kind.name, "build_reason": kind.reason}
        invocation = dbt.cli(args, context=context, target_path=run_target)
        for event in _events_with_row_counts(invocation, warehouse):
            if isinstance(event, dg.Output):
                event = event.with_metadata({**event.metadata, **build_metadata})
            yield event
        keep_parse_state(run_target, parse_state)
        with warehouse.connect() as con:
            build_state.record_built(con, inputs, dt.datetime.now(dt.UTC).replace(tzinfo=None), kind)
            days = build_state.rebuilt_days(con, started)
        context.log.info(
            f"dbt build was {kind.name}: "
            + ", ".join(f"{model} {'all days' if n < 0 else f'{n} day(s)'}" for model, n in days.items())
        )

    return warehouse_dbt_models
