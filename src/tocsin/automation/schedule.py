"""Schedules: a cron expression, a time zone and a function that says what to run at each tick.

``@schedule`` builds a ``ScheduleDefinition`` from a function; ``ScheduleDefinition(...)``
without a function requests one run per tick with fixed or computed config and tags. Tick
times come from ``tocsin.cron`` (``next_tick_after`` / ``iter_ticks``). Evaluation goes
through ``tocsin.automation.evaluate``.

tocsin's scheduling options, read by the daemon and only stored here:

* ``dst_policy`` -- what to do with tick times that a daylight-saving change skips or
  repeats (a ``tocsin.cron.DstPolicy`` or ``"gap=skip,fold=both"``; None keeps the default).
* ``catchup`` -- which ticks missed while the daemon was down are run: ``"latest"`` (only the
  newest; the default), ``"all"`` (oldest first, up to ``max_catchup_runs``) or ``"none"``
  (resume at the next tick). True means ``"all"``, False ``"none"``; None keeps the instance's
  setting (``schedules: {catchup: ...}`` in tocsin.yaml), else ``"latest"``.
* ``max_catchup_runs`` -- with ``catchup="all"``, at most this many missed ticks run (the
  newest; 5 when unset).
* ``catchup_window`` -- missed ticks older than this (seconds or ``timedelta``) are not run.
* ``overlap`` -- what to do with a new run while one of the schedule's runs still waits or
  runs: ``allow``, ``skip``, ``buffer_one``, ``buffer_all``, ``cancel_other`` (see
  ``tocsin.automation.policies``; None: tocsin.yaml's ``schedules.overlap``, else ``allow``).
* ``jitter`` -- a bound (seconds or ``timedelta``) on a fixed delay added to each tick: the
  schedule always runs at its cron time plus the same offset in ``[0, jitter)``.
* ``pause_after_failures`` -- stop the schedule after this many consecutive failed runs or
  failed ticks (0: never; None: tocsin.yaml's ``schedules.pause_after_failures``).
"""

from __future__ import annotations

import copy
import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterator, Mapping, Sequence
from enum import Enum
from typing import Any, cast

from tocsin.automation import _check
from tocsin.automation._invocation import (
    FunctionParams,
    call_with_context,
    check_resource_keys,
    check_valid_name,
    inspect_params,
    resolve_direct_call,
)
from tocsin.automation.context import ScheduleEvaluationContext, build_schedule_context
from tocsin.automation.policies import check_overlap
from tocsin.automation.results import RunRequest, SkipReason, normalize_tags
from tocsin.automation.sensor import is_job_like
from tocsin.errors import (
    CheckError,
    DagsterInvalidDefinitionError,
    DagsterInvalidInvocationError,
    ParameterCheckError,
)
from tocsin.model.tags import SYSTEM_TAG_PREFIX


class DefaultScheduleStatus(Enum):
    """Whether a schedule runs as soon as it is deployed (RUNNING) or waits to be started."""

    RUNNING = "RUNNING"
    STOPPED = "STOPPED"


def _check_cron(cron_schedule: Any, name: str | None) -> str | list[str]:
    if isinstance(cron_schedule, str):
        value: str | list[str] = cron_schedule
    elif isinstance(cron_schedule, Sequence) and all(isinstance(c, str) for c in cron_schedule):
        value = list(cron_schedule)
    else:
        raise ParameterCheckError(
            f"Param \"cron_schedule\" is not one of ['Sequence', 'str']. Got {cron_schedule!r} "
            f"which is type {type(cron_schedule)}."
        )
    from tocsin.cron import is_valid_cron

    if not is_valid_cron(value):
        raise DagsterInvalidDefinitionError(
            f"Found invalid cron schedule '{value}' for schedule '{name}''. Dagster recognizes "
            "standard cron expressions consisting of 5 fields."
        )
    return value


