"""The tocsin quickstart: one file with each kind of automation.

Run it with ``tocsin dev -f examples/quickstart/defs.py`` and drop a file into
``examples/quickstart/inbox/`` (or wherever ``QUICKSTART_INBOX`` points).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tocsin import (
    AssetKey,
    DailyPartitionsDefinition,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    Definitions,
    RunFailureSensorContext,
    RunRequest,
    SkipReason,
    asset,
    asset_sensor,
    build_schedule_from_partitioned_job,
    define_asset_job,
    job,
    op,
    run_failure_sensor,
    schedule,
    sensor,
)

HERE = Path(__file__).resolve().parent
INBOX = Path(os.environ.get("QUICKSTART_INBOX", HERE / "inbox"))
ALERTS = Path(os.environ.get("QUICKSTART_ALERTS", HERE / "alerts.log"))


# 1. A job that processes one file, and a sensor that asks for one run per new file.
@op(config_schema={"filename": str})
def process_file(context) -> int:
    path = INBOX / context.op_config["filename"]
    size = path.stat().st_size
    context.log.info(f"{path.name}: {size} bytes")
    print(f"processed {path.name}")  # shows up in the run's compute logs
    return size


@job
def log_file_job():
    process_file()


@sensor(job=log_file_job, minimum_interval_seconds=1, default_status=DefaultSensorStatus.RUNNING)
def inbox_sensor(context):
    """One run per file. The cursor remembers the newest modification time seen."""
    INBOX.mkdir(parents=True, exist_ok=True)
    last_mtime = float(context.cursor) if context.cursor else 0.0
    newest = last_mtime
    for path in sorted(INBOX.iterdir()):
        mtime = path.stat().st_mtime
        if path.is_file() and mtime > last_mtime:
            newest = max(newest, mtime)
            yield RunRequest(
                run_key=f"{path.name}:{mtime}",
                run_config={"ops": {"process_file": {"config": {"filename": path.name}}}},
            )
    context.update_cursor(str(newest))


# 2. A daily schedule in a named time zone.
@op
def say_good_morning(context) -> None:
    context.log.info("Good morning, Amsterdam")


@job
def morning_job():
    say_good_morning()


@schedule(job=morning_job, cron_schedule="0 8 * * *", execution_timezone="Europe/Amsterdam")
def morning_schedule(context):
    day = context.scheduled_execution_time.strftime("%Y-%m-%d")
    return RunRequest(run_key=day, tags={"day": day})


# 3. A partitioned asset, a job for it, and a schedule built from the job's partitions.
daily = DailyPartitionsDefinition(start_date="2024-01-01", timezone="America/New_York")


@asset(partitions_def=daily)
def daily_report(context) -> dict:
    context.log.info(f"building the report for {context.partition_key}")
    return {"day": context.partition_key}


daily_report_job = define_asset_job("daily_report_job", selection=[daily_report], partitions_def=daily)
daily_report_schedule = build_schedule_from_partitioned_job(
    daily_report_job, hour_of_day=1, default_status=DefaultScheduleStatus.STOPPED
)


# 4. An asset sensor: when the report is materialized, announce it.
@op(config_schema={"partition": str})
def announce(context) -> None:
    context.log.info(f"report ready for {context.op_config['partition']}")


@job
def announce_job():
    announce()


@asset_sensor(asset_key=AssetKey("daily_report"), job=announce_job, minimum_interval_seconds=5)
def report_ready(context, asset_event):
    partition = asset_event.dagster_event.partition
    if partition is None:
        return SkipReason("the report was materialized without a partition")
    return RunRequest(
        run_key=str(asset_event.storage_id),
        run_config={"ops": {"announce": {"config": {"partition": partition}}}},
    )


# 5. A run failure sensor that writes an alert line for every failed run.
@run_failure_sensor(minimum_interval_seconds=5, default_status=DefaultSensorStatus.RUNNING)
def alert_on_failure(context: RunFailureSensorContext):
    line = {"job": context.dagster_run.job_name, "run_id": context.dagster_run.run_id,
            "error": context.failure_event.message}
    with ALERTS.open("a") as f:
        f.write(json.dumps(line) + "\n")


defs = Definitions(
    assets=[daily_report],
    jobs=[log_file_job, morning_job, daily_report_job, announce_job],
    sensors=[inbox_sensor, report_ready, alert_on_failure],
    schedules=[morning_schedule, daily_report_schedule],
)
