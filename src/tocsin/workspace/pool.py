"""A few user-code worker processes for one code location, so one slow request holds up none
of the others.

A request takes a free worker. When every started worker is busy and the pool is below its
size, it waits up to ``SPILL_AFTER_SECONDS`` for one to come free and only then starts a new
process; when all ``size`` workers are busy it waits for one to come free. So an idle location
costs one process, quick evaluations that happen to overlap share it, and a second process
appears only once a request has been kept waiting by a slow one. A request that runs over its
time limit kills its own worker (the next request that needs it starts a fresh process); the
other workers carry on untouched.
Each worker reloads the location's code by itself when its files change.

Settings read: ``size``, from tocsin.yaml ``sensors: {workers_per_location: N}`` (default 2).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from tocsin.errors import ConfigError, TocsinError
from tocsin.workspace.client import WorkerClient
from tocsin.workspace.workspace import LocationSpec

DEFAULT_WORKERS_PER_LOCATION = 2

#: How long a request waits for a busy worker before the pool starts another process.
SPILL_AFTER_SECONDS = 0.5


class WorkersBusy(TocsinError):
    """Every worker of the pool is serving a request and the pool is at its size."""


def workers_per_location(value: Any) -> int:
    """``sensors: {workers_per_location: N}`` of tocsin.yaml, checked (None: the default).

    Raises:
        ConfigError: the value is not a whole number of at least 1.
    """
    if value is None:
        return DEFAULT_WORKERS_PER_LOCATION
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(
            f"tocsin.yaml sensors.workers_per_location must be a whole number of at least 1 "
            f"(user-code processes per code location), got {value!r}; for example "
            f"'sensors: {{workers_per_location: {DEFAULT_WORKERS_PER_LOCATION}}}'."
        )
    return value


class WorkerPool:
    """Up to ``size`` worker processes of one code location, started as they are needed.

    Args:
        spec: the code location the workers load.
        size: the most worker processes at once (at least 1).
        python: the interpreter that runs the workers (default: this one).
    """

    def __init__(
        self,
        spec: LocationSpec,
        *,
        size: int = DEFAULT_WORKERS_PER_LOCATION,
        python: str | None = None,
    ):
        self.spec = spec
        self.size = workers_per_location(size)
        self._python = python
        self._clients: list[WorkerClient] = []
        self._busy: set[int] = set()  # id() of the clients serving a request
        self._free = threading.Condition()

    def pids(self) -> list[int]:
        """The process ids of the workers that are running now."""
        with self._free:
            clients = list(self._clients)
        return [c.pid for c in clients if c.alive and c.pid is not None]

    def in_flight(self) -> int:
        """How many requests are being served now."""
        with self._free:
            return len(self._busy)

    def request(
        self,
        op: str,
        args: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,
        wait: bool = True,
    ):
        """Send one request to a free worker and return its value (see ``WorkerClient``).

        With ``wait`` false it does not wait for a worker to come free.

        Raises:
            WorkersBusy: ``wait`` is false and every worker is busy.
            WorkerTimeout: no answer within ``timeout`` seconds (that worker was stopped).
            WorkerFailed: the worker answered with an error, or died.
        """
        client = self._take(wait)
        if client is None:
            raise WorkersBusy(
                f"all {self.size} workers of code location {self.spec.name!r} are busy"
            )
        try:
            return client.request(op, args, timeout=timeout)
        finally:
            with self._free:
                self._busy.discard(id(client))
                self._free.notify()

    def _take(self, wait: bool) -> WorkerClient | None:
        """A free worker, marked busy. Another process is started only when a request has
        waited ``SPILL_AFTER_SECONDS`` for a busy one (or when there is none yet), so quick
        evaluations that merely overlap share one process."""
        spill_at: float | None = None
        with self._free:
            while True:
                idle = [c for c in self._clients if id(c) not in self._busy]
                # A running worker first: starting a process costs time and memory.
                chosen = next((c for c in idle if c.alive), idle[0] if idle else None)
                if chosen is None and len(self._clients) < self.size:
                    now = time.monotonic()
                    if spill_at is None:
                        spill_at = now + SPILL_AFTER_SECONDS
                    if not self._clients or (wait and now >= spill_at):
                        chosen = WorkerClient(self.spec, python=self._python)
                        self._clients.append(chosen)
                if chosen is not None:
                    self._busy.add(id(chosen))
                    return chosen
                if not wait:
                    return None
                if len(self._clients) < self.size and spill_at is not None:
                    self._free.wait(max(0.0, spill_at - time.monotonic()))
                else:
                    self._free.wait()

    def close(self) -> None:
        """Stop every worker: idle ones are asked to exit, busy ones are killed.

        A request still in flight then fails. The pool can be used again afterwards; it
        starts new workers as requests come.
        """
        with self._free:
            clients = list(self._clients)
            busy = set(self._busy)
        for client in clients:
            if id(client) in busy:
                client.terminate()
            else:
                client.close()
