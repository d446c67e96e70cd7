"""Dagster's side of orchestration/run_recovery.py: no run killed earlier blocks a later one.

- `writer_executor`: the in-process executor of every job here, which first marks dead runs
  failed, frees their pool slots and waits for a live holder (`dagster job execute`, runs the
  daemon launches). `apiwh run` does the same itself before execute_in_process.
- `dead_run_sensor`: under the daemon, a dead run keeps the run queue's warehouse_writer slot
  and no new run starts to notice it, so a sensor looks every half minute.
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg

from orchestration.run_recovery import recover_dead_runs, wait_for_writer_pool
from orchestration.settings import DEFAULT_REFRESH_WAIT_SECONDS


class _AfterRecovery(dg.Executor):
    """Dagster's in-process executor, after wait_for_writer_pool."""

    def __init__(self, inner: dg.Executor, wait_seconds: float) -> None:
        self.inner = inner
        self.wait_seconds = wait_seconds

    @property
    def retries(self):  # noqa: ANN201 - Dagster's RetryMode, not exported
        return self.inner.retries

    @property
    def step_dependency_config(self):  # noqa: ANN201
        return self.inner.step_dependency_config

    def execute(self, plan_context, execution_plan) -> Iterator[dg.DagsterEvent]:  # noqa: ANN001
        wait_for_writer_pool(
            plan_context.instance,
            timeout_seconds=self.wait_seconds,
            say=plan_context.log.info,
            exclude=plan_context.run_id,
        )
        yield from self.inner.execute(plan_context, execution_plan)


@dg.executor(
    name="in_process_after_recovery",
    config_schema={
        "wait_seconds": dg.Field(
            float,
            default_value=DEFAULT_REFRESH_WAIT_SECONDS,
            description="How long to wait for a live run holding the DuckDB writer (REFRESH_WAIT_SECONDS).",
        )
    },
)
def writer_executor(init_context: dg.InitExecutorContext) -> dg.Executor:
    """In-process, after freeing the writer slots of runs whose process is gone."""
    # Dagster's in-process executor with its default config (retries enabled, as before).
    defaults = init_context._replace(executor_config={"retries": {"enabled": {}}})
    inner = dg.in_process_executor.executor_creation_fn(defaults)
    return _AfterRecovery(inner, init_context.executor_config["wait_seconds"])


@dg.sensor(
    name="recover_dead_runs",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Marks runs whose process is gone (killed, out of memory) as failed and frees their "
        "DuckDB writer slot, so queued runs start."
    ),
)
def dead_run_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    recovered = recover_dead_runs(context.instance)
    for run in recovered:
        context.log.warning(f"recovered: {run.describe()}")
    if not recovered:
        return dg.SkipReason("no run was left behind by a dead process")
    return dg.SkipReason(f"marked {len(recovered)} dead run(s) failed and freed their slots")
