"""Running one step: load inputs, call the op, handle outputs, retry, and record events.

``RunContext`` holds what every step of a run shares (the job, the run, resolved config,
built resources, the event writer). ``execute_step`` runs one step to its end and returns
a ``StepOutcome``; it never raises for an error of the op itself, it records it.
"""

from __future__ import annotations

import inspect
import logging
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from tocsin.definitions.job import JobDefinition, ResolvedRunConfig
from tocsin.definitions.op import DynamicOutput, Output
from tocsin.definitions.resources import Resources, init_resources
from tocsin.errors import (
    DagsterError,
    DagsterInvariantViolationError,
    DagsterStepOutputNotFoundError,
    Failure,
    RetryRequested,
)
from tocsin.execution.capture import capture_step_output
from tocsin.execution.context import AssetExecutionContext, OpExecutionContext, StepData
from tocsin.execution.io_managers import InputContext, OutputContext
from tocsin.execution.plan import ExecutionPlan, Source, Step, StepOutcome
from tocsin.model.errors_info import serializable_error_info_from_exc
from tocsin.model.events import (
    RUN_LIFECYCLE_EVENTS,
    AssetMaterialization,
    AssetObservation,
    AssetObservationData,
    DagsterEvent,
    DagsterEventType,
    EventLogEntry,
    StepFailureData,
    StepMaterializationData,
    StepOutputData,
    StepRetryData,
    StepSuccessData,
)
from tocsin.model.metadata import normalize_metadata
from tocsin.model.tags import PARTITION_NAME_TAG

ET = DagsterEventType
_PID = os.getpid()

# Buffered events are stored when one of these is written: the end of a step (or of an
# attempt before a retry's wait) and every run lifecycle event.
_FLUSH_AT = frozenset(
    e.value
    for e in (
        ET.STEP_SUCCESS,
        ET.STEP_FAILURE,
        ET.STEP_SKIPPED,
        ET.STEP_UP_FOR_RETRY,
        *RUN_LIFECYCLE_EVENTS,
    )
)


