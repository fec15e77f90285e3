"""The seeds' run status, run failure, asset and multi-asset sensor examples, and their
declarative automation examples, run as written with only the import line changed.

External services (Slack, email, pandas) are stubbed inside each test.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

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


# -- seed 001: asset sensors -------------------------------------------------------------------


class _FakePandas:
    """Stands in for pandas: the seed assets only annotate with DataFrame and call read_csv."""

    class DataFrame(dict):
        pass

    @staticmethod
    def read_csv(path):
        return _FakePandas.DataFrame(path=path)


def _record_materialization(instance, key, metadata=None, partition=None):
    from tocsin import AssetMaterialization, DagsterEvent, DagsterEventType, EventLogEntry
    from tocsin.model.events import StepMaterializationData

    run = instance.create_run(job_name="external")
    mat = AssetMaterialization(key, metadata=metadata, partition=partition)
    event = DagsterEvent(
        DagsterEventType.ASSET_MATERIALIZATION.value,
        "external",
        "op",
        "m",
        StepMaterializationData(mat),
    )
    return instance.handle_new_event(EventLogEntry(run.run_id, dagster_event=event))


def test_seed_001_asset_sensors():
    pd = _FakePandas

    def process_sales_data():
        return pd.DataFrame()

    from tocsin import (
        DagsterInstance,
        RunRequest,
        SkipReason,
        asset,
        build_sensor_context,
        job,
        materialize,
        op,
    )

    @op
    def generate_sales_analytics():
        return 1

    @job
    def downstream_analytics_job():
        generate_sales_analytics()

    from tocsin import AssetKey, EventLogEntry, asset_sensor

    @asset
    def raw_sales_data() -> pd.DataFrame:
        """Raw sales data asset."""
        return pd.read_csv("/data/sales.csv")

    @asset
    def processed_sales_data() -> pd.DataFrame:
        """Processed sales data asset."""
        return process_sales_data()

    @job
    def sales_analytics_job():
        generate_sales_analytics()

    # Asset sensor monitoring single asset
    @asset_sensor(asset_key=AssetKey("raw_sales_data"), job=sales_analytics_job)
    def sales_data_sensor(context, asset_event: EventLogEntry):
        """Sensor that triggers when raw sales data is materialized."""
        # Access asset event information
        asset_key = asset_event.dagster_event.asset_key
        materialization = asset_event.dagster_event.step_materialization_data.materialization

        # Extract metadata from materialization
        metadata = materialization.metadata_entries
        record_count = None
        for entry in metadata:
            if entry.label == "records":
                record_count = entry.entry_data.int_value
                break

        # Conditional execution based on data size
        if record_count and record_count > 1000:
            context.log.info(
                f"Large dataset materialized ({record_count} records), triggering analytics"
            )
            return RunRequest(
                run_key=f"analytics_{asset_event.storage_id}_{asset_event.timestamp}",
                run_config={
                    "ops": {
                        "generate_sales_analytics": {
                            "config": {
                                "input_asset_key": str(asset_key),
                                "record_count": record_count,
                                "processing_mode": "large_dataset",
                            }
                        }
                    }
                },
                tags={
                    "triggered_by": str(asset_key),
                    "record_count": str(record_count),
                    "event_id": str(asset_event.storage_id),
                },
            )
        else:
            return SkipReason(f"Dataset too small ({record_count} records), skipping analytics")

    # Multi-asset sensor
    @asset_sensor(asset_key=AssetKey("processed_sales_data"), job=downstream_analytics_job)
    def processed_sales_sensor(context, asset_event):
        """Sensor for processed sales data with dependency checking."""
        # Check if all required dependencies are fresh
        required_assets = [
            AssetKey("customer_data"),
            AssetKey("product_catalog"),
            AssetKey("processed_sales_data"),
        ]

        # Query materialization times for dependencies
        instance = context.instance
        fresh_assets = []

        for asset_key in required_assets:
            latest_materialization = instance.get_latest_materialization_event(asset_key)
            if latest_materialization:
                # Consider fresh if materialized within last 6 hours
                materialization_time = datetime.fromtimestamp(latest_materialization.timestamp)
                if (datetime.now() - materialization_time) < timedelta(hours=6):
                    fresh_assets.append(asset_key)

        if len(fresh_assets) == len(required_assets):
            context.log.info("All dependencies are fresh, triggering downstream analytics")
            return RunRequest(
                run_key=f"downstream_{int(asset_event.timestamp)}",
                tags={
                    "trigger_asset": str(asset_event.dagster_event.asset_key),
                    "fresh_dependencies": ",".join([str(k) for k in fresh_assets]),
                },
            )
        else:
            stale_assets = set(required_assets) - set(fresh_assets)
            return SkipReason(f"Stale dependencies: {[str(k) for k in stale_assets]}")

    @asset
    def customer_data():
        return 1

    @asset
    def product_catalog():
        return 2

    with DagsterInstance.ephemeral() as instance:
        assert materialize([raw_sales_data, processed_sales_data], instance=instance).success
        small = sales_data_sensor.evaluate_tick(build_sensor_context(instance=instance))
        assert small.skip_message == "Dataset too small (None records), skipping analytics"
        big = _record_materialization(instance, "raw_sales_data", metadata={"records": 5000})
        large = sales_data_sensor.evaluate_tick(
            build_sensor_context(instance=instance, cursor=small.cursor)
        )
        (request,) = large.run_requests
        assert request.tags["event_id"] == str(big.storage_id)
        assert (
            request.run_config["ops"]["generate_sales_analytics"]["config"]["record_count"] == 5000
        )
        stale = list(processed_sales_sensor(build_sensor_context(instance=instance)))
        assert stale[0].skip_message.startswith("Stale dependencies: ")
        materialize([customer_data, product_catalog], instance=instance)
        (fresh,) = list(processed_sales_sensor(build_sensor_context(instance=instance)))
        assert fresh.tags["trigger_asset"] == "AssetKey(['processed_sales_data'])"


def test_seed_001_partitioned_asset_sensor():
    from tocsin import (
        AssetKey,
        DagsterInstance,
        RunRequest,
        SkipReason,
        StaticPartitionsDefinition,
        asset,
        asset_sensor,
        build_sensor_context,
        job,
        materialize,
        op,
    )

    current = f"{datetime.now():%Y-%m}-01"

    @asset(partitions_def=StaticPartitionsDefinition([current, "2020-01-01"]))
    def partitioned_sales():
        return 1

    @op
    def analytics():
        return 1

    @job
    def partition_analytics_job():
        analytics()

    # Asset sensor with partition awareness
    @asset_sensor(asset_key=AssetKey("partitioned_sales"), job=partition_analytics_job)
    def partitioned_sales_sensor(context, asset_event):
        """Sensor that handles partitioned assets."""
        # Extract partition information from event
        materialization = asset_event.dagster_event.step_materialization_data.materialization
        partition_key = materialization.partition if materialization else None

        if partition_key:
            # Check if this partition is part of a complete set
            # (e.g., all partitions for current month)
            current_month = datetime.now().strftime("%Y-%m")
            if partition_key.startswith(current_month):
                context.log.info(f"Current month partition materialized: {partition_key}")
                return RunRequest(
                    run_key=f"analytics_{partition_key}",
                    partition_key=partition_key,
                    tags={
                        "partition": partition_key,
                        "month": current_month,
                        "trigger": "current_month_partition",
                    },
                )
            else:
                return SkipReason(
                    f"Historical partition {partition_key}, no immediate action needed"
                )
        else:
            return SkipReason("No partition information in materialization")

    with DagsterInstance.ephemeral() as instance:
        context = build_sensor_context(instance=instance)
        assert next(iter(partitioned_sales_sensor(context))).skip_message.startswith(
            "No new materialization"
        )
        materialize([partitioned_sales], instance=instance, partition_key=current)
        (request,) = list(partitioned_sales_sensor(context))
        assert (request.run_key, request.partition_key) == (f"analytics_{current}", current)
        materialize([partitioned_sales], instance=instance, partition_key="2020-01-01")
        (skip,) = list(partitioned_sales_sensor(context))
        assert skip.skip_message == "Historical partition 2020-01-01, no immediate action needed"


def test_seed_001_multi_table_sensor():
    from tocsin import (
        AssetKey,
        DagsterInstance,
        Definitions,
        RunRequest,
        SkipReason,
        asset,
        job,
        materialize,
        op,
    )

    @op
    def etl_processor():
        return 1

    @job
    def complete_etl_job():
        etl_processor()

    from tocsin import MultiAssetSensorEvaluationContext, multi_asset_sensor

    @multi_asset_sensor(
        monitored_assets=[
            AssetKey(["raw", "users"]),
            AssetKey(["raw", "orders"]),
            AssetKey(["raw", "products"]),
        ],
        job=complete_etl_job,
    )
    def multi_table_sensor(context: MultiAssetSensorEvaluationContext):
        """Sensor that waits for multiple assets before triggering."""
        # Get materialization events for all monitored assets
        asset_events = context.latest_materialization_records_by_key()

        # Check if all assets have been materialized recently (within 1 hour)
        cutoff_time = datetime.now() - timedelta(hours=1)
        fresh_assets = []

        for asset_key, event_record in asset_events.items():
            if event_record:
                materialization_time = datetime.fromtimestamp(event_record.timestamp)
                if materialization_time > cutoff_time:
                    fresh_assets.append(asset_key)
                    context.log.info(
                        f"Fresh materialization: {asset_key} at {materialization_time}"
                    )

        monitored_keys = {
            AssetKey(["raw", "users"]),
            AssetKey(["raw", "orders"]),
            AssetKey(["raw", "products"]),
        }

        if set(fresh_assets) == monitored_keys:
            context.log.info("All raw tables are fresh, triggering complete ETL")

            # Create run key from latest materialization timestamps
            latest_timestamp = max(
                event_record.timestamp for event_record in asset_events.values() if event_record
            )

            return RunRequest(
                run_key=f"complete_etl_{int(latest_timestamp)}",
                run_config={
                    "ops": {
                        "etl_processor": {
                            "config": {
                                "mode": "complete_refresh",
                                "source_tables": ["users", "orders", "products"],
                            }
                        }
                    }
                },
                tags={
                    "trigger": "all_raw_tables_fresh",
                    "fresh_assets": ",".join([str(k) for k in fresh_assets]),
                    "latest_materialization": str(latest_timestamp),
                },
            )
        else:
            missing_assets = monitored_keys - set(fresh_assets)
            return SkipReason(
                f"Waiting for fresh materializations: {[str(k) for k in missing_assets]}"
            )

    @asset(key_prefix=["raw"])
    def users():
        return 1

    @asset(key_prefix=["raw"])
    def orders():
        return 1

    @asset(key_prefix=["raw"])
    def products():
        return 1

    from tocsin import build_multi_asset_sensor_context, build_sensor_context

    defs = Definitions(
        assets=[users, orders, products], jobs=[complete_etl_job], sensors=[multi_table_sensor]
    )
    with DagsterInstance.ephemeral() as instance:
        materialize([users, orders], instance=instance)
        context = build_multi_asset_sensor_context(
            monitored_assets=multi_table_sensor.monitored_assets,
            definitions=defs,
            instance=instance,
        )
        assert multi_table_sensor(context).skip_message == (
            "Waiting for fresh materializations: [\"AssetKey(['raw', 'products'])\"]"
        )
        materialize([products], instance=instance)
        request = multi_table_sensor(context)
        assert request.run_key.startswith("complete_etl_")
        tick = multi_table_sensor.evaluate_tick(
            build_sensor_context(instance=instance, definitions=defs)
        )
        assert tick.run_requests[0].tags["trigger"] == "all_raw_tables_fresh"
