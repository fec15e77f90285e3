"""The seeds' (001) run status and run failure sensor examples and its declarative
automation examples, run as written with only the import line changed.

External services (Slack, email, pandas) are stubbed inside each test.
"""

from __future__ import annotations

from datetime import datetime, timedelta


def _jobs_and_instance():
    from tocsin import DagsterInstance, job, op

    @op
    def fails():
        raise Exception("failure!")

    @job
    def my_job_fails():
        fails()

    return None, my_job_fails, DagsterInstance.ephemeral()


# -- seed 001: run failure / run status sensors ------------------------------------------------


def _etl_jobs():
    from tocsin import job, op

    @op
    def step():
        return 1

    @op
    def broken():
        raise Exception("warehouse unreachable")

    @job
    def daily_etl_job():
        broken()

    @job
    def weekly_analytics_job():
        step()

    @job
    def critical_daily_job():
        step()

    @job
    def expensive_ml_job():
        step()

    return daily_etl_job, weekly_analytics_job, critical_daily_job, expensive_ml_job


def test_seed_001_job_failure_alert():
    emails, slack = [], []

    def send_email(subject, body, recipients):
        emails.append((subject, body, recipients))

    def send_slack_message(message):
        slack.append(message)

    daily_etl_job, weekly_analytics_job, _, _ = _etl_jobs()

    from tocsin import DefaultSensorStatus, RunFailureSensorContext, run_failure_sensor

    @run_failure_sensor(
        monitored_jobs=[daily_etl_job, weekly_analytics_job],
        default_status=DefaultSensorStatus.RUNNING,
    )
    def job_failure_alert(context: RunFailureSensorContext):
        """Send alerts when critical jobs fail."""
        # Access failure information
        failed_run = context.dagster_run
        failure_event = context.failure_event

        job_name = failed_run.job_name
        run_id = failed_run.run_id
        failure_time = datetime.fromtimestamp(failure_event.timestamp)

        # Extract error information
        error_info = failure_event.dagster_event.engine_event_data
        error_message = (
            error_info.error.message if error_info and error_info.error else "Unknown error"
        )

        context.log.error(f"Job {job_name} failed with error: {error_message}")

        # Send email notification
        alert_message = f"""
        Job Failure Alert

        Job: {job_name}
        Run ID: {run_id}
        Failure Time: {failure_time.strftime("%Y-%m-%d %H:%M:%S")}
        Error: {error_message}

        Dagster UI: {context.instance.get_run_url(run_id)}
        """

        try:
            send_email(
                subject=f"[DAGSTER ALERT] Job {job_name} Failed",
                body=alert_message,
                recipients=["data-team@company.com", "ops-team@company.com"],
            )
            context.log.info(f"Failure alert sent for job {job_name}")
        except Exception as e:
            context.log.error(f"Failed to send alert email: {e!s}")

        # Create Slack notification
        try:
            slack_message = {
                "text": f"🚨 Dagster Job Failure: {job_name}",
                "blocks": [
                    {
                        "type": "section",
                        "text": {
                            "type": "mrkdwn",
                            "text": f"*Job:* `{job_name}`\n*Run ID:* `{run_id}`",
                        },
                    },
                    {
                        "type": "section",
                        "text": {
                            "type": "mrkdwn",
                            "text": f"*Error:*\n```{error_message[:500]}```",
                        },
                    },
                    {
                        "type": "actions",
                        "elements": [
                            {
                                "type": "button",
                                "text": {"type": "plain_text", "text": "View in Dagster"},
                                "url": context.instance.get_run_url(run_id),
                            }
                        ],
                    },
                ],
            }
            send_slack_message(slack_message)
            context.log.info(f"Slack alert sent for job {job_name}")
        except Exception as e:
            context.log.error(f"Failed to send Slack alert: {e!s}")

    from tocsin import DagsterInstance, build_run_status_sensor_context, build_sensor_context

    assert job_failure_alert.default_status == DefaultSensorStatus.RUNNING
    with DagsterInstance.ephemeral() as instance:
        start = job_failure_alert.evaluate_tick(build_sensor_context(instance=instance))
        result = daily_etl_job.execute_in_process(instance=instance, raise_on_error=False)
        job_failure_alert(
            build_run_status_sensor_context(
                sensor_name="job_failure_alert",
                dagster_event=result.get_job_failure_event(),
                dagster_instance=instance,
                dagster_run=result.dagster_run,
            ).for_run_failure()
        )
        tick = job_failure_alert.evaluate_tick(
            build_sensor_context(instance=instance, cursor=start.cursor)
        )
    assert [r.dagster_run.run_id for r in tick.dagster_run_reactions] == [result.dagster_run.run_id]
    assert tick.dagster_run_reactions[0].error is None
    assert len(emails) == len(slack) == 2
    assert emails[0][0] == "[DAGSTER ALERT] Job daily_etl_job Failed"
    assert result.dagster_run.run_id in emails[0][1]


