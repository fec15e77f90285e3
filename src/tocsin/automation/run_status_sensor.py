"""Run status sensors: call a function for each run that reached a status.

A run status sensor keeps its position in the event log as a storage id, in a JSON cursor
(``RunStatusSensorCursor``). Each tick reads the run lifecycle events of its status after that
id through the instance's indexed query (``get_event_records``, ascending, a bounded page), so
its cost grows with new events, not with history; a backlog is worked off over several ticks
and nothing is dropped.

* The first tick starts "now": it sets the cursor after the newest matching event and skips
  with ``Initiating <name>. Set cursor to RunStatusSensorCursor(...)``. Runs that finished
  before the sensor started are never reported.
* For each event whose run matches ``monitored_jobs`` the user function is called with a
  ``RunStatusSensorContext``. While it returns None, every matching run of the page is handled
  in one tick and reported as a ``DagsterRunReaction`` (the daemon writes an engine event
  ``Sensor "<name>" acted on run status <STATUS> of run <id>.`` to that run).
* When the function returns a value (RunRequest, SkipReason, SensorResult, a list or a
  generator), that value is the tick's result and the tick handles no further run, so one run
  is handled per tick.
* When the function raises, the error is kept on that run's reaction (the daemon fails the
  tick with it) and the cursor still moves past the run: a run is never retried.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tocsin.automation import _check
from tocsin.automation._invocation import call_with_context, resolve_direct_call
from tocsin.automation._resources import Resources, open_resources
from tocsin.automation.results import DagsterRunReaction, RunRequest, SensorResult, SkipReason
from tocsin.automation.sensor import DefaultSensorStatus, SensorDefinition
from tocsin.errors import (
    CheckError,
    DagsterInvalidDefinitionError,
    DagsterInvalidInvocationError,
    DagsterInvariantViolationError,
    ParameterCheckError,
)
from tocsin.model.errors_info import serializable_error_info_from_exc
from tocsin.model.events import DagsterEvent, DagsterEventType, EventRecordsFilter
from tocsin.model.run import DagsterRun, DagsterRunStatus, RunsFilter
from tocsin.model.tags import CODE_LOCATION_TAG, PARTITION_NAME_TAG

DEFAULT_REPOSITORY_NAME = "__repository__"

# How many events one tick reads, and how many matching runs it hands to the user function.
# Events of runs that do not match only move the cursor, so reading more than we process
# keeps a sensor that watches one job from crawling through other jobs' events.
EVENTS_PER_TICK = 25
RUNS_PER_TICK = 5

_STATUS_EVENT_TYPES: dict[DagsterRunStatus, DagsterEventType] = {
    DagsterRunStatus.QUEUED: DagsterEventType.RUN_ENQUEUED,
    DagsterRunStatus.STARTING: DagsterEventType.RUN_STARTING,
    DagsterRunStatus.STARTED: DagsterEventType.RUN_START,
    DagsterRunStatus.SUCCESS: DagsterEventType.RUN_SUCCESS,
    DagsterRunStatus.FAILURE: DagsterEventType.RUN_FAILURE,
    DagsterRunStatus.CANCELING: DagsterEventType.RUN_CANCELING,
    DagsterRunStatus.CANCELED: DagsterEventType.RUN_CANCELED,
}


# ----------------------------------------------------------------------------------------------
# Selectors: jobs and code locations outside the sensor's own


@dataclass(frozen=True)
class RepositorySelector:
    """All jobs of one repository of a code location."""

    location_name: str
    repository_name: str = DEFAULT_REPOSITORY_NAME

    def __post_init__(self) -> None:
        _require_str(self.location_name, "location_name", "RepositorySelector")
        _require_str(self.repository_name, "repository_name", "RepositorySelector")


@dataclass(frozen=True)
class CodeLocationSelector:
    """All jobs of one code location."""

    location_name: str
    repository_name: str | None = None

    def __post_init__(self) -> None:
        _require_str(self.location_name, "location_name", "CodeLocationSelector")
        _check.opt_str(self.repository_name, "repository_name")

    def to_repository_selector(self) -> RepositorySelector:
        return RepositorySelector(
            self.location_name, self.repository_name or DEFAULT_REPOSITORY_NAME
        )


@dataclass(frozen=True)
class JobSelector:
    """One job of another code location."""

    location_name: str
    repository_name: str | None = None
    job_name: str | None = None

    def __post_init__(self) -> None:
        _require_str(self.location_name, "location_name", "JobSelector")
        _check.opt_str(self.repository_name, "repository_name")
        _check.opt_str(self.job_name, "job_name")


def _require_str(value: Any, name: str, owner: str) -> None:
    if not isinstance(value, str):
        raise ParameterCheckError(
            f'{owner}: param "{name}" is not a str. Got {value!r} which is type {type(value)}.'
        )


# ----------------------------------------------------------------------------------------------
# The cursor


@dataclass(frozen=True)
class RunStatusSensorCursor:
    """Where a run status sensor is in the event log.

    Attributes:
        record_id: storage id of the last event processed (-1: none yet).
        update_timestamp: ISO time of that event, for people reading the cursor.
    """

    record_id: int
    update_timestamp: str | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "__class__": "RunStatusSensorCursor",
                "record_id": self.record_id,
                "update_timestamp": self.update_timestamp,
            },
            sort_keys=True,
        )

    @staticmethod
    def from_json(text: str | None) -> RunStatusSensorCursor | None:
        """Read a cursor; None when ``text`` is not one (then the sensor starts afresh)."""
        if not text:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict) or data.get("__class__") != "RunStatusSensorCursor":
            return None
        record_id = data.get("record_id")
        if isinstance(record_id, bool) or not isinstance(record_id, int):
            return None
        stamp = data.get("update_timestamp") or data.get("record_timestamp")
        return RunStatusSensorCursor(record_id, stamp if isinstance(stamp, str) else None)

    @staticmethod
    def is_valid(text: str | None) -> bool:
        return RunStatusSensorCursor.from_json(text) is not None

    @staticmethod
    def after(record: Any) -> RunStatusSensorCursor:
        """The cursor just past one event record."""
        stamp = dt.datetime.fromtimestamp(record.timestamp, tz=dt.UTC).isoformat()
        return RunStatusSensorCursor(record.storage_id, stamp)

    def __str__(self) -> str:
        return (
            f"RunStatusSensorCursor(record_id={self.record_id}, "
            f"update_timestamp={self.update_timestamp!r})"
        )


# ----------------------------------------------------------------------------------------------
# Contexts


class RunStatusSensorContext:
    """What a run status sensor function receives: the run and the event that moved it.

    Args:
        sensor_name: the sensor's name.
        dagster_run: the run.
        dagster_event: the run lifecycle event (``PIPELINE_SUCCESS``, ...).
        instance: the instance.
        context: the sensor's evaluation context, if called from a tick.
        resource_defs: resources, when not taken from ``context``.
        logger: a logger, when not taken from ``context``.
        partition_key: the run's partition.
        repository_def: the code location's definitions.
        event_timestamp: when the event was recorded (epoch seconds).
    """

    def __init__(
        self,
        sensor_name: str,
        dagster_run: DagsterRun,
        dagster_event: DagsterEvent,
        instance: Any,
        context: Any = None,
        resource_defs: Mapping[str, Any] | None = None,
        logger: Any = None,
        partition_key: str | None = None,
        repository_def: Any = None,
        event_timestamp: float | None = None,
    ):
        if not isinstance(sensor_name, str):
            raise ParameterCheckError(
                f'Param "sensor_name" is not a str. Got {sensor_name!r} which is type '
                f"{type(sensor_name)}."
            )
        if not isinstance(dagster_run, DagsterRun):
            raise CheckError(
                f"dagster_run must be a DagsterRun (e.g. result.dagster_run), got {dagster_run!r}."
            )
        if not isinstance(dagster_event, DagsterEvent):
            raise CheckError(
                "dagster_event must be a DagsterEvent (e.g. result.get_run_success_event()), "
                f"got {dagster_event!r}."
            )
        self._sensor_name = sensor_name
        self._dagster_run = dagster_run
        self._dagster_event = dagster_event
        self._instance = instance
        self._context = context
        self._resource_defs = dict(resource_defs or {})
        self._resources: Resources | None = None
        self._logger = logger
        self._partition_key = _check.opt_str(partition_key, "partition_key")
        self._repository_def = repository_def
        self._event_timestamp = event_timestamp
        self._stack: Any = None

    def __enter__(self) -> Any:
        import contextlib

        self._stack = contextlib.ExitStack()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            stack.close()

    @property
    def sensor_name(self) -> str:
        return self._sensor_name

    @property
    def dagster_run(self) -> DagsterRun:
        return self._dagster_run

    @property
    def dagster_event(self) -> DagsterEvent:
        return self._dagster_event

    @property
    def instance(self) -> Any:
        return self._instance

    @property
    def partition_key(self) -> str | None:
        return self._partition_key

    @property
    def repository_def(self) -> Any:
        return self._repository_def

    @property
    def log(self) -> Any:
        if self._logger is None:
            if self._context is not None:
                self._logger = self._context.log
            else:
                self._logger = _default_log(self._sensor_name)
        return self._logger

    @property
    def resources(self) -> Any:
        if self._resources is None:
            if self._context is not None and not self._resource_defs:
                return self._context.resources
            self._resources = open_resources(
                self._resource_defs, self._stack, "build_run_status_sensor_context"
            )
        return self._resources

    def _with_resources(self, extra: Mapping[str, Any]) -> RunStatusSensorContext:
        if extra:
            base = self._context.resource_defs if self._context is not None else {}
            self._resource_defs = {**base, **self._resource_defs, **extra}
            self._resources = None
        return self

    def for_run_failure(self) -> RunFailureSensorContext:
        """This context as a ``RunFailureSensorContext`` (for run failure sensors)."""
        return RunFailureSensorContext(
            sensor_name=self._sensor_name,
            dagster_run=self._dagster_run,
            dagster_event=self._dagster_event,
            instance=self._instance,
            context=self._context,
            resource_defs=self._resource_defs,
            logger=self._logger,
            partition_key=self._partition_key,
            repository_def=self._repository_def,
            event_timestamp=self._event_timestamp,
        )


def _default_log(sensor_name: str) -> Any:
    try:
        from tocsin.definitions.logger import DagsterLogManager
    except ImportError:  # pragma: no cover - the logger module is part of the package
        return logging.getLogger(f"tocsin.sensor.{sensor_name}")
    return DagsterLogManager(f"tocsin.sensor.{sensor_name}")


@dataclass(frozen=True, eq=False)
class RunFailureEvent(DagsterEvent):
    """The failure event of a run, with the time it was recorded.

    It is the run's ``DagsterEvent``; ``timestamp`` and ``dagster_event`` (itself) let code
    written against the event-log entry read it too.
    """

    timestamp: float | None = field(default=None, compare=False)

    @property
    def dagster_event(self) -> DagsterEvent:
        return self

    def _event_fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in DagsterEvent.__dataclass_fields__)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DagsterEvent):
            return NotImplemented
        return self._event_fields() == tuple(
            getattr(other, name) for name in DagsterEvent.__dataclass_fields__
        )

    def __hash__(self) -> int:
        return hash(self.event_type_value) ^ hash(self.job_name)


class RunFailureSensorContext(RunStatusSensorContext):
    """What a run failure sensor function receives; adds the failure details."""

    @property
    def failure_event(self) -> RunFailureEvent:
        """The run's failure event (``message`` says why it failed)."""
        event = self._dagster_event
        fields = {name: getattr(event, name) for name in DagsterEvent.__dataclass_fields__}
        stamp = self._event_timestamp
        if stamp is None and self._dagster_run.end_time is not None:
            stamp = self._dagster_run.end_time.timestamp()
        return RunFailureEvent(**fields, timestamp=stamp)

    def get_step_failure_events(self) -> list[DagsterEvent]:
        """The ``STEP_FAILURE`` events of the run, oldest first."""
        entries = self._instance.all_logs(
            self._dagster_run.run_id, of_type=DagsterEventType.STEP_FAILURE
        )
        return [e.dagster_event for e in entries if e.dagster_event is not None]


