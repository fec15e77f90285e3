"""Sensors: functions the daemon calls on an interval, that turn what they see into runs.

``@sensor`` builds a ``SensorDefinition`` from a function. The definition is a plain value:
its evaluation goes through ``tocsin.automation.evaluate`` (also used by the daemon and the
CLI preview), and calling it directly (``my_sensor(context)``) runs the raw function, for
tests.

Besides the reference's parameters a sensor accepts tocsin's scheduling options, which the
daemon reads; this module only stores them:

* ``evaluation_timeout`` -- seconds an evaluation may take before the tick fails
  (None: the instance's default).
* ``overlap`` -- what to do with a new run while one of the sensor's runs still waits or
  runs: ``allow``, ``skip``, ``buffer_one``, ``buffer_all``, ``cancel_other`` (see
  ``tocsin.automation.policies``; None: tocsin.yaml's ``sensors.overlap``, else ``allow``).
* ``jitter`` -- a random delay (seconds or ``timedelta``) added to each interval, to
  spread many sensors over time.
* ``pause_after_failures`` -- stop the sensor after this many consecutive failed runs or
  failed ticks (0: never; None: tocsin.yaml's ``sensors.pause_after_failures``).
* ``wake_on`` -- events that trigger an evaluation before the interval is over.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from typing import Any

from tocsin.automation import _check
from tocsin.automation._invocation import (
    FunctionParams,
    call_with_context,
    check_resource_keys,
    check_valid_name,
    inspect_params,
    resolve_direct_call,
)
from tocsin.automation.context import SensorEvaluationContext, build_sensor_context
from tocsin.automation.policies import check_overlap, pause_problem
from tocsin.automation.results import normalize_tags
from tocsin.errors import DagsterInvalidDefinitionError, ParameterCheckError

DEFAULT_SENSOR_INTERVAL_SECONDS = 30


class DefaultSensorStatus(Enum):
    """Whether a sensor runs as soon as it is deployed (RUNNING) or waits to be started."""

    RUNNING = "RUNNING"
    STOPPED = "STOPPED"


def is_job_like(value: Any) -> bool:
    """True for job definitions, including asset jobs not yet resolved."""
    names = {cls.__name__ for cls in type(value).__mro__}
    return bool(names & {"JobDefinition", "UnresolvedAssetJobDefinition"})


def _check_extras(
    evaluation_timeout: Any, jitter: Any, pause_after_failures: Any, wake_on: Any
) -> None:
    if evaluation_timeout is not None and (
        isinstance(evaluation_timeout, bool)
        or not isinstance(evaluation_timeout, int | float)
        or evaluation_timeout <= 0
    ):
        raise DagsterInvalidDefinitionError(
            f"evaluation_timeout must be a positive number of seconds or None, got "
            f"{evaluation_timeout!r}."
        )
    if jitter is not None and not isinstance(jitter, int | float | dt.timedelta):
        raise DagsterInvalidDefinitionError(
            f"jitter must be a number of seconds or a timedelta, got {jitter!r}."
        )
    problem = pause_problem(pause_after_failures)
    if problem is not None:
        raise DagsterInvalidDefinitionError(problem)
    if wake_on is not None and (isinstance(wake_on, str) or not isinstance(wake_on, Sequence)):
        raise DagsterInvalidDefinitionError(
            f"wake_on must be a list of events or None, got {wake_on!r}."
        )


class SensorDefinition:
    """A sensor: an evaluation function plus what it targets and how often it runs.

    Use ``@sensor`` rather than building one directly. Subclasses (run status and asset
    sensors) override ``_wrap_evaluation_fn`` to put their own logic around the user's
    function, and ``_context_type`` / ``_default_context`` for direct invocation.

    Args:
        name: unique name; defaults to the function's name.
        evaluation_fn: the function, taking an optional context and resources.
        job_name: name of the job the sensor requests runs of.
        minimum_interval_seconds: least time between two evaluations (default 30).
        description: shown in the UI.
        job: the job the sensor requests runs of.
        jobs: several jobs; each run request must then name its ``job_name``.
        default_status: RUNNING to start as soon as it is deployed.
        asset_selection: assets to materialize instead of a job.
        required_resource_keys: resource keys the function reads from ``context.resources``.
        tags: tags of the sensor itself (not added to its runs).
        metadata: metadata of the sensor.
        target: a job or assets; an alternative to ``job`` / ``asset_selection``.
        owners: owners of the sensor (kept as data).
        evaluation_timeout, overlap, jitter, pause_after_failures, wake_on: tocsin's
            scheduling options, see the module docstring.
    """

    _context_type: type = SensorEvaluationContext
    _kind = "Sensor"

    def __init__(
        self,
        name: str | None = None,
        *,
        evaluation_fn: Callable[..., Any] | None = None,
        job_name: str | None = None,
        minimum_interval_seconds: int | None = None,
        description: str | None = None,
        job: Any = None,
        jobs: Sequence[Any] | None = None,
        default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
        asset_selection: Any = None,
        required_resource_keys: set[str] | None = None,
        tags: Mapping[str, str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        target: Any = None,
        owners: Sequence[str] | None = None,
        evaluation_timeout: float | None = None,
        overlap: str | None = None,
        jitter: float | dt.timedelta | None = None,
        pause_after_failures: int | None = None,
        wake_on: Sequence[Any] | None = None,
    ):
        if evaluation_fn is None:
            raise DagsterInvalidDefinitionError("Must provide evaluation_fn to SensorDefinition.")
        if not callable(evaluation_fn):
            raise DagsterInvalidDefinitionError(
                f"evaluation_fn of a SensorDefinition must be callable, got {evaluation_fn!r}."
            )
        # A name given (the decorator always gives one) must be valid; a function's own name
        # is taken as it is.
        self._name = evaluation_fn.__name__ if name is None else check_valid_name(name)
        self._set_targets(job_name, job, jobs, asset_selection, target)
        self._minimum_interval_seconds = _check.opt_int(
            minimum_interval_seconds, "minimum_interval_seconds"
        ) or (DEFAULT_SENSOR_INTERVAL_SECONDS if minimum_interval_seconds is None else 0)
        self._description = _check.opt_str(description, "description")
        if not isinstance(default_status, DefaultSensorStatus):
            raise ParameterCheckError(
                f'Param "default_status" is not a DefaultSensorStatus. Got {default_status!r}.'
            )
        self._default_status = default_status
        self._tags = normalize_tags(tags)
        self._metadata = dict(metadata or {})
        self._owners = list(owners or [])
        self._raw_fn = evaluation_fn
        self._params = self._inspect_params(evaluation_fn)
        self._required_resource_keys = check_resource_keys(
            required_resource_keys, self._params, "sensor"
        )
        _check_extras(evaluation_timeout, jitter, pause_after_failures, wake_on)
        self.evaluation_timeout = evaluation_timeout
        self.overlap = check_overlap(overlap)
        self.jitter = jitter
        self.pause_after_failures = pause_after_failures
        self.wake_on = list(wake_on) if wake_on is not None else None
        self._evaluation_fn = self._wrap_evaluation_fn(evaluation_fn)

    # -- how the user function is called (subclasses override) ---------------------------

    def _inspect_params(self, fn: Callable[..., Any]) -> FunctionParams:
        return inspect_params(fn)

    def _wrap_evaluation_fn(self, fn: Callable[..., Any]) -> Callable[[Any], Any]:
        """Turn the user's function into ``evaluation(context) -> raw result``."""

        def evaluation(context: Any) -> Any:
            return call_with_context(
                fn, self._params, context, self._required_resource_keys, self._kind, self._name
            )

        return evaluation

    def _default_context(self) -> Any:
        return build_sensor_context()

    # -- targets --------------------------------------------------------------------------

    def _set_targets(
        self, job_name: Any, job: Any, jobs: Any, asset_selection: Any, target: Any
    ) -> None:
        given = [v for v in (job_name, job, jobs, asset_selection, target) if v is not None]
        if len(given) > 1:
            raise DagsterInvalidDefinitionError(
                "Attempted to provide more than one of 'job', 'jobs', 'job_name', and "
                "'asset_selection' params to SensorDefinition. Must provide only one."
            )
        if target is not None:
            if is_job_like(target):
                job = target
            else:
                asset_selection = target
        self._job_name_given = _check.opt_str(job_name, "job_name")
        self._jobs: list[Any] = []
        if job is not None:
            self._jobs = [job]
        elif jobs is not None:
            if isinstance(jobs, str) or not isinstance(jobs, Sequence):
                raise ParameterCheckError(
                    f'Param "jobs" is not a Sequence. Got {jobs!r} which is type {type(jobs)}.'
                )
            self._jobs = list(jobs)
        self._asset_selection = asset_selection

    def targets(self) -> list[str]:
        """Names of the jobs this sensor may request runs of (for ``Definitions`` checks)."""
        if self._job_name_given is not None:
            return [self._job_name_given]
        return [job.name for job in self._jobs]

    def target_jobs(self) -> list[Any]:
        """The job objects passed as ``job`` / ``jobs`` / ``target`` (may be unresolved)."""
        return list(self._jobs)

    @property
    def job_name(self) -> str | None:
        """The one job this sensor targets, or None (no job, or several)."""
        names = self.targets()
        return names[0] if len(names) == 1 else None

    @property
    def job(self) -> Any:
        """The one job object this sensor targets, or None."""
        return self._jobs[0] if len(self._jobs) == 1 else None

    @property
    def jobs(self) -> list[Any]:
        return list(self._jobs)

    @property
    def asset_selection(self) -> Any:
        return self._asset_selection

    @property
    def has_target(self) -> bool:
        return bool(self.targets()) or self._asset_selection is not None

    # -- plain attributes -----------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._name

    @property
    def description(self) -> str | None:
        return self._description

    @property
    def minimum_interval_seconds(self) -> int:
        return self._minimum_interval_seconds

    @property
    def default_status(self) -> DefaultSensorStatus:
        return self._default_status

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._tags)

    @property
    def metadata(self) -> dict[str, Any]:
        return dict(self._metadata)

    @property
    def owners(self) -> list[str]:
        return list(self._owners)

    @property
    def required_resource_keys(self) -> set[str]:
        return set(self._required_resource_keys)

    @property
    def sensor_type(self) -> str:
        return "STANDARD"

    # -- evaluation -----------------------------------------------------------------------

    def evaluate_tick(self, context: SensorEvaluationContext) -> Any:
        """Evaluate once and normalize the result (``SensorEvaluation``).

        The user's exceptions propagate unchanged; result problems raise as documented in
        ``tocsin.automation.evaluate``.
        """
        from tocsin.automation.evaluate import evaluate_sensor

        return evaluate_sensor(self, context)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the raw function, for tests: its return value comes back unchanged."""
        context, resources = resolve_direct_call(
            self._kind, self._params, args, kwargs, self._context_type, self._default_context
        )
        context._with_resources(resources)
        return call_with_context(
            self._raw_fn,
            self._params,
            context,
            self._required_resource_keys,
            self._kind,
            self._name,
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._name!r}>"


def sensor(
    job_name: str | None = None,
    *,
    name: str | None = None,
    minimum_interval_seconds: int | None = None,
    description: str | None = None,
    job: Any = None,
    jobs: Sequence[Any] | None = None,
    default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
    asset_selection: Any = None,
    required_resource_keys: set[str] | None = None,
    tags: Mapping[str, str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    target: Any = None,
    owners: Sequence[str] | None = None,
    asset_key: Any = None,
    **extras: Any,
) -> Callable[[Callable[..., Any]], SensorDefinition]:
    """Decorate a function to make it a sensor (note the parentheses: ``@sensor(...)``).

    The function takes an optional context (``SensorEvaluationContext``) and resource
    parameters, and returns or yields ``RunRequest``s, a ``SkipReason`` or a
    ``SensorResult``. Arguments are those of ``SensorDefinition``; ``asset_key`` makes an
    asset sensor (as ``@asset_sensor``).
    """

    def inner(fn: Callable[..., Any]) -> SensorDefinition:
        if not isinstance(job_name, str | None):
            raise ParameterCheckError(
                f'Param "job_name" is not a str. Got {job_name!r} which is type '
                f"{type(job_name)}. (Write @sensor(...) with parentheses.)"
            )
        if asset_key is not None:
            from tocsin.automation.asset_sensor import asset_sensor

            return asset_sensor(
                asset_key,
                name=name,
                minimum_interval_seconds=minimum_interval_seconds,
                description=description,
                job=job,
                jobs=jobs,
                job_name=job_name,
                default_status=default_status,
                required_resource_keys=required_resource_keys,
                tags=tags,
                metadata=metadata,
            )(fn)
        return SensorDefinition(
            name=name if name is not None else fn.__name__,
            evaluation_fn=fn,
            job_name=job_name,
            minimum_interval_seconds=minimum_interval_seconds,
            description=description,
            job=job,
            jobs=jobs,
            default_status=default_status,
            asset_selection=asset_selection,
            required_resource_keys=required_resource_keys,
            tags=tags,
            metadata=metadata,
            target=target,
            owners=owners,
            **extras,
        )

    return inner
