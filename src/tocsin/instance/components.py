"""The built-in plugin classes a tocsin.yaml can name (also under their seed-era module paths).

Storage classes do not open anything when built: they say where the database is
(``StorageLocation``), and the instance opens one ``SqlStorage`` per distinct database, so that
runs, events and ticks in the same database share one engine and one transaction.

The run coordinator, run launcher and scheduler classes hold their settings; the daemon and
launcher layers give them behaviour.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tocsin.errors import ConfigError
from tocsin.instance.plugins import ConfigurableClass, ConfigurableClassData


def _resolve_env(value: Any, where: str) -> Any:
    if isinstance(value, Mapping) and set(value) == {"env"}:
        name = value["env"]
        if name not in os.environ:
            raise ConfigError(f"{where}: environment variable {name!r} is not set.")
        return os.environ[name]
    return value


def _check_keys(config: Mapping[str, Any], allowed: set[str], where: str) -> None:
    extra = sorted(set(config) - allowed)
    if extra:
        raise ConfigError(
            f"{where}: unknown config key {extra[0]!r}; expected one of {sorted(allowed)}."
        )


class _Configurable(ConfigurableClass):
    """A built-in component whose config keys are its constructor's keyword arguments."""

    _allowed: frozenset[str] = frozenset()

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]
    ) -> Any:
        where = f"{inst_data.module_name}.{inst_data.class_name}"
        _check_keys(config_value, set(cls._allowed), where)
        values = {k: _resolve_env(v, f"{where}.{k}") for k, v in config_value.items()}
        obj = cls(**values)
        obj._inst_data = inst_data
        return obj


class StorageLocation(_Configurable):
    """Where a store lives: a SQLAlchemy URL."""

    @property
    def url(self) -> str:
        raise NotImplementedError


class SqliteStorage(StorageLocation):
    """Every store in one SQLite file under ``base_dir``."""

    _allowed = frozenset({"base_dir"})

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self.base_dir = os.fspath(base_dir)
        self._inst_data = inst_data

    @property
    def url(self) -> str:
        from tocsin.storage.sqlite import DB_FILENAME, sqlite_url

        return sqlite_url(Path(self.base_dir) / DB_FILENAME)


class SqliteRunStorage(SqliteStorage):
    """Run storage in SQLite (the default)."""


class SqliteEventLogStorage(SqliteStorage):
    """Event log storage in SQLite (the default)."""


class ConsolidatedSqliteEventLogStorage(SqliteStorage):
    """Event log storage in one SQLite file (tocsin always consolidates)."""


class SqliteScheduleStorage(SqliteStorage):
    """Tick and instigator storage in SQLite (the default)."""


class PostgresStorage(StorageLocation):
    """Every store in one PostgreSQL database, from a URL or from its parts."""

    _allowed = frozenset({"postgres_url", "postgres_db", "should_autocreate_tables"})

    def __init__(
        self,
        postgres_url: str | None = None,
        postgres_db: Mapping[str, Any] | None = None,
        should_autocreate_tables: bool = True,
        inst_data: ConfigurableClassData | None = None,
    ):
        if (postgres_url is None) == (postgres_db is None):
            raise ConfigError(
                "postgres storage needs exactly one of 'postgres_url' or 'postgres_db' "
                f"(got {'both' if postgres_url else 'neither'})."
            )
        self._url = postgres_url if postgres_url is not None else _url_from_parts(postgres_db)
        self._inst_data = inst_data

    @property
    def url(self) -> str:
        from tocsin.storage.postgres import normalize_url

        return normalize_url(self._url)


PostgresRunStorage = PostgresStorage
PostgresEventLogStorage = PostgresStorage
PostgresScheduleStorage = PostgresStorage


def _url_from_parts(parts: Mapping[str, Any] | None) -> str:
    from tocsin.storage.postgres import postgres_url

    parts = dict(parts or {})
    where = "postgres_db"
    _check_keys(
        parts, {"hostname", "username", "password", "db_name", "port", "params", "scheme"}, where
    )
    missing = [k for k in ("hostname", "username", "db_name") if k not in parts]
    if missing:
        raise ConfigError(f"{where}: missing required key {missing[0]!r}.")
    values = {k: _resolve_env(v, f"{where}.{k}") for k, v in parts.items() if k != "scheme"}
    try:
        port = int(values.get("port", 5432))
    except (TypeError, ValueError):
        raise ConfigError(
            f"{where}.port: expected an integer, got {values.get('port')!r}."
        ) from None
    return postgres_url(
        hostname=str(values["hostname"]),
        username=str(values["username"]),
        password=None if values.get("password") is None else str(values["password"]),
        db_name=str(values["db_name"]),
        port=port,
        params=values.get("params"),
    )


