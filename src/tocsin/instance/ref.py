"""``InstanceRef`` and opening stores: what an instance is made of, and how to build it again.

A ref is plain, picklable data (one ``ConfigurableClassData`` per component), so a run worker
in another process opens the same databases as its parent.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tocsin.errors import ConfigError
from tocsin.instance.plugins import ConfigurableClassData


@dataclass(frozen=True)
class InstanceRef:
    """What a child process needs to open the same instance; picklable.

    Each field but ``settings`` is the ``ConfigurableClassData`` of one component.
    """

    local_artifact_storage_data: ConfigurableClassData
    run_storage_data: ConfigurableClassData
    event_storage_data: ConfigurableClassData
    compute_logs_data: ConfigurableClassData
    schedule_storage_data: ConfigurableClassData
    scheduler_data: ConfigurableClassData | None = None
    run_coordinator_data: ConfigurableClassData | None = None
    run_launcher_data: ConfigurableClassData | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    custom_instance_class_data: ConfigurableClassData | None = None

    @staticmethod
    def for_sqlite_dir(base_dir: str, settings: Mapping[str, Any] | None = None) -> InstanceRef:
        """A ref to an instance with every store in SQLite under ``base_dir``."""
        return default_ref(base_dir, {}, settings or {})


def _data(module: str, class_name: str, config: Mapping[str, Any]) -> ConfigurableClassData:
    return ConfigurableClassData(module, class_name, dict(config))


def default_ref(
    home: str, overrides: Mapping[str, ConfigurableClassData | None], settings: Mapping[str, Any]
) -> InstanceRef:
    storage_dir = os.path.join(home, "storage")
    sqlite = _data("tocsin.instance.components", "SqliteStorage", {"base_dir": storage_dir})
    components = "tocsin.instance.components"
    defaults: dict[str, ConfigurableClassData | None] = {
        "local_artifact_storage_data": _data(
            components, "LocalArtifactStorage", {"base_dir": home}
        ),
        "run_storage_data": sqlite,
        "event_storage_data": sqlite,
        "schedule_storage_data": sqlite,
        "compute_logs_data": _data(
            components,
            "LocalComputeLogManager",
            {"base_dir": os.path.join(storage_dir, "compute_logs")},
        ),
        "scheduler_data": _data(components, "DagsterDaemonScheduler", {}),
        "run_coordinator_data": _data(components, "DefaultRunCoordinator", {}),
        "run_launcher_data": _data(components, "DefaultRunLauncher", {}),
    }
    defaults.update({k: v for k, v in overrides.items() if v is not None})
    return InstanceRef(settings=dict(settings), **defaults)  # type: ignore[arg-type]


def storage_dir_url(storage_dir: str) -> str:
    from tocsin.storage.sqlite import DB_FILENAME, sqlite_url

    return sqlite_url(Path(storage_dir) / DB_FILENAME)


def rehydrate_optional(data: ConfigurableClassData | None) -> Any:
    return None if data is None else data.rehydrate()


def open_store(data: ConfigurableClassData, kind: type, opened: dict[str, Any], key: str) -> Any:
    from tocsin.instance.components import StorageLocation

    obj = data.rehydrate()
    if isinstance(obj, StorageLocation):
        url = obj.url
        if url not in opened:
            opened[url] = open_sql(url)
        return opened[url]
    if not isinstance(obj, kind):
        raise ConfigError(
            f"{key}: {data.module_name}.{data.class_name} built a {type(obj).__name__}, which is "
            f"not a {kind.__name__}; a storage plugin must subclass tocsin.storage.base."
            f"{kind.__name__}."
        )
    return obj


def engine_for(url: str) -> Any:
    if url.startswith("sqlite:"):
        from tocsin.storage.sqlite import sqlite_engine

        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        return sqlite_engine(url)
    from tocsin.storage.postgres import postgres_engine

    return postgres_engine(url)


def open_sql(url: str) -> Any:
    from tocsin.storage.sql import SqlStorage

    return SqlStorage(engine_for(url))


def storage_urls(ref: InstanceRef) -> list[str]:
    from tocsin.instance.components import StorageLocation

    urls: list[str] = []
    for data in (ref.run_storage_data, ref.event_storage_data, ref.schedule_storage_data):
        obj = data.rehydrate()
        if isinstance(obj, StorageLocation) and obj.url not in urls:
            urls.append(obj.url)
    return urls


@dataclass(frozen=True)
class MigrationResult:
    """What ``DagsterInstance.migrate`` did to one database."""

    url: str
    before: str | None
    after: str | None


def ref_from_config(home: str, config: Any) -> InstanceRef:
    """The ``InstanceRef`` of the instance at ``home`` configured by ``config`` (or defaults)."""
    if config is None:
        return default_ref(home, {}, {})
    return default_ref(home, config.class_data(home), config.settings())
