"""Seed examples about ops, jobs, assets, resources, config, partitions, execution, logging,
executors and errors — each with only its import line changed from dagster to tocsin."""

from __future__ import annotations

import gc

import pytest


def test_000_process_file_job_runs_with_its_config() -> None:
    from tocsin import job, op

    @op(config_schema={"filename": str})
    def process_file(context):
        filename = context.op_config["filename"]
        context.log.info(filename)

    @job
    def log_file_job():
        process_file()

    result = log_file_job.execute_in_process(
        run_config={"ops": {"process_file": {"config": {"filename": "a.csv"}}}}
    )
    assert result.success
    assert result.dagster_run.job_name == "log_file_job"
    assert "a.csv" in [e.user_message for e in result.all_events if e.dagster_event is None]


def test_000_validate_run_config_of_a_sensor_request() -> None:
    from tocsin import RunRequest, job, op, sensor, validate_run_config

    @op(config_schema={"filename": str})
    def process_file(context):
        context.log.info(context.op_config["filename"])

    @job
    def log_file_job():
        process_file()

    @sensor(job=log_file_job)
    def sensor_to_test():
        yield RunRequest(
            run_key="foo",
            run_config={"ops": {"process_file": {"config": {"filename": "foo"}}}},
        )

    for run_request in sensor_to_test():
        assert validate_run_config(log_file_job, run_request.run_config)


def test_000_asset_job_over_every_asset() -> None:
    from tocsin import Definitions, RunRequest, asset, define_asset_job, sensor

    @asset
    def upstream():
        return 1

    @asset
    def downstream(upstream):
        return upstream + 1

    asset_job = define_asset_job("asset_job", "*")

    @sensor(job=asset_job)
    def materializes_asset_sensor():
        yield RunRequest(run_key=None)

    defs = Definitions(
        assets=[upstream, downstream], jobs=[asset_job], sensors=[materializes_asset_sensor]
    )
    result = defs.get_job_def("asset_job").execute_in_process()
    assert result.success
    assert len(result.get_asset_materialization_events()) == 2


def test_000_build_resources_with_a_dependent_resource() -> None:
    from tocsin import build_resources, resource

    calls = []

    def get_the_db_connection(credentials):
        calls.append(credentials)
        return ("conn", credentials)

    @resource
    def the_credentials():
        return "secret"

    @resource(required_resource_keys={"credentials"})
    def the_db_connection(init_context):
        return get_the_db_connection(init_context.resources.credentials)

    with build_resources(
        {"db_connection": the_db_connection, "credentials": the_credentials}
    ) as resources:
        conn = resources.db_connection
    assert conn == ("conn", "secret")
    assert calls == ["secret"]


def test_001_daily_etl_job_and_its_schedule(fake_pandas) -> None:
    import pandas as pd

    from tocsin import job, op, schedule

    connection = object()

    @op
    def extract_data() -> pd.DataFrame:
        return pd.read_sql("SELECT * FROM daily_transactions", connection)

    @op
    def transform_data(df: pd.DataFrame) -> pd.DataFrame:
        return df.dropna().reset_index(drop=True)

    @job
    def daily_etl_job():
        """Daily ETL job."""
        transform_data(extract_data())

    @schedule(job=daily_etl_job, cron_schedule="0 2 * * *")
    def daily_etl_schedule():
        """Schedule daily ETL at 2 AM."""
        return {}

    result = daily_etl_job.execute_in_process()
    assert result.success
    assert len(result.output_for_node("transform_data")) == 1
    assert daily_etl_schedule.cron_schedule == "0 2 * * *"


def test_001_partitioned_asset_in_a_partitioned_job(fake_pandas) -> None:
    import pandas as pd

    from tocsin import DailyPartitionsDefinition, asset, build_schedule_from_partitioned_job, job

    connection = object()
    daily_partitions = DailyPartitionsDefinition(start_date="2023-01-01")

    @asset(partitions_def=daily_partitions)
    def daily_sales_data(context) -> pd.DataFrame:
        """Daily sales data asset."""
        partition_date = context.partition_key
        query = f"""
        SELECT * FROM sales
        WHERE date = '{partition_date}'
        """
        return pd.read_sql(query, connection)

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
    )
    result = daily_sales_job.execute_in_process(partition_key="2023-01-05")
    assert result.success
    assert daily_sales_schedule.name == "daily_sales_schedule"
    assert daily_sales_schedule.cron_schedule == "0 2 * * *"
    assert daily_sales_schedule.execution_timezone == "America/New_York"