def test_seed_001_job_success_notification():
    import dataclasses

    slack = []

    def send_slack_message(message):
        slack.append(message)

    _, _, critical_daily_job, _ = _etl_jobs()

    from tocsin import DagsterRunStatus, DefaultSensorStatus, run_status_sensor

    @run_status_sensor(
        monitored_jobs=[critical_daily_job],
        run_status=DagsterRunStatus.SUCCESS,
        default_status=DefaultSensorStatus.RUNNING,
    )
    def job_success_notification(context):
        """Notify on successful completion of critical jobs."""
        successful_run = context.dagster_run
        job_name = successful_run.job_name

        # Only notify for long-running jobs
        start_time = successful_run.start_time
        end_time = successful_run.end_time

        if start_time and end_time:
            duration = end_time - start_time
            if duration > timedelta(minutes=30):  # Only for jobs > 30 minutes
                context.log.info(
                    f"Long-running job {job_name} completed successfully in {duration}"
                )

                # Send success notification
                send_slack_message(
                    {
                        "text": f"✅ Long-running job `{job_name}` completed successfully",
                        "blocks": [
                            {
                                "type": "section",
                                "text": {
                                    "type": "mrkdwn",
                                    "text": f"*Job:* `{job_name}`\n*Duration:* {duration!s}\n*Status:* Success ✅",
                                },
                            }
                        ],
                    }
                )

    from tocsin import DagsterInstance, build_run_status_sensor_context

    with DagsterInstance.ephemeral() as instance:
        result = critical_daily_job.execute_in_process(instance=instance)
        run = instance.get_run_by_id(result.dagster_run.run_id)
        assert run.start_time is not None and run.end_time is not None
        event = result.get_job_success_event()
        job_success_notification(build_run_status_sensor_context("n", event, instance, run))
        assert slack == []  # a fast run is not reported
        slow = dataclasses.replace(run, end_time=run.start_time + timedelta(hours=1))
        job_success_notification(build_run_status_sensor_context("n", event, instance, slow))
    assert slack[0]["text"] == "✅ Long-running job `critical_daily_job` completed successfully"


