"""tocsin.yaml (or dagster.yaml): the instance's settings, read into frozen dataclasses.

Defaults live on the dataclass fields and nowhere else. Every error names the file, the line and
the key, and suggests a fix: ``tocsin.yaml, line 4: unknown key 'run_lancher'. Did you mean
'run_launcher'?``. Plugin classes are given as ``module``/``class``/``config``; the module is
imported here only to report a bad name early, and built in ``instance/plugins.py``.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from tocsin.errors import ConfigError
from tocsin.instance.plugins import ConfigurableClassData, load_class

CONFIG_FILENAMES = ("tocsin.yaml", "dagster.yaml")

_PLUGIN_KEYS = (
    "run_storage",
    "event_log_storage",
    "schedule_storage",
    "run_coordinator",
    "run_launcher",
    "compute_logs",
    "local_artifact_storage",
    "scheduler",
)
_SETTINGS_KEYS = (
    "retention",
    "sensors",
    "schedules",
    "run_queue",
    "run_monitoring",
    "run_retries",
    "webserver",
    "telemetry",
    "code_servers",
    "concurrency",
    "auto_materialize",
    "backfills",
    "python_logs",
    "nux",
    "secrets",
    "instance_class",
    "daemon",
)
TOP_LEVEL_KEYS = ("storage", *_PLUGIN_KEYS, *_SETTINGS_KEYS)

# Seed-era module paths name tocsin's aliases.
_MODULE_ALIASES = {"dagster_postgres": "tocsin.core.storage.postgres"}


@dataclass(frozen=True)
class PluginConfig:
    """A class named by ``module``/``class`` with its ``config``."""

    module: str
    class_name: str
    config: Mapping[str, Any] = field(default_factory=dict)

    def class_data(self) -> ConfigurableClassData:
        return ConfigurableClassData(self.module, self.class_name, dict(self.config))


@dataclass(frozen=True)
class SqliteStorageConfig:
    """``storage: {sqlite: {base_dir}}``; ``base_dir`` defaults to ``<home>/storage``."""

    base_dir: str | None = None


@dataclass(frozen=True)
class PostgresStorageConfig:
    """``storage: {postgres: {postgres_url}}`` or ``{postgres: {postgres_db: {...}}}``."""

    postgres_url: str | None = None
    postgres_db: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class SensorSettings:
    """``sensors:``: how the daemon evaluates sensors, and the run policies of sensors that
    set none (``overlap``, ``pause_after_failures``; see ``tocsin.automation.policies``)."""

    use_threads: bool = False
    num_workers: int | None = None
    num_submit_workers: int | None = None
    evaluation_timeout_seconds: float = 60.0
    overlap: str | None = None
    pause_after_failures: int | None = None


@dataclass(frozen=True)
class ScheduleSettings:
    """``schedules:``: how the daemon evaluates schedules; the catch-up, jitter and DST options
    of every schedule that does not set its own (``tocsin.daemon.catchup``); and the run
    policies of schedules that set none (``overlap``, ``pause_after_failures``)."""

    use_threads: bool = False
    num_workers: int | None = None
    num_submit_workers: int | None = None
    evaluation_timeout_seconds: float = 60.0
    catchup: str | None = None  # latest (None), all or none
    max_catchup_runs: int | None = None
    catchup_window_seconds: float | None = None
    jitter_seconds: float | None = None
    dst_policy: str | None = None
    overlap: str | None = None
    pause_after_failures: int | None = None


@dataclass(frozen=True)
class WebserverSettings:
    """``webserver:``: where the web UI is reached (used for run links)."""

    base_url: str = "http://127.0.0.1:3000"
    # Bearer token for changes through the web UI and API: a string or {env: NAME}.
    token: str | dict[str, str] | None = None


@dataclass(frozen=True)
class InstanceConfig:
    """Everything tocsin.yaml says. Unset sections keep their defaults."""

    path: str | None = None
    storage: SqliteStorageConfig | PostgresStorageConfig | None = None
    run_storage: PluginConfig | None = None
    event_log_storage: PluginConfig | None = None
    schedule_storage: PluginConfig | None = None
    run_coordinator: PluginConfig | None = None
    run_launcher: PluginConfig | None = None
    compute_logs: PluginConfig | None = None
    local_artifact_storage: PluginConfig | None = None
    scheduler: PluginConfig | None = None
    sensors: SensorSettings = field(default_factory=SensorSettings)
    schedules: ScheduleSettings = field(default_factory=ScheduleSettings)
    webserver: WebserverSettings = field(default_factory=WebserverSettings)
    retention: Mapping[str, Any] = field(default_factory=dict)
    run_queue: Mapping[str, Any] = field(default_factory=dict)
    run_monitoring: Mapping[str, Any] = field(default_factory=dict)
    other: Mapping[str, Any] = field(default_factory=dict)

    def class_data(self, home: str) -> dict[str, ConfigurableClassData | None]:
        """The ``InstanceRef`` fields this config sets (the rest take the defaults)."""
        out: dict[str, ConfigurableClassData | None] = {}
        storage = self._storage_data(home)
        if storage is not None:
            for name in ("run_storage_data", "event_storage_data", "schedule_storage_data"):
                out[name] = storage
        pairs = {
            "run_storage": "run_storage_data",
            "event_log_storage": "event_storage_data",
            "schedule_storage": "schedule_storage_data",
            "run_coordinator": "run_coordinator_data",
            "run_launcher": "run_launcher_data",
            "compute_logs": "compute_logs_data",
            "local_artifact_storage": "local_artifact_storage_data",
            "scheduler": "scheduler_data",
        }
        for key, ref_field in pairs.items():
            plugin = getattr(self, key)
            if plugin is not None:
                out[ref_field] = plugin.class_data()
        return out

    def _storage_data(self, home: str) -> ConfigurableClassData | None:
        module = "tocsin.instance.components"
        if isinstance(self.storage, SqliteStorageConfig):
            base = self.storage.base_dir or os.path.join(home, "storage")
            return ConfigurableClassData(module, "SqliteStorage", {"base_dir": base})
        if isinstance(self.storage, PostgresStorageConfig):
            config = {
                k: v
                for k, v in (
                    ("postgres_url", self.storage.postgres_url),
                    ("postgres_db", self.storage.postgres_db),
                )
                if v is not None
            }
            return ConfigurableClassData(module, "PostgresStorage", config)
        return None

    def settings(self) -> dict[str, Any]:
        """The non-plugin sections, as plain data the daemon and web UI read."""
        return {
            "sensors": _as_dict(self.sensors),
            "schedules": _as_dict(self.schedules),
            "webserver": _as_dict(self.webserver),
            "retention": dict(self.retention),
            "run_queue": dict(self.run_queue),
            "run_monitoring": dict(self.run_monitoring),
            **dict(self.other),
        }


def _as_dict(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def find_config_file(home: str) -> str | None:
    """``<home>/tocsin.yaml``, else ``<home>/dagster.yaml``, else None."""
    for name in CONFIG_FILENAMES:
        path = os.path.join(home, name)
        if os.path.exists(path):
            return path
    return None


class _Reader:
    """Walks the YAML node tree so every error can say on which line it is."""

    def __init__(self, path: str, root: Any):
        self.file = os.path.basename(path)
        self.root = root

    def fail(self, node: Any, message: str) -> ConfigError:
        line = "" if node is None else f", line {node.start_mark.line + 1}"
        return ConfigError(f"{self.file}{line}: {message}")

    def key_nodes(self, node: Any) -> dict[str, tuple[Any, Any]]:
        import yaml

        if not isinstance(node, yaml.MappingNode):
            return {}
        return {k.value: (k, v) for k, v in node.value}

    def check_keys(self, node: Any, allowed: tuple[str, ...], where: str) -> None:
        for name, (key_node, _) in self.key_nodes(node).items():
            if name not in allowed:
                close = difflib.get_close_matches(str(name), allowed, n=1)
                hint = (
                    f" Did you mean {close[0]!r}?"
                    if close
                    else f" Expected one of: {', '.join(allowed)}."
                )
                raise self.fail(key_node, f"unknown key {name!r}{where}.{hint}")


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def load_instance_config(path: str | os.PathLike[str]) -> InstanceConfig:
    """Read and check a tocsin.yaml (or dagster.yaml).

    Raises:
        ConfigError: the file is not valid YAML, has an unknown key, a value of the wrong
            type, or names a plugin class that does not import.
    """
    import yaml

    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:
        raise ConfigError(f"cannot read instance config {path!r}: {exc.strerror}.") from exc
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = "" if mark is None else f", line {mark.line + 1}"
        raise ConfigError(f"{os.path.basename(path)}{line}: not valid YAML: {exc}") from exc
    reader = _Reader(path, root)
    if data is None:
        return InstanceConfig(path=path)
    if not isinstance(data, dict):
        raise reader.fail(
            root, f"expected a mapping of settings at the top, got {_type_name(data)}."
        )
    reader.check_keys(root, TOP_LEVEL_KEYS, "")
    nodes = reader.key_nodes(root)
    values: dict[str, Any] = {"path": path}
    if "storage" in data:
        _check_storage_exclusive(reader, nodes, data)
        values["storage"] = _storage(reader, nodes["storage"], data["storage"])
    for key in _PLUGIN_KEYS:
        if key in data:
            values[key] = _plugin(reader, nodes[key], data[key], key)
    for key, cls in (
        ("sensors", SensorSettings),
        ("schedules", ScheduleSettings),
        ("webserver", WebserverSettings),
    ):
        if key in data:
            values[key] = _settings(reader, nodes[key], data[key], key, cls)
    for key in ("retention", "run_queue", "run_monitoring"):
        if key in data:
            values[key] = _mapping(reader, nodes[key], data[key], key)
    if "daemon" in data:
        _check_daemon(reader, nodes["daemon"], data["daemon"])
    others = {
        k: data[k] for k in _SETTINGS_KEYS if k in data and k not in values and k != "telemetry"
    }
    values["other"] = {
        k: v for k, v in others.items() if k not in ("sensors", "schedules", "webserver")
    }
    return InstanceConfig(**values)


def _check_storage_exclusive(
    reader: _Reader, nodes: dict[str, Any], data: Mapping[str, Any]
) -> None:
    for key in ("run_storage", "event_log_storage", "schedule_storage"):
        if key in data:
            raise reader.fail(
                nodes[key][0],
                f"'storage' and {key!r} are both set. Use 'storage' alone (one database for "
                "everything) or the per-store keys alone.",
            )


def _check_daemon(reader: _Reader, nodes: tuple[Any, Any], value: Any) -> None:
    """``daemon: {lease_seconds: 15}``: how long a daemon's claims outlive its last heartbeat."""
    value = _mapping(reader, nodes, value, "daemon")
    reader.check_keys(nodes[1], ("lease_seconds",), " under 'daemon'")
    if "lease_seconds" in value:
        raw = value["lease_seconds"]
        if isinstance(raw, bool) or not isinstance(raw, int | float) or raw < 1:
            raise reader.fail(
                reader.key_nodes(nodes[1])["lease_seconds"][1],
                f"'daemon.lease_seconds' must be a number of seconds >= 1, got "
                f"{_type_name(raw)} {raw!r}. Example: daemon: {{lease_seconds: 15}}.",
            )


