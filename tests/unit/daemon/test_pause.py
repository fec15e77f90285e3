"""Pause on failure: N consecutive failed ticks or failed runs stop a sensor or schedule, with
a note; starting it again clears the count."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tocsin.daemon.pause import FAILED_TICKS, PAUSE_NOTE
from tocsin.daemon.schedules import ScheduleLoop
from tocsin.daemon.sensors import SensorLoop
from tocsin.daemon.why import PAUSED, not_run_of
from tocsin.model.errors_info import SerializableErrorInfo
from tocsin.model.run import DagsterRunStatus
from tocsin.model.ticks import InstigatorStatus, TickStatus
from tocsin.workspace.messages import RUNNING, Evaluation, InstigatorInfo, RunRequestData

T0 = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
SENSOR = "loc:sensor:flaky"
SCHEDULE = "loc:schedule:hourly"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def sensor_info(pause: int | None) -> InstigatorInfo:
    extras = {} if pause is None else {"pause_after_failures": pause}
    return InstigatorInfo(
        name="flaky",
        kind="sensor",
        job_names=("the_job",),
        default_status=RUNNING,
        minimum_interval_seconds=30,
        extras=extras,
    )


class Scripted:
    """Fails while ``failing`` is True, else asks for one new run per tick."""

    def __init__(self):
        self.failing = True
        self.count = 0

    def __call__(self, **_):
        self.count += 1
        if self.failing:
            return Evaluation(error=SerializableErrorInfo("sensor broke", [], "ValueError"))
        key = f"k{self.count}"
        return Evaluation(run_requests=(RunRequestData(run_key=key, job_name="the_job"),))


def resume(instance, origin):
    """What 'tocsin sensor start' / the UI toggle store."""
    state = instance.ticks.get_instigator_state(origin)
    instance.ticks.add_instigator_state(replace(state, status=InstigatorStatus.RUNNING))


@pytest.fixture
def fn():
    return Scripted()


def test_n_failed_ticks_stop_the_sensor_with_a_note_until_it_is_started(
    instance, location, coordinator, fn
):
    location.add(sensor_info(3), fn)
    loop = SensorLoop(instance, [location], coordinator, max_workers=1)
    for i in range(3):
        (outcome,) = loop.tick(at(30 * i)).outcomes
        assert outcome.status == TickStatus.FAILURE
    state = instance.ticks.get_instigator_state(SENSOR)
    assert state.status == InstigatorStatus.STOPPED
    note = state.extra[PAUSE_NOTE]
    assert "3 consecutive failed ticks" in note and "tocsin sensor start flaky" in note
    assert instance.ticks.get_ticks(SENSOR, limit=1)[0].extra[PAUSE_NOTE] == note
    assert loop.tick(at(90)).outcomes == []  # stopped

    fn.failing = False
    resume(instance, SENSOR)
    (outcome,) = loop.tick(at(120)).outcomes
    assert outcome.status == TickStatus.SUCCESS
    state = instance.ticks.get_instigator_state(SENSOR)
    assert PAUSE_NOTE not in state.extra and state.extra[FAILED_TICKS] == 0


def test_a_good_tick_resets_the_count(instance, location, coordinator, fn):
    location.add(sensor_info(2), fn)
    loop = SensorLoop(instance, [location], coordinator, max_workers=1)
    loop.tick(at(0))
    fn.failing = False
    loop.tick(at(30))
    fn.failing = True
    loop.tick(at(60))
    state = instance.ticks.get_instigator_state(SENSOR)
    assert state.status != InstigatorStatus.STOPPED and state.extra[FAILED_TICKS] == 1


def test_without_the_policy_failures_never_pause(instance, location, coordinator, fn):
    location.add(sensor_info(None), fn)
    loop = SensorLoop(instance, [location], coordinator, max_workers=1)
    for i in range(5):
        loop.tick(at(30 * i))
    state = instance.ticks.get_instigator_state(SENSOR)
    assert state.status != InstigatorStatus.STOPPED and FAILED_TICKS not in state.extra


def test_instance_default_applies_and_zero_on_the_sensor_means_never(
    instance, location, coordinator, fn
):
    location.add(sensor_info(0), fn)
    loop = SensorLoop(
        instance,
        [location],
        coordinator,
        max_workers=1,
        policy_defaults={"pause_after_failures": 1},
    )
    loop.tick(at(0))
    assert instance.ticks.get_instigator_state(SENSOR).status != InstigatorStatus.STOPPED
    other = SensorLoop(
        instance,
        [location.__class__("loc2")],
        coordinator,
        max_workers=1,
        policy_defaults={"pause_after_failures": 1},
    )
    other.locations[0].add(replace(sensor_info(None), name="flaky"), Scripted())
    other.tick(at(0))
    state = instance.ticks.get_instigator_state("loc2:sensor:flaky")
    assert state.status == InstigatorStatus.STOPPED


def schedule_info(pause: int) -> InstigatorInfo:
    return InstigatorInfo(
        name="hourly",
        kind="schedule",
        job_names=("the_job",),
        default_status=RUNNING,
        cron_schedule="0 * * * *",
        execution_timezone="UTC",
        extras={"pause_after_failures": pause},
    )


def test_n_failed_runs_pause_a_schedule_and_resuming_clears_the_count(
    instance, location, coordinator
):
    location.add(
        schedule_info(2),
        lambda **_: Evaluation(run_requests=(RunRequestData(job_name="the_job"),)),
    )
    loop = ScheduleLoop(instance, [location], coordinator)
    loop.tick(at(0))
    for hour in (1, 2):
        (outcome,) = loop.tick(at(3600 * hour)).outcomes
        instance.finish_run(outcome.run_ids[0], DagsterRunStatus.FAILURE)
    (outcome,) = loop.tick(at(3600 * 3)).outcomes
    assert outcome.status == TickStatus.SKIPPED and outcome.run_ids == ()
    state = instance.ticks.get_instigator_state(SCHEDULE)
    assert state.status == InstigatorStatus.STOPPED
    assert "2 consecutive failed runs" in state.extra[PAUSE_NOTE]
    assert "tocsin schedule start hourly" in state.extra[PAUSE_NOTE]
    (why,) = not_run_of(instance.ticks.get_ticks(SCHEDULE, limit=1)[0])
    assert why.reason == PAUSED and why.scheduled_time == at(3600 * 3)

    resume(instance, SCHEDULE)
    (outcome,) = loop.tick(at(3600 * 4)).outcomes
    assert outcome.status == TickStatus.SUCCESS  # the old failures no longer count
    instance.finish_run(outcome.run_ids[0], DagsterRunStatus.FAILURE)
    (outcome,) = loop.tick(at(3600 * 5)).outcomes
    assert outcome.status == TickStatus.SUCCESS
    instance.finish_run(outcome.run_ids[0], DagsterRunStatus.FAILURE)
    (outcome,) = loop.tick(at(3600 * 6)).outcomes
    assert outcome.status == TickStatus.SKIPPED
    assert instance.ticks.get_instigator_state(SCHEDULE).status == InstigatorStatus.STOPPED


def test_a_successful_run_breaks_the_run_count(instance, location, coordinator):
    location.add(
        schedule_info(2),
        lambda **_: Evaluation(run_requests=(RunRequestData(job_name="the_job"),)),
    )
    loop = ScheduleLoop(instance, [location], coordinator)
    loop.tick(at(0))
    for hour, status in ((1, DagsterRunStatus.FAILURE), (2, DagsterRunStatus.SUCCESS)):
        (outcome,) = loop.tick(at(3600 * hour)).outcomes
        instance.finish_run(outcome.run_ids[0], status)
    (outcome,) = loop.tick(at(3600 * 3)).outcomes
    assert outcome.status == TickStatus.SUCCESS


def test_a_timed_out_evaluation_is_a_failed_tick_that_says_so(instance, location, coordinator):
    from tocsin.daemon.why import EVALUATION_TIMEOUT

    location.add(
        sensor_info(1),
        lambda **_: Evaluation.failure("took longer than 5 seconds", is_timeout=True),
    )
    (outcome,) = SensorLoop(instance, [location], coordinator, max_workers=1).tick(at(0)).outcomes
    assert outcome.status == TickStatus.FAILURE
    tick = instance.ticks.get_ticks(SENSOR, limit=1)[0]
    (why,) = not_run_of(tick)
    assert why.reason == EVALUATION_TIMEOUT and "5 seconds" in why.detail
    assert "1 consecutive failed ticks" in tick.extra[PAUSE_NOTE]