class LocalArtifactStorage(_Configurable):
    """The instance's local directory for artifacts (``storage_directory`` lives under it)."""

    _allowed = frozenset({"base_dir"})

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self.base_dir = os.fspath(base_dir)
        self._inst_data = inst_data

    @property
    def storage_dir(self) -> str:
        return os.path.join(self.base_dir, "storage")

    @property
    def schedules_dir(self) -> str:
        return os.path.join(self.base_dir, "schedules")


class RunCoordinator(_Configurable):
    """Decides when a submitted run is launched."""

    def submit_run(self, instance: Any, run: Any) -> Any:
        """Record the run as QUEUED; the run queue daemon launches it."""
        return instance.enqueue_run(run)


class DefaultRunCoordinator(RunCoordinator):
    """Launch each submitted run at once."""

    _allowed = frozenset()

    def __init__(self, inst_data: ConfigurableClassData | None = None):
        self._inst_data = inst_data


class QueuedRunCoordinator(RunCoordinator):
    """Queue submitted runs; the daemon dequeues them within the concurrency limits."""

    _allowed = frozenset(
        {
            "max_concurrent_runs",
            "tag_concurrency_limits",
            "dequeue_interval_seconds",
            "dequeue_use_threads",
            "dequeue_num_workers",
            "block_op_concurrency_limited_runs",
            "user_code_failure_retry_delay",
            "max_user_code_failure_retries",
        }
    )

    def __init__(
        self,
        max_concurrent_runs: int | None = None,
        tag_concurrency_limits: list[Mapping[str, Any]] | None = None,
        dequeue_interval_seconds: float | None = None,
        inst_data: ConfigurableClassData | None = None,
        **settings: Any,
    ):
        self.max_concurrent_runs = -1 if max_concurrent_runs is None else max_concurrent_runs
        self.tag_concurrency_limits = list(tag_concurrency_limits or [])
        self.dequeue_interval_seconds = (
            5.0 if dequeue_interval_seconds is None else dequeue_interval_seconds
        )
        self.settings = settings
        self._inst_data = inst_data


class RunLauncher(_Configurable):
    """Starts a run's process. Launchers of the launchers layer subclass this."""

    def launch_run(self, instance: Any, run: Any) -> Any:
        """Mark the run STARTING; a launcher that executes runs overrides this."""
        return instance.mark_run_starting(run)


class DefaultRunLauncher(RunLauncher):
    """Launch each run in a subprocess (behaviour comes from the launchers layer)."""

    _allowed = frozenset({"wait_for_processes"})

    def __init__(
        self, wait_for_processes: bool = False, inst_data: ConfigurableClassData | None = None
    ):
        self.wait_for_processes = wait_for_processes
        self._inst_data = inst_data


class DagsterDaemonScheduler(_Configurable):
    """Schedules ticked by the tocsin daemon."""

    _allowed = frozenset({"max_catchup_runs", "max_tick_retries"})

    def __init__(
        self,
        max_catchup_runs: int = 5,
        max_tick_retries: int = 0,
        inst_data: ConfigurableClassData | None = None,
    ):
        self.max_catchup_runs = max_catchup_runs
        self.max_tick_retries = max_tick_retries
        self._inst_data = inst_data


class ComputeLogManager(_Configurable):
    """Stores the stdout/stderr of steps; subclass it to keep them elsewhere."""


class LocalComputeLogManager(ComputeLogManager):
    """Step logs as files under ``base_dir`` (default: ``<home>/storage/compute_logs``)."""

    _allowed = frozenset({"base_dir", "polling_timeout"})

    def __init__(
        self,
        base_dir: str,
        polling_timeout: float | None = None,
        inst_data: ConfigurableClassData | None = None,
    ):
        from tocsin.storage.compute_logs import LocalComputeLogs

        self.base_dir = os.fspath(base_dir)
        self.polling_timeout = polling_timeout
        self._logs = LocalComputeLogs(self.base_dir)
        self._inst_data = inst_data

    def log_path(self, run_id: str, step_key: str, io_type: str) -> str:
        return self._logs.log_path(run_id, step_key, io_type)

    def write(self, run_id: str, step_key: str, io_type: str, data: str) -> None:
        self._logs.write(run_id, step_key, io_type, data)

    def read(self, run_id: str, step_key: str, io_type: str, offset: int = 0) -> tuple[str, int]:
        """Return the text from byte ``offset`` on, and the offset to read from next."""
        return self._logs.read(run_id, step_key, io_type, offset)

    def delete_logs(self, run_id: str) -> None:
        self._logs.delete_logs(run_id)