class RunContext:
    """What the steps of one run share, in one process."""

    def __init__(
        self,
        job_def: JobDefinition,
        dagster_run: Any,
        instance: Any,
        resolved: ResolvedRunConfig,
        plan: ExecutionPlan,
        writer: Callable[[EventLogEntry], Any],
        *,
        output_capture: dict[tuple[str, str], Any] | None = None,
        batch_writer: Callable[[list[EventLogEntry]], list[EventLogEntry]] | None = None,
    ):
        self.job_def = job_def
        self.job_name = job_def.name
        self.dagster_run = dagster_run
        self.run_id = dagster_run.run_id
        self.instance = instance
        self.resolved = resolved
        self.plan = plan
        self.partition_key = dagster_run.tags.get(PARTITION_NAME_TAG)
        self.output_capture = output_capture
        # Where steps' stdout/stderr go; None: not captured.
        self.compute_logs: Any = getattr(instance, "compute_log_manager", None)
        self.events: list[EventLogEntry] = []
        self.errors: list[BaseException] = []
        self.resources: dict[str, Any] = {}
        self._writer = writer
        self._batch_writer = batch_writer
        self._pending: list[EventLogEntry] = []
        self._scoped: dict[int, Resources] = {}
        self.resource_defs: dict[str, Any] = {}
        self.stack: Any = None
        self.failed_step_keys = []
        from tocsin.definitions.logger import DagsterLogManager

        self.log = DagsterLogManager(
            "tocsin", {"run_id": self.run_id, "job_name": self.job_name}, sinks=[self._log_sink]
        )

    # -- events

    def write(self, entry: EventLogEntry) -> EventLogEntry:
        """Record an entry: at once, or (with a ``batch_writer``) at the next ``flush``.

        A buffered entry is flushed at once when it ends a step or moves the run; until
        then the returned entry has no storage id (``self.events`` gets the stored one).
        """
        if self._batch_writer is None:
            stored = self._writer(entry)
            if isinstance(stored, EventLogEntry):
                entry = stored
            self.events.append(entry)
            return entry
        self.events.append(entry)
        self._pending.append(entry)
        if entry.dagster_event is not None and entry.dagster_event.event_type_value in _FLUSH_AT:
            self.flush()
        return entry

    def flush(self) -> None:
        """Store the buffered entries in one batch, in order (so readers of the instance see
        them); ``self.events`` then holds them with their storage ids."""
        pending = self._pending
        if not pending or self._batch_writer is None:
            return
        self._pending = []
        stored = self._batch_writer(pending)
        # The pending entries are always the newest ones of self.events.
        self.events[len(self.events) - len(pending) :] = stored

    def emit(
        self,
        event_type: DagsterEventType,
        message: str,
        *,
        step_key: str | None = None,
        node_name: str | None = None,
        data: Any = None,
        level: int = logging.DEBUG,
    ) -> EventLogEntry:
        event = DagsterEvent(
            event_type_value=event_type.value,
            job_name=self.job_name,
            step_key=step_key,
            message=message,
            event_specific_data=data,
            pid=_PID,
            node_name=node_name,
        )
        entry = EventLogEntry(
            run_id=self.run_id,
            level=level,
            user_message=message,
            job_name=self.job_name,
            step_key=step_key,
            dagster_event=event,
        )
        return self.write(entry)

    def _log_sink(
        self, level: int, message: str, extra: dict[str, Any], tags: dict[str, str]
    ) -> None:
        self.write(
            EventLogEntry(
                run_id=self.run_id,
                level=level,
                user_message=message,
                job_name=self.job_name,
                step_key=tags.get("step_key"),
                extra=extra,
            )
        )

    # -- the executor's view

    failed_step_keys: list[str]

    def execute_step(self, step: Step, sources: Mapping[str, list[Source]]) -> StepOutcome:
        """Run one step here, in this process."""
        return execute_step(self, step, sources)

    def report_skipped(self, skipped: list[tuple[Step, str, list[str]]]) -> None:
        for step, reason, upstream in skipped:
            if reason == "failed":
                self.emit(
                    ET.ENGINE_EVENT,
                    f"Dependencies for step {step.key} failed: {upstream}. Not executing.",
                    step_key=step.key,
                    node_name=step.node.handle,
                    level=logging.ERROR,
                )
            else:
                self.emit(
                    ET.STEP_SKIPPED,
                    f'Skipped execution of step "{step.key}": its inputs from {upstream} were '
                    "not produced.",
                    step_key=step.key,
                    node_name=step.node.handle,
                )

    # -- resources

    def build_resources(self) -> None:
        """Build the resources the job's ops need, once, torn down with ``self.stack``."""
        from tocsin.execution.run import needed_resource_keys

        self.resources = init_resources(
            self.resource_defs,
            needed_resource_keys(self.job_def),
            self.resolved.resource_config,
            self.instance,
            self.log,
            self.dagster_run,
            self.stack,
            processed=True,
        )

    def scoped_resources(self, op_def: Any) -> Resources:
        scoped = self._scoped.get(id(op_def))
        if scoped is None:
            scoped = Resources(self.resources, op_def.required_resource_keys)
            self._scoped[id(op_def)] = scoped
        return scoped

    def io_manager(self, key: str) -> Any:
        manager = self.resources.get(key)
        if manager is None or not callable(getattr(manager, "handle_output", None)):
            raise DagsterInvariantViolationError(
                f"Resource '{key}' is used as an IO manager but is {manager!r}, which has no "
                "handle_output/load_input. Provide an IOManager for it."
            )
        return manager


# ---------------------------------------------------------------------------- one step


class _RetryStep(Exception):
    def __init__(self, error: BaseException, seconds: float):
        super().__init__()
        self.error = error
        self.seconds = seconds


