"""Running a job: create (or take) the run, build resources, run the plan, record the outcome.

``execute_job_in_process`` backs ``JobDefinition.execute_in_process``: steps run in this
process, outputs stay in memory unless the job names another ``io_manager``.
``execute_run`` runs an existing run (the run worker calls it) with the job's own executor
and, by default, ``fs_io_manager``, so steps in child processes can share outputs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

from tocsin.definitions.job import JobDefinition, ResolvedRunConfig, resolve_run_config
from tocsin.errors import (
    DagsterInvalidConfigError,
    DagsterInvalidDefinitionError,
    DagsterInvariantViolationError,
)
from tocsin.execution.executors import InitExecutorContext, InProcessExecutor
from tocsin.execution.io_managers import fs_io_manager, mem_io_manager
from tocsin.execution.plan import ExecutionPlan
from tocsin.execution.result import ExecuteInProcessResult
from tocsin.execution.step import RunContext
from tocsin.model.errors_info import SerializableErrorInfo, serializable_error_info_from_exc
from tocsin.model.events import DagsterEventType, JobFailureData
from tocsin.model.tags import PARTITION_NAME_TAG

ET = DagsterEventType


def execute_job_in_process(
    job_def: JobDefinition,
    *,
    run_config: Any = None,
    instance: Any = None,
    partition_key: str | None = None,
    raise_on_error: bool = True,
    op_selection: Sequence[str] | None = None,
    tags: Mapping[str, Any] | None = None,
    resources: Mapping[str, Any] | None = None,
    run_id: str | None = None,
    input_values: Mapping[str, Any] | None = None,
    asset_selection: Any = None,
) -> ExecuteInProcessResult:
    """Create a run of ``job_def`` on ``instance`` and execute it here (see the job method)."""
    if op_selection:
        job_def = job_def.get_subset(op_selection=op_selection)
    if resources:
        job_def = job_def.with_resources(resources)
    if input_values:
        job_def = job_def._copy(input_values={**job_def.input_values, **input_values})
    resource_defs = dict(job_def.resource_defs)
    resource_defs.setdefault("io_manager", mem_io_manager)
    run_tags = _run_tags(job_def, tags, partition_key)
    resolved = _prepare(job_def, run_config, partition_key, instance)
    with _instance_scope(instance) as active:
        if partition_key is not None:
            _validate_partition(job_def, partition_key, active)
        dagster_run = active.create_run(
            job_name=job_def.name,
            run_id=run_id,
            run_config=resolved.raw,
            tags=run_tags,
            op_selection=list(op_selection) if op_selection else None,
            asset_selection=_asset_keys(asset_selection),
        )
        return _execute(
            job_def,
            dagster_run,
            active,
            resolved,
            resource_defs,
            InProcessExecutor(),
            raise_on_error=raise_on_error,
            capture=True,
        )


def execute_run(
    job_def: JobDefinition,
    dagster_run: Any,
    instance: Any,
    *,
    raise_on_error: bool = False,
) -> ExecuteInProcessResult:
    """Execute the already-created ``dagster_run`` of ``job_def``, recording on ``instance``.

    The job's own executor runs the steps (multiprocess by default); the default
    ``io_manager`` is ``fs_io_manager``. A config or definition error fails the run.
    """
    if dagster_run.is_finished:
        raise DagsterInvariantViolationError(
            f"Run {dagster_run.run_id} has already finished with status "
            f"{dagster_run.status.value}; it cannot be executed again. Create a new run."
        )
    if dagster_run.op_selection:
        job_def = job_def.get_subset(op_selection=list(dagster_run.op_selection))
    resource_defs = dict(job_def.resource_defs)
    resource_defs.setdefault("io_manager", fs_io_manager)
    partition_key = dagster_run.tags.get(PARTITION_NAME_TAG)
    try:
        resolved = _prepare(job_def, dagster_run.run_config, partition_key, instance)
        executor_def = job_def.executor_def
        executor = executor_def.create(
            InitExecutorContext(job_def, executor_def, resolved.execution, instance)
        )
    except Exception as exc:
        message = f'Execution of run for "{job_def.name}" failed. {exc}'
        instance.report_run_failed(dagster_run, message)
        if raise_on_error:
            raise
        run = instance.get_run_by_id(dagster_run.run_id) or dagster_run
        return ExecuteInProcessResult(job_def, instance.all_logs(run.run_id), run, None, False)
    return _execute(
        job_def,
        dagster_run,
        instance,
        resolved,
        resource_defs,
        executor,
        raise_on_error=raise_on_error,
        capture=False,
    )


# ---------------------------------------------------------------------------- helpers


def _run_tags(
    job_def: JobDefinition, tags: Mapping[str, Any] | None, partition_key: str | None
) -> dict[str, str]:
    run_tags = {**job_def.tags, **job_def.run_tags}
    run_tags.update({str(k): str(v) for k, v in (tags or {}).items()})
    if partition_key is not None:
        run_tags[PARTITION_NAME_TAG] = partition_key
    return run_tags


def _prepare(
    job_def: JobDefinition, run_config: Any, partition_key: str | None, instance: Any
) -> ResolvedRunConfig:
    job_def.validate_resource_requirements()
    if partition_key is not None and job_def.partitions_def is None:
        raise DagsterInvalidDefinitionError(
            f"Job '{job_def.name}' is not partitioned, but partition_key={partition_key!r} was "
            "given. Give the job a partitions_def or drop the partition key."
        )
    resolved = resolve_run_config(job_def, run_config, partition_key)
    _check_inputs(job_def, resolved)
    return resolved


def _check_inputs(job_def: JobDefinition, resolved: ResolvedRunConfig) -> None:
    errors = []
    for node in job_def.nodes_in_topological_order:
        config_inputs = resolved.op_inputs.get(node.handle, {})
        for name, spec in node.op_def.ins.items():
            if (
                name in node.dependencies
                or spec.is_nothing
                or spec.has_default_value
                or spec.asset_key is not None
                or name in config_inputs
                or ("." not in node.handle and name in job_def.input_values)
            ):
                continue
            path = "ops." + ".ops.".join(node.handle.split("."))
            errors.append(
                f"Missing required config entry \"inputs\" at path {path}: input '{name}' of op "
                f"'{node.handle}' has no upstream output and no default. Give it as "
                f"{path}.inputs.{name}: <value>."
            )
    if errors:
        raise DagsterInvalidConfigError(f"Error in config for job {job_def.name}", errors)


def _validate_partition(job_def: JobDefinition, partition_key: str, instance: Any) -> None:
    validate = getattr(job_def.partitions_def, "validate_partition_key", None)
    if validate is not None:
        validate(partition_key, dynamic_partitions_store=instance)


def _asset_keys(asset_selection: Any) -> Any:
    if not asset_selection:
        return None
    from tocsin.model.asset_key import AssetKey

    return frozenset(AssetKey.from_coercible(k) for k in asset_selection)


@contextlib.contextmanager
def _instance_scope(instance: Any) -> Any:
    if instance is not None:
        yield instance
        return
    from tocsin.instance.instance import DagsterInstance

    with DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral


def needed_resource_keys(job_def: JobDefinition) -> set[str]:
    keys: set[str] = set()
    for node in job_def.nodes_in_topological_order:
        op_def = node.op_def
        keys |= op_def.required_resource_keys
        keys |= {o.io_manager_key for o in op_def.outs.values() if not o.is_nothing}
        for spec in op_def.ins.values():
            if spec.input_manager_key:
                keys.add(spec.input_manager_key)
            elif spec.asset_key is not None and not spec.is_nothing:
                keys.add("io_manager")
    return keys


def _execute(
    job_def: JobDefinition,
    dagster_run: Any,
    instance: Any,
    resolved: ResolvedRunConfig,
    resource_defs: Mapping[str, Any],
    executor: Any,
    *,
    raise_on_error: bool,
    capture: bool,
) -> ExecuteInProcessResult:
    plan = ExecutionPlan(job_def.nodes_in_topological_order)
    capture_dict: dict[tuple[str, str], Any] | None = {} if capture else None
    ctx = RunContext(
        job_def,
        dagster_run,
        instance,
        resolved,
        plan,
        instance.handle_new_event,
        output_capture=capture_dict,
        # A step's events are stored together at its end (an instance without the batch
        # method gets them one by one).
        batch_writer=getattr(instance, "handle_new_events", None),
    )
    ctx.resource_defs = dict(resource_defs)
    ctx.emit(ET.RUN_START, f'Started execution of run for "{job_def.name}".')
    started = time.perf_counter()
    run_error: BaseException | None = None
    try:
        with contextlib.ExitStack() as stack:
            ctx.stack = stack
            if not _runs_in_children(executor):
                ctx.build_resources()
            executor.execute(ctx, plan)
    except Exception as exc:
        run_error = exc
        ctx.errors.append(exc)
    except BaseException:
        ctx.flush()  # an interrupted run still keeps the events it made
        raise
    if isinstance(executor, InProcessExecutor):
        elapsed = (time.perf_counter() - started) * 1000
        ctx.emit(
            ET.ENGINE_EVENT,
            f"Finished steps in process (pid: {os.getpid()}) in {elapsed:.0f}ms",
        )
    failed = list(ctx.failed_step_keys)
    success = run_error is None and not failed
    if success:
        ctx.emit(ET.RUN_SUCCESS, f'Finished execution of run for "{job_def.name}".')
    else:
        error: SerializableErrorInfo | None
        if run_error is not None:
            message = (
                f'Execution of run for "{job_def.name}" failed. An exception was thrown '
                "during execution."
            )
            error = serializable_error_info_from_exc(run_error)
        else:
            message = f'Execution of run for "{job_def.name}" failed. Steps failed: {failed}.'
            error = serializable_error_info_from_exc(ctx.errors[0]) if ctx.errors else None
        ctx.emit(ET.RUN_FAILURE, message, data=JobFailureData(error), level=logging.ERROR)
    ctx.flush()
    final_run = instance.get_run_by_id(dagster_run.run_id) or dagster_run
    result = ExecuteInProcessResult(job_def, ctx.events, final_run, capture_dict, success)
    if raise_on_error and not success and ctx.errors:
        raise ctx.errors[0]
    return result


def _runs_in_children(executor: Any) -> bool:
    return type(executor).__name__ == "MultiprocessExecutor"
