"""The seeds' run status, run failure, asset and multi-asset sensor examples, and their
declarative automation examples, run as written with only the import line changed.

External services (Slack, email, pandas) are stubbed inside each test.
"""

from __future__ import annotations

import os

# -- seed 000: run status sensors --------------------------------------------------------------


def _status_reporting_job():
    from tocsin import job, op

    @op(config_schema={"job_name": str})
    def status_report(context):
        context.log.info(context.op_config["job_name"])

    @job
    def status_reporting_job():
        status_report()

    return status_reporting_job


def _jobs_and_instance():
    from tocsin import DagsterInstance, job, op

    @op
    def succeeds():
        return 1

    @job
    def my_job_succeeds():
        succeeds()

    @op
    def fails():
        raise Exception("failure!")

    @job
    def my_job_fails():
        fails()

    return my_job_succeeds, my_job_fails, DagsterInstance.ephemeral()


def test_seed_000_report_status_sensor():
    from tocsin import (
        DagsterRunStatus,
        RunRequest,
        SkipReason,
        build_run_status_sensor_context,
        run_status_sensor,
    )

    status_reporting_job = _status_reporting_job()

    @run_status_sensor(
        run_status=DagsterRunStatus.SUCCESS,
        request_job=status_reporting_job,
    )
    def report_status_sensor(context):
        # this condition prevents the sensor from triggering status_reporting_job again after it succeeds
        if context.dagster_run.job_name != status_reporting_job.name:
            run_config = {
                "ops": {"status_report": {"config": {"job_name": context.dagster_run.job_name}}}
            }
            return RunRequest(run_key=None, run_config=run_config)
        else:
            return SkipReason("Don't report status of status_reporting_job")

    my_job_succeeds, _, instance = _jobs_and_instance()
    with instance:
        result = my_job_succeeds.execute_in_process(instance=instance)
        context = build_run_status_sensor_context(
            sensor_name="report_status_sensor",
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            dagster_event=result.get_job_success_event(),
        )
        request = report_status_sensor(context)
        assert request.run_config == {
            "ops": {"status_report": {"config": {"job_name": "my_job_succeeds"}}}
        }
        own = status_reporting_job.execute_in_process(
            instance=instance, run_config=request.run_config
        )
        own_context = build_run_status_sensor_context(
            sensor_name="report_status_sensor",
            dagster_instance=instance,
            dagster_run=own.dagster_run,
            dagster_event=own.get_job_success_event(),
        )
        assert report_status_sensor(own_context) == SkipReason(
            "Don't report status of status_reporting_job"
        )
        assert report_status_sensor.job_name == "status_reporting_job"


def test_seed_000_slack_on_run_success(monkeypatch):
    posted = []

    class WebClient:
        def __init__(self, token):
            self.token = token

        def chat_postMessage(self, channel, message):
            posted.append((self.token, channel, message))

    monkeypatch.setenv("SLACK_DAGSTER_ETL_BOT_TOKEN", "xoxb-test")

    from tocsin import DagsterRunStatus, RunStatusSensorContext, run_status_sensor

    @run_status_sensor(run_status=DagsterRunStatus.SUCCESS)
    def my_slack_on_run_success(context: RunStatusSensorContext):
        slack_client = WebClient(token=os.environ["SLACK_DAGSTER_ETL_BOT_TOKEN"])

        slack_client.chat_postMessage(
            channel="#alert-channel",
            message=f'Job "{context.dagster_run.job_name}" succeeded.',
        )

    from tocsin import Definitions, build_run_status_sensor_context

    my_job_succeeds, _, instance = _jobs_and_instance()
    defs = Definitions(jobs=[my_job_succeeds], sensors=[my_slack_on_run_success])
    assert defs.get_sensor_def("my_slack_on_run_success") is my_slack_on_run_success
    with instance:
        result = my_job_succeeds.execute_in_process(instance=instance)
        my_slack_on_run_success(
            build_run_status_sensor_context(
                sensor_name="my_slack_on_run_success",
                dagster_instance=instance,
                dagster_run=result.dagster_run,
                dagster_event=result.get_job_success_event(),
            )
        )
    assert posted == [("xoxb-test", "#alert-channel", 'Job "my_job_succeeds" succeeded.')]


