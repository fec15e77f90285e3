from __future__ import annotations

import datetime as dt

import pytest

from tocsin import (
    DefaultScheduleStatus,
    SkipReason,
    build_schedule_context,
    build_schedule_from_partitioned_job,
)
from tocsin.errors import CheckError

UTC = dt.UTC


class HourlyPartitions:
    """A time-window partitions definition as the contract describes it (hourly, UTC)."""

    cron_schedule = "0 * * * *"
    timezone = "UTC"

    def __init__(self, start):
        self.start = start

    def get_last_partition_key(self, current_time=None):
        end = current_time.replace(minute=0, second=0, microsecond=0)
        last = end - dt.timedelta(hours=1)
        return None if last < self.start else last.strftime("%Y-%m-%d-%H:%M")


class DailyPartitions(HourlyPartitions):
    cron_schedule = "0 0 * * *"


class StaticPartitions:
    def get_partition_keys(self, current_time=None, dynamic_partitions_store=None):
        return ["a", "b"]


class Job:
    def __init__(self, name, partitions_def):
        self.name = name
        self.partitions_def = partitions_def


START = dt.datetime(2024, 1, 1, tzinfo=UTC)


def _tick(schedule_def, when):
    return schedule_def.evaluate_tick(build_schedule_context(scheduled_execution_time=when))


def test_hourly_job_requests_the_partition_that_just_closed():
    s = build_schedule_from_partitioned_job(Job("hourly", HourlyPartitions(START)))
    assert s.name == "hourly_schedule" and s.cron_schedule == "0 * * * *"
    assert s.execution_timezone == "UTC" and s.default_status is DefaultScheduleStatus.STOPPED
    (request,) = _tick(s, dt.datetime(2024, 1, 1, 13, tzinfo=UTC)).run_requests
    assert request.run_key == request.partition_key == "2024-01-01-12:00"
    assert request.tags == {
        "dagster/partition": "2024-01-01-12:00",
        "dagster/schedule_name": "hourly_schedule",
    }


def test_no_partition_yet_skips():
    s = build_schedule_from_partitioned_job(Job("hourly", HourlyPartitions(START)))
    result = _tick(s, START)
    assert result.skip_message == "The job's PartitionsDefinition has no partitions"
    assert isinstance(s(build_schedule_context(scheduled_execution_time=START)), SkipReason)


def test_offsets_move_the_tick():
    s = build_schedule_from_partitioned_job(
        Job("daily", DailyPartitions(START)), hour_of_day=2, minute_of_hour=15
    )
    assert s.cron_schedule == "15 2 * * *"


def test_day_of_week_only_moves_a_weekly_cadence():
    s = build_schedule_from_partitioned_job(Job("daily", DailyPartitions(START)), day_of_week=3)
    assert s.cron_schedule == "0 0 * * *"


def test_timezone_alias_sets_the_execution_timezone():
    s = build_schedule_from_partitioned_job(
        Job("daily", DailyPartitions(START)), hour_of_day=2, timezone="America/New_York"
    )
    assert s.execution_timezone == "America/New_York" and s.cron_schedule == "0 2 * * *"


def test_name_description_tags():
    s = build_schedule_from_partitioned_job(
        Job("hourly", HourlyPartitions(START)),
        name="my_sched",
        description="d",
        tags={"team": "x"},
        default_status=DefaultScheduleStatus.RUNNING,
    )
    assert (s.name, s.description) == ("my_sched", "d")
    assert s.default_status is DefaultScheduleStatus.RUNNING
    request = _tick(s, dt.datetime(2024, 1, 2, tzinfo=UTC)).run_requests[0]
    assert request.tags["team"] == "x"


def test_static_partitions_need_a_cron():
    with pytest.raises(CheckError, match="requires a cron schedule"):
        build_schedule_from_partitioned_job(Job("static", StaticPartitions()))


def test_static_partitions_request_every_partition():
    s = build_schedule_from_partitioned_job(
        Job("static", StaticPartitions()), cron_schedule="0 3 * * *"
    )
    result = _tick(s, dt.datetime(2024, 1, 2, 3, tzinfo=UTC))
    assert [r.run_key for r in result.run_requests] == ["a", "b"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"day_of_week": 1, "day_of_month": 1}, "both day_of_month and day_of_week"),
        ({"cron_schedule": "0 * * * *", "hour_of_day": 1}, "both cron_schedule"),
        ({"cron_schedule": "0 * * * *"}, "for a time-partitioned job"),
        ({"hour_of_day": "2"}, "must be ints"),
    ],
)
def test_contradicting_arguments(kwargs, message):
    with pytest.raises(CheckError, match=message):
        build_schedule_from_partitioned_job(Job("hourly", HourlyPartitions(START)), **kwargs)


def test_unpartitioned_job():
    with pytest.raises(CheckError, match="The provided job is not partitioned"):
        build_schedule_from_partitioned_job(Job("plain", None))