def _check_timezone(timezone: Any, name: str | None) -> str | None:
    if timezone is None:
        return None
    _check.opt_str(timezone, "execution_timezone")
    from tocsin.cron import get_timezone

    try:
        zoneinfo.ZoneInfo(timezone)
        get_timezone(timezone)
    except Exception as exc:
        raise DagsterInvalidDefinitionError(
            f"Invalid execution timezone {timezone} for {name}"
        ) from exc
    return timezone


def _check_reserved_tags(tags: Mapping[str, str]) -> None:
    for key in tags:
        if key.startswith(SYSTEM_TAG_PREFIX):
            raise DagsterInvalidDefinitionError(
                f"Attempted to set tag with reserved system prefix: {key}"
            )


def _check_exclusive(
    execution_fn: Any,
    run_config: Any,
    run_config_fn: Any,
    tags: Any,
    tags_fn: Any,
    should_execute: Any,
) -> None:
    # Truthiness, not presence: an empty run_config alongside a function is accepted.
    if execution_fn and (run_config_fn or tags_fn or should_execute or run_config):
        raise DagsterInvalidDefinitionError(
            "Attempted to provide both execution_fn and individual run_config/tags_fn arguments "
            "to ScheduleDefinition. Must provide only one of the two."
        )
    if run_config and run_config_fn:
        raise DagsterInvalidDefinitionError(
            "Attempted to provide both run_config_fn and run_config as arguments to "
            "ScheduleDefinition. Must provide only one of the two."
        )
    if tags and tags_fn:
        raise DagsterInvalidDefinitionError(
            "Attempted to provide both tags_fn and tags as arguments to ScheduleDefinition. "
            "Must provide only one of the two."
        )


def _check_extras(
    max_catchup_runs: Any, catchup_window: Any, jitter: Any, pause_after_failures: Any
) -> None:
    for label, value in (
        ("max_catchup_runs", max_catchup_runs),
        ("pause_after_failures", pause_after_failures),
    ):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 0
        ):
            raise DagsterInvalidDefinitionError(
                f"{label} must be a non-negative int or None, got {value!r}."
            )
    for label, value in (("catchup_window", catchup_window), ("jitter", jitter)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float | dt.timedelta)
        ):
            raise DagsterInvalidDefinitionError(
                f"{label} must be a number of seconds or a timedelta, got {value!r}."
            )
        seconds = value.total_seconds() if isinstance(value, dt.timedelta) else value
        if seconds is not None and seconds < 0:
            raise DagsterInvalidDefinitionError(
                f"{label} must not be negative, got {value!r}; use e.g. "
                f"{label}=timedelta(minutes=5)."
            )


class DecoratedScheduleFunction:
    """Marks a schedule built by ``@schedule``: the user's function and its parameters."""

    def __init__(self, fn: Callable[..., Any]):
        self.fn = fn
        self.params: FunctionParams = inspect_params(fn)


