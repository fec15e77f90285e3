"""The sensor loop at fixed times (reference/daemon.md C1-C6), on an in-memory instance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tocsin.daemon.sensors import EMPTY_RESULT, SensorLoop
from tocsin.model.errors_info import SerializableErrorInfo
from tocsin.model.run import DagsterRunStatus
from tocsin.model.tags import (
    CODE_LOCATION_TAG,
    INSTIGATOR_TAG,
    RUN_KEY_TAG,
    SENSOR_NAME_TAG,
    TICK_ID_TAG,
)
from tocsin.model.ticks import InstigatorStatus, TickStatus
from tocsin.workspace.messages import RUNNING, Evaluation, InstigatorInfo, RunRequestData

T0 = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def sensor(name: str, interval: int = 30, status: str = RUNNING) -> InstigatorInfo:
    return InstigatorInfo(
        name=name,
        kind="sensor",
        job_names=("the_job",),
        default_status=status,
        minimum_interval_seconds=interval,
    )


def requests(*keys: str | None, job: str = "the_job") -> Evaluation:
    return Evaluation(run_requests=tuple(RunRequestData(run_key=k, job_name=job) for k in keys))


@pytest.fixture
def loop(instance, location, coordinator):
    return SensorLoop(instance, [location], coordinator, max_workers=1)


def test_c1_run_keys_are_deduplicated_across_and_within_ticks(instance, location, loop):
    keys = ["a", "b"]
    location.add(sensor("keys"), lambda **_: requests(*keys))
    location.add(sensor("same"), lambda **_: requests("same", "same"))
    first = loop.tick(at(0))
    keys.append("c")
    second = loop.tick(at(31))
    third = loop.tick(at(62))

    origin = "loc:sensor:keys"
    assert [o.status for o in (first.outcome(origin), second.outcome(origin))] == [
        TickStatus.SUCCESS,
        TickStatus.SUCCESS,
    ]
    assert len(first.outcome(origin).run_ids) == 2
    assert len(second.outcome(origin).run_ids) == 1
    assert third.outcome(origin).status == TickStatus.SKIPPED
    assert third.outcome(origin).run_ids == ()
    keyed = [r for r in instance.all_runs if r.tags[SENSOR_NAME_TAG] == "keys"]
    assert sorted(r.run_key for r in keyed) == ["a", "b", "c"]
    run = instance.get_run_by_id(second.outcome(origin).run_ids[0])
    assert run.tags[RUN_KEY_TAG] == "c"
    assert run.tags[TICK_ID_TAG] == str(second.outcome(origin).tick_id)
    assert run.tags[INSTIGATOR_TAG] == origin
    assert run.tags[CODE_LOCATION_TAG] == "loc"
    assert run.status == DagsterRunStatus.STARTING  # submitted

    same = [r for r in instance.all_runs if r.tags[SENSOR_NAME_TAG] == "same"]
    assert len(same) == 1
    assert second.outcome("loc:sensor:same").status == TickStatus.SKIPPED


def test_c2_requests_without_run_key_always_make_a_run(instance, location, loop):
    location.add(sensor("nokey"), lambda **_: requests(None))
    reports = [loop.tick(at(0)), loop.tick(at(31))]
    assert [r.outcomes[0].status for r in reports] == [TickStatus.SUCCESS] * 2
    assert len(instance.all_runs) == 2
    assert all(RUN_KEY_TAG not in r.tags for r in instance.all_runs)


def test_c3_cursor_persists_across_ticks_and_stop_start(instance, location, loop):
    def counting(cursor=None, **_):
        n = int(cursor or 0)
        return Evaluation(run_requests=(RunRequestData(f"c{n}", "the_job"),), cursor=str(n + 1))

    location.add(sensor("count"), counting)
    for seconds in (0, 31, 62):
        loop.tick(at(seconds))
    origin = "loc:sensor:count"
    state = instance.ticks.get_instigator_state(origin)
    instance.ticks.add_instigator_state(state.with_status(InstigatorStatus.STOPPED))
    assert loop.tick(at(80)).outcomes == []
    state = instance.ticks.get_instigator_state(origin)
    instance.ticks.add_instigator_state(state.with_status(InstigatorStatus.RUNNING))
    loop.tick(at(100))

    assert instance.run_keys() == ["c0", "c1", "c2", "c3"]
    assert [t.cursor for t in instance.sensor_ticks(origin)] == ["1", "2", "3", "4"]
    assert instance.ticks.get_instigator_state(origin).cursor == "4"


def test_c4_minimum_interval_between_evaluations(instance, location, loop):
    location.add(sensor("thirty", 30), lambda **_: requests(None))
    location.add(sensor("default"), lambda **_: requests(None))
    loop.tick(at(0))
    loop.tick(at(10))
    assert [len(instance.sensor_ticks(f"loc:sensor:{n}")) for n in ("thirty", "default")] == [1, 1]
    loop.tick(at(31))
    assert [len(instance.sensor_ticks(f"loc:sensor:{n}")) for n in ("thirty", "default")] == [2, 2]


def test_c5_skips_are_recorded_with_their_reason(instance, location, loop):
    location.add(sensor("skip"), lambda **_: Evaluation(skip_message="nothing to do"))
    location.add(sensor("none"), lambda **_: Evaluation())
    report = loop.tick(at(0))
    assert report.outcome("loc:sensor:skip").skip_reason == "nothing to do"
    assert report.outcome("loc:sensor:none").skip_reason == EMPTY_RESULT
    assert all(o.status == TickStatus.SKIPPED for o in report.outcomes)
    assert instance.all_runs == []


def test_c6_a_failing_sensor_records_failure_and_others_tick(instance, location, loop):
    error = SerializableErrorInfo(
        "SensorExecutionError: Error occurred during the execution of evaluation_fn for "
        "sensor broken",
        [],
        "SensorExecutionError",
    )
    location.add(
        sensor("broken"),
        lambda **_: Evaluation(
            run_requests=(RunRequestData("before-error", "the_job"),),
            cursor="advanced",
            error=error,
        ),
    )
    location.add(sensor("fine"), lambda **_: requests(None))
    reports = [loop.tick(at(0)), loop.tick(at(31))]
    origin = "loc:sensor:broken"
    assert [r.outcome(origin).status for r in reports] == [TickStatus.FAILURE] * 2
    assert reports[0].outcome(origin).error.message.startswith("SensorExecutionError")
    assert instance.ticks.get_instigator_state(origin).cursor is None
    assert all(r.tags[SENSOR_NAME_TAG] == "fine" for r in instance.all_runs)
    assert len(instance.all_runs) == 2


def test_a_request_without_a_job_fails_the_tick_with_a_clear_message(instance, location, loop):
    location.add(sensor("nojob"), lambda **_: requests("k", job=None))
    outcome = loop.tick(at(0)).outcomes[0]
    assert outcome.status == TickStatus.FAILURE
    assert "names no job" in outcome.error.message
    assert instance.all_runs == []


def test_stopped_by_default_does_not_tick_until_started(instance, location, loop):
    location.add(sensor("off", status="STOPPED"), lambda **_: requests(None))
    assert loop.tick(at(0)).outcomes == []
    from tocsin.daemon.common import fresh_state

    state = fresh_state("loc", location.infos[0]).with_status(InstigatorStatus.RUNNING)
    instance.ticks.add_instigator_state(state)
    assert loop.tick(at(1)).outcomes[0].status == TickStatus.SUCCESS


def test_runs_left_unsubmitted_by_a_crash_are_submitted_next_pass(instance, location, coordinator):
    class Crashing:
        def submit(self, runs):
            raise RuntimeError("daemon died after commit")

    location.add(sensor("keys"), lambda **_: requests("a"))
    with pytest.raises(RuntimeError):
        SensorLoop(instance, [location], Crashing(), max_workers=1).tick(at(0))
    (run,) = instance.all_runs
    assert run.status == DagsterRunStatus.NOT_STARTED

    report = SensorLoop(instance, [location], coordinator, max_workers=1).tick(at(1))
    assert report.submitted_run_ids == [run.run_id]
    assert coordinator.submitted == [run.run_id]
    assert len(instance.all_runs) == 1
    assert loop_tick_is_skipped(report)


def loop_tick_is_skipped(report) -> bool:
    # At +1 s the sensor is not due again, so the pass only submitted the leftover.
    return report.outcomes == []


def test_a_location_that_fails_to_load_does_not_stop_the_others(
    instance, location, coordinator, make_location
):
    broken = make_location("broken")
    broken.error = SerializableErrorInfo("ImportError: no module named x", [], "ImportError")
    location.add(sensor("fine"), lambda **_: requests(None))
    report = SensorLoop(instance, [broken, location], coordinator).tick(at(0))
    assert "broken" in report.location_errors
    assert report.outcomes[0].status == TickStatus.SUCCESS


def test_sensors_are_evaluated_in_parallel_by_a_pool(instance, location, coordinator):
    for i in range(5):
        location.add(sensor(f"s{i}"), lambda **_: requests(None))
    report = SensorLoop(instance, [location], coordinator, max_workers=3).tick(at(0))
    assert sorted(o.status.value for o in report.outcomes) == ["SUCCESS"] * 5
    assert len(coordinator.submitted) == 5


def test_run_reactions_write_engine_events(instance, location, loop):
    from tocsin.workspace.messages import RunReaction

    location.add(sensor("nokey"), lambda **_: requests(None))
    loop.tick(at(0))
    (run_id,) = [r.run_id for r in instance.all_runs]
    location.add(
        sensor("rss"),
        lambda **_: Evaluation(run_reactions=(RunReaction(run_id, "SUCCESS"),)),
    )
    loop.tick(at(1))
    assert instance.engine_events == [
        (run_id, f'Sensor "rss" acted on run status SUCCESS of run {run_id}.')
    ]
