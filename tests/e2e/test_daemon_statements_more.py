"""daemon.md C2, C4, C5, C7 and C8, each on real ``tocsin daemon tick --now`` processes.

Every statement fixes the times the daemon iterates at (``T0`` = 2024-01-01 12:00 UTC,
``+31 s``, 13:05, ...), so each test runs one ``tocsin daemon tick --now <time>`` process per
iteration, on a temporary TOCSIN_HOME (``tick_home``, conftest.py) whose tocsin.yaml holds
the runs QUEUED, then reads the ticks and runs the daemon stored, as a user would. C10 is in
test_daemon_statements_c10.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

T0 = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)

HEADER = """
from tocsin import (
    DefaultScheduleStatus, DefaultSensorStatus, HourlyPartitionsDefinition, RunRequest,
    SkipReason, build_schedule_from_partitioned_job, job, op, schedule, sensor,
)

RUNNING = DefaultSensorStatus.RUNNING
SCHEDULE_RUNNING = DefaultScheduleStatus.RUNNING


@op
def nothing():
    pass


@job
def the_job():
    nothing()
"""


def statuses(ticks: list[Any]) -> list[str]:
    return [t.status.value for t in ticks]


C2 = """
@sensor(job=the_job, default_status=RUNNING)
def no_key(context):
    return RunRequest()
"""


def test_c2_requests_without_a_run_key_are_never_deduplicated(tick_home):
    home = tick_home(HEADER + C2)
    home.tick(T0)
    home.tick(T0 + timedelta(seconds=31))
    ticks = home.ticks("sensor", "no_key")
    assert statuses(ticks) == ["SUCCESS", "SUCCESS"]
    runs = home.sensor_runs("no_key")
    assert len(runs) == 2
    assert [r.tags["dagster/tick"] for r in runs] == [str(t.tick_id) for t in ticks]
    assert [list(t.run_ids) for t in ticks] == [[r.run_id] for r in runs]
    for run in runs:
        assert "dagster/run_key" not in run.tags and run.run_key is None
        assert run.status.value == "QUEUED"


C4 = """
@sensor(job=the_job, minimum_interval_seconds=30, default_status=RUNNING)
def every_30(context):
    return SkipReason("evaluated")


@sensor(job=the_job, default_status=RUNNING)
def default_interval(context):
    return SkipReason("evaluated")
"""


def test_c4_a_sensor_is_not_evaluated_before_its_minimum_interval(tick_home):
    home = tick_home(HEADER + C4)
    names = ("every_30", "default_interval")
    home.tick(T0)
    assert [len(home.ticks("sensor", n)) for n in names] == [1, 1]
    home.tick(T0 + timedelta(seconds=10))
    assert [len(home.ticks("sensor", n)) for n in names] == [1, 1]
    home.tick(T0 + timedelta(seconds=31))
    for name in names:
        ticks = home.ticks("sensor", name)
        assert [t.timestamp for t in ticks] == [T0, T0 + timedelta(seconds=31)]
        assert statuses(ticks) == ["SKIPPED", "SKIPPED"]


C5 = """
@sensor(job=the_job, default_status=RUNNING)
def says_why(context):
    return SkipReason("nothing to do")


@sensor(job=the_job, default_status=RUNNING)
def returns_none(context):
    return None


@schedule(job=the_job, cron_schedule="0 * * * *", default_status=SCHEDULE_RUNNING)
def closed(context):
    return SkipReason("closed")
"""


def test_c5_skips_are_recorded_on_the_tick_with_their_reason(tick_home):
    home = tick_home(HEADER + C5)
    home.tick(T0 + timedelta(minutes=30))  # starts the schedule at 12:30
    home.tick(T0 + timedelta(hours=1))  # 13:00, the schedule's cron time
    says_why = home.ticks("sensor", "says_why")
    returns_none = home.ticks("sensor", "returns_none")
    assert statuses(says_why) == statuses(returns_none) == ["SKIPPED", "SKIPPED"]
    assert {t.skip_reason for t in says_why} == {"nothing to do"}
    assert {t.skip_reason for t in returns_none} == {"Sensor function returned an empty result"}
    (closed,) = home.ticks("schedule", "closed")
    assert closed.status.value == "SKIPPED" and closed.skip_reason == "closed"
    assert closed.scheduled_execution_time == T0 + timedelta(hours=1)
    for tick in [*says_why, *returns_none, closed]:
        assert list(tick.run_ids) == []
    assert home.instance.get_runs() == []


C7 = """
@sensor(job=the_job, default_status=RUNNING)
def request_and_skip(context):
    yield RunRequest(run_key="m")
    yield SkipReason("but also nothing")


@sensor(job=the_job, default_status=RUNNING)
def yields_five(context):
    yield 5
