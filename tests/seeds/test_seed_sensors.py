"""The plain sensor examples of the seeds (000 sensors guide, 001 API docs, 002 sensors guide).

Each example is kept as written, with only its import line changed to tocsin; external
services (S3, HTTP APIs, databases) are stubbed in the test.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

import pytest

from tocsin import (
    DagsterInstance,
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SkipReason,
    build_resources,
    build_sensor_context,
    job,
    op,
    resource,
    sensor,
    validate_run_config,
)


@op(config_schema={"filename": str})
def process_file(context):
    filename = context.op_config["filename"]
    context.log.info(filename)


@job
def log_file_job():
    process_file()


MY_DIRECTORY = "/nonexistent"  # each test points it at its own temporary directory


@pytest.fixture
def my_directory(tmp_path, monkeypatch):
    for name in ["a.csv", "b.csv"]:
        (tmp_path / name).write_text("x")
    (tmp_path / "subdir").mkdir()
    monkeypatch.setitem(globals(), "MY_DIRECTORY", str(tmp_path))
    return tmp_path


@sensor(job=log_file_job)
def my_directory_sensor():
    for filename in os.listdir(MY_DIRECTORY):
        filepath = os.path.join(MY_DIRECTORY, filename)
        if os.path.isfile(filepath):
            yield RunRequest(
                run_key=filename,
                run_config={"ops": {"process_file": {"config": {"filename": filename}}}},
            )


def test_my_directory_sensor(my_directory):
    requests = my_directory_sensor.evaluate_tick(build_sensor_context()).run_requests
    assert sorted(r.run_key for r in requests) == ["a.csv", "b.csv"]
    assert my_directory_sensor.minimum_interval_seconds == 30


@sensor(job=log_file_job, default_status=DefaultSensorStatus.RUNNING)
def my_running_sensor(): ...


def test_my_running_sensor():
    assert my_running_sensor.default_status is DefaultSensorStatus.RUNNING
    result = my_running_sensor.evaluate_tick(build_sensor_context())
    assert result.skip_message == "Sensor function returned an empty result"


@sensor(job=log_file_job)
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

            # the run key should include mtime if we want to kick off new runs based on file modifications
            run_key = f"{filename}:{file_mtime!s}"
            run_config = {"ops": {"process_file": {"config": {"filename": filename}}}}
            yield RunRequest(run_key=run_key, run_config=run_config)
            max_mtime = max(max_mtime, file_mtime)

    context.update_cursor(str(max_mtime))


def test_my_directory_sensor_cursor(my_directory):
    context = build_sensor_context(cursor="0")
    for run_request in my_directory_sensor_cursor(context):
        assert validate_run_config(log_file_job, run_request.run_config)
    first = my_directory_sensor_cursor.evaluate_tick(build_sensor_context(cursor="0"))
    assert len(first.run_requests) == 2 and float(first.cursor) > 0
    again = my_directory_sensor_cursor.evaluate_tick(build_sensor_context(cursor=first.cursor))
    assert again.run_requests == () and again.cursor == first.cursor


my_job = log_file_job


@sensor(job=my_job, minimum_interval_seconds=30)
def sensor_A():
    yield RunRequest(run_key=None, run_config={})


@sensor(job=my_job, minimum_interval_seconds=45)
def sensor_B():
    yield RunRequest(run_key=None, run_config={})


def test_sensor_intervals():
    assert (sensor_A.minimum_interval_seconds, sensor_B.minimum_interval_seconds) == (30, 45)
    assert sensor_B.evaluate_tick(build_sensor_context()).run_requests[0].run_key is None


@sensor(job=log_file_job)
def my_directory_sensor_with_skip_reasons():
    has_files = False
    for filename in os.listdir(MY_DIRECTORY):
        filepath = os.path.join(MY_DIRECTORY, filename)
        if os.path.isfile(filepath):
            yield RunRequest(
                run_key=filename,
                run_config={"ops": {"process_file": {"config": {"filename": filename}}}},
            )
            has_files = True
    if not has_files:
        yield SkipReason(f"No files found in {MY_DIRECTORY}.")


def test_my_directory_sensor_with_skip_reasons(tmp_path, monkeypatch):
    monkeypatch.setitem(globals(), "MY_DIRECTORY", str(tmp_path))
    result = my_directory_sensor_with_skip_reasons.evaluate_tick(build_sensor_context())
    assert result.skip_message == f"No files found in {tmp_path}."
    (tmp_path / "new.csv").write_text("x")
    result = my_directory_sensor_with_skip_reasons.evaluate_tick(build_sensor_context())
    assert [r.run_key for r in result.run_requests] == ["new.csv"]


@sensor(job=log_file_job)
def sensor_to_test():
    yield RunRequest(
        run_key="foo",
        run_config={"ops": {"process_file": {"config": {"filename": "foo"}}}},
    )


def test_sensor():
    for run_request in sensor_to_test():
        assert validate_run_config(log_file_job, run_request.run_config)


the_job = log_file_job


@sensor(job=the_job)
def logs_then_skips(context):
    context.log.info("Logging from a sensor!")
    return SkipReason("Nothing to do")


def test_logs_then_skips():
    result = logs_then_skips.evaluate_tick(build_sensor_context())
    assert result.skip_message == "Nothing to do"
    assert [line.message for line in result.log_lines] == ["Logging from a sensor!"]


def get_s3_keys(bucket, since_key=None):
    keys = ["k1", "k2", "k3"]
    return keys[keys.index(since_key) + 1 :] if since_key else keys


@sensor(job=my_job)
def my_s3_sensor(context):
    since_key = context.cursor or None
    new_s3_keys = get_s3_keys("my_s3_bucket", since_key=since_key)
    if not new_s3_keys:
        return SkipReason("No new s3 files found for bucket my_s3_bucket.")
    last_key = new_s3_keys[-1]
    run_requests = [RunRequest(run_key=s3_key, run_config={}) for s3_key in new_s3_keys]
    context.update_cursor(last_key)
    return run_requests


def test_my_s3_sensor():
    first = my_s3_sensor.evaluate_tick(build_sensor_context())
    assert [r.run_key for r in first.run_requests] == ["k1", "k2", "k3"] and first.cursor == "k3"
    second = my_s3_sensor.evaluate_tick(build_sensor_context(cursor="k3"))
    assert second.skip_message == "No new s3 files found for bucket my_s3_bucket."


@resource
def the_credentials(): ...


connections = []


def get_the_db_connection(credentials):
    connections.append(credentials)


@resource(required_resource_keys={"credentials"})
def the_db_connection(init_context):
    get_the_db_connection(init_context.resources.credentials)


@sensor(job=the_job)
def uses_db_connection():
    with build_resources(
        {"db_connection": the_db_connection, "credentials": the_credentials}
    ) as resources:
        conn = resources.db_connection
        ...


def test_uses_db_connection():
    result = uses_db_connection.evaluate_tick(build_sensor_context())
    assert result.skip_message == "Sensor function returned an empty result"
    assert connections == [None]


# -- 001: API docs examples ----------------------------------------------------------------


@op
def process_new_files():
    pass


@job
def file_processing_job():
    process_new_files()


@pytest.fixture
def watch_dirs(tmp_path, monkeypatch):
    incoming, processed = tmp_path / "incoming", tmp_path / "processed"
    incoming.mkdir()
    processed.mkdir()
    (incoming / "test1.csv").write_text("1")
    (incoming / "test2.csv").write_text("22")
    (incoming / "done.csv").write_text("3")
    (processed / "done.csv").write_text("3")
    real_glob = __import__("glob").glob
    monkeypatch.setattr(
        "glob.glob", lambda pattern: real_glob(pattern.replace("/data", str(tmp_path)))
    )
    real_exists = os.path.exists
    monkeypatch.setattr(
        "os.path.exists", lambda p: real_exists(p.replace("/data", str(tmp_path), 1))
    )
    return tmp_path


import glob  # noqa: E402


@sensor(
    job=file_processing_job,
    minimum_interval_seconds=30,  # Check every 30 seconds
)
def file_arrival_sensor(context: SensorEvaluationContext):
    """Sensor that triggers on new file arrivals."""
    watch_directory = "/data/incoming"
    processed_directory = "/data/processed"
    # Find new files
    new_files = []
    for file_path in glob.glob(f"{watch_directory}/*.csv"):
        file_name = os.path.basename(file_path)
        processed_path = os.path.join(processed_directory, file_name)
        # Check if file hasn't been processed
        if not os.path.exists(processed_path):
            file_stats = os.stat(file_path)
            new_files.append(
                {
                    "path": file_path,
                    "name": file_name,
                    "size": file_stats.st_size,
                    "modified": file_stats.st_mtime,
                }
            )
    if not new_files:
        return SkipReason("No new files found")
    context.log.info(f"Found {len(new_files)} new files to process")
    run_requests = []
    for file_info in new_files:
        run_requests.append(
            RunRequest(
                run_key=f"file_{file_info['name']}_{int(file_info['modified'])}",
                run_config={
                    "ops": {
                        "process_new_files": {
                            "config": {
                                "input_file": file_info["path"],
                                "output_directory": processed_directory,
                            }
                        }
                    }
                },
                tags={
                    "file_name": file_info["name"],
                    "file_size": str(file_info["size"]),
                    "trigger": "file_arrival",
                },
            )
        )
    return run_requests


def test_file_arrival_sensor(watch_dirs):
    context = build_sensor_context(
        cursor="2023-01-01T00:00:00", instance=DagsterInstance.ephemeral()
    )
    result = file_arrival_sensor(context)
    assert isinstance(result, list)
    assert len(result) == 2
    assert all(isinstance(req, RunRequest) for req in result)
    tick = file_arrival_sensor.evaluate_tick(build_sensor_context())
    assert sorted(r.tags["file_name"] for r in tick.run_requests) == ["test1.csv", "test2.csv"]
    assert tick.log_lines[0].message == "Found 2 new files to process"


class _Response:
    def __init__(self, payload):
        self.payload = payload

    def raise_for_status(self):
        pass

    def json(self):
        return self.payload


class requests:
    last_update = "2024-05-01T10:00:00"

    @staticmethod
    def get(url, headers=None, timeout=None):
        if requests.last_update is None:
            raise ConnectionError("api down")
        return _Response({"last_update": requests.last_update})


API_TOKEN = "token"
api_sync_job = file_processing_job


@sensor(
    job=api_sync_job,
    minimum_interval_seconds=300,  # Check every 5 minutes
)
def api_data_sensor(context):
    """Sensor that monitors external API for new data."""
    # Check API for new data
    try:
        api_response = requests.get(
            "https://api.example.com/v1/status",
            headers={"Authorization": f"Bearer {API_TOKEN}"},
            timeout=30,
        )
        api_response.raise_for_status()
        status_data = api_response.json()
        last_update = datetime.fromisoformat(status_data["last_update"])
        # Get cursor from sensor context (persistent state)
        last_processed = context.cursor
        if last_processed:
            last_processed_time = datetime.fromisoformat(last_processed)
        else:
            # First run, start from 1 hour ago
            last_processed_time = datetime.now() - timedelta(hours=1)
        if last_update > last_processed_time:
            context.log.info(f"New data available since {last_update}")
            # Update cursor to track progress
            context.update_cursor(last_update.isoformat())
            return RunRequest(
                run_key=f"api_sync_{int(last_update.timestamp())}",
                run_config={
                    "resources": {
                        "api_client": {
                            "config": {
                                "sync_from": last_processed_time.isoformat(),
                                "sync_to": last_update.isoformat(),
                            }
                        }
                    }
                },
                tags={"last_update": last_update.isoformat(), "data_available": "true"},
            )
        else:
            return SkipReason(f"No new data since {last_processed_time}")
    except Exception as e:
        context.log.error(f"Failed to check API status: {e!s}")
        return SkipReason(f"API check failed: {e!s}")


def test_api_data_sensor(monkeypatch):
    result = api_data_sensor.evaluate_tick(build_sensor_context(cursor="2024-04-30T00:00:00"))
    assert result.cursor == "2024-05-01T10:00:00" and len(result.run_requests) == 1
    again = api_data_sensor.evaluate_tick(build_sensor_context(cursor=result.cursor))
    assert again.skip_message == "No new data since 2024-05-01 10:00:00"
    monkeypatch.setattr(requests, "last_update", None)
    down = api_data_sensor.evaluate_tick(build_sensor_context(cursor="x"))
    assert down.skip_message == "API check failed: api down"


CHANGES = []


def execute_query(query, params):
    return [c for c in CHANGES if c["last_modified"].isoformat() > params[0]]


incremental_sync_job = file_processing_job


@sensor(job=incremental_sync_job, minimum_interval_seconds=60)
def database_change_sensor(context):
    """Sensor that monitors database changes."""
    # Query change tracking table
    query = """
    SELECT table_name, last_modified, change_count
    FROM change_tracking
    WHERE last_modified > %s
    ORDER BY last_modified DESC
    """
    # Use cursor to track last processed time
    last_check = context.cursor or (datetime.now() - timedelta(minutes=5)).isoformat()
    changes = execute_query(query, [last_check])
    if not changes:
        return SkipReason(f"No database changes since {last_check}")
    # Update cursor to latest change time
    latest_change = max(change["last_modified"] for change in changes)
    context.update_cursor(latest_change.isoformat())
    # Group changes by table for efficient processing
    tables_changed = {}
    for change in changes:
        table = change["table_name"]
        if table not in tables_changed:
            tables_changed[table] = []
        tables_changed[table].append(change)
    context.log.info(f"Found changes in {len(tables_changed)} tables")
    run_requests = []
    for table_name, table_changes in tables_changed.items():
        total_changes = sum(change["change_count"] for change in table_changes)
        run_requests.append(
            RunRequest(
                run_key=f"sync_{table_name}_{int(latest_change.timestamp())}",
                run_config={
                    "ops": {
                        "incremental_sync": {
                            "config": {
                                "table_name": table_name,
                                "sync_from": last_check,
                                "change_count": total_changes,
                            }
                        }
                    }
                },
                tags={
                    "table": table_name,
                    "change_count": str(total_changes),
                    "trigger": "database_change",
                },
            )
        )
    return run_requests


def test_database_change_sensor():
    t = datetime(2024, 5, 1, 12, 0)
    changes = [
        {"table_name": "users", "last_modified": t, "change_count": 2},
        {"table_name": "users", "last_modified": t - timedelta(minutes=1), "change_count": 3},
        {"table_name": "orders", "last_modified": t, "change_count": 1},
    ]
    CHANGES[:] = changes
    result = database_change_sensor.evaluate_tick(
        build_sensor_context(cursor="2024-05-01T00:00:00")
    )
    assert result.cursor == t.isoformat()
    assert {r.tags["table"]: r.tags["change_count"] for r in result.run_requests} == {
        "users": "5",
        "orders": "1",
    }
    again = database_change_sensor.evaluate_tick(build_sensor_context(cursor=result.cursor))
    assert again.skip_message == f"No database changes since {t.isoformat()}"
    CHANGES.clear()


# -- 002: sensors guide ----------------------------------------------------------------------


# Sensor will be evaluated at least every 30 seconds
@sensor(job=my_job, minimum_interval_seconds=30)
def new_file_sensor(): ...


def test_new_file_sensor():
    assert new_file_sensor.minimum_interval_seconds == 30
    assert new_file_sensor.job_name == "log_file_job"