class ScheduleDefinition:
    """A schedule: when (cron + time zone) and what (job, config, tags) to run.

    Args:
        name: unique name; defaults to ``<job name>_schedule``.
        cron_schedule: a 5-field cron expression, or a list of them (ticks merged).
        job_name: name of the job to run.
        run_config: fixed run config for every tick.
        run_config_fn: ``fn(context) -> run config``, instead of ``run_config``.
        tags: tags for the runs (no ``dagster/`` prefix).
        tags_fn: ``fn(context) -> tags``, instead of ``tags``.
        metadata: metadata of the schedule.
        should_execute: ``fn(context) -> bool``; False skips the tick.
        environment_vars: environment of the schedule (kept as data).
        execution_timezone: IANA zone the cron is read in (None: UTC).
        execution_fn: ``fn(context)`` returning ``RunRequest``s or a ``SkipReason``, instead of
            the config/tags arguments.
        description: shown in the UI.
        job: the job to run.
        default_status: RUNNING to start as soon as it is deployed.
        required_resource_keys: resource keys the function reads.
        target: a job, an alternative to ``job``.
        owners: owners of the schedule (kept as data).
        dst_policy, catchup, max_catchup_runs, catchup_window, overlap, jitter,
            pause_after_failures: tocsin's scheduling options, see the module docstring.
    """

    _kind = "Schedule"

    def __init__(
        self,
        name: str | None = None,
        *,
        cron_schedule: str | Sequence[str] | None = None,
        job_name: str | None = None,
        run_config: Any = None,
        run_config_fn: Callable[[Any], Any] | None = None,
        tags: Mapping[str, str] | None = None,
        tags_fn: Callable[[Any], Mapping[str, str]] | None = None,
        metadata: Mapping[str, Any] | None = None,
        should_execute: Callable[[Any], bool] | None = None,
        environment_vars: Mapping[str, str] | None = None,
        execution_timezone: str | None = None,
        execution_fn: Callable[..., Any] | DecoratedScheduleFunction | None = None,
        description: str | None = None,
        job: Any = None,
        default_status: DefaultScheduleStatus = DefaultScheduleStatus.STOPPED,
        required_resource_keys: set[str] | None = None,
        target: Any = None,
        owners: Sequence[str] | None = None,
        dst_policy: Any = None,
        catchup: str | bool | None = None,
        max_catchup_runs: int | None = None,
        catchup_window: float | dt.timedelta | None = None,
        overlap: str | None = None,
        jitter: float | dt.timedelta | None = None,
        pause_after_failures: int | None = None,
    ):
        self._cron_schedule = _check_cron(cron_schedule, name)
        self._set_target(job_name, job, target)
        self._name = check_valid_name(name if name is not None else f"{self.job_name}_schedule")
        self._execution_timezone = _check_timezone(execution_timezone, name)
        decorated = isinstance(execution_fn, DecoratedScheduleFunction)
        _check_exclusive(
            None if decorated else execution_fn,
            run_config,
            run_config_fn,
            tags,
            tags_fn,
            should_execute,
        )
        self._tags = normalize_tags(tags)
        _check_reserved_tags(self._tags)
        self._metadata = dict(metadata or {})
        self._environment_vars = dict(environment_vars) if environment_vars else None
        self._description = _check.opt_str(description, "description")
        if not isinstance(default_status, DefaultScheduleStatus):
            raise ParameterCheckError(
                f'Param "default_status" is not a DefaultScheduleStatus. Got {default_status!r}.'
            )
        self._default_status = default_status
        self._owners = list(owners or [])
        self._decorated = (
            execution_fn if isinstance(execution_fn, DecoratedScheduleFunction) else None
        )
        params = self._decorated.params if self._decorated else FunctionParams(None, ())
        self._required_resource_keys = check_resource_keys(
            required_resource_keys, params, "schedule"
        )
        self._run_config = run_config
        self._run_config_fn = run_config_fn
        self._tags_fn = tags_fn
        self._should_execute = should_execute
        self._evaluation_fn = self._make_evaluation_fn(execution_fn)
        self._set_extras(
            dst_policy,
            catchup,
            max_catchup_runs,
            catchup_window,
            overlap,
            jitter,
            pause_after_failures,
        )

    def _set_extras(
        self,
        dst_policy: Any,
        catchup: Any,
        max_catchup_runs: Any,
        catchup_window: Any,
        overlap: Any,
        jitter: Any,
        pause_after_failures: Any,
    ) -> None:
        from tocsin.cron import DstPolicy

        self.dst_policy = DstPolicy.coerce(dst_policy)
        from tocsin.daemon.catchup import normalize_catchup

        try:
            self.catchup: str | None = None if catchup is None else normalize_catchup(catchup)
        except ValueError as exc:
            raise DagsterInvalidDefinitionError(str(exc)) from None
        _check_extras(max_catchup_runs, catchup_window, jitter, pause_after_failures)
        self.max_catchup_runs = max_catchup_runs
        self.catchup_window = catchup_window
        self.overlap = check_overlap(overlap)
        self.jitter = jitter
        self.pause_after_failures = pause_after_failures

    def _set_target(self, job_name: Any, job: Any, target: Any) -> None:
        given = [v for v in (job_name, job, target) if v is not None]
        if len(given) > 1:
            raise DagsterInvalidDefinitionError(
                "Attempted to provide more than one of 'job', 'job_name', and 'target'params to "
                "ScheduleDefinition. Must provide only one."
            )
        if not given:
            raise CheckError("Failure condition: Must provide target, job, or job_name")
        if target is not None and not isinstance(target, str) and not is_job_like(target):
            raise DagsterInvalidDefinitionError(
                f"ScheduleDefinition target must be a job, got {target!r}. Turn assets into a "
                "job with define_asset_job(...) and pass that."
            )
        job = job if job is not None else target
        if isinstance(job, str):
            job_name, job = job, None
        self._job = job
        self._job_name = _check.opt_str(job_name, "job_name") if job is None else job.name

    # -- how the function is called ------------------------------------------------------

    def _make_evaluation_fn(self, execution_fn: Any) -> Callable[[Any], Any]:
        if self._decorated is not None:
            return self._decorated_evaluation
        if execution_fn is not None:
            if not callable(execution_fn):
                raise DagsterInvalidDefinitionError(
                    f"execution_fn of a ScheduleDefinition must be callable, got {execution_fn!r}."
                )
            return execution_fn
        return self._default_evaluation

    def _skip_if_not_executing(self, context: Any) -> SkipReason | None:
        if self._should_execute is not None and not self._should_execute(context):
            return SkipReason(f"should_execute function for {self._name} returned false.")
        return None

    def _run_tags(self, context: Any) -> Mapping[str, Any]:
        return self._tags_fn(context) if self._tags_fn is not None else self._tags

    def _default_evaluation(self, context: Any) -> Any:
        skip = self._skip_if_not_executing(context)
        if skip is not None:
            return skip
        if self._run_config_fn is not None:
            run_config = self._run_config_fn(context)
        else:
            run_config = copy.deepcopy(self._run_config)
        return RunRequest(run_key=None, run_config=run_config, tags=self._run_tags(context))

    def _decorated_evaluation(self, context: Any) -> Any:
        skip = self._skip_if_not_executing(context)
        if skip is not None:
            return skip
        decorated = cast(DecoratedScheduleFunction, self._decorated)
        result = call_with_context(
            decorated.fn,
            decorated.params,
            context,
            self._required_resource_keys,
            self._kind,
            self._name,
        )
        if isinstance(result, dict):
            return RunRequest(
                run_key=None, run_config=copy.deepcopy(result), tags=self._run_tags(context)
            )
        return result

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the decorated function directly, for tests; a dict comes back as a copy."""
        if self._decorated is None:
            raise DagsterInvalidInvocationError(
                "Schedule invocation is only supported for schedules created via the schedule "
                "decorators."
            )
        context, resources = resolve_direct_call(
            self._kind,
            self._decorated.params,
            args,
            kwargs,
            ScheduleEvaluationContext,
            build_schedule_context,
        )
        context._with_resources(resources)
        result = call_with_context(
            self._decorated.fn,
            self._decorated.params,
            context,
            self._required_resource_keys,
            self._kind,
            self._name,
        )
        return copy.deepcopy(result) if isinstance(result, dict) else result

    def evaluate_tick(self, context: ScheduleEvaluationContext) -> Any:
        """Evaluate once and normalize the result (``ScheduleEvaluation``).

        Raises:
            ScheduleExecutionError: the schedule's function raised (its error is the cause).
            CheckError: the function returned something a schedule may not return.
        """
        from tocsin.automation.evaluate import evaluate_schedule

        return evaluate_schedule(self, context)

    # -- tick times -----------------------------------------------------------------------

    def _cron(self) -> Any:
        from tocsin.cron import CronSchedule

        return CronSchedule.parse(
            self._cron_schedule,
            timezone=self._execution_timezone or "UTC",
            dst_policy=self.dst_policy,
        )

    def next_tick_after(self, after: dt.datetime) -> dt.datetime:
        """The first tick strictly after ``after``, in the execution time zone."""
        return self._cron().next_after(after)

    def iter_ticks(self, start: dt.datetime) -> Iterator[dt.datetime]:
        """Ticks strictly after ``start``, ascending, without end."""
        return self._cron().iter_after(start)

    # -- plain attributes -----------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._name

    @property
    def cron_schedule(self) -> str | list[str]:
        return copy.copy(self._cron_schedule)

    @property
    def job_name(self) -> str | None:
        return self._job_name

    @property
    def job(self) -> Any:
        return self._job

    def targets(self) -> list[str]:
        """Names of the jobs this schedule runs (for ``Definitions`` checks)."""
        return [self._job_name] if self._job_name else []

    def target_jobs(self) -> list[Any]:
        """The job object passed as ``job`` / ``target`` (may be unresolved), if any."""
        return [self._job] if self._job is not None else []

    @property
    def execution_timezone(self) -> str | None:
        return self._execution_timezone

    @property
    def description(self) -> str | None:
        return self._description

    @property
    def default_status(self) -> DefaultScheduleStatus:
        return self._default_status

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._tags)

    @property
    def metadata(self) -> dict[str, Any]:
        return dict(self._metadata)

    @property
    def environment_vars(self) -> dict[str, str] | None:
        return None if self._environment_vars is None else dict(self._environment_vars)

    @property
    def owners(self) -> list[str]:
        return list(self._owners)

    @property
    def required_resource_keys(self) -> set[str]:
        return set(self._required_resource_keys)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._name!r} {self._cron_schedule!r}>"


def schedule(
    cron_schedule: str | Sequence[str] | None = None,
    *,
    job_name: str | None = None,
    name: str | None = None,
    tags: Mapping[str, str] | None = None,
    tags_fn: Callable[[Any], Mapping[str, str]] | None = None,
    metadata: Mapping[str, Any] | None = None,
    should_execute: Callable[[Any], bool] | None = None,
    environment_vars: Mapping[str, str] | None = None,
    execution_timezone: str | None = None,
    description: str | None = None,
    job: Any = None,
    default_status: DefaultScheduleStatus = DefaultScheduleStatus.STOPPED,
    required_resource_keys: set[str] | None = None,
    target: Any = None,
    owners: Sequence[str] | None = None,
    **extras: Any,
) -> Callable[[Callable[..., Any]], ScheduleDefinition]:
    """Decorate a function to make it a schedule (note the parentheses: ``@schedule(...)``).

    The function takes an optional context (``ScheduleEvaluationContext``) and resource
    parameters and returns a run config dict, ``RunRequest``(s) or a ``SkipReason``.
    Arguments are those of ``ScheduleDefinition``.
    """

    def inner(fn: Callable[..., Any]) -> ScheduleDefinition:
        if not callable(fn):
            raise DagsterInvalidDefinitionError(f"@schedule decorates a function, got {fn!r}.")
        return ScheduleDefinition(
            name=name if name is not None else fn.__name__,
            cron_schedule=cron_schedule,
            job_name=job_name,
            tags=tags,
            tags_fn=tags_fn,
            metadata=metadata,
            should_execute=should_execute,
            environment_vars=environment_vars,
            execution_timezone=execution_timezone,
            execution_fn=DecoratedScheduleFunction(fn),
            description=description,
            job=job,
            default_status=default_status,
            required_resource_keys=required_resource_keys,
            target=target,
            owners=owners,
            **extras,
        )

    return inner
