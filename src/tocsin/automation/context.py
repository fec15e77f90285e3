"""The contexts handed to sensor and schedule functions, and their ``build_*`` helpers.

A context carries what one evaluation may read (cursor, scheduled time, instance, resources,
the code location's definitions) and collects what it leaves behind besides its return
value: an updated cursor and log lines. ``automation.evaluate`` reads those after the call.

Both contexts can be used as context managers; resources whose initialization is a
generator are only available inside the ``with`` block, and are torn down on exit.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tocsin.automation import _check
from tocsin.automation._resources import Resources, ResourceScope, open_resources
from tocsin.errors import CheckError, DagsterInvariantViolationError


@dataclass(frozen=True)
class LogLine:
    """One line logged by user code through ``context.log`` during an evaluation."""

    level: str
    message: str
    timestamp: float

    def __str__(self) -> str:
        """``LEVEL message``: how the line is stored on a tick and shown to users."""
        return f"{self.level} {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "message": self.message, "timestamp": self.timestamp}

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> LogLine:
        return LogLine(data["level"], data["message"], float(data["timestamp"]))


class _FallbackLog:
    """A minimal logger, used only when ``tocsin.definitions.logger`` is unavailable."""

    def __init__(self, name: str, sink: Any):
        self._logger = logging.getLogger(name)
        self._sink = sink

    def log(self, level: int | str, msg: str, **kwargs: Any) -> None:
        if isinstance(level, str):
            numeric = logging.getLevelName(level.upper())
            if not isinstance(numeric, int):
                raise AttributeError(f"Unknown log level {level!r}.")
            level = numeric
        self._logger.log(level, msg)
        self._sink(level, str(msg), kwargs, {})

    def debug(self, msg: str, **kwargs: Any) -> None:
        self.log(logging.DEBUG, msg, **kwargs)

    def info(self, msg: str, **kwargs: Any) -> None:
        self.log(logging.INFO, msg, **kwargs)

    def warning(self, msg: str, **kwargs: Any) -> None:
        self.log(logging.WARNING, msg, **kwargs)

    warn = warning

    def error(self, msg: str, **kwargs: Any) -> None:
        self.log(logging.ERROR, msg, **kwargs)

    def critical(self, msg: str, **kwargs: Any) -> None:
        self.log(logging.CRITICAL, msg, **kwargs)

    fatal = critical


class _EvaluationContext(ResourceScope):
    """What sensor and schedule contexts share: instance, resources, log, ``with`` scope."""

    _builder_name = "build_sensor_context"

    def __init__(
        self,
        *,
        instance: Any = None,
        instance_ref: Any = None,
        resources: Mapping[str, Any] | None = None,
        repository_def: Any = None,
        definitions: Any = None,
        repository_name: str | None = None,
        log_name: str = "tocsin",
    ):
        self._instance = instance
        self._instance_ref = instance_ref
        self._resource_defs = dict(resources or {})
        self._resources: Resources | None = None
        self._repository_def = repository_def
        self._definitions = definitions
        self._repository_name = repository_name
        self._log_name = log_name
        self._log: Any = None
        self._log_lines: list[LogLine] = []
        self._stack = None

    @property
    def instance(self) -> Any:
        """The instance; opened from ``instance_ref`` on first use if only that was given.

        Raises:
            DagsterInvariantViolationError: neither an instance nor a reference was given.
        """
        if self._instance is None:
            if self._instance_ref is None:
                raise DagsterInvariantViolationError(
                    "Attempted to initialize dagster instance, but no instance reference was "
                    "provided."
                )
            from tocsin.instance.instance import DagsterInstance

            self._instance = DagsterInstance.from_ref(self._instance_ref)
        return self._instance

    @property
    def instance_ref(self) -> Any:
        return self._instance_ref

    @property
    def resources(self) -> Resources:
        """The initialized resources (see the module docstring about generator resources)."""
        if self._resources is None:
            self._resources = open_resources(self._resource_defs, self._stack, self._builder_name)
        return self._resources

    @property
    def resource_defs(self) -> dict[str, Any]:
        """The resources as given, before initialization."""
        return dict(self._resource_defs)

    @property
    def repository_def(self) -> Any:
        """The code location's definitions (``repository_def`` or ``definitions``), or None."""
        return self._repository_def if self._repository_def is not None else self._definitions

    @property
    def definitions(self) -> Any:
        return self._definitions

    @property
    def repository_name(self) -> str | None:
        return self._repository_name

    @property
    def log(self) -> Any:
        """A logger whose lines are kept on the context (``log_lines``) and stored on the tick."""
        if self._log is None:
            self._log = _make_log(self._log_name, self._capture)
        return self._log

    @property
    def log_lines(self) -> list[LogLine]:
        """The lines logged through ``log`` so far."""
        return list(self._log_lines)

    def _capture(self, level: int, message: str, extra: Any = None, tags: Any = None) -> None:
        name = logging.getLevelName(level)
        self._log_lines.append(LogLine(str(name), message, time.time()))

    def _with_resources(self, extra: Mapping[str, Any]) -> Any:
        """This context with more resources (used by direct invocation with resource kwargs)."""
        if not extra:
            return self
        self._resource_defs = {**self._resource_defs, **extra}
        self._resources = None
        return self


