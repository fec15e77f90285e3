"""Which code locations to load, and loading one of them into a definitions object.

A location is a Python file (``-f``), a module (``-m``), or an entry of a ``workspace.yaml``::

    load_from:
      - python_file: {relative_path: defs.py, location_name: etl, working_directory: .}
      - python_module: {module_name: my_pkg.defs, location_name: pkg}

Loading imports user code, so only the worker process (and tests, and the run worker) call
``load_definitions``; the daemon itself only reads specs.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from tocsin.errors import ConfigError, DagsterInvariantViolationError


@dataclass(frozen=True)
class LocationSpec:
    """Where one code location's code lives. Exactly one of ``python_file``/``module_name``."""

    name: str
    python_file: str | None = None
    module_name: str | None = None
    working_directory: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "python_file": self.python_file,
            "module_name": self.module_name,
            "working_directory": self.working_directory,
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> LocationSpec:
        return LocationSpec(
            name=data["name"],
            python_file=data.get("python_file"),
            module_name=data.get("module_name"),
            working_directory=data.get("working_directory"),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @staticmethod
    def from_json(text: str) -> LocationSpec:
        return LocationSpec.from_dict(json.loads(text))


def spec_for_file(path: str, *, name: str | None = None, working_directory: str | None = None):
    """A location for one Python file; its name defaults to the file's stem."""
    absolute = os.path.abspath(path)
    if not os.path.isfile(absolute):
        raise ConfigError(f"Python file {path!r} does not exist. Pass the path of a .py file.")
    workdir = os.path.abspath(working_directory) if working_directory else os.path.dirname(absolute)
    return LocationSpec(
        name=name or Path(absolute).stem, python_file=absolute, working_directory=workdir
    )


def spec_for_module(module_name: str, *, name: str | None = None, working_directory=None):
    """A location for an importable module; its name defaults to the module name."""
    workdir = os.path.abspath(working_directory) if working_directory else os.getcwd()
    return LocationSpec(
        name=name or module_name, module_name=module_name, working_directory=workdir
    )


def specs_from_options(
    python_files: Sequence[str] = (),
    module_names: Sequence[str] = (),
    workspace_file: str | None = None,
) -> list[LocationSpec]:
    """Locations named on a command line (``-f``, ``-m``, ``-w``), checked for duplicates."""
    specs = [spec_for_file(p) for p in python_files]
    specs += [spec_for_module(m) for m in module_names]
    if workspace_file:
        specs += load_workspace_yaml(workspace_file)
    if not specs:
        raise ConfigError(
            "No code location given. Pass -f defs.py, -m my_module or -w workspace.yaml."
        )
    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            raise ConfigError(
                f"Two code locations are named {spec.name!r}. Give each a distinct "
                "location_name in workspace.yaml."
            )
        seen.add(spec.name)
    return specs


_ENTRY_KEYS = {
    "python_file": {"relative_path", "location_name", "working_directory", "attribute"},
    "python_module": {"module_name", "location_name", "working_directory", "attribute"},
}


def load_workspace_yaml(path: str) -> list[LocationSpec]:
    """Read a ``workspace.yaml``; paths in it are relative to the file's directory."""
    import yaml

    try:
        with open(path) as handle:
            data = yaml.safe_load(handle) or {}
    except OSError as exc:
        raise ConfigError(f"Cannot read workspace file {path!r}: {exc}.") from exc
    base = os.path.dirname(os.path.abspath(path))
    entries = data.get("load_from") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ConfigError(
            f"{path}: expected a non-empty list under 'load_from', got {entries!r}. Example: "
            "load_from: [{python_file: {relative_path: defs.py}}]"
        )
    return [_spec_from_entry(path, base, i, entry) for i, entry in enumerate(entries)]


def _spec_from_entry(path: str, base: str, index: int, entry: Any) -> LocationSpec:
    if not isinstance(entry, dict) or len(entry) != 1 or next(iter(entry)) not in _ENTRY_KEYS:
        raise ConfigError(
            f"{path}: load_from[{index}] is {entry!r}; each entry must be a mapping with one "
            "key, 'python_file' or 'python_module'."
        )
    kind, body = next(iter(entry.items()))
    if isinstance(body, str):
        body = {"relative_path" if kind == "python_file" else "module_name": body}
    unknown = set(body or {}) - _ENTRY_KEYS[kind]
    if unknown:
        raise ConfigError(
            f"{path}: load_from[{index}].{kind} has unknown key(s) {sorted(unknown)}; "
            f"allowed: {sorted(_ENTRY_KEYS[kind])}."
        )
    workdir = body.get("working_directory")
    workdir = os.path.join(base, workdir) if workdir else None
    if kind == "python_file":
        if "relative_path" not in body:
            raise ConfigError(f"{path}: load_from[{index}].python_file needs 'relative_path'.")
        file_path = os.path.join(base, body["relative_path"])
        return spec_for_file(file_path, name=body.get("location_name"), working_directory=workdir)
    if "module_name" not in body:
        raise ConfigError(f"{path}: load_from[{index}].python_module needs 'module_name'.")
    return spec_for_module(
        body["module_name"], name=body.get("location_name"), working_directory=workdir or base
    )


# ---------------------------------------------------------------------------------------------
# Loading (imports user code)


def import_location_module(spec: LocationSpec) -> ModuleType:
    """Import the spec's file or module, with its working directory on ``sys.path``."""
    if spec.working_directory and spec.working_directory not in sys.path:
        sys.path.insert(0, spec.working_directory)
    if spec.module_name:
        return importlib.import_module(spec.module_name)
    if not spec.python_file:
        raise ConfigError(f"Code location {spec.name!r} has neither a python_file nor a module.")
    module_name = f"__tocsin_location__{spec.name}"
    loader_spec = importlib.util.spec_from_file_location(module_name, spec.python_file)
    if loader_spec is None or loader_spec.loader is None:
        raise ConfigError(f"Cannot load {spec.python_file!r} as Python code.")
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[module_name] = module
    try:
        loader_spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


def load_definitions(spec: LocationSpec) -> Any:
    """Import a location and return its definitions object."""
    return definitions_from_module(import_location_module(spec), where=spec.name)


def _public(name: str) -> type | None:
    try:
        import tocsin

        value = getattr(tocsin, name)
    except (ImportError, AttributeError):
        return None
    return value if isinstance(value, type) else None


def _is_definitions(value: Any) -> bool:
    cls = _public("Definitions")
    if cls is not None:
        return isinstance(value, cls)
    return type(value).__name__ == "Definitions"


def definitions_from_module(module: ModuleType, *, where: str = "") -> Any:
    """``defs``, else the single module-level ``Definitions``, else the top-level objects."""
    attr = getattr(module, "defs", None)
    if attr is not None and _is_definitions(attr):
        return attr
    found = [v for k, v in vars(module).items() if not k.startswith("__") and _is_definitions(v)]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise DagsterInvariantViolationError(
            f"Code location {where!r} has {len(found)} Definitions objects at module level. "
            "Name the one to load 'defs'."
        )
    return _collect_top_level(module)


def _collect_top_level(module: ModuleType) -> Any:
    groups: dict[str, list[Any]] = {"jobs": [], "sensors": [], "schedules": [], "assets": []}
    kinds = {
        "jobs": _public("JobDefinition"),
        "sensors": _public("SensorDefinition"),
        "schedules": _public("ScheduleDefinition"),
        "assets": _public("AssetsDefinition"),
    }
    for key, value in vars(module).items():
        if key.startswith("__"):
            continue
        for group, cls in kinds.items():
            if cls is not None and isinstance(value, cls):
                groups[group].append(value)
                break
    definitions_cls = _public("Definitions")
    if definitions_cls is not None:
        return definitions_cls(**{k: v for k, v in groups.items() if v})
    return CollectedDefinitions(**groups)


class CollectedDefinitions:
    """Stand-in for ``Definitions`` while that class is unavailable: holds what was found."""

    def __init__(self, jobs=(), sensors=(), schedules=(), assets=()):
        self.jobs = list(jobs)
        self.sensors = list(sensors)
        self.schedules = list(schedules)
        self.assets = list(assets)

    def get_all_job_defs(self) -> list[Any]:
        return list(self.jobs)

    def get_job_def(self, name: str) -> Any:
        for job in self.jobs:
            if job.name == name:
                return job
        raise DagsterInvariantViolationError(f"No job named {name!r} in this code location.")

    def get_sensor_def(self, name: str) -> Any:
        return _by_name(self.sensors, name, "sensor")

    def get_schedule_def(self, name: str) -> Any:
        return _by_name(self.schedules, name, "schedule")


def _by_name(items: Sequence[Any], name: str, kind: str) -> Any:
    for item in items:
        if item.name == name:
            return item
    raise DagsterInvariantViolationError(f"No {kind} named {name!r} in this code location.")