def execute_step(ctx: RunContext, step: Step, sources: Mapping[str, list[Source]]) -> StepOutcome:
    """Run ``step`` with retries; record its events and what it printed; return how it ended."""
    node = step.node
    started = time.perf_counter()
    ctx.emit(
        ET.STEP_START,
        f'Started execution of step "{step.key}".',
        step_key=step.key,
        node_name=node.handle,
    )
    try:
        # The step's output is stored before its last event, so whoever sees the step end
        # finds its logs.
        with capture_step_output(ctx.compute_logs, ctx.run_id, step.key):
            outputs = _attempts(ctx, step, sources)
    except Exception as exc:
        _record_failure(ctx, step, exc)
        return StepOutcome(False)
    duration = (time.perf_counter() - started) * 1000
    ctx.emit(
        ET.STEP_SUCCESS,
        f'Finished execution of step "{step.key}" in {duration:.2f}ms.',
        step_key=step.key,
        node_name=node.handle,
        data=StepSuccessData(duration),
    )
    return StepOutcome(True, outputs)


def _attempts(
    ctx: RunContext, step: Step, sources: Mapping[str, list[Source]]
) -> dict[str, list[str | None]]:
    """Attempt the step until it succeeds, fails for good (raises) or runs out of retries."""
    node = step.node
    policy = node.retry_policy or node.op_def.retry_policy or ctx.job_def.op_retry_policy
    attempt = 0
    while True:
        try:
            return _attempt(ctx, step, sources, attempt, policy)
        except _RetryStep as retry:
            ctx.emit(
                ET.STEP_UP_FOR_RETRY,
                f'Execution of step "{step.key}" failed and has requested a retry.',
                step_key=step.key,
                node_name=node.handle,
                data=StepRetryData(serializable_error_info_from_exc(retry.error), retry.seconds),
            )
            if retry.seconds > 0:
                time.sleep(retry.seconds)
            attempt += 1
            ctx.emit(
                ET.STEP_RESTARTED,
                f'Started re-execution (attempt # {attempt + 1}) of step "{step.key}".',
                step_key=step.key,
                node_name=node.handle,
            )


def _record_failure(ctx: RunContext, step: Step, exc: BaseException) -> None:
    user_data = None
    if isinstance(exc, Failure):
        user_data = {
            "label": "intentional-failure",
            "description": exc.description,
            "metadata": normalize_metadata(exc.metadata),
        }
    ctx.errors.append(exc)
    ctx.emit(
        ET.STEP_FAILURE,
        f'Execution of step "{step.key}" failed.',
        step_key=step.key,
        node_name=step.node.handle,
        data=StepFailureData(
            serializable_error_info_from_exc(exc),
            user_failure_data=user_data,
            error_source="USER_CODE_ERROR" if not isinstance(exc, DagsterError) else None,
        ),
        level=logging.ERROR,
    )


def _retry_or_raise(exc: BaseException, attempt: int, policy: Any) -> None:
    if isinstance(exc, RetryRequested):
        if attempt < exc.max_retries:
            raise _RetryStep(exc, float(exc.seconds_to_wait or 0)) from exc
        return
    if isinstance(exc, DagsterError) or policy is None:
        return
    if isinstance(exc, Failure) and not exc.allow_retries:
        return
    if attempt < policy.max_retries:
        raise _RetryStep(exc, policy.calculate_delay(attempt + 1)) from exc