def _make_log(name: str, sink: Any) -> Any:
    try:
        from tocsin.definitions.logger import DagsterLogManager
    except ImportError:
        return _FallbackLog(name, sink)
    return DagsterLogManager(name, sinks=(sink,))


class SensorEvaluationContext(_EvaluationContext):
    """The context a sensor function receives.

    Build one for tests with ``build_sensor_context``; the daemon builds one per tick.

    Args:
        instance_ref: reference to open the instance from, if ``instance`` is not given.
        last_tick_completion_time: when the previous tick finished (epoch seconds), or None.
        last_run_key: the last run key this sensor requested, or None.
        cursor: the cursor stored by the previous tick.
        repository_name: the code location's name.
        repository_def: the code location's definitions (or pass ``definitions``).
        instance: the instance.
        sensor_name: the sensor's name.
        resources: key -> resource for the sensor.
        definitions: the code location's ``Definitions``.
        last_sensor_start_time: when the sensor was last started (epoch seconds), or None.
    """

    def __init__(
        self,
        instance_ref: Any = None,
        last_tick_completion_time: float | None = None,
        last_run_key: str | None = None,
        cursor: str | None = None,
        repository_name: str | None = None,
        repository_def: Any = None,
        instance: Any = None,
        sensor_name: str | None = None,
        resources: Mapping[str, Any] | None = None,
        definitions: Any = None,
        last_sensor_start_time: float | None = None,
        log_key: Any = None,
    ):
        super().__init__(
            instance=instance,
            instance_ref=instance_ref,
            resources=resources,
            repository_def=repository_def,
            definitions=definitions,
            repository_name=_check.opt_str(repository_name, "repository_name"),
            log_name=f"tocsin.sensor.{sensor_name}" if sensor_name else "tocsin",
        )
        self._cursor = _check.opt_str(cursor, "cursor")
        self._initial_cursor = self._cursor
        self._cursor_updated = False
        self._last_tick_completion_time = last_tick_completion_time
        self._last_run_key = _check.opt_str(last_run_key, "last_run_key")
        self._sensor_name = _check.opt_str(sensor_name, "sensor_name")
        self._last_sensor_start_time = last_sensor_start_time
        self._log_key = log_key

    @property
    def cursor(self) -> str | None:
        """The cursor: the stored one, or what ``update_cursor`` last set."""
        return self._cursor

    def update_cursor(self, cursor: str | None) -> None:
        """Set the cursor the next tick will see (stored when this tick succeeds).

        Raises:
            ParameterCheckError: ``cursor`` is neither a str nor None.
        """
        self._cursor = _check.opt_str(cursor, "cursor")
        self._cursor_updated = True

    @property
    def cursor_updated(self) -> bool:
        """Whether ``update_cursor`` was called during this evaluation."""
        return self._cursor_updated

    @property
    def last_tick_completion_time(self) -> float | None:
        return self._last_tick_completion_time

    @property
    def last_completion_time(self) -> float | None:
        """Older name of ``last_tick_completion_time``."""
        return self._last_tick_completion_time

    @property
    def last_run_key(self) -> str | None:
        return self._last_run_key

    @property
    def sensor_name(self) -> str | None:
        return self._sensor_name

    @property
    def last_sensor_start_time(self) -> float | None:
        return self._last_sensor_start_time

    @property
    def is_first_tick_since_sensor_start(self) -> bool:
        """True when no tick completed since the sensor was (re)started."""
        if self._last_tick_completion_time is None:
            return True
        start = self._last_sensor_start_time
        return start is not None and start > self._last_tick_completion_time

    @property
    def log_key(self) -> Any:
        return self._log_key


