"""Ticks that run on background threads across loop passes, at most one per instigator.

A loop pass started by the long-running daemon hands each due instigator to ``InFlight.start``
and returns without waiting; a later pass picks up what finished (``collect``). An instigator
whose tick is still running is ``busy`` and is not ticked again until that tick is done, so a
slow sensor holds up nobody but itself. ``collect(wait=True)`` waits for everything started,
which is how one pass (``tocsin daemon tick``, ``DaemonRunner.run_once``) stays complete.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any

from tocsin.daemon.common import TickReport


class TickAbandoned(Exception):
    """Raised inside a tick that the daemon abandoned (second stop signal) before it committed;
    the loop drops the tick without recording it."""


class InFlight:
    """Background ticks keyed by instigator origin id.

    Args:
        max_workers: threads that run ticks at once (further ticks wait their turn).
        name: names the threads (``<name>_0``...), which shows in logs and debuggers.
    """

    def __init__(self, max_workers: int, name: str):
        self.max_workers = max(1, max_workers)
        self.name = name
        self._executor: ThreadPoolExecutor | None = None
        self._futures: dict[str, Future[Any]] = {}
        self._lock = threading.Lock()

    def busy(self) -> set[str]:
        """The keys whose tick has started and not yet been collected."""
        with self._lock:
            return set(self._futures)

    def running(self) -> set[str]:
        """The keys whose tick is still running."""
        with self._lock:
            return {key for key, future in self._futures.items() if not future.done()}

    def start(self, key: str, call: Callable[..., Any], *args: Any) -> None:
        """Run ``call(*args)`` on a background thread as the tick of ``key``."""
        with self._lock:
            if key in self._futures:
                raise RuntimeError(f"{key} already has a tick in flight")
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.max_workers, thread_name_prefix=self.name)
            self._futures[key] = self._executor.submit(call, *args)

    def collect(self, *, wait: bool) -> list[Any]:
        """The results of the ticks that finished (every tick, if ``wait``), in start order.

        A tick that raised is dropped like the others, then its exception is raised once the
        rest are collected (the first one, if several raised).
        """
        with self._lock:
            futures = list(self._futures.items())
        results: list[Any] = []
        error: BaseException | None = None
        for key, future in futures:
            if not wait and not future.done():
                continue
            exc = future.exception()  # waits for the tick when it is still running
            with self._lock:
                self._futures.pop(key, None)
            if exc is not None:
                error = error or exc
                continue
            results.append(future.result())
        if error is not None:
            raise error
        return results

    def cancel_pending(self) -> None:
        """Drop the ticks that have not started yet; those running carry on."""
        with self._lock:
            executor = self._executor
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            self._executor = None

    def shutdown(self) -> None:
        """Wait for every tick in flight, then stop the threads."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)


class BackgroundTicks:
    """What a loop that can leave ticks in flight across passes offers the runner.

    The runner calls ``tick(now, wait=False)`` on a loop whose ``ticks_in_background`` is
    true, ``drain(now)`` when the daemon stops and ``abandon()`` on a second stop signal. The
    loop calls ``_init_background`` in its constructor and says how one tick's result goes on
    a report (``_add``).
    """

    ticks_in_background = True
    _in_flight: InFlight
    _abandoned: threading.Event

    def _init_background(self, max_workers: int, name: str) -> None:
        self._in_flight = InFlight(max_workers, name)
        self._abandoned = threading.Event()

    def _add(self, report: TickReport, result: Any) -> None:
        raise NotImplementedError

    def _collect(self, report: TickReport, *, wait: bool) -> None:
        for result in self._in_flight.collect(wait=wait):
            self._add(report, result)

    def in_flight(self) -> set[str]:
        """The origin ids of the instigators whose tick is still running."""
        return self._in_flight.running()

    def drain(self, now: datetime) -> TickReport:
        """Wait for the ticks in flight (at shutdown) and report them."""
        report = TickReport(now=now)
        self._collect(report, wait=True)
        self._in_flight.shutdown()
        return report

    def abandon(self) -> None:
        """Let ticks still in flight end without recording anything (a second stop signal).

        A tick that is not committed never happened: the instigator is evaluated again by the
        next daemon, from the state it had.
        """
        self._abandoned.set()
        self._in_flight.cancel_pending()