def build_run_status_sensor_context(
    sensor_name: str | None = None,
    dagster_event: DagsterEvent | None = None,
    dagster_instance: Any = None,
    dagster_run: DagsterRun | None = None,
    context: Any = None,
    resources: Mapping[str, Any] | None = None,
    partition_key: str | None = None,
    *,
    repository_def: Any = None,
    instance: Any = None,
) -> RunStatusSensorContext:
    """Build a ``RunStatusSensorContext`` to call a run status sensor in a test.

    Typical input comes from ``result = job.execute_in_process(instance=..., raise_on_error=
    False)``: ``result.dagster_run`` and ``result.get_run_success_event()`` (or
    ``get_job_failure_event()``); call ``.for_run_failure()`` on the result for a run
    failure sensor.

    Args:
        sensor_name: the sensor's name (the seeds' shorter form may leave it out).
        dagster_event: the run's lifecycle event.
        dagster_instance: the instance (``instance=`` is accepted as the seeds' spelling).
        dagster_run: the run.
        context: a sensor evaluation context to take the log and resources from.
        resources: key -> resource.
        partition_key: the run's partition (default: its ``dagster/partition`` tag).
        repository_def: the code location's definitions.
    """
    if instance is not None and dagster_instance is not None and instance is not dagster_instance:
        raise DagsterInvalidInvocationError(
            "build_run_status_sensor_context got both dagster_instance and instance; they are "
            "the same parameter. Pass only dagster_instance."
        )
    if dagster_run is not None and partition_key is None and isinstance(dagster_run, DagsterRun):
        partition_key = dagster_run.tags.get(PARTITION_NAME_TAG)
    return RunStatusSensorContext(
        sensor_name=sensor_name if sensor_name is not None else "run_status_sensor",
        dagster_run=dagster_run,  # type: ignore[arg-type]
        dagster_event=dagster_event,  # type: ignore[arg-type]
        instance=dagster_instance if dagster_instance is not None else instance,
        context=context,
        resource_defs=resources,
        partition_key=partition_key,
        repository_def=repository_def,
    )


