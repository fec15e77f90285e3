"""Schedule ticks left in flight across passes: a slow schedule holds up only itself."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from tocsin.daemon.schedules import ScheduleLoop
from tocsin.model.ticks import TickStatus
from tocsin.workspace.messages import RUNNING, Evaluation, InstigatorInfo, RunRequestData

SLOW = "loc:schedule:slow"
QUICK = "loc:schedule:quick"


def utc(minute: int, second: int = 5) -> datetime:
    return datetime(2024, 1, 1, 12, minute, second, tzinfo=UTC)


def every_minute(name: str) -> InstigatorInfo:
    return InstigatorInfo(
        name=name,
        kind="schedule",
        job_names=("the_job",),
        default_status=RUNNING,
        cron_schedule="* * * * *",
        execution_timezone="UTC",
    )


def wait_for(predicate: Callable[[], object], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.01)


def a_run(**_: object) -> Evaluation:
    return Evaluation(run_requests=(RunRequestData(job_name="the_job"),))


class Gate:
    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self, **kwargs: object) -> Evaluation:
        self.started.set()
        assert self.release.wait(30)
        return a_run()


def calls(location, name: str) -> int:
    return sum(1 for called, _ in location.calls if called == name)


def started_loop(instance, location, coordinator, gate: Gate) -> ScheduleLoop:
    location.add(every_minute("slow"), gate)
    location.add(every_minute("quick"), a_run)
    loop = ScheduleLoop(instance, [location], coordinator)
    assert loop.tick(utc(0, 30)).outcomes == []  # started: nothing before this moment runs
    return loop


def test_a_slow_schedule_is_left_in_flight_while_the_others_keep_their_times(
    instance, location, coordinator
):
    gate = Gate()
    loop = started_loop(instance, location, coordinator, gate)
    try:
        assert loop.tick(utc(1), wait=False).outcomes == []
        assert gate.started.wait(20)
        wait_for(lambda: loop.in_flight() == {SLOW})
        second = loop.tick(utc(2), wait=False)
        assert [o.origin_id for o in second.outcomes] == [QUICK]
        wait_for(lambda: calls(location, "quick") == 2 and loop.in_flight() == {SLOW})
        third = loop.tick(utc(3), wait=False)
        assert [(o.origin_id, o.status) for o in third.outcomes] == [(QUICK, TickStatus.SUCCESS)]
        assert calls(location, "slow") == 1  # due at every pass, but still in flight
    finally:
        gate.release.set()
    final = loop.tick(utc(4))
    outcome = final.outcome(SLOW)
    assert outcome is not None and outcome.status == TickStatus.SUCCESS
    assert loop.in_flight() == set()
    quick_times = [c[1]["scheduled_time"].minute for c in location.calls if c[0] == "quick"]
    assert quick_times == [1, 2, 3, 4]


def test_an_abandoned_schedule_tick_records_nothing(instance, location, coordinator):
    gate = Gate()
    loop = started_loop(instance, location, coordinator, gate)
    loop.tick(utc(1), wait=False)
    assert gate.started.wait(20)
    wait_for(lambda: loop.in_flight() == {SLOW})
    loop.abandon()
    gate.release.set()
    report = loop.drain(utc(2))
    assert [o.origin_id for o in report.outcomes] == [QUICK]
    assert [t for t in instance.ticks.get_ticks(SLOW) if t.is_finished] == []
    assert [r for r in instance.all_runs if r.tags.get("dagster/schedule_name") == "slow"] == []
