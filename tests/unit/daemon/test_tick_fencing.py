"""A daemon that stalls past its tick claim while another daemon takes the tick over commits
nothing: its tick ends SKIPPED as abandoned, and only the other daemon's tick counts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tocsin.daemon.leases import InstigatorClaims, daemon_lease
from tocsin.daemon.schedules import ScheduleLoop
from tocsin.daemon.sensors import SensorLoop
from tocsin.model.tags import SCHEDULED_EXECUTION_TIME_TAG
from tocsin.model.ticks import TickStatus
from tocsin.workspace.messages import RUNNING, Evaluation, InstigatorInfo, RunRequestData

from .conftest import RealInstance, RecordingCoordinator, ScriptedLocation

T0 = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
LEASE = timedelta(seconds=15)
SENSOR = "loc:sensor:s0"
SCHEDULE = "loc:schedule:c0"
ABANDONED = "Tick abandoned: claim lost to daemon b; nothing of it was committed."
PASSED_ON = (
    "Tick abandoned: claim expired or passed to another daemon; nothing of it was committed."
)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def shared() -> Iterator[RealInstance]:
    real = RealInstance()
    yield real
    real._instance.dispose()


def claims(instance: RealInstance, daemon_id: str) -> InstigatorClaims:
    instance.leases.claim_lease(daemon_lease(daemon_id), daemon_id, timedelta(hours=1), T0)
    return InstigatorClaims(instance.leases, daemon_id, LEASE)


def test_a_sensor_tick_whose_claim_was_taken_over_commits_nothing(shared, caplog):
    location = ScriptedLocation()
    coordinator = RecordingCoordinator(shared)
    b = SensorLoop(shared, [location], coordinator, max_workers=1, claims=claims(shared, "b"))
    calls: list[str] = []

    def keyless(**kwargs) -> Evaluation:
        calls.append("evaluated")
        if len(calls) == 1:
            # a stalls here past its lease; b takes the sensor and its tick over meanwhile,
            # and is still ticking it when a commits.
            assert b.tick(at(16)).outcomes[0].status == TickStatus.SUCCESS
            assert shared.leases.claim_lease(f"tick/{SENSOR}", "b", LEASE, at(20))
        return Evaluation(run_requests=(RunRequestData(job_name="the_job"),), cursor="1")

    info = InstigatorInfo(name="s0", kind="sensor", job_names=("the_job",), default_status=RUNNING)
    location.add(info, keyless)
    a = SensorLoop(shared, [location], coordinator, max_workers=1, claims=claims(shared, "a"))
    with caplog.at_level("WARNING", logger="tocsin.daemon"):
        report = a.tick(at(0))
    (outcome,) = report.outcomes
    assert (outcome.status, outcome.skip_reason, outcome.run_ids) == (
        TickStatus.SKIPPED,
        ABANDONED,
        (),
    )
    assert report.submitted_run_ids == []
    assert ABANDONED in caplog.text
    ticks = shared.sensor_ticks(SENSOR)
    assert [(t.status, t.skip_reason) for t in ticks] == [
        (TickStatus.SKIPPED, ABANDONED),  # a's, started first, abandoned
        (TickStatus.SUCCESS, None),  # b's
    ]
    (run,) = shared.all_runs  # the keyless request ran once, from b's tick
    assert ticks[1].run_ids == (run.run_id,) and ticks[0].run_ids == ()
    state = shared.ticks.get_instigator_state(SENSOR)
    assert (state.cursor, state.last_tick_timestamp) == ("1", at(16))


def test_a_schedule_tick_whose_claim_was_taken_over_commits_nothing(shared):
    location = ScriptedLocation()
    coordinator = RecordingCoordinator(shared)
    b = ScheduleLoop(shared, [location], coordinator, claims=claims(shared, "b"))
    calls: list[datetime] = []

    def run_once(scheduled_time: datetime) -> Evaluation:
        calls.append(scheduled_time)
        if len(calls) == 1:
            assert b.tick(at(16)).outcomes[0].status == TickStatus.SUCCESS
        return Evaluation(run_requests=(RunRequestData(job_name="the_job"),))

    info = InstigatorInfo(
        name="c0",
        kind="schedule",
        job_names=("the_job",),
        default_status=RUNNING,
        cron_schedule="* * * * *",
        execution_timezone="UTC",
    )
    location.add(info, run_once)
    a = ScheduleLoop(shared, [location], coordinator, claims=claims(shared, "a"))
    (outcome,) = a.tick(at(0)).outcomes
    assert (outcome.status, outcome.skip_reason) == (TickStatus.SKIPPED, PASSED_ON)
    (run,) = shared.all_runs  # 12:00 ran once, from b's tick
    assert run.tags[SCHEDULED_EXECUTION_TIME_TAG] == T0.isoformat()
    statuses = sorted(t.status.value for t in shared.ticks.get_ticks(SCHEDULE))
    assert statuses == ["SKIPPED", "SUCCESS"]
    assert shared.ticks.get_instigator_state(SCHEDULE).last_tick_timestamp == at(16)