# ----------------------------------------------------------------------------------------------
# The definition


def _check_monitored(monitored_jobs: Any) -> list[Any]:
    if monitored_jobs is None:
        return []
    if isinstance(monitored_jobs, str) or not isinstance(monitored_jobs, Sequence):
        raise CheckError(
            f"monitored_jobs must be a list of jobs or selectors, got {monitored_jobs!r}."
        )
    allowed = (RepositorySelector, JobSelector, CodeLocationSelector)
    for item in monitored_jobs:
        names = {c.__name__ for c in type(item).__mro__}
        if not isinstance(item, allowed) and not names & {
            "JobDefinition",
            "GraphDefinition",
            "UnresolvedAssetJobDefinition",
        }:
            raise CheckError(
                "monitored_jobs: every member must be a job, a graph, an asset job, a "
                f"JobSelector, a RepositorySelector or a CodeLocationSelector; got {item!r} "
                f"of type {type(item).__name__}. To monitor a job by name in another code "
                "location use JobSelector(location_name=..., job_name=...)."
            )
    return [
        item.to_repository_selector() if isinstance(item, CodeLocationSelector) else item
        for item in monitored_jobs
    ]


def _run_location(run: DagsterRun) -> str | None:
    return run.code_location or run.tags.get(CODE_LOCATION_TAG)