def _attempt(
    ctx: RunContext, step: Step, sources: Mapping[str, list[Source]], attempt: int, policy: Any
) -> dict[str, list[str | None]]:
    node = step.node
    op_def = node.op_def
    data = StepData(
        dagster_run=ctx.dagster_run,
        instance=ctx.instance,
        flush=ctx.flush,
        job_def=ctx.job_def,
        job_name=ctx.job_name,
        log=ctx.log.with_tags(step_key=step.key, op_name=node.handle),
        mapping_key=step.mapping_key,
        node_handle=node.handle,
        op_config=ctx.resolved.op_config.get(node.handle),
        op_def=op_def,
        partition_key=ctx.partition_key,
        partitions_def=ctx.job_def.partitions_def,
        resources=ctx.scoped_resources(op_def),
        retry_number=attempt,
        step_key=step.key,
        run_tags=ctx.dagster_run.tags,
    )
    is_asset = any(o.asset_key is not None for o in op_def.outs.values())
    context = (AssetExecutionContext if is_asset else OpExecutionContext)(data)
    try:
        inputs = _load_inputs(ctx, step, sources, context)
        result = op_def.call_compute(context, inputs, data.resources)
        produced = _handle_result(ctx, step, context, result)
    except Exception as exc:
        _retry_or_raise(exc, attempt, policy)
        raise
    return produced


# ---------------------------------------------------------------------------- inputs


def _load_inputs(
    ctx: RunContext, step: Step, sources: Mapping[str, list[Source]], context: Any
) -> dict[str, Any]:
    node = step.node
    op_def = node.op_def
    inputs: dict[str, Any] = {}
    config_inputs = ctx.resolved.op_inputs.get(node.handle, {})
    for name, spec in op_def.ins.items():
        if spec.is_nothing:
            continue
        srcs = sources.get(name)
        if srcs is not None:
            values = [_load_source(ctx, step, name, spec, src) for src in srcs]
            dep = node.dependencies[name]
            inputs[name] = values if _is_fan_in(dep) else values[0]
        elif name in config_inputs:
            inputs[name] = config_inputs[name]
        elif "." not in node.handle and name in ctx.job_def.input_values:
            inputs[name] = ctx.job_def.input_values[name]
        elif spec.asset_key is not None:
            inputs[name] = _load_asset(ctx, step, name, spec)
        elif spec.has_default_value:
            inputs[name] = spec.default_value
        else:
            raise DagsterInvariantViolationError(
                f"Input '{name}' of op '{node.handle}' has no upstream output, no config value "
                f"and no default. Provide it in run config at ops.{node.handle}.inputs.{name}."
            )
    return inputs


def _is_fan_in(dep: Any) -> bool:
    from tocsin.definitions.composition import (
        DynamicCollectDependencyDefinition,
        MultiDependencyDefinition,
    )

    return isinstance(dep, (MultiDependencyDefinition, DynamicCollectDependencyDefinition))


def _output_context(ctx: RunContext, src: Source) -> OutputContext:
    upstream = ctx.plan.by_handle[src.node_handle]
    out = upstream.op_def.outs[src.output_name]
    return OutputContext(
        step_key=src.step_key,
        name=src.output_name,
        job_name=ctx.job_name,
        run_id=ctx.run_id,
        metadata=out.metadata,
        mapping_key=src.mapping_key,
        dagster_type=out.dagster_type,
        log=ctx.log,
        resources=ctx.scoped_resources(upstream.op_def),
        asset_key=out.asset_key,
        partition_key=ctx.partition_key if out.asset_key is not None else None,
        op_def=upstream.op_def,
    )


def _load_source(ctx: RunContext, step: Step, name: str, spec: Any, src: Source) -> Any:
    upstream = ctx.plan.by_handle[src.node_handle]
    out = upstream.op_def.outs[src.output_name]
    if out.is_nothing:
        return None
    upstream_context = _output_context(ctx, src)
    key = spec.input_manager_key or out.io_manager_key
    input_context = InputContext(
        name=name,
        job_name=ctx.job_name,
        op_def=step.op_def,
        metadata=spec.metadata,
        upstream_output=upstream_context,
        dagster_type=spec.dagster_type,
        log=ctx.log,
        resources=ctx.scoped_resources(step.op_def),
        asset_key=spec.asset_key or out.asset_key,
        partition_key=ctx.partition_key,
    )
    value = ctx.io_manager(key).load_input(input_context)
    ctx.emit(
        ET.LOADED_INPUT,
        f'Loaded input "{name}" using input manager "{key}", from output '
        f'"{src.output_name}" of step "{src.step_key}"',
        step_key=step.key,
        node_name=step.node.handle,
    )
    return value


