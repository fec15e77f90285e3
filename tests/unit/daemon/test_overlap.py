"""The overlap policy with slow runs: a fake launcher whose runs stay STARTED until the test
ends them, a fake clock, and both loops."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tocsin.daemon.overlap import HELD, HELD_TAG, RELEASED, plan_overlap
from tocsin.daemon.schedules import ScheduleLoop
from tocsin.daemon.sensors import SensorLoop
from tocsin.daemon.why import OVERLAP, not_run_of
from tocsin.launchers.base import ImmediateCoordinator
from tocsin.model.run import DagsterRunStatus
from tocsin.model.tags import RUN_KEY_TAG
from tocsin.model.ticks import TickStatus
from tocsin.workspace.messages import RUNNING, Evaluation, InstigatorInfo, RunRequestData

T0 = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
ORIGIN = "loc:sensor:slow"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


class SlowLauncher:
    """Marks each launched run STARTED; it stays so until the test finishes it."""

    def __init__(self, instance):
        self.instance = instance
        self.launched: list[str] = []

    def launch_run(self, run):
        self.launched.append(run.run_id)
        self.instance.finish_run(run.run_id, DagsterRunStatus.STARTED)

    def terminate(self, run_id):
        return True


@pytest.fixture
def launcher(instance):
    return SlowLauncher(instance)


def sensor_info(overlap: str | None, name: str = "slow") -> InstigatorInfo:
    extras = {} if overlap is None else {"overlap": overlap}
    return InstigatorInfo(
        name=name,
        kind="sensor",
        job_names=("the_job",),
        default_status=RUNNING,
        minimum_interval_seconds=30,
        extras=extras,
    )


class KeyPerTick:
    """A sensor that asks for one new run key per tick: t0, t1, ..."""

    def __init__(self):
        self.count = 0

    def __call__(self, **_):
        key = f"t{self.count}"
        self.count += 1
        return Evaluation(run_requests=(RunRequestData(run_key=key, job_name="the_job"),))


def make_loop(instance, location, launcher, overlap, defaults=None):
    location.add(sensor_info(overlap), KeyPerTick())
    coordinator = ImmediateCoordinator(instance, launcher)
    return SensorLoop(instance, [location], coordinator, max_workers=1, policy_defaults=defaults)


def runs_by_key(instance):
    return {r.tags[RUN_KEY_TAG]: r for r in instance.all_runs}


def statuses(instance):
    fresh = [instance.get_run_by_id(r.run_id) for r in instance.all_runs]
    return {r.tags[RUN_KEY_TAG]: (r.status, r.tags.get(HELD_TAG)) for r in fresh}


def three_ticks(loop):
    return [loop.tick(at(30 * i)) for i in range(3)]


def test_allow_is_the_default_and_starts_every_run(instance, location, launcher):
    loop = make_loop(instance, location, launcher, None)
    three_ticks(loop)
    assert len(launcher.launched) == 3
    assert {s for s, _ in statuses(instance).values()} == {DagsterRunStatus.STARTED}


def test_skip_makes_no_run_while_one_is_active(instance, location, launcher):
    loop = make_loop(instance, location, launcher, "skip")
    reports = three_ticks(loop)
    assert list(statuses(instance)) == ["t0"]
    second = reports[1].outcome(ORIGIN)
    assert second.status == TickStatus.SKIPPED and "overlap=skip" in second.skip_reason
    (why,) = not_run_of(instance.ticks.get_ticks(ORIGIN, limit=1)[0])
    assert (why.reason, why.run_key) == (OVERLAP, "t2")
    assert why.run_id == runs_by_key(instance)["t0"].run_id

    instance.finish_run(runs_by_key(instance)["t0"].run_id, DagsterRunStatus.SUCCESS)
    loop.tick(at(90))
    assert statuses(instance)["t3"] == (DagsterRunStatus.STARTED, None)


def test_buffer_one_keeps_one_waiting_and_drops_the_rest(instance, location, launcher):
    loop = make_loop(instance, location, launcher, "buffer_one")
    reports = three_ticks(loop)
    assert statuses(instance) == {
        "t0": (DagsterRunStatus.STARTED, None),
        "t1": (DagsterRunStatus.NOT_STARTED, HELD),
    }
    (why,) = not_run_of(instance.ticks.get_ticks(ORIGIN, limit=1)[0])
    assert why.reason == OVERLAP and why.run_key == "t2"
    assert why.run_id == runs_by_key(instance)["t1"].run_id
    assert reports[1].submitted_run_ids == []

    instance.finish_run(runs_by_key(instance)["t0"].run_id, DagsterRunStatus.FAILURE)
    released = loop.tick(at(65))  # not due: only the release happens
    assert released.outcomes == [] and released.submitted_run_ids == [
        runs_by_key(instance)["t1"].run_id
    ]
    assert statuses(instance)["t1"] == (DagsterRunStatus.STARTED, RELEASED)


def test_buffer_all_runs_them_in_order_one_at_a_time(instance, location, launcher):
    loop = make_loop(instance, location, launcher, "buffer_all")
    three_ticks(loop)
    keys = runs_by_key(instance)
    assert [statuses(instance)[k] for k in ("t0", "t1", "t2")] == [
        (DagsterRunStatus.STARTED, None),
        (DagsterRunStatus.NOT_STARTED, HELD),
        (DagsterRunStatus.NOT_STARTED, HELD),
    ]
    order = []
    for step in range(1, 3):
        loop.tick(at(61 + step))  # still busy: nothing released
        assert len(launcher.launched) == step
        instance.finish_run(launcher.launched[-1], DagsterRunStatus.SUCCESS)
        loop.tick(at(62 + step))
        order.append(launcher.launched[-1])
    assert order == [keys["t1"].run_id, keys["t2"].run_id]


def test_held_runs_survive_a_restart_and_are_never_submitted_early(instance, location, launcher):
    loop = make_loop(instance, location, launcher, "buffer_all")
    three_ticks(loop)
    # A new daemon (fresh loop objects) finds the held runs in storage and leaves them alone
    # while the first run is active.
    restarted = SensorLoop(
        instance, [location], ImmediateCoordinator(instance, launcher), max_workers=1
    )
    assert restarted.tick(at(61)).submitted_run_ids == []
    instance.finish_run(launcher.launched[0], DagsterRunStatus.SUCCESS)
    assert restarted.tick(at(62)).submitted_run_ids == [runs_by_key(instance)["t1"].run_id]


def test_cancel_other_cancels_the_active_run_then_starts(instance, location, launcher):
    loop = make_loop(instance, location, launcher, "cancel_other")
    loop.tick(at(0))
    loop.tick(at(30))
    assert statuses(instance) == {
        "t0": (DagsterRunStatus.CANCELING, None),
        "t1": (DagsterRunStatus.STARTED, None),
    }


def test_instance_default_applies_and_the_sensors_own_value_wins(instance, location, launcher):
    coordinator = ImmediateCoordinator(instance, launcher)
    location.add(sensor_info(None, "plain"), KeyPerTick())
    location.add(sensor_info("allow", "own"), KeyPerTick())
    loop = SensorLoop(
        instance, [location], coordinator, max_workers=1, policy_defaults={"overlap": "skip"}
    )
    loop.tick(at(0))
    loop.tick(at(30))
    made = [r.tags["dagster/sensor_name"] for r in instance.all_runs]
    assert sorted(made) == ["own", "own", "plain"]


def test_a_tick_asking_for_several_runs_is_one_lane(instance):
    from tocsin.model.run import DagsterRun

    runs = [DagsterRun(job_name="j", tags={RUN_KEY_TAG: k}) for k in ("a", "b", "c")]
    skip = plan_overlap(instance, "skip", ORIGIN, runs)
    assert [r.run_key for r in skip.runs] == ["a"]
    assert [n.run_key for n in skip.not_run] == ["b", "c"]
    one = plan_overlap(instance, "buffer_one", ORIGIN, runs)
    assert [(r.run_key, r.tags.get(HELD_TAG)) for r in one.runs] == [("a", None), ("b", HELD)]
    assert [n.run_key for n in one.not_run] == ["c"]
    cancel = plan_overlap(instance, "cancel_other", ORIGIN, runs)
    assert [r.run_key for r in cancel.runs] == ["c"] and len(cancel.not_run) == 2


def schedule_info(overlap: str) -> InstigatorInfo:
    return InstigatorInfo(
        name="hourly",
        kind="schedule",
        job_names=("the_job",),
        default_status=RUNNING,
        cron_schedule="0 * * * *",
        execution_timezone="UTC",
        extras={"overlap": overlap},
    )


def test_schedule_skip_records_the_scheduled_time_it_did_not_run(instance, location, launcher):
    location.add(
        schedule_info("skip"),
        lambda **_: Evaluation(run_requests=(RunRequestData(job_name="the_job"),)),
    )
    loop = ScheduleLoop(instance, [location], ImmediateCoordinator(instance, launcher))
    loop.tick(at(0))
    loop.tick(at(3600))
    (outcome,) = loop.tick(at(7200)).outcomes
    assert outcome.status == TickStatus.SKIPPED and len(instance.all_runs) == 1
    (why,) = not_run_of(instance.ticks.get_ticks("loc:schedule:hourly", limit=1)[0])
    assert why.reason == OVERLAP and why.scheduled_time == at(7200)


def test_find_unsubmitted_and_the_coordinators_leave_held_runs_alone(instance, location, launcher):
    from tocsin.daemon.common import find_unsubmitted
    from tocsin.daemon.run_queue import QueuedCoordinator

    loop = make_loop(instance, location, launcher, "buffer_all")
    loop.tick(at(0))
    loop.tick(at(30))
    held = runs_by_key(instance)["t1"]
    assert find_unsubmitted(instance, [ORIGIN]) == []
    assert ImmediateCoordinator(instance, launcher).submit([held]) == []
    assert QueuedCoordinator(instance).submit([held]) == []
    assert statuses(instance)["t1"] == (DagsterRunStatus.NOT_STARTED, HELD)


def test_loops_read_the_instance_wide_policies_from_tocsin_yaml_settings():
    from tocsin.daemon.policy import RunPolicy, policy_defaults, policy_for

    class WithSettings:
        def get_settings(self, key):
            return {"sensors": {"overlap": "skip", "num_workers": 2}}.get(key, {})

    assert policy_defaults(WithSettings(), "sensors") == {"overlap": "skip"}
    assert policy_defaults(WithSettings(), "schedules") == {}
    assert policy_defaults(object(), "sensors") == {}
    loop = SensorLoop(WithSettings(), [], None)
    assert loop.policy_defaults == {"overlap": "skip"}
    own = sensor_info("buffer_all")
    assert policy_for(own, loop.policy_defaults) == RunPolicy("buffer_all", 0)
    assert policy_for(sensor_info(None), loop.policy_defaults) == RunPolicy("skip", 0)