def _mapping(reader: _Reader, nodes: tuple[Any, Any], value: Any, key: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise reader.fail(
            nodes[1], f"{key!r} must be a mapping, got {_type_name(value)} {value!r}."
        )
    return value


def _storage(reader: _Reader, nodes: tuple[Any, Any], value: Any) -> Any:
    value = _mapping(reader, nodes, value, "storage")
    reader.check_keys(nodes[1], ("sqlite", "postgres"), " under 'storage'")
    if len(value) != 1:
        raise reader.fail(
            nodes[0],
            "'storage' needs exactly one of 'sqlite' or 'postgres', e.g. "
            "storage: {sqlite: {base_dir: /var/tocsin}}.",
        )
    kind = next(iter(value))
    inner_nodes = reader.key_nodes(nodes[1])[kind]
    inner = _mapping(reader, inner_nodes, value[kind], f"storage.{kind}")
    if kind == "sqlite":
        reader.check_keys(inner_nodes[1], ("base_dir",), " under 'storage.sqlite'")
        base = _resolve(reader, inner_nodes, inner.get("base_dir"), "storage.sqlite.base_dir")
        return SqliteStorageConfig(base_dir=None if base is None else str(base))
    reader.check_keys(
        inner_nodes[1],
        ("postgres_url", "postgres_db", "should_autocreate_tables"),
        " under 'storage.postgres'",
    )
    if ("postgres_url" in inner) == ("postgres_db" in inner):
        raise reader.fail(
            inner_nodes[0],
            "'storage.postgres' needs exactly one of 'postgres_url' or 'postgres_db' "
            "(hostname, username, password, db_name, port).",
        )
    if "postgres_url" in inner:
        url = _resolve(reader, inner_nodes, inner["postgres_url"], "storage.postgres.postgres_url")
        return PostgresStorageConfig(postgres_url=str(url))
    db_nodes = reader.key_nodes(inner_nodes[1])["postgres_db"]
    db = _mapping(reader, db_nodes, inner["postgres_db"], "storage.postgres.postgres_db")
    allowed = ("hostname", "username", "password", "db_name", "port", "params", "scheme")
    reader.check_keys(db_nodes[1], allowed, " under 'storage.postgres.postgres_db'")
    for required in ("hostname", "username", "db_name"):
        if required not in db:
            raise reader.fail(db_nodes[0], f"'postgres_db' is missing {required!r}.")
    if "port" in db and not isinstance(db["port"], int):
        port_node = reader.key_nodes(db_nodes[1])["port"][1]
        raise reader.fail(port_node, f"'postgres_db.port' must be an integer, got {db['port']!r}.")
    return PostgresStorageConfig(postgres_db=db)


def _resolve(reader: _Reader, nodes: tuple[Any, Any], value: Any, key: str) -> Any:
    if isinstance(value, dict):
        if set(value) != {"env"}:
            raise reader.fail(
                nodes[1], f"{key!r} must be a string or {{env: NAME}}, got {value!r}."
            )
        name = value["env"]
        if name not in os.environ:
            raise reader.fail(
                nodes[1], f"{key!r} reads environment variable {name!r}, which is not set."
            )
        return os.environ[name]
    if value is not None and not isinstance(value, str):
        raise reader.fail(nodes[1], f"{key!r} must be a string, got {_type_name(value)} {value!r}.")
    return value


def _plugin(reader: _Reader, nodes: tuple[Any, Any], value: Any, key: str) -> PluginConfig:
    value = _mapping(reader, nodes, value, key)
    reader.check_keys(nodes[1], ("module", "class", "config"), f" under {key!r}")
    for required in ("module", "class"):
        if not isinstance(value.get(required), str):
            raise reader.fail(
                nodes[0],
                f"{key!r} needs '{required}' as a string (module: my_package.launchers, "
                f"class: MyLauncher), got {value.get(required)!r}.",
            )
    config = value.get("config") or {}
    if not isinstance(config, dict):
        config_node = reader.key_nodes(nodes[1])["config"][1]
        raise reader.fail(config_node, f"'{key}.config' must be a mapping, got {config!r}.")
    module = value["module"]
    for old, new in _MODULE_ALIASES.items():
        if module == old or module.startswith(old + "."):
            module = new
    if module.startswith("dagster."):
        module = "tocsin." + module[len("dagster.") :]
    try:
        load_class(module, value["class"])
    except ConfigError as exc:
        raise reader.fail(nodes[0], f"{key}: {exc}") from exc
    return PluginConfig(module, value["class"], config)


_SETTING_TYPES: dict[str, tuple[type, ...]] = {
    "use_threads": (bool,),
    "num_workers": (int, type(None)),
    "num_submit_workers": (int, type(None)),
    "evaluation_timeout_seconds": (int, float),
    "base_url": (str,),
    "token": (str, dict, type(None)),
    "catchup": (str, bool, type(None)),
    "max_catchup_runs": (int, type(None)),
    "catchup_window_seconds": (int, float, type(None)),
    "jitter_seconds": (int, float, type(None)),
    "dst_policy": (str, type(None)),
    "overlap": (str, type(None)),
    "pause_after_failures": (int, type(None)),
}


def _settings(reader: _Reader, nodes: tuple[Any, Any], value: Any, key: str, cls: type) -> Any:
    value = _mapping(reader, nodes, value, key)
    allowed = tuple(f.name for f in fields(cls))
    reader.check_keys(nodes[1], allowed, f" under {key!r}")
    child_nodes = reader.key_nodes(nodes[1])
    for name, item in value.items():
        expected = _SETTING_TYPES[name]
        bad_bool = isinstance(item, bool) and bool not in expected
        if not isinstance(item, expected) or bad_bool:
            names = " or ".join("null" if t is type(None) else t.__name__ for t in expected)
            raise reader.fail(
                child_nodes[name][1],
                f"'{key}.{name}' must be {names}, got {_type_name(item)} {item!r}.",
            )
        if name in ("num_workers", "num_submit_workers") and isinstance(item, int) and item < 1:
            raise reader.fail(
                child_nodes[name][1], f"'{key}.{name}' must be at least 1, got {item}."
            )
        problem = _schedule_option_problem(name, item)
        if problem is not None:
            raise reader.fail(child_nodes[name][1], f"'{key}.{name}' {problem}")
        _check_policy(reader, child_nodes, key, name, item)
    if cls is ScheduleSettings and isinstance(value.get("catchup"), bool):
        value = {**value, "catchup": "all" if value["catchup"] else "none"}
    return cls(**value)


def _schedule_option_problem(name: str, item: Any) -> str | None:
    """What is wrong with a schedule policy value in ``schedules:``, or None."""
    if item is None:
        return None
    if name == "catchup" and not isinstance(item, bool):
        from tocsin.daemon.catchup import CATCHUP_CHOICES

        if item not in CATCHUP_CHOICES:
            return f"must be one of {', '.join(CATCHUP_CHOICES)}, got {item!r}."
    if name == "max_catchup_runs" and item < 1:
        return f"must be at least 1, got {item}."
    if name in ("catchup_window_seconds", "jitter_seconds") and item < 0:
        return f"must not be negative, got {item}; write a number of seconds such as 300."
    if name == "dst_policy":
        from tocsin.cron import DstPolicy

        try:
            DstPolicy.coerce(item)
        except ValueError as exc:
            return f"is not a DST policy: {exc}"
    return None


def _check_policy(reader: _Reader, child_nodes: dict[str, Any], key: str, name: str, item: Any):
    """``overlap`` and ``pause_after_failures`` take the values a definition accepts."""
    from tocsin.automation.policies import overlap_problem, pause_problem

    problem = None
    if name == "overlap":
        problem = overlap_problem(item)
    elif name == "pause_after_failures":
        problem = pause_problem(item)
    if problem is not None:
        raise reader.fail(child_nodes[name][1], f"'{key}.{name}': {problem}")
