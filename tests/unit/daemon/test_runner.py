"""The runner: one pass of everything (``run_once``) or each loop on its own thread (``run``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from tocsin.daemon.common import TickReport
from tocsin.daemon.runner import DaemonRunner

T0 = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)


def wait_for(predicate: Callable[[], object], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.01)


class Counting:
    def __init__(self) -> None:
        self.waits: list[bool | None] = []

    def tick(self, now: datetime) -> TickReport:
        self.waits.append(None)
        return TickReport(now=now)


class Blocking:
    """A loop whose pass blocks until released."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def tick(self, now: datetime) -> TickReport:
        self.entered.set()
        assert self.release.wait(30)
        return TickReport(now=now)


class Background:
    """A loop that can leave ticks in flight: ``tick(now, wait=...)`` and ``drain``."""

    ticks_in_background = True

    def __init__(self) -> None:
        self.waits: list[bool] = []
        self.drained = 0

    def tick(self, now: datetime, *, wait: bool = True) -> TickReport:
        self.waits.append(wait)
        return TickReport(now=now)

    def drain(self, now: datetime) -> TickReport:
        self.drained += 1
        return TickReport(now=now)


def run_in_thread(runner: DaemonRunner) -> threading.Thread:
    thread = threading.Thread(target=runner.run)
    thread.start()
    return thread


def test_a_blocked_loop_does_not_hold_up_the_others():
    blocking, counting = Blocking(), Counting()
    runner = DaemonRunner(None, {"SLOW": blocking, "FAST": counting}, interval=0.01)
    thread = run_in_thread(runner)
    try:
        assert blocking.entered.wait(20)
        wait_for(lambda: len(counting.waits) >= 5)
    finally:
        runner.stop()
        blocking.release.set()
        thread.join(30)
    assert not thread.is_alive()


def test_run_ticks_in_the_background_and_drains_on_stop_while_run_once_waits():
    loop = Background()
    runner = DaemonRunner(None, {"SENSOR": loop}, interval=0.01, clock=lambda: T0)
    runner.run_once()
    assert loop.waits == [True]
    thread = run_in_thread(runner)
    wait_for(lambda: len(loop.waits) >= 3)
    runner.stop()
    thread.join(30)
    assert not thread.is_alive()
    assert set(loop.waits[1:]) == {False}
    assert loop.drained == 1


def test_a_failing_report_callback_does_not_end_a_loop_thread(caplog):
    counting = Counting()

    def on_report(name: str, report: TickReport) -> None:
        raise RuntimeError("cannot print")

    runner = DaemonRunner(None, {"FAST": counting}, interval=0.01, on_report=on_report)
    thread = run_in_thread(runner)
    wait_for(lambda: len(counting.waits) >= 3)
    runner.stop()
    thread.join(30)
    assert "could not finish a pass" in caplog.text


def test_run_calls_between_on_its_own_thread_while_a_loop_is_blocked():
    """``tocsin dev`` checks for changed code in ``between``; a slow loop must not hold it up."""
    blocking = Blocking()
    calls: list[str] = []
    runner = DaemonRunner(None, {"SLOW": blocking}, interval=0.01)
    thread = threading.Thread(
        target=lambda: runner.run(between=lambda: calls.append(threading.current_thread().name))
    )
    thread.start()
    try:
        assert blocking.entered.wait(20)
        wait_for(lambda: len(calls) >= 3)
    finally:
        runner.stop()
        blocking.release.set()
        thread.join(30)
    assert set(calls) == {thread.name}
