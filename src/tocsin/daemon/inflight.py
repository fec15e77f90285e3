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
from typing import Any


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
