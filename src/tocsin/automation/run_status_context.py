"""What run status sensors are made of: selectors of other code locations, the cursor, and
the contexts their functions receive (``RunStatusSensorContext``, ``RunFailureSensorContext``).

``tocsin.automation.run_status_sensor`` builds the sensors from these and re-exports them.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tocsin.automation import _check
from tocsin.automation._resources import Resources, ResourceScope, open_resources
from tocsin.errors import CheckError, DagsterInvalidInvocationError, ParameterCheckError
from tocsin.model.events import DagsterEvent, DagsterEventType
from tocsin.model.run import DagsterRun
from tocsin.model.tags import PARTITION_NAME_TAG

DEFAULT_REPOSITORY_NAME = "__repository__"


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


class RunStatusSensorContext(ResourceScope):
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
        self._stack = None

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
