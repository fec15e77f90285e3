from __future__ import annotations

import textwrap

import pytest

from tocsin.errors import ConfigError
from tocsin.instance.config import (
    InstanceConfig,
    PluginConfig,
    PostgresStorageConfig,
    SensorSettings,
    SqliteStorageConfig,
    find_config_file,
    load_instance_config,
)
from tocsin.instance.instance import DagsterInstance


def write(tmp_path, text: str, name: str = "tocsin.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip())
    return str(path)


def load(tmp_path, text: str) -> InstanceConfig:
    return load_instance_config(write(tmp_path, text))


def test_empty_file_gives_defaults(tmp_path):
    config = load(tmp_path, "")
    assert config.storage is None and config.sensors == SensorSettings()
    assert config.webserver.base_url == "http://127.0.0.1:3000"


def test_sqlite_storage_and_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("TOCSIN_DATA", "/data/x")
    config = load(
        tmp_path,
        """
        storage:
          sqlite:
            base_dir: {env: TOCSIN_DATA}
        sensors:
          use_threads: true
          num_workers: 4
          evaluation_timeout_seconds: 30
        webserver:
          base_url: https://ui.example
        retention:
          schedule:
            purge_after_days: 90
        telemetry:
          enabled: false
        """,
    )
    assert config.storage == SqliteStorageConfig(base_dir="/data/x")
    assert config.sensors == SensorSettings(True, 4, None, 30)
    assert config.settings()["retention"] == {"schedule": {"purge_after_days": 90}}
    assert "telemetry" not in config.settings()


def test_postgres_url_and_parts(tmp_path, monkeypatch):
    assert load(tmp_path, "storage: {postgres: {postgres_url: 'postgresql://u@h/db'}}").storage == (
        PostgresStorageConfig(postgres_url="postgresql://u@h/db")
    )
    monkeypatch.setenv("PGPASS", "s3cret")
    config = load(
        tmp_path,
        """
        storage:
          postgres:
            postgres_db:
              hostname: db.internal
              username: tocsin
              password: {env: PGPASS}
              db_name: tocsin
              port: 5433
              params: {sslmode: require}
        """,
    )
    data = config.class_data("/home")["run_storage_data"]
    from tocsin.instance.components import PostgresStorage

    storage = data.rehydrate()
    assert isinstance(storage, PostgresStorage)
    assert (
        storage.url == "postgresql+psycopg://tocsin:s3cret@db.internal:5433/tocsin?sslmode=require"
    )


def test_seed_shaped_per_store_plugins(tmp_path):
    config = load(
        tmp_path,
        """
        run_storage:
          module: dagster.core.storage.runs
          class: SqliteRunStorage
          config:
            base_dir: /tmp/x
        event_log_storage:
          module: tocsin.core.storage.event_log
          class: ConsolidatedSqliteEventLogStorage
          config: {base_dir: /tmp/x}
        schedule_storage:
          module: tocsin.core.storage.schedules
          class: SqliteScheduleStorage
          config: {base_dir: /tmp/x}
        run_coordinator:
          module: tocsin.core.run_coordinator
          class: QueuedRunCoordinator
          config: {max_concurrent_runs: 3}
        run_launcher:
          module: tocsin.core.launcher
          class: DefaultRunLauncher
        compute_logs:
          module: tocsin.core.storage.local_compute_log_manager
          class: LocalComputeLogManager
          config: {base_dir: /tmp/logs}
        local_artifact_storage:
          module: tocsin.core.storage.root
          class: LocalArtifactStorage
          config: {base_dir: /tmp/art}
        scheduler:
          module: tocsin.core.scheduler
          class: DagsterDaemonScheduler
          config: {max_catchup_runs: 2}
        """,
    )
    assert config.run_storage == PluginConfig(
        "tocsin.core.storage.runs", "SqliteRunStorage", {"base_dir": "/tmp/x"}
    )
    coordinator = config.run_coordinator.class_data().rehydrate()
    assert coordinator.max_concurrent_runs == 3
    assert config.scheduler.class_data().rehydrate().max_catchup_runs == 2


def test_instance_from_seed_shaped_config(tmp_path):
    base = tmp_path / "db"
    write(
        tmp_path,
        f"""
        run_storage:
          module: tocsin.core.storage.runs
          class: SqliteRunStorage
          config: {{base_dir: {base}}}
        event_log_storage:
          module: tocsin.core.storage.event_log
          class: SqliteEventLogStorage
          config: {{base_dir: {base}}}
        schedule_storage:
          module: tocsin.core.storage.schedules
          class: SqliteScheduleStorage
          config: {{base_dir: {base}}}
        run_coordinator:
          module: tocsin.core.run_coordinator
          class: QueuedRunCoordinator
        """,
    )
    with DagsterInstance.from_config(tmp_path) as instance:
        assert instance.runs is instance.events is instance.ticks
        run = instance.create_run(job_name="j")
        assert instance.run_coordinator.max_concurrent_runs == -1
        ref = instance.get_ref()
    assert (base / "tocsin.db").exists()
    with DagsterInstance.from_ref(ref) as again:
        assert again.get_run_by_id(run.run_id) is not None


def test_dagster_yaml_is_found_when_no_tocsin_yaml(tmp_path):
    assert find_config_file(str(tmp_path)) is None
    write(tmp_path, "", name="dagster.yaml")
    assert find_config_file(str(tmp_path)).endswith("dagster.yaml")
    write(tmp_path, "")
    assert find_config_file(str(tmp_path)).endswith("tocsin.yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "storage:\n  sqlite: {}\nsensors: {}\n\nrun_lancher:\n  module: x\n",
            "tocsin.yaml, line 5: unknown key 'run_lancher'. Did you mean 'run_launcher'?",
        ),
        ("- a\n- b\n", "tocsin.yaml, line 1: expected a mapping of settings at the top, got list"),
        ("storage: [1\n", "tocsin.yaml, line 2: not valid YAML"),
        ("storage:\n  mysql: {}\n", "line 2: unknown key 'mysql' under 'storage'"),
        ("storage:\n  sqlite: {}\n  postgres: {}\n", "exactly one of 'sqlite' or 'postgres'"),
        (
            "storage:\n  sqlite: {base_dri: x}\n",
            "line 2: unknown key 'base_dri' under 'storage.sqlite'. Did you mean 'base_dir'?",
        ),
        (
            "storage:\n  sqlite: {base_dir: 3}\n",
            "'storage.sqlite.base_dir' must be a string, got int 3",
        ),
        (
            "storage:\n  sqlite: {base_dir: {env: TOCSIN_NOPE}}\n",
            "environment variable 'TOCSIN_NOPE', which is not set",
        ),
        ("storage:\n  postgres: {}\n", "needs exactly one of 'postgres_url' or 'postgres_db'"),
        (
            "storage:\n  postgres:\n    postgres_db: {hostname: h, username: u}\n",
            "'postgres_db' is missing 'db_name'",
        ),
        (
            "storage:\n  postgres:\n    postgres_db:\n"
            "      {hostname: h, username: u, db_name: d, port: abc}\n",
            "'postgres_db.port' must be an integer, got 'abc'",
        ),
        ("storage: sqlite\n", "line 1: 'storage' must be a mapping, got str 'sqlite'"),
        (
            "storage: {sqlite: {}}\nrun_storage: {module: a, class: B}\n",
            "line 2: 'storage' and 'run_storage' are both set",
        ),
        ("run_launcher:\n  class: X\n", "line 1: 'run_launcher' needs 'module' as a string"),
        (
            "run_launcher:\n  module: m\n  class: X\n  confg: {}\n",
            "line 4: unknown key 'confg' under 'run_launcher'. Did you mean 'config'?",
        ),
        (
            "run_launcher:\n  module: m\n  class: X\n  config: 3\n",
            "line 4: 'run_launcher.config' must be a mapping",
        ),
        (
            "run_launcher:\n  module: tocsin_no_such_module\n  class: X\n",
            "line 1: run_launcher: module 'tocsin_no_such_module' could not be imported: "
            "ModuleNotFoundError",
        ),
        (
            "run_coordinator:\n  module: tocsin.core.run_coordinator\n  class: Nope\n",
            "module 'tocsin.core.run_coordinator' has no class 'Nope'",
        ),
        (
            "sensors:\n  use_threads: yes please\n",
            "line 2: 'sensors.use_threads' must be bool, got str 'yes please'",
        ),
        ("sensors:\n  num_workers: 0\n", "'sensors.num_workers' must be at least 1, got 0"),
        (
            "sensors:\n  num_workers: true\n",
            "'sensors.num_workers' must be int or null, got bool True",
        ),
        (
            "schedules:\n  num_wrkers: 2\n",
            "unknown key 'num_wrkers' under 'schedules'. Did you mean 'num_workers'?",
        ),
        ("webserver:\n  base_url: 3000\n", "'webserver.base_url' must be str, got int 3000"),
        (
            "sensors:\n  num_workers: 2\n  overlap: buffer-all\n",
            "tocsin.yaml, line 3: 'sensors.overlap': overlap must be one of 'allow', 'skip', "
            "'buffer_one', 'buffer_all', 'cancel_other' (or None for the default), got "
            "'buffer-all'. Did you mean 'buffer_all'?",
        ),
        (
            "schedules:\n  pause_after_failures: -2\n",
            "line 2: 'schedules.pause_after_failures': pause_after_failures must be a whole "
            "number >= 0",
        ),
        (
            "schedules:\n  pause_after_failures: 1.5\n",
            "line 2: 'schedules.pause_after_failures' must be int or null, got float 1.5",
        ),
    ],
)
def test_errors_name_file_line_and_key(tmp_path, text, message):
    with pytest.raises(ConfigError) as info:
        load_instance_config(write(tmp_path, text))
    assert message in str(info.value)


def test_run_policies_are_read_for_sensors_and_schedules(tmp_path):
    config = load(
        tmp_path,
        """
        sensors: {overlap: skip, pause_after_failures: 3}
        schedules: {overlap: buffer_one}
        """,
    )
    assert (config.sensors.overlap, config.sensors.pause_after_failures) == ("skip", 3)
    assert config.settings()["schedules"]["overlap"] == "buffer_one"
    assert config.settings()["schedules"]["pause_after_failures"] is None


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read instance config"):
        load_instance_config(tmp_path / "nope.yaml")


def test_webserver_token_may_be_given_inline_or_from_the_environment(tmp_path) -> None:
    from tocsin.instance.config import load_instance_config

    path = tmp_path / "tocsin.yaml"
    path.write_text("webserver:\n  token: {env: TOCSIN_WEB_TOKEN}\n")
    assert load_instance_config(str(path)).webserver.token == {"env": "TOCSIN_WEB_TOKEN"}
    path.write_text("webserver:\n  token: s3cret\n")
    assert load_instance_config(str(path)).webserver.token == "s3cret"