def test_seed_000_report_failure_sensor():
    from tocsin import RunRequest, build_run_status_sensor_context, run_failure_sensor

    status_reporting_job = _status_reporting_job()

    @run_failure_sensor(request_job=status_reporting_job)
    def report_failure_sensor(context):
        run_config = {
            "ops": {"status_report": {"config": {"job_name": context.dagster_run.job_name}}}
        }
        return RunRequest(run_key=None, run_config=run_config)

    _, my_job_fails, instance = _jobs_and_instance()
    with instance:
        result = my_job_fails.execute_in_process(instance=instance, raise_on_error=False)
        context = build_run_status_sensor_context(
            sensor_name="report_failure_sensor",
            dagster_instance=instance,
            dagster_run=result.dagster_run,
            dagster_event=result.get_job_failure_event(),
        ).for_run_failure()
        request = report_failure_sensor(context)
    assert request.run_config["ops"]["status_report"]["config"]["job_name"] == "my_job_fails"


def test_seed_000_slack_on_run_failure(monkeypatch):
    posted = []

    class WebClient:
        def __init__(self, token):
            self.token = token

        def chat_postMessage(self, channel, message):
            posted.append((channel, message))

    monkeypatch.setenv("SLACK_DAGSTER_ETL_BOT_TOKEN", "xoxb-test")

    from tocsin import RunFailureSensorContext, run_failure_sensor

    @run_failure_sensor
    def my_slack_on_run_failure(context: RunFailureSensorContext):
        slack_client = WebClient(token=os.environ["SLACK_DAGSTER_ETL_BOT_TOKEN"])

        slack_client.chat_postMessage(
            channel="#alert-channel",
            message=(
                f'Job "{context.dagster_run.job_name}" failed. Error:'
                f" {context.failure_event.message}"
            ),
        )

    from tocsin import build_run_status_sensor_context

    _, my_job_fails, instance = _jobs_and_instance()
    with instance:
        result = my_job_fails.execute_in_process(instance=instance, raise_on_error=False)
        my_slack_on_run_failure(
            build_run_status_sensor_context(
                sensor_name="my_slack_on_run_failure",
                dagster_instance=instance,
                dagster_run=result.dagster_run,
                dagster_event=result.get_job_failure_event(),
            ).for_run_failure()
        )
    assert posted[0][1].startswith('Job "my_job_fails" failed. Error: Execution of run')


def test_seed_000_email_on_run_failure(monkeypatch):
    import smtplib

    sent = []

    class SMTP_SSL:
        def __init__(self, host, port, context=None):
            self.address = (host, port)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def login(self, user, password):
            self.login_as = (user, password)

        def sendmail(self, sender, to, message):
            sent.append((self.address, self.login_as, sender, to, message))

    monkeypatch.setattr(smtplib, "SMTP_SSL", SMTP_SSL)
    monkeypatch.setenv("ALERT_EMAIL_PASSWORD", "pw")

    from tocsin import make_email_on_run_failure_sensor

    email_on_run_failure = make_email_on_run_failure_sensor(
        email_from="no-reply@example.com",
        email_password=os.getenv("ALERT_EMAIL_PASSWORD"),
        email_to=["xxx@example.com", "xyz@example.com"],
    )

    from tocsin import build_run_status_sensor_context

    _, my_job_fails, instance = _jobs_and_instance()
    with instance:
        result = my_job_fails.execute_in_process(instance=instance, raise_on_error=False)
        email_on_run_failure(
            build_run_status_sensor_context(
                sensor_name="email_on_run_failure",
                dagster_instance=instance,
                dagster_run=result.dagster_run,
                dagster_event=result.get_job_failure_event(),
            )
        )
    address, login, sender, to, message = sent[0]
    assert sender == "no-reply@example.com"
    assert address == ("smtp.gmail.com", 465)
    assert login == ("no-reply@example.com", "pw")
    assert to == ["xxx@example.com", "xyz@example.com"]
    assert "Dagster Run Failed: my_job_fails" in message


