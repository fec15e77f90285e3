"""``RunStatusSensorDefinition``: calls a function for each run that reached a status.

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

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tocsin.automation._invocation import call_with_context, resolve_direct_call
from tocsin.automation.results import DagsterRunReaction, RunRequest, SensorResult, SkipReason
from tocsin.automation.run_status_context import (
    CodeLocationSelector,
    JobSelector,
    RepositorySelector,
    RunFailureSensorContext,
    RunStatusSensorContext,
    RunStatusSensorCursor,
)
from tocsin.automation.sensor import DefaultSensorStatus, SensorDefinition
from tocsin.errors import (
    CheckError,
    DagsterInvalidDefinitionError,
    DagsterInvariantViolationError,
    ParameterCheckError,
)
from tocsin.model.errors_info import SerializableErrorInfo, serializable_error_info_from_exc
from tocsin.model.events import DagsterEventType, EventRecordsFilter
from tocsin.model.run import DagsterRun, DagsterRunStatus, RunsFilter
from tocsin.model.tags import CODE_LOCATION_TAG, PARTITION_NAME_TAG

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


def report_run_reactions(
    instance: Any, sensor_name: str, reactions: Sequence[DagsterRunReaction]
) -> list[SerializableErrorInfo]:
    """Record what a run status sensor tick did to each run; return the errors it hit.

    For each reaction without an error an engine event ``Sensor "<name>" acted on run status
    <STATUS> of run <id>.`` is written to that run. The errors are returned for the daemon to
    fail the tick with (the cursor still moves past those runs).
    """
    errors: list[SerializableErrorInfo] = []
    for reaction in reactions:
        if reaction.error is not None:
            errors.append(reaction.error)
            continue
        run = reaction.dagster_run
        if run is None:
            continue
        status = getattr(reaction.run_status, "value", reaction.run_status)
        instance.report_engine_event(
            f'Sensor "{sensor_name}" acted on run status {status} of run {run.run_id}.', run
        )
    return errors