class ScheduleEvaluationContext(_EvaluationContext):
    """The context a schedule function receives.

    Args:
        instance_ref: reference to open the instance from, if ``instance`` is not given.
        scheduled_execution_time: the cron time this tick is for.
        repository_name: the code location's name.
        schedule_name: the schedule's name.
        resources: key -> resource for the schedule.
        repository_def: the code location's definitions.
        instance: the instance.
        definitions: the code location's ``Definitions``.
    """

    _builder_name = "build_schedule_context"

    def __init__(
        self,
        instance_ref: Any = None,
        scheduled_execution_time: dt.datetime | None = None,
        repository_name: str | None = None,
        schedule_name: str | None = None,
        resources: Mapping[str, Any] | None = None,
        repository_def: Any = None,
        instance: Any = None,
        definitions: Any = None,
        log_key: Any = None,
    ):
        super().__init__(
            instance=instance,
            instance_ref=instance_ref,
            resources=resources,
            repository_def=repository_def,
            definitions=definitions,
            repository_name=_check.opt_str(repository_name, "repository_name"),
            log_name=f"tocsin.schedule.{schedule_name}" if schedule_name else "tocsin",
        )
        if scheduled_execution_time is not None and not isinstance(
            scheduled_execution_time, dt.datetime
        ):
            raise CheckError(
                f'Param "scheduled_execution_time" is not a datetime. Got '
                f"{scheduled_execution_time!r} which is type {type(scheduled_execution_time)}."
            )
        self._scheduled_execution_time = scheduled_execution_time
        self._schedule_name = _check.opt_str(schedule_name, "schedule_name")
        self._log_key = log_key

    @property
    def scheduled_execution_time(self) -> dt.datetime:
        """The cron time this tick is for, in the schedule's execution timezone.

        Raises:
            CheckError: the context was built without one.
        """
        if self._scheduled_execution_time is None:
            raise CheckError(
                "Failure condition: Attempting to access scheduled_execution_time, but no "
                "scheduled_execution_time was set on this context"
            )
        return self._scheduled_execution_time

    @property
    def has_scheduled_execution_time(self) -> bool:
        return self._scheduled_execution_time is not None

    @property
    def schedule_name(self) -> str | None:
        return self._schedule_name

    @property
    def log_key(self) -> Any:
        return self._log_key


def build_sensor_context(
    instance: Any = None,
    cursor: str | None = None,
    repository_name: str | None = None,
    repository_def: Any = None,
    sensor_name: str | None = None,
    resources: Mapping[str, Any] | None = None,
    definitions: Any = None,
    instance_ref: Any = None,
    last_sensor_start_time: float | None = None,
) -> SensorEvaluationContext:
    """Build a sensor context, to call or ``evaluate_tick`` a sensor in a test.

    Args:
        instance: the instance the sensor may query (ephemeral instances are fine).
        cursor: the cursor the sensor sees.
        repository_name: the code location's name.
        repository_def: the code location's definitions (excludes ``definitions``).
        sensor_name: the sensor's name.
        resources: key -> resource.
        definitions: the code location's ``Definitions`` (excludes ``repository_def``).
        instance_ref: a reference to open the instance from.
        last_sensor_start_time: when the sensor was last started (epoch seconds).

    Raises:
        CheckError: both ``repository_def`` and ``definitions`` were given.
        ParameterCheckError: ``cursor`` is not a str.
    """
    if repository_def is not None and definitions is not None:
        raise CheckError(
            "Failure condition: Exactly one of `definitions` or `repository_def` must be provided."
        )
    return SensorEvaluationContext(
        instance_ref=instance_ref,
        last_tick_completion_time=None,
        last_run_key=None,
        cursor=_check.opt_str(cursor, "cursor"),
        repository_name=repository_name,
        repository_def=repository_def,
        instance=instance,
        sensor_name=sensor_name,
        resources=resources,
        definitions=definitions,
        last_sensor_start_time=last_sensor_start_time,
    )


def build_schedule_context(
    instance: Any = None,
    scheduled_execution_time: dt.datetime | None = None,
    resources: Mapping[str, Any] | None = None,
    repository_def: Any = None,
    instance_ref: Any = None,
    definitions: Any = None,
) -> ScheduleEvaluationContext:
    """Build a schedule context, to call or ``evaluate_tick`` a schedule in a test.

    Only a persistent ``instance`` is kept: an ephemeral one cannot be reopened from a
    reference, so ``context.instance`` raises for it, as it would in a deployment.

    Args:
        instance: a persistent instance.
        scheduled_execution_time: the cron time the tick is for (naive or aware).
        resources: key -> resource.
        repository_def: the code location's definitions.
        instance_ref: a reference to open the instance from.
        definitions: the code location's ``Definitions``.
    """
    if instance is not None and not getattr(instance, "is_ephemeral", False):
        if instance_ref is None and callable(getattr(instance, "get_ref", None)):
            instance_ref = instance.get_ref()
    else:
        instance = None
    return ScheduleEvaluationContext(
        instance_ref=instance_ref,
        scheduled_execution_time=scheduled_execution_time,
        resources=resources,
        repository_def=repository_def,
        instance=instance,
        definitions=definitions,
    )
