"""The schedule and context-builder examples of seed 001, with only the import changed.

Where an example relies on something the reference itself rejects (a schedule without a
job, the instance of a schedule context built from an ephemeral instance), the test checks
that tocsin rejects it the same way (semantics.md 2.5 / 2.6).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tocsin import (
    DagsterInstance,
    DagsterInvariantViolationError,
    DagsterRunStatus,
    DailyPartitionsDefinition,
    RunRequest,
    RunsFilter,
    ScheduleEvaluationContext,
    SkipReason,
    build_schedule_context,
    build_schedule_from_partitioned_job,
    job,
    op,
    schedule,
)
from tocsin.errors import CheckError


@op
def extract_data():
    return 1


@op
def transform_data(df):
    return df


@job
def daily_etl_job():
    """Daily ETL job."""
    transform_data(extract_data())


# Basic daily schedule
@schedule(
    job=daily_etl_job,
    cron_schedule="0 2 * * *",  # 2 AM daily
)
def daily_etl_schedule():
    """Schedule daily ETL at 2 AM."""
    return {}


def test_daily_etl_schedule():
    assert daily_etl_schedule.cron_schedule == "0 2 * * *"
    assert daily_etl_schedule.job_name == "daily_etl_job"
    (request,) = daily_etl_schedule.evaluate_tick(build_schedule_context()).run_requests
    assert request.run_config == {} and request.run_key is None


# Schedule with dynamic configuration
@schedule(
    job=daily_etl_job,
    cron_schedule="0 6 * * 1",  # 6 AM every Monday
)
def weekly_full_refresh(context):
    """Weekly full refresh with dynamic config."""
    # Generate run configuration based on schedule context
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
        "resources": {
            "warehouse": {
                "config": {
                    "connection_timeout": 300  # Longer timeout for full refresh
                }
            }
        },
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


def test_weekly_full_refresh():
    context = build_schedule_context(scheduled_execution_time=datetime(2024, 1, 1, 6, 0))
    (request,) = weekly_full_refresh.evaluate_tick(context).run_requests
    assert request.run_key == "weekly_refresh_2024_01_01"
    assert request.tags["refresh_type"] == "full"
    assert request.tags["dagster/schedule_name"] == "weekly_full_refresh"


DATA_UPDATED = datetime(2024, 1, 1, 3, 0)


def get_last_data_update_time():
    return DATA_UPDATED


def get_last_successful_run_time(job_name):
    return datetime(2024, 1, 1, 2, 0)


# Conditional schedule execution
@schedule(
    job=daily_etl_job,
    cron_schedule="0 */4 * * *",  # Every 4 hours
)
def conditional_data_refresh(context):
    """Schedule that runs conditionally based on data availability."""
    # Check if new data is available
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


def test_conditional_data_refresh(monkeypatch):
    result = conditional_data_refresh.evaluate_tick(build_schedule_context())
    assert result.run_requests[0].tags["trigger"] == "new_data_available"
    assert result.log_lines[0].message.startswith("New data available since 2024-01-01 03:00:00")
    monkeypatch.setitem(globals(), "DATA_UPDATED", datetime(2024, 1, 1, 1, 0))
    skipped = conditional_data_refresh.evaluate_tick(build_schedule_context())
    assert skipped.skip_message == "No new data since last run at 2024-01-01 02:00:00"


def test_multi_environment_deploy_needs_a_target():
    # The seed's schedule names neither job nor job_name: the reference rejects it.
    with pytest.raises(CheckError, match="Must provide target, job, or job_name"):

        @schedule(
            cron_schedule="0 1 * * *"  # 1 AM daily
        )
        def multi_environment_deploy():
            """Schedule that deploys to multiple environments."""
            return []


def test_multi_environment_deploy_with_a_job_name():
    @schedule(cron_schedule="0 1 * * *", job_name="deployment_job")
    def multi_environment_deploy():
        """Schedule that deploys to multiple environments."""
        environments = ["staging", "prod", "dr"]
        run_requests = []
        for env in environments:
            run_requests.append(
                RunRequest(
                    run_key=f"deploy_{env}_{datetime.now().strftime('%Y%m%d')}",
                    job_name="deployment_job",
                    run_config={
                        "resources": {"deployment_target": {"config": {"environment": env}}}
                    },
                    tags={"environment": env, "deployment_type": "scheduled"},
                )
            )
        return run_requests

    result = multi_environment_deploy.evaluate_tick(build_schedule_context())
    assert [r.tags["environment"] for r in result.run_requests] == ["staging", "prod", "dr"]


# Partitioned job
daily_partitions = DailyPartitionsDefinition(start_date="2023-01-01")


@op
def daily_sales_data():
    return 1


@job(partitions_def=daily_partitions)
def daily_sales_job():
    daily_sales_data()


# Create schedule that runs daily for the previous day's partition
daily_sales_schedule = build_schedule_from_partitioned_job(
    job=daily_sales_job,
    name="daily_sales_schedule",
    description="Process daily sales data",
    hour_of_day=2,  # Run at 2 AM
    minute_of_hour=0,
    timezone="America/New_York",
)


def test_daily_sales_schedule():
    assert daily_sales_schedule.name == "daily_sales_schedule"
    assert daily_sales_schedule.cron_schedule == "0 2 * * *"
    assert daily_sales_schedule.execution_timezone == "America/New_York"
    when = daily_sales_schedule.next_tick_after(datetime(2024, 3, 5, 12, 0))
    context = build_schedule_context(scheduled_execution_time=when)
    (request,) = daily_sales_schedule.evaluate_tick(context).run_requests
    assert request.partition_key == request.run_key == "2024-03-05"
    assert request.tags["dagster/partition"] == "2024-03-05"


def test_backfill_schedule():
    @schedule(cron_schedule="0 3 * * *", job=daily_sales_job)
    def backfill_schedule(context):
        """Schedule that processes multiple partitions for backfill."""
        # Determine partitions to process
        execution_date = context.scheduled_execution_time.date()
        # Process last 7 days of partitions
        partitions_to_run = []
        for i in range(7):
            partition_date = execution_date - timedelta(days=i + 1)
            partitions_to_run.append(partition_date.strftime("%Y-%m-%d"))
        run_requests = []
        for partition_key in partitions_to_run:
            run_requests.append(
                RunRequest(
                    run_key=f"backfill_{partition_key}",
                    partition_key=partition_key,
                    tags={"partition": partition_key, "run_type": "backfill"},
                )
            )
        return run_requests

    from tocsin import Definitions

    context = build_schedule_context(
        scheduled_execution_time=datetime(2024, 1, 10, 3, 0),
        repository_def=Definitions(jobs=[daily_sales_job]),
    )
    result = backfill_schedule.evaluate_tick(context)
    assert [r.partition_key for r in result.run_requests][:2] == ["2024-01-09", "2024-01-08"]
    assert all("dagster/partition" in r.tags for r in result.run_requests)


@schedule(
    job=daily_etl_job,
    cron_schedule="0 8 * * 1-5",  # 8 AM weekdays
)
def business_days_schedule(context: ScheduleEvaluationContext):
    """Schedule with comprehensive context usage."""
    # Access schedule execution time
    scheduled_time = context.scheduled_execution_time
    execution_date = scheduled_time.date()
    # Access instance and run information
    instance = context.instance
    # Check for recent failures
    recent_runs = instance.get_runs(
        filters=RunsFilter(
            job_name="daily_etl_job", created_after=scheduled_time - timedelta(days=1)
        ),
        limit=5,
    )
    recent_failures = [run for run in recent_runs if run.status == DagsterRunStatus.FAILURE]
    if len(recent_failures) >= 3:
        context.log.warning(f"Found {len(recent_failures)} recent failures, skipping execution")
        return SkipReason(f"Too many recent failures ({len(recent_failures)})")
    # Dynamic configuration based on day of week
    is_monday = scheduled_time.weekday() == 0
    run_config = {
        "ops": {
            "extract_data": {
                "config": {
                    "full_refresh": is_monday,  # Full refresh on Mondays
                    "batch_size": 5000 if is_monday else 1000,
                    "execution_date": execution_date.isoformat(),
                }
            }
        }
    }
    # Generate unique run key
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


def test_business_days_schedule():
    # An ephemeral instance is not kept by build_schedule_context (semantics.md 2.6), so the
    # seed's test context has no instance to query.
    test_context = build_schedule_context(
        scheduled_execution_time=datetime(2023, 1, 16, 8, 0),  # Monday 8 AM
        instance=DagsterInstance.ephemeral(),
    )
    with pytest.raises(DagsterInvariantViolationError, match="no instance reference"):
        business_days_schedule(test_context)


def test_business_days_schedule_with_an_instance():
    class Instance:
        def get_runs(self, filters=None, limit=None):
            assert filters.job_name == "daily_etl_job"
            return []

    monday = ScheduleEvaluationContext(
        scheduled_execution_time=datetime(2023, 1, 16, 8, 0), instance=Instance()
    )
    monday_result = business_days_schedule(monday)
    assert isinstance(monday_result, RunRequest)
    assert monday_result.run_config["ops"]["extract_data"]["config"]["full_refresh"] is True
    tuesday = ScheduleEvaluationContext(
        scheduled_execution_time=datetime(2023, 1, 17, 8, 0), instance=Instance()
    )
    tuesday_result = business_days_schedule(tuesday)
    assert tuesday_result.run_config["ops"]["extract_data"]["config"]["full_refresh"] is False
