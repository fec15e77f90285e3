"""Waking a sensor before its interval (``wake_on``) and run status reactions, at fixed times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tocsin.daemon.common import WAKE_KEY_PREFIX
from tocsin.daemon.sensors import SensorLoop, read_wake_times
from tocsin.model.errors_info import SerializableErrorInfo
from tocsin.model.ticks import TickStatus
from tocsin.workspace.handler import sensor_info
from tocsin.workspace.messages import RUNNING, Evaluation, InstigatorInfo, RunReaction

T0 = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
ORIGIN = "loc:sensor:watcher"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


class FakeMisc:
    def __init__(self):
        self.kv: dict[str, str] = {}
        self.reads = 0

    def set_kv(self, values):
        self.kv.update(values)

    def get_kv(self, keys):
        self.reads += 1
        return {k: self.kv[k] for k in keys if k in self.kv}


@pytest.fixture
def kv_instance(instance):
    """The shared instance fixture, with a key-value store when it has none of its own."""
    if getattr(instance, "misc", None) is None:
        instance.misc = FakeMisc()
    return instance


def watcher(name: str = "watcher") -> InstigatorInfo:
    return InstigatorInfo(
        name=name,
        kind="sensor",
        job_names=("the_job",),
        default_status=RUNNING,
        minimum_interval_seconds=30,
        extras={"wake_on": ["raw/files"]},
    )


def wake(instance, origin: str, when: datetime) -> None:
    instance.misc.set_kv({WAKE_KEY_PREFIX + origin: str(when.timestamp())})


def evaluated_at(location, loop, seconds: float) -> bool:
    before = len(location.calls)
    loop.tick(at(seconds))
    return len(location.calls) > before


def test_a_wake_request_makes_the_sensor_due_before_its_interval(
    kv_instance, location, coordinator
):
    location.add(watcher(), lambda **_: Evaluation(skip_message="nothing"))
    loop = SensorLoop(kv_instance, [location], coordinator, max_workers=1)
    assert evaluated_at(location, loop, 0)
    assert not evaluated_at(location, loop, 2)
    wake(kv_instance, ORIGIN, at(3))
    assert evaluated_at(location, loop, 5)
    # the wake was handled by that tick: nothing more until the interval is over
    assert not evaluated_at(location, loop, 10)
    assert evaluated_at(location, loop, 35)


def test_without_a_wake_request_the_sensor_waits_for_its_interval(
    kv_instance, location, coordinator
):
    location.add(watcher(), lambda **_: Evaluation(skip_message="nothing"))
    location.add(watcher("other"), lambda **_: Evaluation(skip_message="nothing"))
    loop = SensorLoop(kv_instance, [location], coordinator, max_workers=1)
    loop.tick(at(0))
    wake(kv_instance, "loc:sensor:other", at(3))
    report = loop.tick(at(5))
    assert [o.origin_id for o in report.outcomes] == ["loc:sensor:other"]


def test_a_wake_request_older_than_the_last_tick_is_ignored(kv_instance, location, coordinator):
    location.add(watcher(), lambda **_: Evaluation(skip_message="nothing"))
    loop = SensorLoop(kv_instance, [location], coordinator, max_workers=1)
    wake(kv_instance, ORIGIN, at(-10))
    assert evaluated_at(location, loop, 0)
    assert not evaluated_at(location, loop, 5)


def test_wake_times_are_read_once_per_pass_and_bad_values_are_ignored():
    misc = FakeMisc()
    misc.set_kv({WAKE_KEY_PREFIX + "a": str(at(1).timestamp()), WAKE_KEY_PREFIX + "b": "soon"})

    class Instance:
        pass

    instance = Instance()
    instance.misc = misc
    assert read_wake_times(instance, ["a", "b", "c"]) == {"a": at(1)}
    assert misc.reads == 1
    assert read_wake_times(Instance(), ["a"]) == {}


def test_sensor_info_reports_wake_on_as_names():
    from tocsin import AssetKey, sensor

    @sensor(job_name="the_job", wake_on=[AssetKey(["raw", "files"]), "upload"])
    def woken(context):
        return None

    @sensor(job_name="the_job")
    def plain(context):
        return None

    assert sensor_info(woken).extras == {"wake_on": ["raw/files", "upload"]}
    assert sensor_info(plain).extras == {}


def test_reactions_make_a_success_tick_with_origin_run_ids(instance, location, coordinator):
    reactions = (RunReaction("r1", "SUCCESS"), RunReaction("r2", "SUCCESS"))
    location.add(watcher(), lambda **_: Evaluation(run_reactions=reactions, cursor="c1"))
    outcome = SensorLoop(instance, [location], coordinator).tick(at(0)).outcome(ORIGIN)
    assert outcome.status == TickStatus.SUCCESS
    assert outcome.origin_run_ids == ("r1", "r2")
    (tick,) = instance.sensor_ticks(ORIGIN)
    assert tuple(tick.origin_run_ids) == ("r1", "r2")
    assert tick.skip_reason is None


def test_a_reaction_error_fails_the_tick_and_the_cursor_still_moves(
    instance, location, coordinator
):
    from tocsin.workspace.messages import RunRequestData

    maker = InstigatorInfo("maker", "sensor", ("the_job",), RUNNING, 30)
    location.add(
        maker, lambda **_: Evaluation(run_requests=(RunRequestData(job_name="the_job"),) * 2)
    )
    loop = SensorLoop(instance, [location], coordinator, max_workers=1)
    loop.tick(at(0))
    acted, failed = sorted(r.run_id for r in instance.all_runs)
    error = SerializableErrorInfo("Exception: sensor bug", [], "Exception")
    reactions = (RunReaction(acted, "SUCCESS"), RunReaction(failed, "SUCCESS", error=error))
    location.add(watcher(), lambda **_: Evaluation(run_reactions=reactions, cursor="past-both"))
    outcome = loop.tick(at(1)).outcome(ORIGIN)
    assert outcome.status == TickStatus.FAILURE
    assert outcome.error.message == "Exception: sensor bug"
    assert outcome.origin_run_ids == (acted,)
    assert instance.ticks.get_instigator_state(ORIGIN).cursor == "past-both"
    assert instance.engine_events == [
        (acted, f'Sensor "watcher" acted on run status SUCCESS of run {acted}.')
    ]
