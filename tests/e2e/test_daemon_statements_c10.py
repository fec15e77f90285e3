"""daemon.md C10 on real ``tocsin daemon tick --now`` processes: the seeds' sensor and
schedule examples, invoked directly with a context built like the daemon's (same cursor,
scheduled time and instance), make the runs the daemon makes when it ticks them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

# The seeds' sensor and schedule examples (tests/seeds runs each one directly), as written
# except that they read their directory from the test and start RUNNING.
C10 = """
import os
from datetime import datetime, timedelta

from tocsin import (
    DagsterRunStatus, DailyPartitionsDefinition, DefaultScheduleStatus, DefaultSensorStatus,
    RunRequest, RunsFilter, ScheduleEvaluationContext, SkipReason,
    build_schedule_from_partitioned_job, job, op, schedule, sensor,
)

RUNNING = DefaultSensorStatus.RUNNING
SCHEDULE_RUNNING = DefaultScheduleStatus.RUNNING
MY_DIRECTORY = os.path.join(os.environ["TOCSIN_E2E_DIR"], "files")


@op(config_schema={"filename": str})
def process_file(context):
    filename = context.op_config["filename"]
    context.log.info(filename)


@job
def log_file_job():
    process_file()


my_job = the_job = log_file_job


@sensor(job=log_file_job, default_status=RUNNING)
def my_directory_sensor():
    for filename in os.listdir(MY_DIRECTORY):
        filepath = os.path.join(MY_DIRECTORY, filename)
        if os.path.isfile(filepath):
            yield RunRequest(
                run_key=filename,
                run_config={"ops": {"process_file": {"config": {"filename": filename}}}},
            )


@sensor(job=log_file_job, default_status=RUNNING)
def my_directory_sensor_cursor(context):
    last_mtime = float(context.cursor) if context.cursor else 0
    max_mtime = last_mtime
    for filename in os.listdir(MY_DIRECTORY):
        filepath = os.path.join(MY_DIRECTORY, filename)
        if os.path.isfile(filepath):
            fstats = os.stat(filepath)
            file_mtime = fstats.st_mtime
            if file_mtime <= last_mtime:
                continue
            run_key = f"{filename}:{file_mtime!s}"
            run_config = {"ops": {"process_file": {"config": {"filename": filename}}}}
            yield RunRequest(run_key=run_key, run_config=run_config)
            max_mtime = max(max_mtime, file_mtime)
    context.update_cursor(str(max_mtime))


@sensor(job=my_job, minimum_interval_seconds=30, default_status=RUNNING)
def sensor_A():
    yield RunRequest(run_key=None, run_config={})


@sensor(job=the_job, default_status=RUNNING)
def logs_then_skips(context):
    context.log.info("Logging from a sensor!")
    return SkipReason("Nothing to do")


def get_s3_keys(bucket, since_key=None):
    keys = ["k1", "k2", "k3"]
    return keys[keys.index(since_key) + 1 :] if since_key else keys


@sensor(job=my_job, default_status=RUNNING)
def my_s3_sensor(context):
    since_key = context.cursor or None
    new_s3_keys = get_s3_keys("my_s3_bucket", since_key=since_key)
    if not new_s3_keys:
        return SkipReason("No new s3 files found for bucket my_s3_bucket.")
    last_key = new_s3_keys[-1]
    run_requests = [RunRequest(run_key=s3_key, run_config={}) for s3_key in new_s3_keys]
    context.update_cursor(last_key)
    return run_requests


@op
def extract_data():
    return 1


@op
def transform_data(df):
    return df


@job
def daily_etl_job():
    transform_data(extract_data())


@schedule(job=daily_etl_job, cron_schedule="0 2 * * *", default_status=SCHEDULE_RUNNING)
def daily_etl_schedule():
    return {}