def test_seed_001_job_start_and_completion_monitors():
    actions = []

    def scale_compute_resources(job_name, run_id, scale_action):
        actions.append((job_name, scale_action))

    _, _, _, expensive_ml_job = _etl_jobs()

    from tocsin import DagsterRunStatus, RunStatusSensorContext, run_status_sensor

    @run_status_sensor(run_status=DagsterRunStatus.STARTED, monitored_jobs=[expensive_ml_job])
    def job_start_monitor(context: RunStatusSensorContext):
        """Monitor job starts for resource scaling."""
        started_run = context.dagster_run
        job_name = started_run.job_name

        # Scale up resources for expensive jobs
        if job_name == "expensive_ml_job":
            context.log.info(f"Expensive job {job_name} started, scaling up resources")

            # Trigger infrastructure scaling
            try:
                scale_compute_resources(
                    job_name=job_name, run_id=started_run.run_id, scale_action="up"
                )
                context.log.info("Successfully scaled up resources")
            except Exception as e:
                context.log.error(f"Failed to scale resources: {e!s}")

    @run_status_sensor(run_status=DagsterRunStatus.SUCCESS, monitored_jobs=[expensive_ml_job])
    def job_completion_cleanup(context):
        """Clean up resources after job completion."""
        completed_run = context.dagster_run
        job_name = completed_run.job_name

        context.log.info(f"Job {job_name} completed, scaling down resources")

        # Scale down resources
        try:
            scale_compute_resources(
                job_name=job_name, run_id=completed_run.run_id, scale_action="down"
            )
            context.log.info("Successfully scaled down resources")
        except Exception as e:
            context.log.error(f"Failed to scale down resources: {e!s}")

    from tocsin import DagsterInstance, build_sensor_context

    with DagsterInstance.ephemeral() as instance:
        cursors = [
            s.evaluate_tick(build_sensor_context(instance=instance)).cursor
            for s in (job_start_monitor, job_completion_cleanup)
        ]
        expensive_ml_job.execute_in_process(instance=instance)
        for s, cursor in zip((job_start_monitor, job_completion_cleanup), cursors, strict=True):
            assert (
                len(
                    s.evaluate_tick(
                        build_sensor_context(instance=instance, cursor=cursor)
                    ).dagster_run_reactions
                )
                == 1
            )
    assert actions == [("expensive_ml_job", "up"), ("expensive_ml_job", "down")]


def test_seed_001_failure_sensor_context_builder():
    from tocsin import (
        DagsterInstance,
        RunFailureSensorContext,
        build_run_status_sensor_context,
        run_failure_sensor,
    )

    _, my_job_fails, setup_instance = _jobs_and_instance()
    with setup_instance:
        failed = my_job_fails.execute_in_process(instance=setup_instance, raise_on_error=False)
    mock_failed_run = failed.dagster_run
    mock_failure_event = failed.get_job_failure_event()
    alerts = []

    @run_failure_sensor
    def job_failure_alert(context: RunFailureSensorContext):
        alerts.append(context.failure_event.message)

    # Test failure sensor
    def test_job_failure_alert():
        """Test failure sensor with mock failure."""
        # Create mock failure context
        context = build_run_status_sensor_context(
            dagster_run=mock_failed_run,
            dagster_event=mock_failure_event,
            instance=DagsterInstance.ephemeral(),
        )

        # Test failure sensor (should not raise)
        job_failure_alert(context)
        context.instance.dispose()

    test_job_failure_alert()
    assert alerts == [mock_failure_event.message]


# -- seed 001: declarative automation ----------------------------------------------------------