"""


def test_c7_results_invalid_only_at_tick_time_fail_the_tick(tick_home):
    home = tick_home(HEADER + C7)
    # Direct invocation passes both results through unchecked (semantics.md).
    from tocsin import build_sensor_context

    defs = home.load_defs()
    assert [type(x).__name__ for x in defs.request_and_skip(build_sensor_context())] == [
        "RunRequest",
        "SkipReason",
    ]
    assert list(defs.yields_five(build_sensor_context())) == [5]

    home.tick(T0)
    (both,) = home.ticks("sensor", "request_and_skip")
    assert both.status.value == "FAILURE"
    assert both.error.message.startswith(
        "SensorExecutionError: Error occurred during the execution of evaluation_fn for sensor "
        "request_and_skip"
    )
    assert (
        "Expected a single SkipReason or one or more RunRequests: received both RunRequest "
        "and SkipReason" in both.error.cause.message
    )
    (five,) = home.ticks("sensor", "yields_five")
    assert five.status.value == "FAILURE"
    for name in ("RunRequest", "SkipReason", "SensorResult", "DagsterRunReaction"):
        assert name in five.error.cause.message, five.error.cause.message
    assert "Object 5 " in five.error.cause.message
    assert list(both.run_ids) == list(five.run_ids) == []
    assert home.instance.get_runs() == []


C8 = """
hourly = HourlyPartitionsDefinition(start_date="2024-01-01-00:00")


@job(partitions_def=hourly)
def hourly_job():
    nothing()


@schedule(job=the_job, cron_schedule="0 * * * *", default_status=SCHEDULE_RUNNING)
def on_the_hour(context):
    return RunRequest()


hourly_job_schedule = build_schedule_from_partitioned_job(
    hourly_job, default_status=SCHEDULE_RUNNING
)
"""


def test_c8_schedules_tick_once_per_time_and_catch_up_only_the_latest(tick_home):
    home = tick_home(HEADER + C8)
    at = {name: datetime(2024, 1, 1, h, m, tzinfo=UTC) for name, h, m in [
        ("12:30", 12, 30), ("13:00", 13, 0), ("13:05", 13, 5), ("23:00", 23, 0),
        ("23:05", 23, 5), ("23:10", 23, 10),
    ]}  # fmt: skip
    names = ("on_the_hour", "hourly_job_schedule")

    home.tick(at["12:30"])
    assert [home.ticks("schedule", n) for n in names] == [[], []]
    assert home.instance.get_runs() == []

    home.tick(at["13:05"])
    for name in names:
        (tick,) = home.ticks("schedule", name)
        assert tick.status.value == "SUCCESS" and tick.scheduled_execution_time == at["13:00"]
        (run,) = home.schedule_runs(name)
        assert list(tick.run_ids) == [run.run_id]
        assert run.tags["dagster/tick"] == str(tick.tick_id)
        assert run.tags[".dagster/scheduled_execution_time"] == "2024-01-01T13:00:00+00:00"
    (plain,) = home.schedule_runs("on_the_hour")
    assert "dagster/run_key" not in plain.tags and plain.job_name == "the_job"
    (parted,) = home.schedule_runs("hourly_job_schedule")
    assert parted.job_name == "hourly_job"
    assert parted.tags["dagster/run_key"] == parted.tags["dagster/partition"] == "2024-01-01-12:00"

    home.tick(at["23:05"])  # after "downtime": 14:00-22:00 are not caught up
    for name in names:
        ticks = home.ticks("schedule", name)
        assert statuses(ticks) == ["SUCCESS", "SUCCESS"]
        assert ticks[-1].scheduled_execution_time == at["23:00"]
        runs = home.schedule_runs(name)
        assert len(runs) == 2
        assert runs[-1].tags[".dagster/scheduled_execution_time"] == "2024-01-01T23:00:00+00:00"
    latest = home.schedule_runs("hourly_job_schedule")[-1]
    assert latest.tags["dagster/run_key"] == latest.tags["dagster/partition"] == "2024-01-01-22:00"

    home.tick(at["23:10"])  # the 23:00 tick was handled: nothing new
    for name in names:
        assert len(home.ticks("schedule", name)) == 2
        assert len(home.schedule_runs(name)) == 2
    assert len(home.instance.get_runs()) == 4


def test_a_tick_at_a_time_without_offset_is_refused_and_stores_nothing(tick_home):
    home = tick_home(HEADER + C2)
    done = home.tocsin("daemon", "tick", "-f", str(home.defs), "--now", "2024-01-01 12:00")
    assert done.returncode == 2
    assert "Invalid value for --now: '2024-01-01 12:00' has no UTC offset" in done.stderr
    assert home.ticks("sensor", "no_key") == [] and home.instance.get_runs() == []
