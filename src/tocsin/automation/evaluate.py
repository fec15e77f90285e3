"""The one evaluation of sensors and schedules: call user code, normalize what it returned.

``evaluate_sensor`` and ``evaluate_schedule`` are used by ``evaluate_tick``, the CLI preview
and the daemon alike; user sensor/schedule code is called nowhere else, and always inside
``user_code_error_boundary``.

Errors, by caller:

* ``SensorDefinition.evaluate_tick`` (``wrap_errors=False``): the user's exception
  propagates unchanged; a malformed result raises ``CheckError`` / ``Exception`` /
  ``DagsterInvariantViolationError`` as documented.
* ``ScheduleDefinition.evaluate_tick`` (``wrap_errors=False``): the user's exception comes
  out as ``ScheduleExecutionError`` (the user's error is its cause); result checks raise as
  for sensors.
* the daemon (``wrap_errors=True``): nothing is raised for anything the user's code did;
  the evaluation comes back with ``error`` set (a ``SerializableErrorInfo`` of a
  ``SensorExecutionError`` / ``ScheduleExecutionError`` whose cause is what went wrong), no
  run requests and the cursor the context started with.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tocsin.automation import _check
from tocsin.automation.context import LogLine, ScheduleEvaluationContext, SensorEvaluationContext
from tocsin.automation.results import (
    AddDynamicPartitionsRequest,
    DagsterRunReaction,
    DeleteDynamicPartitionsRequest,
    RunRequest,
    SensorResult,
    SkipReason,
)
from tocsin.errors import (
    CheckError,
    DagsterInvariantViolationError,
    DagsterUnknownPartitionError,
    DagsterUserCodeExecutionError,
    ScheduleExecutionError,
    SensorExecutionError,
    user_code_error_boundary,
)
from tocsin.model.errors_info import SerializableErrorInfo, serializable_error_info_from_exc
from tocsin.model.tags import PARTITION_NAME_TAG, SCHEDULE_NAME_TAG, SENSOR_NAME_TAG

SENSOR_EMPTY_RESULT = "Sensor function returned an empty result"
SCHEDULE_EMPTY_RESULT = "Schedule function returned an empty result"


@dataclass(frozen=True)
class SensorEvaluation:
    """What one sensor evaluation produced.

    Attributes:
        run_requests: the requests, with ``dagster/sensor_name`` (and ``dagster/partition``)
            tags added.
        skip_message: why no run was requested, or None.
        cursor: the cursor after the evaluation (the context's cursor if nothing changed it).
        log_lines: what the function logged through ``context.log``.
        dynamic_partitions_requests: partition keys to add / delete.
        asset_events: asset materializations / observations to record.
        dagster_run_reactions: run status sensor reports (internal).
        error: set when the evaluation failed (then the other fields are empty).
        exception: the exception behind ``error`` (not serialized).
    """

    run_requests: tuple[RunRequest, ...] = ()
    skip_message: str | None = None
    cursor: str | None = None
    log_lines: tuple[LogLine, ...] = ()
    dynamic_partitions_requests: tuple[Any, ...] = ()
    asset_events: tuple[Any, ...] = ()
    dagster_run_reactions: tuple[DagsterRunReaction, ...] = ()
    error: SerializableErrorInfo | None = None
    exception: BaseException | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class ScheduleEvaluation:
    """What one schedule evaluation produced (fields as in ``SensorEvaluation``)."""

    run_requests: tuple[RunRequest, ...] = ()
    skip_message: str | None = None
    log_lines: tuple[LogLine, ...] = ()
    error: SerializableErrorInfo | None = None
    exception: BaseException | None = field(default=None, compare=False, repr=False)


# -- calling user code ---------------------------------------------------------------------


def _scalar_check(sensor_name: str, value: Any) -> Any:
    if isinstance(value, SkipReason | RunRequest | SensorResult | DagsterRunReaction):
        return value
    if value is not None:
        raise Exception(
            f"Error in sensor {sensor_name}: Sensor unexpectedly returned output {value} of "
            f"type {type(value)}.  Should only return SkipReason or RunRequest objects."
        )
    return None


def _drain(gen: Any, on_return: Callable[[Any], Any]) -> list[Any]:
    items: list[Any] = []
    while True:
        try:
            items.append(next(gen))
        except StopIteration as stop:
            if stop.value is not None:
                items.append(on_return(stop.value))
            return items


def _sensor_items(sensor_def: Any, context: SensorEvaluationContext) -> list[Any]:
    """Call the sensor's evaluation function and turn its result into a list of items."""
    raw = sensor_def._evaluation_fn(context)
    if inspect.isgenerator(raw):
        return _drain(raw, lambda value: _scalar_check(sensor_def.name, value))
    if isinstance(raw, list):
        return raw
    checked = _scalar_check(sensor_def.name, raw)
    return [] if checked is None else [checked]


def _call_user_code(
    fn: Callable[[], Any], error_cls: type[DagsterUserCodeExecutionError], message: str
) -> Any:
    """Run ``fn`` inside the boundary: what it raises comes out as ``error_cls``."""
    with user_code_error_boundary(error_cls, message, control_flow_exceptions=(CheckError,)):
        return fn()


def _sensor_error_message(name: str) -> str:
    return f"Error occurred during the execution of evaluation_fn for sensor {name}"


def _schedule_error_message(name: str) -> str:
    return f"Error occurred during the evaluation of schedule {name}"


def _wrapped(error_cls: type[DagsterUserCodeExecutionError], message: str, exc: Exception) -> Any:
    if isinstance(exc, error_cls):
        return exc
    wrapper = error_cls(message, user_exception=exc)
    wrapper.__cause__ = exc
    return wrapper


def _unwrap_user_error(exc: DagsterUserCodeExecutionError) -> BaseException:
    user = exc.user_exception
    return user if user is not None else exc


# -- sensors -------------------------------------------------------------------------------


def evaluate_sensor(
    sensor_def: Any, context: SensorEvaluationContext, *, wrap_errors: bool = False
) -> SensorEvaluation:
    """Evaluate ``sensor_def`` once with ``context`` and normalize its result.

    Args:
        sensor_def: a ``SensorDefinition`` (or subclass).
        context: the evaluation context; its cursor and log lines are read afterwards.
        wrap_errors: False for ``evaluate_tick`` (raise), True for the daemon (return the
            failure as ``error``).

    Returns:
        The normalized ``SensorEvaluation``.
    """
    if not isinstance(context, SensorEvaluationContext):
        raise CheckError(
            f'Param "context" is not a SensorEvaluationContext. Got {context!r} which is type '
            f"{type(context)}."
        )
    message = _sensor_error_message(sensor_def.name)
    try:
        try:
            items = _call_user_code(
                lambda: _sensor_items(sensor_def, context), SensorExecutionError, message
            )
        except SensorExecutionError as exc:
            if wrap_errors:
                raise
            user = _unwrap_user_error(exc)
            raise user from user.__cause__
        return _normalize_sensor(sensor_def, context, items)
    except Exception as exc:
        if not wrap_errors:
            raise
        wrapper = _wrapped(SensorExecutionError, message, exc)
        return SensorEvaluation(
            cursor=context._initial_cursor,
            log_lines=tuple(context.log_lines),
            error=serializable_error_info_from_exc(wrapper),
            exception=wrapper,
        )


def _normalize_sensor(
    sensor_def: Any, context: SensorEvaluationContext, items: list[Any]
) -> SensorEvaluation:
    skip_message: str | None = None
    run_requests: list[RunRequest] = []
    reactions: list[DagsterRunReaction] = []
    partition_requests: list[Any] = []
    asset_events: list[Any] = []
    cursor = context.cursor
    if not items or items == [None]:
        skip_message = SENSOR_EMPTY_RESULT
    elif len(items) == 1:
        item = items[0]
        if not isinstance(item, SkipReason | RunRequest | DagsterRunReaction | SensorResult):
            raise _check.not_one_of(
                item, ["DagsterRunReaction", "RunRequest", "SensorResult", "SkipReason"]
            )
        if isinstance(item, SensorResult):
            run_requests = list(item.run_requests or [])
            if item.skip_reason is not None:
                skip_message = item.skip_reason.skip_message
            elif not run_requests:
                skip_message = SENSOR_EMPTY_RESULT
            check_dynamic_partitions_requests(item.dynamic_partitions_requests)
            partition_requests = list(item.dynamic_partitions_requests)
            if context.cursor_updated and item.cursor:
                raise DagsterInvariantViolationError(
                    "SensorResult.cursor cannot be set if context.update_cursor() was called."
                )
            if item.cursor:
                cursor = item.cursor
            asset_events = list(item.asset_events)
        elif isinstance(item, RunRequest):
            run_requests = [item]
        elif isinstance(item, SkipReason):
            skip_message = item.skip_message
        else:
            reactions = [item]
    else:
        skip_message, run_requests, reactions = _normalize_sensor_list(items)
    resolved = _resolve_sensor_requests(sensor_def, context, run_requests, partition_requests)
    return SensorEvaluation(
        run_requests=tuple(resolved),
        skip_message=skip_message,
        cursor=cursor,
        log_lines=tuple(context.log_lines),
        dynamic_partitions_requests=tuple(partition_requests),
        asset_events=tuple(asset_events),
        dagster_run_reactions=tuple(reactions),
    )


def _normalize_sensor_list(
    items: list[Any],
) -> tuple[str | None, list[RunRequest], list[DagsterRunReaction]]:
    if any(isinstance(item, SensorResult) for item in items):
        raise _check.failed(
            "When a SensorResult is returned from a sensor, it must be the only object returned."
        )
    allowed = (SkipReason, RunRequest, DagsterRunReaction)
    for item in items:
        if not isinstance(item, allowed):
            raise _check.list_member_mismatch(item, _reference_type_names(allowed))
    skips = [item for item in items if isinstance(item, SkipReason)]
    run_requests = [item for item in items if isinstance(item, RunRequest)]
    reactions = [item for item in items if isinstance(item, DagsterRunReaction)]
    if skips:
        if run_requests:
            raise _check.failed(
                "Expected a single SkipReason or one or more RunRequests: received both "
                "RunRequest and SkipReason"
            )
        if reactions:
            raise _check.failed(
                "Expected a single SkipReason or one or more DagsterRunReaction: received both "
                "DagsterRunReaction and SkipReason"
            )
        raise _check.failed("Expected a single SkipReason: received multiple SkipReasons")
    return None, run_requests, reactions


def _reference_type_names(types: Iterable[type]) -> str:
    return "(" + ", ".join(str(t) for t in types) + ")"


def check_dynamic_partitions_requests(requests: Sequence[Any]) -> None:
    """Reject adding and deleting the same key, or adding a key twice, in one evaluation."""
    added: dict[str, set[str]] = {}
    deleted: dict[str, set[str]] = {}
    for request in requests:
        name, keys = request.partitions_def_name, set(request.partition_keys)
        both = (deleted if isinstance(request, AddDynamicPartitionsRequest) else added).get(
            name, set()
        ) & keys
        if both:
            raise DagsterInvariantViolationError(
                "Dynamic partition requests cannot contain both add and delete requests for the "
                f"same partition keys. Invalid request: partitions_def_name '{name}', "
                f"partition_keys: {sorted(both)}"
            )
        same = (added if isinstance(request, AddDynamicPartitionsRequest) else deleted).get(
            name, set()
        ) & keys
        if same and isinstance(request, AddDynamicPartitionsRequest):
            raise DagsterInvariantViolationError(
                f"Cannot request to add duplicate dynamic partition keys: partitions_def_name "
                f"'{name}', partition_keys: {sorted(same)}"
            )
        target = added if isinstance(request, AddDynamicPartitionsRequest) else deleted
        target.setdefault(name, set()).update(keys)


def _resolve_sensor_requests(
    sensor_def: Any,
    context: SensorEvaluationContext,
    run_requests: list[RunRequest],
    partition_requests: list[Any],
) -> list[RunRequest]:
    targets = sensor_def.targets()
    has_assets = sensor_def.asset_selection is not None
    name = sensor_def.name
    if run_requests and not targets and not has_assets:
        raise Exception(
            f"Error in sensor {name}: Sensor evaluation function returned a RunRequest for a "
            "sensor lacking a specified target (job_name, job, or jobs). Targets can be "
            "specified by providing job, jobs, or job_name to the @sensor decorator."
        )
    resolved = []
    for request in run_requests:
        if request.job_name is None and len(targets) > 1:
            raise Exception(
                f"Error in sensor {name}: Sensor returned a RunRequest that did not specify "
                f"job_name for the requested run. Expected one of: {targets}"
            )
        if request.job_name and request.job_name not in targets and not has_assets:
            raise Exception(
                f"Error in sensor {name}: Sensor returned a RunRequest with job_name "
                f"{request.job_name}. Expected one of: {targets}"
            )
        if request.partition_key and PARTITION_NAME_TAG not in request.tags:
            definitions = context.repository_def
            if definitions is None:
                raise DagsterInvariantViolationError(
                    "Must provide repository def to build_sensor_context when yielding "
                    "partitioned run requests"
                )
            job_name = request.job_name or (targets[0] if targets else None)
            store = _PendingPartitions(_partitions_store(context), partition_requests)
            request = resolve_partition(request, definitions, job_name, store)
        resolved.append(request.with_tags({SENSOR_NAME_TAG: name}))
    return resolved


class _PendingPartitions:
    """The instance's dynamic partitions as they will be after this tick's requests."""

    def __init__(self, store: Any, requests: Sequence[Any]):
        self._store = store
        self._requests = list(requests)

    def get_dynamic_partitions(self, partitions_def_name: str) -> list[str]:
        keys = list(self._store.get_dynamic_partitions(partitions_def_name)) if self._store else []
        for request in self._requests:
            if request.partitions_def_name != partitions_def_name:
                continue
            if isinstance(request, AddDynamicPartitionsRequest):
                keys += [k for k in request.partition_keys if k not in keys]
            elif isinstance(request, DeleteDynamicPartitionsRequest):
                keys = [k for k in keys if k not in request.partition_keys]
        return keys

    def has_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> bool:
        return partition_key in self.get_dynamic_partitions(partitions_def_name)


def _partitions_store(context: Any) -> Any:
    if context._instance is None and context.instance_ref is None:
        return None
    return context.instance


def _get_job(definitions: Any, job_name: str | None) -> Any:
    if job_name is None:
        return None
    for getter in ("get_job_def", "get_job"):
        if callable(getattr(definitions, getter, None)):
            return getattr(definitions, getter)(job_name)
    return None


def resolve_partition(
    request: RunRequest, definitions: Any, job_name: str | None, store: Any, now: Any = None
) -> RunRequest:
    """Check ``request.partition_key`` against the job's partitions and tag the request.

    Raises:
        DagsterUnknownPartitionError: the job has no such partition (or no partitions).
    """
    job = _get_job(definitions, job_name)
    partitions_def = getattr(job, "partitions_def", None)
    key = request.partition_key
    if partitions_def is None:
        raise DagsterUnknownPartitionError(
            f"Could not find a partition with key `{key}`: job '{job_name}' is not partitioned. "
            "Give the job a partitions_def, or drop partition_key from the RunRequest."
        )
    keys = partitions_def.get_partition_keys(current_time=now, dynamic_partitions_store=store)
    if key not in keys:
        raise DagsterUnknownPartitionError(
            f"Could not find a partition with key `{key}` in job '{job_name}'."
        )
    run_config = request.run_config
    partitioned_config = getattr(job, "get_run_config_for_partition_key", None)
    if not run_config and callable(partitioned_config):
        run_config = partitioned_config(key)
    return RunRequest(
        run_key=request.run_key,
        run_config=run_config,
        tags={**request.tags, PARTITION_NAME_TAG: key},
        job_name=request.job_name,
        asset_selection=request.asset_selection,
        stale_assets_only=request.stale_assets_only,
        partition_key=key,
        asset_check_keys=request.asset_check_keys,
        asset_graph_subset=request.asset_graph_subset,
    )


# -- schedules -----------------------------------------------------------------------------


def evaluate_schedule(
    schedule_def: Any, context: ScheduleEvaluationContext, *, wrap_errors: bool = False
) -> ScheduleEvaluation:
    """Evaluate ``schedule_def`` once with ``context`` and normalize its result.

    Args:
        schedule_def: a ``ScheduleDefinition``.
        context: the evaluation context (its scheduled time is the tick's cron time).
        wrap_errors: False for ``evaluate_tick`` (raise), True for the daemon (return the
            failure as ``error``).
    """
    if not isinstance(context, ScheduleEvaluationContext):
        raise CheckError(
            f'Param "context" is not a ScheduleEvaluationContext. Got {context!r} which is type '
            f"{type(context)}."
        )
    message = _schedule_error_message(schedule_def.name)
    try:
        items = _call_user_code(
            lambda: _schedule_items(schedule_def, context), ScheduleExecutionError, message
        )
        return _normalize_schedule(schedule_def, context, items)
    except Exception as exc:
        if not wrap_errors:
            raise
        wrapper = _wrapped(ScheduleExecutionError, message, exc)
        return ScheduleEvaluation(
            log_lines=tuple(context.log_lines),
            error=serializable_error_info_from_exc(wrapper),
            exception=wrapper,
        )


def _schedule_items(schedule_def: Any, context: ScheduleEvaluationContext) -> list[Any]:
    raw = schedule_def._evaluation_fn(context)
    if inspect.isgenerator(raw):
        return _drain(raw, lambda value: value)
    if isinstance(raw, list):
        return raw
    return [raw]


def _normalize_schedule(
    schedule_def: Any, context: ScheduleEvaluationContext, items: list[Any]
) -> ScheduleEvaluation:
    skip_message: str | None = None
    run_requests: list[RunRequest] = []
    if not items or items == [None]:
        skip_message = SCHEDULE_EMPTY_RESULT
    elif len(items) == 1:
        item = items[0]
        if not isinstance(item, SkipReason | RunRequest):
            raise _check.not_one_of(item, ["RunRequest", "SkipReason"])
        if isinstance(item, RunRequest):
            run_requests = [item]
        else:
            skip_message = item.skip_message
    else:
        for item in items:
            if not isinstance(item, RunRequest):
                raise _check.list_member_mismatch(item, RunRequest)
        _check.invariant(
            all(request.run_key for request in items),
            "Schedules that return multiple RunRequests must specify a run_key in each RunRequest",
        )
        run_requests = list(items)
    resolved = []
    for request in run_requests:
        if request.partition_key and PARTITION_NAME_TAG not in request.tags:
            definitions = context.repository_def
            if definitions is None:
                raise DagsterInvariantViolationError(
                    "Attempted to access repository_def, but no repository_def was provided."
                )
            store = _PendingPartitions(_partitions_store(context), [])
            request = resolve_partition(
                request,
                definitions,
                request.job_name or schedule_def.job_name,
                store,
                context._scheduled_execution_time,
            )
        resolved.append(request.with_tags({SCHEDULE_NAME_TAG: schedule_def.name}))
    return ScheduleEvaluation(
        run_requests=tuple(resolved),
        skip_message=skip_message,
        log_lines=tuple(context.log_lines),
    )