def test_seed_001_auto_materialize_policies():
    def process_data(x):
        return x

    def expensive_computation(x):
        return x

    def transform_data(x):
        return x

    def summarize_daily_transactions(x):
        return x

    def batch_process(x):
        return x

    from tocsin import AutoMaterializePolicy, AutoMaterializeRule, asset

    # Eager materialization - materialize immediately when upstream changes
    @asset(auto_materialize_policy=AutoMaterializePolicy.eager())
    def eager_asset(upstream_data):
        """Asset that materializes immediately when upstream changes."""
        return process_data(upstream_data)

    # Lazy materialization - materialize only when downstream requests it
    @asset(auto_materialize_policy=AutoMaterializePolicy.lazy())
    def lazy_asset(source_data):
        """Asset that materializes only when needed."""
        return expensive_computation(source_data)

    # Custom auto-materialization rules
    @asset(
        auto_materialize_policy=AutoMaterializePolicy.from_rules(
            [
                AutoMaterializeRule.materialize_on_parent_updated(),
                AutoMaterializeRule.materialize_on_required_for_freshness(),
                AutoMaterializeRule.skip_on_parent_missing(),
                AutoMaterializeRule.skip_on_parent_outdated(),
            ]
        )
    )
    def custom_policy_asset(upstream_asset):
        """Asset with custom auto-materialization policy."""
        return transform_data(upstream_asset)

    # Time-based auto-materialization
    @asset(
        auto_materialize_policy=AutoMaterializePolicy.from_rules(
            [
                # Materialize daily at 2 AM
                AutoMaterializeRule.materialize_on_cron("0 2 * * *"),
                # But skip if upstream data is too old
                AutoMaterializeRule.skip_on_parent_outdated(minutes=360),  # 6 hours
            ]
        )
    )
    def daily_summary(daily_transactions):
        """Asset that auto-materializes daily with freshness checks."""
        return summarize_daily_transactions(daily_transactions)

    # Conditional auto-materialization
    @asset(
        auto_materialize_policy=AutoMaterializePolicy.from_rules(
            [
                AutoMaterializeRule.materialize_on_parent_updated(),
                # Skip during business hours to avoid impacting production
                AutoMaterializeRule.skip_on_not_all_parents_updated_since_cron(
                    "0 18 * * *"
                ),  # 6 PM
            ]
        )
    )
    def batch_processed_asset(real_time_data):
        """Asset that processes in batches outside business hours."""
        return batch_process(real_time_data)

    assert eager_asset.auto_materialize_policy == AutoMaterializePolicy.eager()
    assert lazy_asset.auto_materialize_policy.policy_type.value == "LAZY"
    assert len(custom_policy_asset.auto_materialize_policy.rules) == 4
    cron_rules = [
        r for r in daily_summary.auto_materialize_policy.rules if r.kind == "materialize_on_cron"
    ]
    assert cron_rules[0].param("cron_schedule") == "0 2 * * *"
    assert len(batch_processed_asset.auto_materialize_policy.skip_rules) == 1


def test_seed_001_automation_conditions():
    def complex_processing(x):
        return x

    def process_validated_data(x):
        return x

    def process_data_with_backfill(x):
        return x

    from tocsin import AutomationCondition, asset

    # Complex automation condition
    @asset(
        automation_condition=(
            # Materialize when parent is updated
            AutomationCondition.parent_newer()
            # But only during off-hours
            & AutomationCondition.cron_tick_passed("0 0 * * *")  # Midnight
            # And not if recently materialized
            & ~AutomationCondition.materialized_since_cron("0 18 * * *")  # 6 PM
            # And only if all dependencies are fresh
            & AutomationCondition.all_deps_blocking_checks_passed()
        )
    )
    def sophisticated_asset(upstream_data):
        """Asset with sophisticated automation logic."""
        return complex_processing(upstream_data)

    # Data quality gated automation
    @asset(
        automation_condition=(
            AutomationCondition.parent_newer()
            # Only materialize if upstream passes quality checks
            & AutomationCondition.all_deps_blocking_checks_passed()
            # And if we haven't failed recently
            & ~AutomationCondition.failed_since_cron("0 0 * * *")
        )
    )
    def quality_gated_asset(validated_data):
        """Asset that only materializes with high-quality upstream data."""
        return process_validated_data(validated_data)

    # Backfill automation
    @asset(
        automation_condition=(
            # Normal condition for regular updates
            AutomationCondition.parent_newer()
            # OR backfill condition for missing partitions
            | (
                AutomationCondition.missing()
                & AutomationCondition.parent_materialized()
                # Only backfill during maintenance windows
                & AutomationCondition.cron_tick_passed("0 2 * * 6")  # Saturday 2 AM
            )
        )
    )
    def backfill_aware_asset(source_data):
        """Asset with automatic backfill logic."""
        return process_data_with_backfill(source_data)

    assert str(sophisticated_asset.automation_condition) == (
        "parent_newer() & cron_tick_passed('0 0 * * *') & ~materialized_since_cron('0 18 * * *')"
        " & all_deps_blocking_checks_passed()"
    )
    assert str(quality_gated_asset.automation_condition).endswith("~failed_since_cron('0 0 * * *')")
    assert str(backfill_aware_asset.automation_condition) == (
        "parent_newer() | missing() & parent_materialized() & cron_tick_passed('0 2 * * 6')"
    )