@schedule(job=daily_etl_job, cron_schedule="0 6 * * 1", default_status=SCHEDULE_RUNNING)
def weekly_full_refresh(context):
    run_config = {
        "ops": {
            "extract_data": {
                "config": {
                    "full_refresh": True,
                    "batch_size": 10000,
                    "run_date": context.scheduled_execution_time.strftime("%Y-%m-%d"),
                }
            }
        },
        "resources": {"warehouse": {"config": {"connection_timeout": 300}}},
    }
    return RunRequest(
        run_key=f"weekly_refresh_{context.scheduled_execution_time.strftime('%Y_%m_%d')}",
        run_config=run_config,
        tags={
            "schedule": "weekly_full_refresh",
            "refresh_type": "full",
            "execution_date": context.scheduled_execution_time.isoformat(),
        },
    )


def get_last_data_update_time():
    return datetime(2024, 1, 1, 3, 0)


def get_last_successful_run_time(job_name):
    return datetime(2024, 1, 1, 2, 0)


@schedule(job=daily_etl_job, cron_schedule="0 */4 * * *", default_status=SCHEDULE_RUNNING)
def conditional_data_refresh(context):
    last_update = get_last_data_update_time()
    last_run = get_last_successful_run_time("daily_etl_job")
    if last_update > last_run:
        context.log.info(f"New data available since {last_update}, scheduling run")
        return RunRequest(
            run_key=f"data_refresh_{int(last_update.timestamp())}",
            tags={"trigger": "new_data_available", "last_update": last_update.isoformat()},
        )
    else:
        return SkipReason(f"No new data since last run at {last_run}")


daily_partitions = DailyPartitionsDefinition(start_date="2023-01-01")


@op
def daily_sales_data():
    return 1


@job(partitions_def=daily_partitions)
def daily_sales_job():
    daily_sales_data()


daily_sales_schedule = build_schedule_from_partitioned_job(
    job=daily_sales_job,
    name="daily_sales_schedule",
    description="Process daily sales data",
    hour_of_day=2,
    minute_of_hour=0,
    timezone="America/New_York",
    default_status=SCHEDULE_RUNNING,
)


@schedule(job=daily_etl_job, cron_schedule="0 8 * * 1-5", default_status=SCHEDULE_RUNNING)
def business_days_schedule(context: ScheduleEvaluationContext):
    scheduled_time = context.scheduled_execution_time
    execution_date = scheduled_time.date()
    instance = context.instance
    recent_runs = instance.get_runs(
        filters=RunsFilter(
            job_name="daily_etl_job", created_after=scheduled_time - timedelta(days=1)
        ),
        limit=5,
    )
    recent_failures = [run for run in recent_runs if run.status == DagsterRunStatus.FAILURE]
    if len(recent_failures) >= 3:
        return SkipReason(f"Too many recent failures ({len(recent_failures)})")
    is_monday = scheduled_time.weekday() == 0
    run_config = {
        "ops": {
            "extract_data": {
                "config": {
                    "full_refresh": is_monday,
                    "batch_size": 5000 if is_monday else 1000,
                    "execution_date": execution_date.isoformat(),
                }
            }
        }
    }
    run_key = f"etl_{execution_date.strftime('%Y%m%d')}_{scheduled_time.hour}"
    context.log.info(f"Scheduling ETL for {execution_date} (Monday: {is_monday})")
    return RunRequest(
        run_key=run_key,
        run_config=run_config,
        tags={
            "execution_date": execution_date.isoformat(),
            "is_monday": str(is_monday),
            "schedule_time": scheduled_time.isoformat(),
        },
    )
