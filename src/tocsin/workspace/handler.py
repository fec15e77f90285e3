"""Answers the daemon's questions about one loaded code location.

Runs wherever user code is loaded: inside a worker process, or in-process for tests and the
CLI preview. Every answer is plain data (``workspace/messages.py``). User code is called only
through ``tocsin.automation.evaluate``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from tocsin.model.errors_info import SerializableErrorInfo, serializable_error_info_from_exc
from tocsin.workspace.messages import (
    RUNNING,
    SCHEDULE,
    SENSOR,
    STOPPED,
    Evaluation,
    InstigatorInfo,
    RunReaction,
    RunRequestData,
)


class LocationHandler:
    """Holds one location's definitions and answers requests against them.

    An instance ref sent with a request is opened only when the evaluation reads
    ``context.instance`` (most sensors never do, and opening it loads the storage layer); once
    opened, it is kept for later requests with the same ref.

    Args:
        load: returns the definitions object; called again by ``reload``.
    """

    def __init__(self, load: Callable[[], Any]):
        self._load = load
        self._instances: dict[str, Any] = {}
        self.defs: Any = None
        self.load_error: SerializableErrorInfo | None = None
        self.reload()

    def reload(self) -> None:
        try:
            self.defs = self._load()
            self.load_error = None
        except Exception as exc:  # a location that fails to load reports its traceback
            self.defs = None
            self.load_error = serializable_error_info_from_exc(exc)

    # -- requests ------------------------------------------------------------------------

    def list_instigators(self) -> list[InstigatorInfo]:
        if self.defs is None:
            return []
        infos = [sensor_info(s) for s in getattr(self.defs, "sensors", None) or ()]
        infos += [schedule_info(s) for s in getattr(self.defs, "schedules", None) or ()]
        return infos

    def list_jobs(self) -> list[str]:
        if self.defs is None:
            return []
        return sorted(job.name for job in self.defs.get_all_job_defs())

    def evaluate_sensor(
        self,
        name: str,
        *,
        cursor: str | None = None,
        last_tick_time: datetime | None = None,
        last_run_key: str | None = None,
        instance_ref: Any = None,
    ) -> Evaluation:
        from tocsin.automation.context import build_sensor_context
        from tocsin.automation.evaluate import evaluate_sensor

        sensor_def = self.defs.get_sensor_def(name)
        context = call_with_supported(
            build_sensor_context,
            **self._instance_args(instance_ref),
            cursor=cursor,
            last_tick_completion_time=None
            if last_tick_time is None
            else last_tick_time.timestamp(),
            last_run_key=last_run_key,
            sensor_name=name,
            definitions=self.defs,
        )
        result = evaluate_sensor(sensor_def, context, wrap_errors=True)
        self._keep_opened(instance_ref, context)
        return evaluation_from_result(result, default_job=_single_job(sensor_def))

    def evaluate_schedule(
        self, name: str, *, scheduled_time: datetime, instance_ref: Any = None
    ) -> Evaluation:
        from tocsin.automation.context import build_schedule_context
        from tocsin.automation.evaluate import evaluate_schedule

        schedule_def = self.defs.get_schedule_def(name)
        context = call_with_supported(
            build_schedule_context,
            **self._instance_args(instance_ref),
            scheduled_execution_time=scheduled_time,
            definitions=self.defs,
        )
        result = evaluate_schedule(schedule_def, context, wrap_errors=True)
        self._keep_opened(instance_ref, context)
        return evaluation_from_result(result, default_job=_single_job(schedule_def))

    def _instance_args(self, ref: Any) -> dict[str, Any]:
        """``instance`` / ``instance_ref`` for a context: the open instance when there is one,
        else the ref alone, which the context opens on first use."""
        if ref is None or hasattr(ref, "get_run_by_id"):
            return {"instance": ref}  # nothing, or an instance already open in this process
        opened = self._instances.get(repr(ref))
        return (
            {"instance_ref": ref} if opened is None else {"instance": opened, "instance_ref": ref}
        )

    def _keep_opened(self, ref: Any, context: Any) -> None:
        """Keep the instance an evaluation opened from ``ref``, for the next requests."""
        if ref is None or hasattr(ref, "get_run_by_id"):
            return
        opened = getattr(context, "_instance", None)
        if opened is not None:
            self._instances.setdefault(repr(ref), opened)

    def close(self) -> None:
        for instance in self._instances.values():
            dispose = getattr(instance, "dispose", None)
            if dispose is not None:
                dispose()
        self._instances.clear()


def call_with_supported(fn: Callable[..., Any], **kwargs: Any) -> Any:
    """Call ``fn`` with those of ``kwargs`` it accepts (context builders differ by kind)."""
    import inspect

    params = inspect.signature(fn).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return fn(**kwargs)
    return fn(**{k: v for k, v in kwargs.items() if k in params})


# -- definitions -> plain data ---------------------------------------------------------------


def _status_value(status: Any, default: str) -> str:
    if status is None:
        return default
    value = getattr(status, "value", status)
    return RUNNING if str(value).upper() == RUNNING else STOPPED


def _job_names(definition: Any) -> tuple[str, ...]:
    targets = getattr(definition, "targets", None)
    if callable(targets):
        try:
            names = [getattr(t, "name", t) for t in targets()]
            return tuple(str(n) for n in names if n)
        except Exception:  # an unresolved target must not hide the instigator
            pass
    name = getattr(definition, "job_name", None)
    return (name,) if name else ()


def _single_job(definition: Any) -> str | None:
    names = _job_names(definition)
    return names[0] if len(names) == 1 else None


def sensor_info(sensor_def: Any) -> InstigatorInfo:
    sensor_type = getattr(sensor_def, "sensor_type", None)
    return InstigatorInfo(
        name=sensor_def.name,
        kind=SENSOR,
        job_names=_job_names(sensor_def),
        default_status=_status_value(getattr(sensor_def, "default_status", None), STOPPED),
        minimum_interval_seconds=getattr(sensor_def, "minimum_interval_seconds", None) or 30,
        evaluation_timeout_seconds=getattr(sensor_def, "evaluation_timeout", None),
        sensor_type=None
        if sensor_type is None
        else str(getattr(sensor_type, "value", sensor_type)),
        description=getattr(sensor_def, "description", None),
        extras=_sensor_extras(sensor_def),
    )


def _sensor_extras(sensor_def: Any) -> dict[str, Any]:
    """``wake_on`` as plain names (an asset key as ``a/b``), when the sensor declares it, and
    the run policies it sets."""
    extras = policy_extras(sensor_def)
    wake_on = getattr(sensor_def, "wake_on", None)
    if wake_on is not None:
        extras["wake_on"] = [wake_name(item) for item in wake_on]
    return extras


def policy_extras(definition: Any) -> dict[str, Any]:
    """``overlap`` and ``pause_after_failures`` of a sensor or schedule, when it sets them."""
    found = {}
    for name in ("overlap", "pause_after_failures"):
        value = getattr(definition, name, None)
        if value is not None:
            found[name] = value
    return found


def wake_name(item: Any) -> str:
    """A ``wake_on`` entry as text: an asset key as ``a/b``, an event name as itself."""
    to_user_string = getattr(item, "to_user_string", None)
    if callable(to_user_string):
        return str(to_user_string())
    if isinstance(item, (list, tuple)):
        return "/".join(str(part) for part in item)
    return str(item)


def schedule_info(schedule_def: Any) -> InstigatorInfo:
    cron = schedule_def.cron_schedule
    return InstigatorInfo(
        name=schedule_def.name,
        kind=SCHEDULE,
        job_names=_job_names(schedule_def),
        default_status=_status_value(getattr(schedule_def, "default_status", None), STOPPED),
        cron_schedule=cron if isinstance(cron, str) else tuple(cron),
        execution_timezone=getattr(schedule_def, "execution_timezone", None) or "UTC",
        description=getattr(schedule_def, "description", None),
        extras=schedule_extras(schedule_def),
    )


def schedule_extras(schedule_def: Any) -> dict[str, Any]:
    """The schedule's tocsin options the daemon reads, as plain data (seconds for durations,
    text for the DST policy); options left unset are left out, so instance settings apply."""
    from tocsin.automation.policies import seconds_of

    values = {
        "catchup": getattr(schedule_def, "catchup", None),
        "max_catchup_runs": getattr(schedule_def, "max_catchup_runs", None),
        "catchup_window_seconds": seconds_of(getattr(schedule_def, "catchup_window", None)),
        "jitter_seconds": seconds_of(getattr(schedule_def, "jitter", None)),
        "overlap": getattr(schedule_def, "overlap", None),
        "pause_after_failures": getattr(schedule_def, "pause_after_failures", None),
    }
    policy = getattr(schedule_def, "dst_policy", None)
    if policy is not None:
        values["dst_policy"] = str(policy)
    return {key: value for key, value in values.items() if value is not None}


# -- evaluation results -> plain data ----------------------------------------------------------


def _first(obj: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        if hasattr(obj, name):
            return getattr(obj, name)
    return default


def request_data(request: Any, default_job: str | None) -> RunRequestData:
    selection = getattr(request, "asset_selection", None)
    return RunRequestData(
        run_key=getattr(request, "run_key", None),
        job_name=getattr(request, "job_name", None) or default_job,
        run_config=dict(getattr(request, "run_config", None) or {}),
        tags={str(k): str(v) for k, v in (getattr(request, "tags", None) or {}).items()},
        partition_key=getattr(request, "partition_key", None),
        asset_selection=None if selection is None else [list(k.path) for k in selection],
    )


def _reaction(item: Any) -> RunReaction:
    run = getattr(item, "dagster_run", None)
    status = getattr(item, "run_status", None)
    error = getattr(item, "error", None)
    return RunReaction(
        run_id=str(getattr(run, "run_id", None) or getattr(item, "run_id", "")),
        status=str(getattr(status, "value", status)),
        error=error if isinstance(error, SerializableErrorInfo) else None,
    )


def evaluation_from_result(result: Any, default_job: str | None = None) -> Evaluation:
    """Turn ``automation.evaluate``'s result into an ``Evaluation``."""
    error = _first(result, "error", "error_info")
    if error is not None and not isinstance(error, SerializableErrorInfo):
        error = (
            serializable_error_info_from_exc(error)
            if isinstance(error, BaseException)
            else (SerializableErrorInfo(message=str(error), stack=[], cls_name=None))
        )
    lines = _first(result, "log_lines", "logs", "captured_log_lines", default=()) or ()
    return Evaluation(
        run_requests=tuple(request_data(r, default_job) for r in (result.run_requests or ())),
        skip_message=_first(result, "skip_message", "skip_reason"),
        cursor=_first(result, "cursor"),
        cursor_survives_error=bool(_first(result, "cursor_survives_error", default=False)),
        log_lines=tuple(str(line) for line in lines),
        error=error,
        run_reactions=tuple(
            _reaction(r) for r in (_first(result, "dagster_run_reactions", default=()) or ())
        ),
    )