def _load_asset(ctx: RunContext, step: Step, name: str, spec: Any) -> Any:
    key = spec.input_manager_key or "io_manager"
    upstream = OutputContext(
        name="result",
        job_name=ctx.job_name,
        log=ctx.log,
        asset_key=spec.asset_key,
        partition_key=ctx.partition_key,
    )
    input_context = InputContext(
        name=name,
        job_name=ctx.job_name,
        op_def=step.op_def,
        metadata=spec.metadata,
        upstream_output=upstream,
        dagster_type=spec.dagster_type,
        log=ctx.log,
        resources=ctx.scoped_resources(step.op_def),
        asset_key=spec.asset_key,
        partition_key=ctx.partition_key,
    )
    value = ctx.io_manager(key).load_input(input_context)
    ctx.emit(
        ET.LOADED_INPUT,
        f'Loaded input "{name}" using input manager "{key}"',
        step_key=step.key,
        node_name=step.node.handle,
    )
    return value


# ---------------------------------------------------------------------------- outputs


def _handle_result(
    ctx: RunContext, step: Step, context: OpExecutionContext, result: Any
) -> dict[str, list[str | None]]:
    op_def = step.op_def
    produced: dict[str, list[str | None]] = {}
    if inspect.isgenerator(result):
        for item in result:
            _drain_logged(ctx, step, context)
            _handle_item(ctx, step, context, item, produced)
    else:
        for item in _outputs_from_return(op_def, result):
            _handle_item(ctx, step, context, item, produced)
    _drain_logged(ctx, step, context)
    for name, out in op_def.outs.items():
        if out.is_required and not out.is_dynamic and name not in produced:
            raise DagsterStepOutputNotFoundError(
                f'Core compute for op "{op_def.name}" did not return an output for non-optional '
                f'output "{name}". Return or yield a value for it, or mark it '
                "Out(is_required=False)."
            )
    return produced


def _outputs_from_return(op_def: Any, result: Any) -> list[Any]:
    outs = op_def.outs
    if not outs:
        return []
    if len(outs) == 1:
        name, out = next(iter(outs.items()))
        if isinstance(result, Output):
            return [result]
        if out.is_dynamic and isinstance(result, (list, tuple)):
            return list(result)
        if result is None and not out.is_required:
            return []
        return [Output(result, name)]
    if result is None and not any(o.is_required for o in outs.values()):
        return []
    if not isinstance(result, tuple) or len(result) != len(outs):
        raise DagsterInvariantViolationError(
            f"Op '{op_def.name}' has {len(outs)} outputs {list(outs)}, so it must return a "
            f"tuple of {len(outs)} values (or yield Output objects); it returned {result!r}."
        )
    items = []
    for (name, _out), value in zip(outs.items(), result, strict=True):
        if isinstance(value, Output):
            if value.output_name != name:
                raise DagsterInvariantViolationError(
                    f"Op '{op_def.name}' returned Output(output_name={value.output_name!r}) in "
                    f"the position of output '{name}'."
                )
            items.append(value)
        else:
            items.append(Output(value, name))
    return items


def _drain_logged(ctx: RunContext, step: Step, context: OpExecutionContext) -> None:
    events = context._data.events
    if events:
        for event in events:
            _record_asset_event(ctx, step, event)
        events.clear()


