"""Sensor and schedule loops of two daemons sharing one instance through leases."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest

from tocsin.daemon.leases import NO_CLAIMS, InstigatorClaims, daemon_lease
from tocsin.daemon.presence import renew_all
from tocsin.daemon.schedules import ScheduleLoop
from tocsin.daemon.sensors import SensorLoop
from tocsin.model.tags import (
    RUN_KEY_TAG,
    SCHEDULE_NAME_TAG,
    SCHEDULED_EXECUTION_TIME_TAG,
    SENSOR_NAME_TAG,
)
from tocsin.model.ticks import TickStatus
from tocsin.workspace.messages import RUNNING, Evaluation, InstigatorInfo, RunRequestData

from .conftest import RealInstance, RecordingCoordinator, ScriptedLocation

T0 = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
LEASE = timedelta(seconds=15)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def sensor(name: str) -> InstigatorInfo:
    return InstigatorInfo(
        name=name,
        kind="sensor",
        job_names=("the_job",),
        default_status=RUNNING,
        minimum_interval_seconds=10,
    )


def schedule(name: str) -> InstigatorInfo:
    return InstigatorInfo(
        name=name,
        kind="schedule",
        job_names=("the_job",),
        default_status=RUNNING,
        cron_schedule="* * * * *",
        execution_timezone="UTC",
    )


def keyed(**kwargs) -> Evaluation:
    cursor = str(int(kwargs.get("cursor") or 0) + 1)
    request = RunRequestData(run_key=f"k{cursor}", job_name="the_job")
    return Evaluation(run_requests=(request,), cursor=cursor)


@pytest.fixture
def shared() -> Iterator[RealInstance]:
    real = RealInstance()
    yield real
    real._instance.dispose()


@pytest.fixture
def location() -> ScriptedLocation:
    loc = ScriptedLocation()
    for i in range(6):
        loc.add(sensor(f"s{i}"), keyed)
    for i in range(4):
        loc.add(
            schedule(f"c{i}"),
            lambda scheduled_time: Evaluation(run_requests=(RunRequestData(job_name="the_job"),)),
        )
    return loc


def claims(instance: RealInstance, daemon_id: str) -> InstigatorClaims:
    instance.leases.claim_lease(daemon_lease(daemon_id), daemon_id, timedelta(hours=1), T0)
    return InstigatorClaims(instance.leases, daemon_id, LEASE)


def test_two_daemons_tick_each_sensor_once_per_interval(shared, location):
    coordinator = RecordingCoordinator(shared)
    a = SensorLoop(shared, [location], coordinator, max_workers=1, claims=claims(shared, "a"))
    b = SensorLoop(shared, [location], coordinator, max_workers=1, claims=claims(shared, "b"))
    ticked: dict[str, list[str]] = {"a": [], "b": []}
    for second in (0, 11, 22):
        for name, loop in (("a", a), ("b", b)):
            renew_all(shared.leases, name, LEASE, at(second))  # the daemon's heartbeat
            report = loop.tick(at(second))
            ticked[name].extend(o.origin_id for o in report.outcomes)
    everything = ticked["a"] + ticked["b"]
    assert len(everything) == 18  # 6 sensors x 3 intervals, none twice
    assert set(ticked["a"]).isdisjoint(ticked["b"]) and len(set(ticked["a"])) == 3
    for i in range(6):
        ticks = shared.sensor_ticks(f"loc:sensor:s{i}")
        assert [t.cursor for t in ticks] == ["1", "2", "3"]
    keys = [(r.tags[SENSOR_NAME_TAG], r.tags[RUN_KEY_TAG]) for r in shared.all_runs]
    assert len(keys) == len(set(keys)) == 18
    assert len(coordinator.submitted) == 18


def test_two_daemons_run_each_scheduled_time_once(shared, location):
    coordinator = RecordingCoordinator(shared)
    a = ScheduleLoop(shared, [location], coordinator, claims=claims(shared, "a"))
    b = ScheduleLoop(shared, [location], coordinator, claims=claims(shared, "b"))
    outcomes: dict[str, list[str]] = {"a": [], "b": []}
    for second in (0, 30, 60, 61, 120):
        for name, loop in (("a", a), ("b", b)):
            outcomes[name].extend(o.origin_id for o in loop.tick(at(second)).outcomes)
    # Started at 12:00:00, the 12:00, 12:01 and 12:02 times of 4 schedules, spread over both.
    assert len(outcomes["a"]) + len(outcomes["b"]) == 12
    assert outcomes["a"] and outcomes["b"]
    times = [
        (r.tags[SCHEDULE_NAME_TAG], r.tags[SCHEDULED_EXECUTION_TIME_TAG]) for r in shared.all_runs
    ]
    assert len(times) == len(set(times)) == 12


class _Interleaved:
    """Claims that let another daemon tick between this daemon's claim and its tick."""

    shared = True

    def __init__(self, other: SensorLoop, now: datetime):
        self.other = other
        self.now = now

    def select(self, kind, origin_ids, now):
        return set(origin_ids)

    @contextmanager
    def tick(self, origin_id: str, now: datetime) -> Iterator[bool]:
        self.other.tick(self.now)
        yield True

    def fence(self, origin_id: str, now: datetime) -> None:
        return None


def test_a_tick_is_given_up_when_another_daemon_ticked_since_the_state_was_read(shared, location):
    location.infos = location.infos[:1]
    coordinator = RecordingCoordinator(shared)
    other = SensorLoop(shared, [location], coordinator, max_workers=1)
    mine = SensorLoop(
        shared, [location], coordinator, max_workers=1, claims=_Interleaved(other, at(0))
    )
    report = mine.tick(at(0))
    assert report.outcomes == []
    ticks = shared.sensor_ticks("loc:sensor:s0")
    assert [(t.status, t.cursor) for t in ticks] == [(TickStatus.SUCCESS, "1")]
    assert [r.tags[RUN_KEY_TAG] for r in shared.all_runs] == ["k1"]


def test_a_held_tick_lease_stops_the_tick(shared, location):
    location.infos = location.infos[:1]
    coordinator = RecordingCoordinator(shared)
    b = claims(shared, "b")
    loop = SensorLoop(shared, [location], coordinator, max_workers=1, claims=b)
    shared.leases.claim_lease("tick/loc:sensor:s0", "a", LEASE, at(0))
    assert loop.tick(at(0)).outcomes == []
    assert loop.tick(at(16)).outcomes[0].status == TickStatus.SUCCESS  # a's claim expired


def test_loops_alone_hold_everything():
    assert NO_CLAIMS.select("sensor", ["x", "y"], T0) == {"x", "y"}
    with NO_CLAIMS.tick("x", T0) as held:
        assert held