def _sensor_location(context: Any) -> str | None:
    for attr in ("code_location_name", "location_name"):
        value = getattr(context, attr, None)
        if isinstance(value, str):
            return value
    return None


class RunStatusSensorDefinition(SensorDefinition):
    """A sensor that reacts to runs reaching ``run_status``. Use ``@run_status_sensor``.

    Args:
        name: the sensor's name.
        run_status: the status to react to.
        run_status_sensor_fn: the function, taking an optional ``RunStatusSensorContext``.
        monitored_jobs: jobs (or selectors of other locations) to watch; default: every job
            of the sensor's own code location.
        monitor_all_code_locations: watch every run of the instance.
        request_job / request_jobs: the job(s) its RunRequests target.
        events_per_tick / runs_per_tick: page sizes of one tick (see ``EVENTS_PER_TICK``).
    """

    def __init__(
        self,
        name: str,
        run_status: DagsterRunStatus,
        run_status_sensor_fn: Callable[..., Any],
        minimum_interval_seconds: int | None = None,
        description: str | None = None,
        monitored_jobs: Sequence[Any] | None = None,
        monitor_all_code_locations: bool | None = None,
        default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
        request_job: Any = None,
        request_jobs: Sequence[Any] | None = None,
        tags: Mapping[str, str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        required_resource_keys: set[str] | None = None,
        *,
        events_per_tick: int = EVENTS_PER_TICK,
        runs_per_tick: int = RUNS_PER_TICK,
    ):
        if not isinstance(run_status, DagsterRunStatus):
            raise ParameterCheckError(
                f'Param "run_status" is not a DagsterRunStatus. Got {run_status!r} which is '
                f"type {type(run_status)}. Use e.g. DagsterRunStatus.SUCCESS."
            )
        if run_status not in _STATUS_EVENT_TYPES:
            raise DagsterInvalidDefinitionError(
                f"Run status sensor '{name}': runs never report status {run_status.value} "
                "through an event, so it cannot be watched. Use one of: "
                f"{', '.join(s.value for s in _STATUS_EVENT_TYPES)}."
            )
        if monitor_all_code_locations is not None and not isinstance(
            monitor_all_code_locations, bool
        ):
            raise ParameterCheckError(
                'Param "monitor_all_code_locations" is not a bool. Got '
                f"{monitor_all_code_locations!r}."
            )
        if monitor_all_code_locations and monitored_jobs:
            raise DagsterInvalidDefinitionError(
                "Cannot specify both monitor_all_code_locations and monitored_jobs."
            )
        self._run_status = run_status
        self._event_type = _STATUS_EVENT_TYPES[run_status]
        self._monitored_jobs = _check_monitored(monitored_jobs)
        self._monitor_all = bool(monitor_all_code_locations)
        self._run_status_sensor_fn = run_status_sensor_fn
        self.events_per_tick = _positive(events_per_tick, "events_per_tick")
        self.runs_per_tick = _positive(runs_per_tick, "runs_per_tick")
        super().__init__(
            name=name,
            evaluation_fn=run_status_sensor_fn,
            minimum_interval_seconds=minimum_interval_seconds,
            description=description,
            default_status=default_status,
            job=request_job,
            jobs=request_jobs,
            required_resource_keys=required_resource_keys,
            tags=tags,
            metadata=metadata,
        )

    @property
    def run_status(self) -> DagsterRunStatus:
        return self._run_status

    @property
    def event_type(self) -> DagsterEventType:
        return self._event_type

    @property
    def monitored_jobs(self) -> list[Any]:
        return list(self._monitored_jobs)

    @property
    def monitor_all_code_locations(self) -> bool:
        return self._monitor_all

    @property
    def sensor_type(self) -> str:
        return "RUN_STATUS"

    # -- evaluation -------------------------------------------------------------------------

    def _wrap_evaluation_fn(self, fn: Callable[..., Any]) -> Callable[[Any], Any]:
        def evaluation(context: Any) -> Iterator[Any]:
            return self._evaluate(context)

        return evaluation

    def _evaluate(self, context: Any) -> Iterator[Any]:
        instance = context.instance
        cursor = RunStatusSensorCursor.from_json(context.cursor)
        if cursor is None:
            newest = instance.get_event_records(
                EventRecordsFilter(self._event_type), limit=1, ascending=False
            )
            cursor = RunStatusSensorCursor.after(newest[0]) if newest else RunStatusSensorCursor(-1)
            context.update_cursor(cursor.to_json())
            yield SkipReason(f"Initiating {self.name}. Set cursor to {cursor}")
            return
        after = cursor.record_id if cursor.record_id >= 0 else None
        records = instance.get_event_records(
            EventRecordsFilter(self._event_type, after_cursor=after),
            limit=self.events_per_tick,
            ascending=True,
        )
        runs = self._runs_by_id(instance, records)
        handled = 0
        for record in records:
            run = runs.get(record.run_id)
            if run is None or not self._matches(run, context):
                context.update_cursor(RunStatusSensorCursor.after(record).to_json())
                continue
            if handled >= self.runs_per_tick:
                break
            handled += 1
            outcome = self._call_for_run(context, run, record)
            context.update_cursor(RunStatusSensorCursor.after(record).to_json())
            if isinstance(outcome, _Returned):
                yield from _as_items(outcome.value, self.name)
                return
            yield outcome

    @staticmethod
    def _runs_by_id(instance: Any, records: Sequence[Any]) -> dict[str, DagsterRun]:
        run_ids = sorted({r.run_id for r in records})
        if not run_ids:
            return {}
        return {run.run_id: run for run in instance.get_runs(RunsFilter(run_ids=run_ids))}

    def _matches(self, run: DagsterRun, context: Any) -> bool:
        if self._monitor_all:
            return True
        run_location = _run_location(run)
        here = _sensor_location(context)
        in_this_location = here is None or run_location is None or run_location == here
        if not self._monitored_jobs:
            return in_this_location
        for item in self._monitored_jobs:
            if isinstance(item, JobSelector):
                if item.job_name == run.job_name and run_location in (None, item.location_name):
                    return True
            elif isinstance(item, RepositorySelector):
                if run_location == item.location_name:
                    return True
            elif in_this_location and item.name == run.job_name:
                return True
        return False

    def _call_for_run(self, context: Any, run: DagsterRun, record: Any) -> Any:
        entry = record.event_log_entry
        rs_context = RunStatusSensorContext(
            sensor_name=self.name,
            dagster_run=run,
            dagster_event=entry.dagster_event,
            instance=context.instance,
            context=context,
            partition_key=run.tags.get(PARTITION_NAME_TAG),
            repository_def=getattr(context, "repository_def", None),
            event_timestamp=entry.timestamp,
        )
        if self._run_status == DagsterRunStatus.FAILURE:
            rs_context = rs_context.for_run_failure()
        error = None
        try:
            with rs_context:
                value = call_with_context(
                    self._run_status_sensor_fn,
                    self._params,
                    rs_context,
                    self._required_resource_keys,
                    self._kind,
                    self.name,
                )
            if value is not None:
                return _Returned(value)
        except Exception as exc:
            error = serializable_error_info_from_exc(exc)
        return DagsterRunReaction(dagster_run=run, error=error, run_status=self._run_status)

    # -- direct invocation ----------------------------------------------------------------

    def _default_context(self) -> Any:
        return None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the raw function with a ``RunStatusSensorContext``, for tests."""
        context_type = (
            RunFailureSensorContext
            if self._run_status == DagsterRunStatus.FAILURE
            else RunStatusSensorContext
        )
        context, resources = resolve_direct_call(
            self._kind, self._params, args, kwargs, RunStatusSensorContext, self._default_context
        )
        if context is not None:
            if context_type is RunFailureSensorContext and not isinstance(
                context, RunFailureSensorContext
            ):
                context = context.for_run_failure()
            context._with_resources(resources)
        if context is None and (self._params.context_param or self._required_resource_keys):
            return self._call_without_context(resources)
        return call_with_context(
            self._run_status_sensor_fn,
            self._params,
            context,
            self._required_resource_keys,
            self._kind,
            self.name,
        )

    def _call_without_context(self, resources: Mapping[str, Any]) -> Any:
        kwargs: dict[str, Any] = {}
        if self._params.context_param is not None:
            kwargs[self._params.context_param] = None
        missing = sorted(set(self._params.resource_params) - set(resources))
        if missing:
            raise DagsterInvalidDefinitionError(
                f"Resource with key '{missing[0]}' required by sensor '{self.name}' was not "
                "provided."
            )
        kwargs.update({k: resources[k] for k in self._params.resource_params})
        return self._run_status_sensor_fn(**kwargs)


@dataclass(frozen=True)
class _Returned:
    value: Any


def _as_items(value: Any, name: str) -> Iterator[Any]:
    if isinstance(value, SensorResult):
        if value.cursor:
            raise DagsterInvariantViolationError(
                f"Error in run status sensor {name}: the function returned a SensorResult with "
                "a cursor, but a run status sensor manages its own cursor. Leave cursor unset."
            )
        yield value
    elif isinstance(value, (RunRequest, SkipReason, DagsterRunReaction)):
        yield value
    elif isinstance(value, (list, tuple)) or hasattr(value, "__next__"):
        yield from value
    else:
        yield value


def _positive(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ParameterCheckError(f'Param "{name}" must be a positive int, got {value!r}.')
    return value


# ----------------------------------------------------------------------------------------------
# Decorators


def _resolve_monitor_all(monitor_all_code_locations: Any, monitor_all_repositories: Any) -> Any:
    both = monitor_all_repositories is not None and monitor_all_code_locations is not None
    if both and bool(monitor_all_repositories) != bool(monitor_all_code_locations):
        raise DagsterInvalidDefinitionError(
            "monitor_all_repositories is the older name of monitor_all_code_locations; "
            f"they disagree ({monitor_all_repositories!r} vs "
            f"{monitor_all_code_locations!r}). Pass only monitor_all_code_locations."
        )
    return (
        monitor_all_code_locations
        if monitor_all_code_locations is not None
        else (monitor_all_repositories)
    )


def _resolve_monitored(monitored_jobs: Any, job_selection: Any) -> Any:
    if monitored_jobs and job_selection:
        raise DagsterInvalidDefinitionError(
            "job_selection is the older name of monitored_jobs; pass only monitored_jobs."
        )
    return monitored_jobs if monitored_jobs else job_selection


def run_status_sensor(
    run_status: DagsterRunStatus,
    name: str | None = None,
    minimum_interval_seconds: int | None = None,
    description: str | None = None,
    monitored_jobs: Sequence[Any] | None = None,
    job_selection: Sequence[Any] | None = None,
    monitor_all_code_locations: bool | None = None,
    default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
    request_job: Any = None,
    request_jobs: Sequence[Any] | None = None,
    monitor_all_repositories: bool | None = None,
    tags: Mapping[str, str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    required_resource_keys: set[str] | None = None,
) -> Callable[[Callable[..., Any]], RunStatusSensorDefinition]:
    """Decorate a function to call it for each run that reaches ``run_status``.

    The function takes an optional ``RunStatusSensorContext`` (``context.dagster_run``,
    ``context.dagster_event``) and may return None (just react), or a RunRequest /
    SkipReason / SensorResult for ``request_job``.
    """
    monitored = _resolve_monitored(monitored_jobs, job_selection)
    monitor_all = _resolve_monitor_all(monitor_all_code_locations, monitor_all_repositories)

    def inner(fn: Callable[..., Any]) -> RunStatusSensorDefinition:
        if not callable(fn):
            raise CheckError(f"@run_status_sensor must decorate a function, got {fn!r}.")
        return RunStatusSensorDefinition(
            name=name or fn.__name__,
            run_status=run_status,
            run_status_sensor_fn=fn,
            minimum_interval_seconds=minimum_interval_seconds,
            description=description,
            monitored_jobs=monitored,
            monitor_all_code_locations=monitor_all,
            default_status=default_status,
            request_job=request_job,
            request_jobs=request_jobs,
            tags=tags,
            metadata=metadata,
            required_resource_keys=required_resource_keys,
        )

    return inner


def run_failure_sensor(
    name: Callable[..., Any] | str | None = None,
    minimum_interval_seconds: int | None = None,
    description: str | None = None,
    monitored_jobs: Sequence[Any] | None = None,
    job_selection: Sequence[Any] | None = None,
    monitor_all_code_locations: bool | None = None,
    default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
    request_job: Any = None,
    request_jobs: Sequence[Any] | None = None,
    monitor_all_repositories: bool | None = None,
    tags: Mapping[str, str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    required_resource_keys: set[str] | None = None,
) -> Any:
    """Decorate a function to call it for each failed run (``@run_failure_sensor`` works bare).

    The function takes an optional ``RunFailureSensorContext`` (``context.failure_event``,
    ``context.get_step_failure_events()``).
    """

    def inner(fn: Callable[..., Any]) -> RunStatusSensorDefinition:
        sensor_name = name if isinstance(name, str) else None
        return run_status_sensor(
            DagsterRunStatus.FAILURE,
            name=sensor_name or fn.__name__,
            minimum_interval_seconds=minimum_interval_seconds,
            description=description,
            monitored_jobs=monitored_jobs,
            job_selection=job_selection,
            monitor_all_code_locations=monitor_all_code_locations,
            default_status=default_status,
            request_job=request_job,
            request_jobs=request_jobs,
            monitor_all_repositories=monitor_all_repositories,
            tags=tags,
            metadata=metadata,
            required_resource_keys=required_resource_keys,
        )(fn)

    if callable(name):
        return inner(name)
    return inner


# ----------------------------------------------------------------------------------------------
# Email on failure


def _default_email_body(context: RunFailureSensorContext) -> str:
    return "<br>".join(
        [
            f"Pipeline {context.dagster_run.job_name} failed!",
            f"Run ID: {context.dagster_run.run_id}",
            f"Mode: {getattr(context.dagster_run, 'mode', 'default')}",
            f"Error: {context.failure_event.message}",
        ]
    )


def _default_email_subject(context: RunFailureSensorContext) -> str:
    return f"Dagster Run Failed: {context.dagster_run.job_name}"


def _send_email(
    *,
    smtp_type: str,
    host: str,
    port: int,
    user: str,
    password: str,
    sender: str,
    recipients: Sequence[str],
    message: str,
) -> None:
    import smtplib
    import ssl

    if smtp_type == "SSL":
        with smtplib.SMTP_SSL(host, port, context=ssl.create_default_context()) as server:
            server.login(user, password)
            server.sendmail(sender, list(recipients), message)
    else:
        with smtplib.SMTP(host, port) as server:
            server.starttls(context=ssl.create_default_context())
            server.login(user, password)
            server.sendmail(sender, list(recipients), message)


def make_email_on_run_failure_sensor(
    email_from: str,
    email_password: str,
    email_to: Sequence[str],
    email_body_fn: Callable[[RunFailureSensorContext], str] = _default_email_body,
    email_subject_fn: Callable[[RunFailureSensorContext], str] = _default_email_subject,
    smtp_host: str = "smtp.gmail.com",
    smtp_type: str = "SSL",
    smtp_port: int | None = None,
    smtp_user: str | None = None,
    name: str | None = None,
    webserver_base_url: str | None = None,
    monitored_jobs: Sequence[Any] | None = None,
    job_selection: Sequence[Any] | None = None,
    monitor_all_code_locations: bool = False,
    default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
    monitor_all_repositories: bool = False,
) -> RunStatusSensorDefinition:
    """A run failure sensor that emails ``email_to`` through SMTP for each failed run.

    Args:
        email_from: sender address (also the SMTP login unless ``smtp_user`` is given).
        email_password: SMTP password.
        email_to: recipients.
        email_body_fn / email_subject_fn: build the HTML body and the subject from the context.
        smtp_host, smtp_type ("SSL" or "STARTTLS"), smtp_port (465 / 587), smtp_user: server.
        name: the sensor's name (default ``email_on_run_failure``).
        webserver_base_url: when set, the body links to the run's page.
    """
    if smtp_type not in ("SSL", "STARTTLS"):
        raise DagsterInvalidDefinitionError(
            f'smtp_type "{smtp_type}" is not supported. Use "SSL" (port 465) or "STARTTLS" '
            "(port 587)."
        )
    if isinstance(email_to, str) or not isinstance(email_to, Sequence) or not email_to:
        raise CheckError(f"email_to must be a non-empty list of addresses, got {email_to!r}.")
    port = smtp_port or (465 if smtp_type == "SSL" else 587)

    @run_failure_sensor(
        name=name or "email_on_run_failure",
        monitored_jobs=monitored_jobs,
        job_selection=job_selection,
        monitor_all_code_locations=monitor_all_code_locations or None,
        monitor_all_repositories=monitor_all_repositories or None,
        default_status=default_status,
    )
    def email_on_run_failure(context: RunFailureSensorContext) -> None:
        body = email_body_fn(context)
        if webserver_base_url:
            url = f"{webserver_base_url.rstrip('/')}/runs/{context.dagster_run.run_id}"
            body += f'<br><a href="{url}">View in tocsin</a>'
        message = (
            f"From: {email_from}\nTo: {', '.join(email_to)}\n"
            f"Subject: {email_subject_fn(context)}\n"
            f"Content-Type: text/html; charset=utf-8\n\n{body}"
        )
        _send_email(
            smtp_type=smtp_type,
            host=smtp_host,
            port=port,
            user=smtp_user or email_from,
            password=email_password,
            sender=email_from,
            recipients=email_to,
            message=message,
        )

    return email_on_run_failure


__all__ = [
    "CodeLocationSelector",
    "JobSelector",
    "RepositorySelector",
    "RunFailureSensorContext",
    "RunStatusSensorContext",
    "RunStatusSensorCursor",
    "RunStatusSensorDefinition",
    "build_run_status_sensor_context",
    "make_email_on_run_failure_sensor",
    "run_failure_sensor",
    "run_status_sensor",
]