def _record_asset_event(ctx: RunContext, step: Step, event: Any) -> None:
    if isinstance(event, AssetObservation):
        ctx.emit(
            ET.ASSET_OBSERVATION,
            f"Observed {event.asset_key.to_user_string()}",
            step_key=step.key,
            node_name=step.node.handle,
            data=AssetObservationData(event),
        )
    else:
        ctx.emit(
            ET.ASSET_MATERIALIZATION,
            f"Materialized value {event.asset_key.to_user_string()}.",
            step_key=step.key,
            node_name=step.node.handle,
            data=StepMaterializationData(event),
        )


def _handle_item(
    ctx: RunContext,
    step: Step,
    context: OpExecutionContext,
    item: Any,
    produced: dict[str, list[str | None]],
) -> None:
    op_def = step.op_def
    if isinstance(item, (AssetMaterialization, AssetObservation)):
        _record_asset_event(ctx, step, item)
        return
    if not isinstance(item, Output):
        raise DagsterInvariantViolationError(
            f'Compute function for op "{op_def.name}" yielded a value of type '
            f"{type(item).__name__} rather than an Output, DynamicOutput, AssetMaterialization "
            "or AssetObservation. Wrap it: yield Output(value, output_name=...)."
        )
    out = op_def.outs.get(item.output_name)
    if out is None:
        raise DagsterInvariantViolationError(
            f'Op "{op_def.name}" has no output named "{item.output_name}" '
            f"(outputs: {list(op_def.outs)})."
        )
    mapping_key = item.mapping_key if isinstance(item, DynamicOutput) else None
    if out.is_dynamic != (mapping_key is not None):
        kind = (
            "a DynamicOut; yield DynamicOutput" if out.is_dynamic else "not dynamic; yield Output"
        )
        raise DagsterInvariantViolationError(
            f'Output "{item.output_name}" of op "{op_def.name}" is {kind} values.'
        )
    keys = produced.setdefault(item.output_name, [])
    if mapping_key in keys:
        what = f"mapping key '{mapping_key}'" if mapping_key else "a value"
        raise DagsterInvariantViolationError(
            f'Compute for op "{op_def.name}" returned {what} for output "{item.output_name}" '
            "more than once."
        )
    keys.append(mapping_key)
    _emit_output(ctx, step, context, item, out, mapping_key)


def _emit_output(
    ctx: RunContext,
    step: Step,
    context: OpExecutionContext,
    item: Output,
    out: Any,
    mapping_key: str | None,
) -> None:
    node = step.node
    name = item.output_name
    ctx.emit(
        ET.STEP_OUTPUT,
        f'Yielded output "{name}" of type "Any". (Type check passed).',
        step_key=step.key,
        node_name=node.handle,
        data=StepOutputData(name, mapping_key),
    )
    output_context = _output_context(ctx, Source(step.key, node.handle, name, mapping_key))
    skip_io = out.is_nothing or (
        item.value is None and getattr(item, "_tocsin_materialize_result", None) is not None
    )
    if not skip_io:
        ctx.io_manager(out.io_manager_key).handle_output(output_context, item.value)
        ctx.emit(
            ET.HANDLED_OUTPUT,
            f'Handled output "{name}" using IO manager "{out.io_manager_key}"',
            step_key=step.key,
            node_name=node.handle,
        )
    _capture(ctx, step, name, mapping_key, item.value)
    if out.asset_key is not None:
        metadata = dict(item.metadata)
        metadata.update(normalize_metadata(context._data.output_metadata.get((name, mapping_key))))
        metadata.update(output_context.get_logged_metadata())
        materialization = AssetMaterialization(
            out.asset_key, metadata=metadata, partition=ctx.partition_key, tags=item.tags or None
        )
        _record_asset_event(ctx, step, materialization)


def _capture(ctx: RunContext, step: Step, name: str, mapping_key: str | None, value: Any) -> None:
    capture = ctx.output_capture
    if capture is None:
        return
    key = (step.node.handle, name)
    if mapping_key is not None or step.mapping_key is not None:
        capture.setdefault(key, {})[mapping_key or step.mapping_key] = value
    else:
        capture[key] = value