def test_seed_000_cross_code_location_sensors():
    alerts = []

    def send_slack_alert():
        alerts.append("alert")

    from tocsin import (
        CodeLocationSelector,
        DagsterRunStatus,
        JobSelector,
        run_failure_sensor,
        run_status_sensor,
    )

    @run_status_sensor(
        monitored_jobs=[CodeLocationSelector(location_name="defs")],
        run_status=DagsterRunStatus.SUCCESS,
    )
    def code_location_a_sensor():
        # when any job in code_location_a succeeds, this sensor will trigger
        send_slack_alert()

    @run_failure_sensor(
        monitored_jobs=[
            JobSelector(
                location_name="defs",
                repository_name="code_location_a",
                job_name="data_update",
            )
        ],
    )
    def code_location_a_data_update_failure_sensor():
        # when the data_update job in code_location_a fails, this sensor will trigger
        send_slack_alert()

    @run_status_sensor(
        monitor_all_repositories=True,
        run_status=DagsterRunStatus.SUCCESS,
    )
    def instance_sensor():
        # when any job in the Dagster instance succeeds, this sensor will trigger
        send_slack_alert()

    from tocsin import DagsterInstance, build_sensor_context

    with DagsterInstance.ephemeral() as instance:
        sensors = [
            code_location_a_sensor,
            code_location_a_data_update_failure_sensor,
            instance_sensor,
        ]
        cursors = {}
        for s in sensors:
            cursors[s.name] = s.evaluate_tick(build_sensor_context(instance=instance)).cursor
        for job_name, location, fail in [
            ("etl", "defs", False),
            ("data_update", "defs", True),
            ("x", "other", False),
        ]:
            run = instance.create_run(job_name=job_name)
            instance.add_run_tags(run.run_id, {"tocsin/code_location": location})
            if fail:
                instance.report_run_failed(run)
            else:
                instance.report_dagster_event(_success_event(job_name), run.run_id)
        reactions = {
            s.name: len(
                s.evaluate_tick(
                    build_sensor_context(instance=instance, cursor=cursors[s.name])
                ).dagster_run_reactions
            )
            for s in sensors
        }
    assert reactions == {
        "code_location_a_sensor": 1,
        "code_location_a_data_update_failure_sensor": 1,
        "instance_sensor": 2,
    }
    assert len(alerts) == 4
    code_location_a_sensor()
    assert len(alerts) == 5


def _success_event(job_name):
    from tocsin import DagsterEvent, DagsterEventType

    return DagsterEvent(DagsterEventType.RUN_SUCCESS.value, job_name, message="done")


def test_seed_000_testing_run_status_sensor():
    emails = []

    def email_alert(message):
        emails.append(message)

    from tocsin import DagsterRunStatus, RunStatusSensorContext, run_status_sensor

    @run_status_sensor(run_status=DagsterRunStatus.SUCCESS)
    def my_email_sensor(context: RunStatusSensorContext):
        message = f'Job "{context.dagster_run.job_name}" succeeded.'
        email_alert(message)

    from tocsin import job, op

    @op
    def succeeds():
        return 1

    @job
    def my_job_succeeds():
        succeeds()

    from tocsin import DagsterInstance, build_run_status_sensor_context

    # execute the job
    instance = DagsterInstance.ephemeral()
    result = my_job_succeeds.execute_in_process(instance=instance)

    # retrieve the DagsterRun
    dagster_run = result.dagster_run

    # retrieve a success event from the completed execution
    dagster_event = result.get_job_success_event()

    # create the context
    run_status_sensor_context = build_run_status_sensor_context(
        sensor_name="my_email_sensor",
        dagster_instance=instance,
        dagster_run=dagster_run,
        dagster_event=dagster_event,
    )

    # run the sensor
    my_email_sensor(run_status_sensor_context)

    instance.dispose()
    assert emails == ['Job "my_job_succeeds" succeeded.']


def test_seed_000_testing_run_failure_sensor():
    emails = []

    def email_alert(message):
        emails.append(message)

    from tocsin import RunFailureSensorContext, run_failure_sensor

    @run_failure_sensor
    def my_email_failure_sensor(context: RunFailureSensorContext):
        message = (
            f'Job "{context.dagster_run.job_name}" failed. Error: {context.failure_event.message}'
        )
        email_alert(message)

    from tocsin import job, op

    @op
    def fails():
        raise Exception("failure!")

    @job
    def my_job_fails():
        fails()

    from tocsin import DagsterInstance, build_run_status_sensor_context

    # execute the job
    instance = DagsterInstance.ephemeral()
    result = my_job_fails.execute_in_process(instance=instance, raise_on_error=False)

    # retrieve the DagsterRun
    dagster_run = result.dagster_run

    # retrieve a failure event from the completed job execution
    dagster_event = result.get_job_failure_event()

    # create the context
    run_failure_sensor_context = build_run_status_sensor_context(
        sensor_name="my_email_failure_sensor",
        dagster_instance=instance,
        dagster_run=dagster_run,
        dagster_event=dagster_event,
    ).for_run_failure()

    # run the sensor
    my_email_failure_sensor(run_failure_sensor_context)

    steps = run_failure_sensor_context.get_step_failure_events()
    instance.dispose()
    assert emails[0].startswith('Job "my_job_fails" failed. Error: Execution of run')
    assert [e.step_key for e in steps] == ["fails"]