"""

SENSORS = (
    "my_directory_sensor",
    "my_directory_sensor_cursor",
    "sensor_A",
    "logs_then_skips",
    "my_s3_sensor",
)
SCHEDULES = (
    "daily_etl_schedule",
    "weekly_full_refresh",
    "conditional_data_refresh",
    "daily_sales_schedule",
    "business_days_schedule",
)
# Tags the daemon adds that are tocsin's own (where a run's code is), not the reference's.
TOCSIN_TAGS = {"tocsin/instigator", "tocsin/code_location", ".tocsin/code_origin"}
# Added only to a run the queue holds: the limit that holds it.
OPTIONAL_TOCSIN_TAGS = {".tocsin/held_by"}


def as_run(request: Any, job_name: str, daemon_tags: dict[str, str]) -> dict[str, Any]:
    """What a request directly evaluated should become as a run of the daemon."""
    tags = {**request.tags, **daemon_tags}
    if request.run_key is not None:
        tags["dagster/run_key"] = request.run_key
    if request.partition_key is not None:
        tags["dagster/partition"] = request.partition_key
    return {
        "run_key": request.run_key,
        "run_config": request.run_config,
        "job_name": request.job_name or job_name,
        "partition_key": request.partition_key,
        "tags": tags,
    }


def of_run(run: Any) -> dict[str, Any]:
    """The same view of a run the daemon made; its tocsin/* tags are checked apart."""
    assert set(run.tags) >= TOCSIN_TAGS, run.tags
    return {
        "run_key": run.run_key,
        "run_config": run.run_config,
        "job_name": run.job_name,
        "partition_key": run.partition_key,
        "tags": {
            k: v
            for k, v in run.tags.items()
            if k not in TOCSIN_TAGS and k not in OPTIONAL_TOCSIN_TAGS
        },
    }


def test_c10_direct_invocation_and_daemon_ticks_agree_on_the_seed_examples(tick_home):
    from tocsin import build_schedule_context, build_sensor_context

    home = tick_home(C10)
    (home.tmp_path / "files").mkdir()
    for name in ("a.csv", "b.csv"):
        (home.tmp_path / "files" / name).write_text("x")
    defs = home.load_defs()
    instance = home.instance
    home.tick(datetime(2024, 1, 1, 1, 30, tzinfo=UTC))  # sensors tick; schedules start
    home.tick(datetime(2024, 1, 1, 8, 5, tzinfo=UTC))  # sensors again; each schedule once

    compared = 0
    for name in SENSORS:
        sensor_def = getattr(defs, name)
        ticks = home.ticks("sensor", name)
        assert len(ticks) == 2, name
        used: set[str] = set()
        cursor = None
        for tick in ticks:
            context = build_sensor_context(cursor=cursor, instance=instance)
            direct = sensor_def.evaluate_tick(context)
            daemon_tags = {"dagster/sensor_name": name, "dagster/tick": str(tick.tick_id)}
            wanted = [r for r in direct.run_requests if r.run_key is None or r.run_key not in used]
            expected = [as_run(r, "log_file_job", daemon_tags) for r in wanted]
            made = [of_run(r) for r in home.sensor_runs(name) if r.run_id in tick.run_ids]
            assert made == expected, name
            assert tick.cursor == direct.cursor, name
            if not direct.run_requests:
                assert (tick.status.value, tick.skip_reason) == ("SKIPPED", direct.skip_message)
            else:
                assert tick.status.value == ("SUCCESS" if made else "SKIPPED"), name
            used |= {r.run_key for r in wanted if r.run_key is not None}
            cursor = tick.cursor
            compared += len(made)

    for name in SCHEDULES:
        schedule_def = getattr(defs, name)
        (tick,) = home.ticks("schedule", name)
        zone = ZoneInfo(schedule_def.execution_timezone or "UTC")
        scheduled = tick.scheduled_execution_time.astimezone(zone)
        context = build_schedule_context(instance=instance, scheduled_execution_time=scheduled)
        direct = schedule_def.evaluate_tick(context)
        daemon_tags = {
            "dagster/schedule_name": name,
            "dagster/tick": str(tick.tick_id),
            ".dagster/scheduled_execution_time": scheduled.astimezone(UTC).isoformat(),
        }
        expected = [as_run(r, schedule_def.job_name, daemon_tags) for r in direct.run_requests]
        made = [of_run(r) for r in home.schedule_runs(name)]
        assert made == expected, name
        assert tick.status.value == "SUCCESS" and len(made) == 1, name
        compared += 1

    # Every run the daemon made was compared: 2 + 2 + 2 (sensor_A ticks twice) + 3 (s3) + 5.
    assert compared == len(instance.get_runs()) == 14
