"""Running one step: load inputs, call the op, handle outputs, retry, and record events.

``RunContext`` holds what every step of a run shares (the job, the run, resolved config,
built resources, the event writer). ``execute_step`` runs one step to its end and returns
a ``StepOutcome``; it never raises for an error of the op itself, it records it. Loading
inputs and handling outputs are in ``step_io``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from tocsin.definitions.job import JobDefinition, ResolvedRunConfig
from tocsin.definitions.resources import Resources, init_resources
from tocsin.errors import (
    DagsterError,
    DagsterInvariantViolationError,
    Failure,
    RetryRequested,
)
from tocsin.execution.capture import capture_step_output
from tocsin.execution.context import AssetExecutionContext, OpExecutionContext, StepData
from tocsin.execution.plan import ExecutionPlan, Source, Step, StepOutcome
from tocsin.execution.step_io import handle_result, load_inputs
from tocsin.model.errors_info import serializable_error_info_from_exc
from tocsin.model.events import (
    RUN_LIFECYCLE_EVENTS,
    DagsterEvent,
    DagsterEventType,
    EventLogEntry,
    StepFailureData,
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
        inputs = load_inputs(ctx, step, sources, context)
        result = op_def.call_compute(context, inputs, data.resources)
        produced = handle_result(ctx, step, context, result)
    except Exception as exc:
        _retry_or_raise(exc, attempt, policy)
        raise
    return produced
