"""One interface over a code location, whether its code lives in a worker or in this process.

``WorkerLocation`` is what the daemon uses (the daemon never imports user code);
``InProcessLocation`` evaluates in the calling process, for tests and quick CLI commands.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tocsin.model.errors_info import SerializableErrorInfo
from tocsin.workspace.client import (
    DEFAULT_TIMEOUT_SECONDS,
    WorkerFailed,
    WorkerTimeout,
)
from tocsin.workspace.handler import LocationHandler
from tocsin.workspace.messages import Evaluation, InstigatorInfo
from tocsin.workspace.pool import DEFAULT_WORKERS_PER_LOCATION, WorkerPool, WorkersBusy
from tocsin.workspace.workspace import LocationSpec, load_definitions


def timeout_message(location: str, name: str, seconds: float) -> str:
    return (
        f"Evaluation of sensor {name!r} in code location {location!r} ran over its time limit "
        f"of {seconds:g} s, so its worker was stopped and no run was made. Raise the limit "
        "with @sensor(evaluation_timeout=...) or in tocsin.yaml "
        "(sensors: {evaluation_timeout_seconds: ...}), or split the work across ticks: "
        "do part of it each tick and remember where you stopped with context.update_cursor()."
    )


class CodeLocation:
    """What the loops ask of a code location."""

    name: str
    spec: LocationSpec | None

    def load_error(self) -> SerializableErrorInfo | None:
        raise NotImplementedError

    def list_instigators(self) -> list[InstigatorInfo]:
        raise NotImplementedError

    def list_jobs(self) -> list[str]:
        raise NotImplementedError

    def evaluate_sensor(self, name: str, *, timeout: float | None = None, **kwargs: Any):
        raise NotImplementedError

    def evaluate_schedule(self, name: str, *, scheduled_time: datetime, timeout=None, **kwargs):
        raise NotImplementedError

    def close(self) -> None:
        """Release the location's resources."""


class InProcessLocation(CodeLocation):
    """Evaluates in this process, from a spec or from an already-built definitions object."""

    def __init__(self, name: str, defs: Any = None, *, spec: LocationSpec | None = None):
        self.name = name
        self.spec = spec
        self.handler = LocationHandler(lambda: defs if spec is None else load_definitions(spec))

    def load_error(self) -> SerializableErrorInfo | None:
        return self.handler.load_error

    def list_instigators(self) -> list[InstigatorInfo]:
        return self.handler.list_instigators()

    def list_jobs(self) -> list[str]:
        return self.handler.list_jobs()

    def evaluate_sensor(self, name: str, *, timeout: float | None = None, **kwargs: Any):
        return _guard(lambda: self.handler.evaluate_sensor(name, **kwargs))

    def evaluate_schedule(self, name: str, *, scheduled_time: datetime, timeout=None, **kwargs):
        return _guard(
            lambda: self.handler.evaluate_schedule(name, scheduled_time=scheduled_time, **kwargs)
        )


def _guard(call: Any) -> Evaluation:
    from tocsin.model.errors_info import serializable_error_info_from_exc

    try:
        return call()
    except Exception as exc:  # the tick becomes a FAILURE; the loop carries on
        return Evaluation(error=serializable_error_info_from_exc(exc))


class WorkerLocation(CodeLocation):
    """Evaluates in long-lived worker processes (``tocsin.workspace.worker``).

    Up to ``workers`` of them at once (``WorkerPool``; tocsin.yaml
    ``sensors: {workers_per_location: N}``, default 2), the second started only when two
    requests are in flight together, so a sensor that runs long leaves a worker for the others.
    """

    def __init__(
        self,
        spec: LocationSpec,
        *,
        default_timeout: float | None = None,
        workers: int = DEFAULT_WORKERS_PER_LOCATION,
    ):
        self.name = spec.name
        self.spec = spec
        self.client = WorkerPool(spec, size=workers)
        self.default_timeout = default_timeout or DEFAULT_TIMEOUT_SECONDS
        self._asked: dict[str, Any] = {}

    def _ask(self, op: str) -> Any:
        """A question about the location's definitions. When every worker is busy evaluating,
        the previous answer is given instead of waiting (the loops ask at every pass, and a
        slow sensor must not stall them); the next free worker answers afresh."""
        try:
            value = self.client.request(
                op, timeout=self.default_timeout, wait=op not in self._asked
            )
        except WorkersBusy:
            return self._asked[op]
        self._asked[op] = value
        return value

    def load_error(self) -> SerializableErrorInfo | None:
        try:
            return self._ask("load_error")
        except (WorkerFailed, WorkerTimeout) as exc:
            return SerializableErrorInfo(message=str(exc), stack=[], cls_name=type(exc).__name__)

    def list_instigators(self) -> list[InstigatorInfo]:
        return self._ask("list_instigators")

    def list_jobs(self) -> list[str]:
        return self._ask("list_jobs")

    def _evaluate(self, op: str, name: str, timeout: float | None, args: dict[str, Any]):
        limit = timeout or self.default_timeout
        try:
            return self.client.request(op, {"name": name, **args}, timeout=limit)
        except WorkerTimeout:
            message = timeout_message(self.name, name, limit)
            return Evaluation.failure(message, cls_name="SensorTimeoutError", is_timeout=True)
        except WorkerFailed as exc:
            info = exc.error_info or SerializableErrorInfo(str(exc), [], "WorkerFailed")
            return Evaluation(error=info)

    def evaluate_sensor(self, name: str, *, timeout: float | None = None, **kwargs: Any):
        return self._evaluate("evaluate_sensor", name, timeout, kwargs)

    def evaluate_schedule(self, name: str, *, scheduled_time: datetime, timeout=None, **kwargs):
        return self._evaluate(
            "evaluate_schedule", name, timeout, {"scheduled_time": scheduled_time, **kwargs}
        )

    def close(self) -> None:
        self.client.close()
