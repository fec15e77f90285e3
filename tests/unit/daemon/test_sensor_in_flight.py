"""Sensor ticks left in flight across passes: one per sensor, collected later, drained or
abandoned at shutdown, and never submitted twice."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from tocsin.daemon.sensors import SensorLoop
from tocsin.model.ticks import TickStatus
from tocsin.workspace.messages import RUNNING, Evaluation, InstigatorInfo, RunRequestData

T0 = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
SLOW = "loc:sensor:slow"
QUICK = "loc:sensor:quick"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def sensor(name: str, interval: int = 1) -> InstigatorInfo:
    return InstigatorInfo(
        name=name,
        kind="sensor",
        job_names=("the_job",),
        default_status=RUNNING,
        minimum_interval_seconds=interval,
    )


def wait_for(predicate: Callable[[], object], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.01)


class Gate:
    """A sensor function that blocks until released, and says when it started."""

    def __init__(self, skip: str = "slow done"):
        self.started = threading.Event()
        self.release = threading.Event()
        self.skip = skip

    def __call__(self, **_: object) -> Evaluation:
        self.started.set()
        assert self.release.wait(30)
        return Evaluation(skip_message=self.skip)


def slow_and_quick(location, coordinator, instance, gate: Gate) -> SensorLoop:
    location.add(sensor("slow"), gate)
    location.add(sensor("quick"), lambda **_: Evaluation(skip_message="quick"))
    return SensorLoop(instance, [location], coordinator, max_workers=2)


def calls(location, name: str) -> int:
    return sum(1 for called, _ in location.calls if called == name)


def test_a_pass_without_waiting_leaves_a_slow_sensor_in_flight_and_ticks_the_others(
    instance, location, coordinator
):
    gate = Gate()
    loop = slow_and_quick(location, coordinator, instance, gate)
    try:
        first = loop.tick(at(0), wait=False)
        assert first.outcomes == []
        assert gate.started.wait(20)
        wait_for(lambda: loop.in_flight() == {SLOW})
        second = loop.tick(at(1), wait=False)
        assert [o.origin_id for o in second.outcomes] == [QUICK]
        wait_for(lambda: calls(location, "quick") == 2 and loop.in_flight() == {SLOW})
        third = loop.tick(at(2), wait=False)
        assert [o.origin_id for o in third.outcomes] == [QUICK]
        # The slow sensor was due at every pass but still in flight: it was not ticked again.
        assert calls(location, "slow") == 1
    finally:
        gate.release.set()
    final = loop.tick(at(3))
    outcome = final.outcome(SLOW)
    assert outcome is not None and outcome.skip_reason == "slow done"
    assert loop.in_flight() == set()
    assert next(t.timestamp for t in instance.sensor_ticks(SLOW) if t.is_finished) == at(0)


def test_a_waiting_pass_also_waits_for_ticks_earlier_passes_left_in_flight(
    instance, location, coordinator
):
    gate = Gate()
    loop = slow_and_quick(location, coordinator, instance, gate)
    loop.tick(at(0), wait=False)
    assert gate.started.wait(20)
    timer = threading.Timer(0.2, gate.release.set)
    timer.start()
    report = loop.tick(at(0.5))
    timer.join()
    outcome = report.outcome(SLOW)
    assert outcome is not None and outcome.status == TickStatus.SKIPPED
    assert loop.in_flight() == set()


def test_runs_of_a_tick_between_commit_and_submit_are_not_submitted_again(
    instance, location, coordinator
):
    entered, release = threading.Event(), threading.Event()
    submit = coordinator.submit
    submitted: list[list[str]] = []

    def slow_submit(runs):
        submitted.append([r.run_id for r in runs])
        if len(submitted) == 1:
            entered.set()
            assert release.wait(30)
        submit(runs)

    coordinator.submit = slow_submit
    request = RunRequestData(run_key="a", job_name="the_job")
    location.add(sensor("keys"), lambda **_: Evaluation(run_requests=(request,)))
    loop = SensorLoop(instance, [location], coordinator, max_workers=2)
    loop.tick(at(0), wait=False)
    assert entered.wait(20)  # committed, not yet submitted
    loop.tick(at(0.5), wait=False)
    assert len(submitted) == 1
    release.set()
    loop.tick(at(2))
    assert len(submitted) == 1 and len(coordinator.submitted) == 1


def test_drain_waits_for_the_ticks_in_flight_and_reports_them(instance, location, coordinator):
    gate = Gate()
    loop = slow_and_quick(location, coordinator, instance, gate)
    loop.tick(at(0), wait=False)
    assert gate.started.wait(20)
    threading.Timer(0.2, gate.release.set).start()
    report = loop.drain(at(1))
    assert {o.origin_id for o in report.outcomes} == {SLOW, QUICK}
    assert loop.in_flight() == set()


def test_an_abandoned_tick_records_nothing(instance, location, coordinator):
    gate = Gate()
    loop = slow_and_quick(location, coordinator, instance, gate)
    loop.tick(at(0), wait=False)
    assert gate.started.wait(20)
    wait_for(lambda: loop.in_flight() == {SLOW})
    loop.abandon()
    gate.release.set()
    report = loop.drain(at(1))
    assert [o.origin_id for o in report.outcomes] == [QUICK]  # it finished before the stop
    assert [t for t in instance.sensor_ticks(SLOW) if t.is_finished] == []
    state = instance.ticks.get_instigator_state(SLOW)
    assert state is None or state.last_tick_timestamp is None
