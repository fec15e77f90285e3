"""The schedule loop at fixed times (reference/daemon.md C5, C8), on an in-memory instance."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tocsin.daemon.schedules import ScheduleLoop, latest_cron_time
from tocsin.errors import DagsterInvariantViolationError
from tocsin.model.tags import (
    PARTITION_NAME_TAG,
    RUN_KEY_TAG,
    SCHEDULE_NAME_TAG,
    SCHEDULED_EXECUTION_TIME_TAG,
    TICK_ID_TAG,
)
from tocsin.model.ticks import TickStatus
from tocsin.workspace.messages import RUNNING, Evaluation, InstigatorInfo, RunRequestData


def utc(hour: int, minute: int) -> datetime:
    return datetime(2024, 1, 1, hour, minute, tzinfo=UTC)


def schedule(name: str, cron: str = "0 * * * *", tz: str = "UTC") -> InstigatorInfo:
    return InstigatorInfo(
        name=name,
        kind="schedule",
        job_names=("the_job",),
        default_status=RUNNING,
        cron_schedule=cron,
        execution_timezone=tz,
    )


def partitioned(scheduled_time: datetime) -> Evaluation:
    key = (scheduled_time.replace(hour=scheduled_time.hour - 1)).strftime("%Y-%m-%d-%H:%M")
    request = RunRequestData(run_key=key, job_name="the_job", partition_key=key)
    return Evaluation(run_requests=(request,))


@pytest.fixture
def loop(instance, location, coordinator):
    location.add(
        schedule("hourly"),
        lambda **_: Evaluation(run_requests=(RunRequestData(job_name="the_job"),)),
    )
    location.add(schedule("by_partition"), lambda scheduled_time: partitioned(scheduled_time))
    return ScheduleLoop(instance, [location], coordinator)


def runs_of(instance, name):
    return [r for r in instance.all_runs if r.tags[SCHEDULE_NAME_TAG] == name]


def test_c8_no_tick_before_start_then_latest_tick_only_then_idempotent(instance, loop):
    assert loop.tick(utc(12, 30)).outcomes == []
    report = loop.tick(utc(13, 5))
    assert [o.status for o in report.outcomes] == [TickStatus.SUCCESS] * 2
    (plain,) = runs_of(instance, "hourly")
    assert RUN_KEY_TAG not in plain.tags
    assert plain.tags[SCHEDULED_EXECUTION_TIME_TAG] == "2024-01-01T13:00:00+00:00"
    assert plain.tags[TICK_ID_TAG] == str(report.outcome("loc:schedule:hourly").tick_id)
    (part,) = runs_of(instance, "by_partition")
    assert part.tags[RUN_KEY_TAG] == part.tags[PARTITION_NAME_TAG] == "2024-01-01-12:00"

    assert len(loop.tick(utc(23, 5)).outcomes) == 2
    assert len(runs_of(instance, "hourly")) == 2
    newest = max(runs_of(instance, "by_partition"), key=lambda r: r.tags[PARTITION_NAME_TAG])
    assert newest.tags[PARTITION_NAME_TAG] == "2024-01-01-22:00"
    assert len(runs_of(instance, "by_partition")) == 2

    assert loop.tick(utc(23, 10)).outcomes == []
    assert len(instance.all_runs) == 4


def test_c5_schedule_skip_reason_is_recorded(instance, location, coordinator):
    location.add(schedule("closed"), lambda **_: Evaluation(skip_message="closed"))
    loop = ScheduleLoop(instance, [location], coordinator)
    loop.tick(utc(12, 30))
    (outcome,) = loop.tick(utc(13, 0)).outcomes
    assert (outcome.status, outcome.skip_reason, outcome.run_ids) == (
        TickStatus.SKIPPED,
        "closed",
        (),
    )


def test_schedule_ticks_in_its_own_time_zone(instance, location, coordinator):
    # 09:00 in New York is 14:00 UTC in January.
    location.add(
        schedule("ny", "0 9 * * *", "America/New_York"),
        lambda **_: Evaluation(run_requests=(RunRequestData(job_name="the_job"),)),
    )
    loop = ScheduleLoop(instance, [location], coordinator)
    loop.tick(utc(12, 0))
    assert loop.tick(utc(13, 59)).outcomes == []
    (run_id,) = loop.tick(utc(14, 0)).outcomes[0].run_ids
    tag = instance.get_run_by_id(run_id).tags[SCHEDULED_EXECUTION_TIME_TAG]
    assert tag == "2024-01-01T14:00:00+00:00"  # in UTC, as the reference writes it


def test_a_bad_cron_string_fails_only_that_schedule(instance, location, coordinator):
    location.add(schedule("bad", "61 * * * *"), lambda **_: Evaluation())
    location.add(
        schedule("good"), lambda **_: Evaluation(run_requests=(RunRequestData(job_name="the_job"),))
    )
    loop = ScheduleLoop(instance, [location], coordinator)
    loop.tick(utc(12, 30))
    report = loop.tick(utc(13, 1))
    assert "loc:schedule:bad" in report.location_errors
    assert [o.origin_id for o in report.outcomes] == ["loc:schedule:good"]


def test_latest_cron_time_is_the_tick_at_or_before_now_in_the_schedule_zone():
    info = schedule("hourly", "30 * * * *", "Europe/Berlin")
    assert latest_cron_time(info, utc(10, 30)) == utc(10, 30)
    assert latest_cron_time(info, utc(10, 29)) == utc(9, 30)


def test_latest_cron_time_names_a_schedule_listed_without_cron():
    info = InstigatorInfo(name="broken", kind="schedule", cron_schedule=None)
    with pytest.raises(DagsterInvariantViolationError, match=r"'broken'.*cron_schedule"):
        latest_cron_time(info, utc(10, 0))
