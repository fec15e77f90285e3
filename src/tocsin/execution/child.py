"""Running steps in child processes (the multiprocess executor's engine).

The parent schedules; each child loads the job by importing its module, opens the instance
from its ref, builds the resources the step needs, runs the one step and sends its events
back. The parent writes those events, so the event log keeps one writer per run.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from tocsin.errors import DagsterInvariantViolationError
from tocsin.execution.plan import ExecutionPlan, PlanScheduler, Source, Step, StepOutcome
from tocsin.model.events import EventLogEntry

_INSTANCES: dict[Any, Any] = {}


def run_steps_in_children(
    ctx: Any, plan: ExecutionPlan, origin: tuple[str, str, str | None], ref: Any, executor: Any
) -> None:
    """Run every step of ``plan`` in a pool of child processes."""
    scheduler = PlanScheduler(plan)
    mp_context = multiprocessing.get_context(executor.start_method)
    run_dict = ctx.dagster_run.to_dict()
    selection = ctx.job_def.op_selection
    futures: dict[Future[Any], Step] = {}
    with ProcessPoolExecutor(max_workers=executor.max_concurrent, mp_context=mp_context) as pool:
        while not scheduler.is_complete:
            for step in scheduler.ready():
                payload = (
                    origin,
                    ctx.job_def.name,
                    selection,
                    ref,
                    run_dict,
                    ctx.resolved.raw,
                    step.handle,
                    step.mapping_key,
                    scheduler.sources_for(step),
                )
                futures[pool.submit(run_step_in_child, payload)] = step
            ctx.report_skipped(scheduler.take_skipped())
            if not futures:
                if scheduler.pending:
                    raise DagsterInvariantViolationError(
                        f"Steps {scheduler.pending} can never run: their upstream never finished."
                    )
                break
            done, _ = wait(list(futures), return_when=FIRST_COMPLETED)
            for future in done:
                step = futures.pop(future)
                scheduler.complete(step, _collect(ctx, step, future))
    ctx.failed_step_keys = scheduler.failed_step_keys


def _collect(ctx: Any, step: Step, future: Future[Any]) -> StepOutcome:
    try:
        result = future.result()
    except Exception as exc:  # the child process died or could not load the job
        from tocsin.execution.step import _record_failure

        _record_failure(ctx, step, exc)
        return StepOutcome(False)
    for data in result["events"]:
        ctx.write(EventLogEntry.from_dict(data))
    return StepOutcome(result["success"], result["outputs"])


def run_step_in_child(payload: tuple[Any, ...]) -> dict[str, Any]:
    """Child-process entry point: run one step, return its events and outcome."""
    origin, job_name, selection, ref, run_dict, raw_config, handle, mapping_key, sources = payload
    from tocsin.definitions.job import resolve_run_config
    from tocsin.execution.executors import load_job
    from tocsin.execution.io_managers import fs_io_manager
    from tocsin.execution.step import RunContext, _record_failure, execute_step
    from tocsin.model.run import DagsterRun

    job_def = load_job(origin[0], origin[1], job_name, origin[2])
    if selection:
        job_def = job_def.get_subset(op_selection=selection)
    instance = _instance_for(ref)
    run = DagsterRun.from_dict(run_dict)
    plan = ExecutionPlan(job_def.nodes_in_topological_order)
    node = plan.by_handle[handle]
    step = Step(handle if mapping_key is None else f"{handle}[{mapping_key}]", node, mapping_key)
    resolved = resolve_run_config(job_def, raw_config, run.partition_key)
    ctx = RunContext(job_def, run, instance, resolved, plan, lambda entry: entry)
    ctx.resource_defs = {"io_manager": fs_io_manager, **job_def.resource_defs}
    with contextlib.ExitStack() as stack:
        ctx.stack = stack
        try:
            ctx.build_resources()
        except Exception as exc:
            _record_failure(ctx, step, exc)
            outcome = StepOutcome(False)
        else:
            outcome = execute_step(ctx, step, _as_sources(sources))
    return {
        "events": [e.to_dict() for e in ctx.events],
        "success": outcome.success,
        "outputs": outcome.outputs,
    }


def _as_sources(sources: dict[str, list[Source]]) -> dict[str, list[Source]]:
    return {k: list(v) for k, v in sources.items()}


def _instance_for(ref: Any) -> Any:
    instance = _INSTANCES.get(repr(ref))
    if instance is None:
        from tocsin.instance.instance import DagsterInstance

        instance = DagsterInstance.from_ref(ref)
        _INSTANCES[repr(ref)] = instance
    return instance