def test_003_log_manager_levels_tags_and_unknown_level() -> None:
    from tocsin import job, op

    seen = {}

    @op
    def logs(context):
        context.log.debug("d")
        context.log.info("i", extra_key="v")
        context.log.warning("w")
        context.log.warn("w2")
        context.log.error("e")
        context.log.critical("c")
        context.log.fatal("f")
        context.log.log(5, "five")
        context.log.with_tags(team="data").info("tagged")
        try:
            context.log.trace("nope")
        except Exception as exc:
            seen["trace"] = exc

    @job
    def log_job():
        logs()

    result = log_job.execute_in_process()
    assert result.success
    assert "trace" in seen
    messages = [e.user_message for e in result.all_events if e.dagster_event is None]
    for expected in ("d", "i", "w", "w2", "e", "c", "f", "tagged"):
        assert any(m.endswith(expected) or m == expected for m in messages), expected


def test_003_executor_decorator_and_init_context() -> None:
    from tocsin import executor, in_process_executor, job, op

    seen = {}

    @executor(name="my_executor", config_schema={"note": str})
    def my_executor(init_context):
        seen["job"] = init_context.job.name
        seen["pipeline"] = init_context.pipeline.name
        seen["config"] = init_context.executor_config
        return in_process_executor.executor_creation_fn(init_context)

    @op
    def one():
        return 1

    @job(executor_def=my_executor)
    def with_custom_executor():
        one()

    result = with_custom_executor.execute_in_process(
        run_config={"execution": {"config": {"note": "hi"}}}
    )
    assert result.success


def test_003_user_code_error_boundary_with_a_string_message() -> None:
    from tocsin import DagsterExecutionStepExecutionError, user_code_error_boundary

    def call_user_provided_function():
        raise ValueError("user bug")

    with (
        pytest.raises(DagsterExecutionStepExecutionError) as info,
        user_code_error_boundary(
            # Pass a class that inherits from DagsterUserCodeExecutionError
            DagsterExecutionStepExecutionError,
            # Pass a function that produces a message
            "Error occurred during step execution",
        ),
    ):
        call_user_provided_function()
    assert str(info.value) == "Error occurred during step execution"
    assert isinstance(info.value.user_exception, ValueError)
    assert isinstance(info.value.__cause__, ValueError)


def test_003_configurable_class_from_config_value() -> None:
    from tocsin.serdes import ConfigurableClass, ConfigurableClassData

    class MyConfigurableClass(ConfigurableClass):
        def __init__(self, inst_data=None, magic_word=None):
            self._inst_data = inst_data
            self.magic_word = magic_word

        @classmethod
        def config_type(cls):
            return {"magic_word": str}

        @staticmethod
        def from_config_value(inst_data, config_value):
            return MyConfigurableClass(inst_data=inst_data, **config_value)

        @property
        def inst_data(self):
            return self._inst_data

    obj = MyConfigurableClass.from_config_value(None, {"magic_word": "quux"})
    assert obj.magic_word == "quux"
    assert ConfigurableClassData is not None


def _files_pipeline(read_back_handle_index: int):
    """The 003 file-manager example; ``read_back_handle_index`` picks which handle is read as text."""
    import tempfile

    from tocsin import ModeDefinition, local_file_manager, pipeline, solid

    @solid(required_resource_keys={"file_manager"})
    def write_files(context):
        fh_1 = context.resources.file_manager.write_data(b"foo")

        with tempfile.NamedTemporaryFile("w+") as fd:
            fd.write("bar")
            fd.seek(0)
            fh_2 = context.resources.file_manager.write(fd, mode="w", ext=".txt")

        return (fh_1, fh_2)

    @solid(required_resource_keys={"file_manager"})
    def read_files(context, file_handles):
        _fh_1, fh_2 = file_handles
        assert context.resources.file_manager.read_data(fh_2) == b"bar"
        fd = context.resources.file_manager.read(file_handles[read_back_handle_index], mode="r")
        assert fd.read() == "foo"
        fd.close()

    @pipeline(mode_defs=[ModeDefinition(resource_defs={"file_manager": local_file_manager})])
    def files_pipeline():
        read_files(write_files())

    return files_pipeline


@pytest.mark.filterwarnings(
    "ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning"
)
def test_003_files_pipeline_runs_and_its_own_assertion_catches_the_example_bug() -> None:
    # As printed, the example reads fh_2 ("bar") and asserts "foo": the example's own bug.
    result = _files_pipeline(read_back_handle_index=1).execute_in_process(raise_on_error=False)
    assert not result.success
    (failure,) = result.get_step_failure_events()
    assert "AssertionError" in failure.event_specific_data.error.to_string()
    gc.collect()  # the example leaves its file open when its assertion fails; close it here


def test_003_files_pipeline_with_the_handle_it_meant() -> None:
    result = _files_pipeline(read_back_handle_index=0).execute_in_process()
    assert result.success
