"""Run config for a job: merged over the job's default, validated, split by part.

``resolve_run_config`` checks a run config against the job's schema::

    {ops: {<op>: {config: ..., inputs: ...}}, resources: {<key>: {config: ...}},
     execution: {config: ...}, loggers: {...}}

and returns a ``ResolvedRunConfig``, or raises one ``DagsterInvalidConfigError`` naming every
bad path. ``solids`` is accepted for ``ops`` (older spelling). Nested graphs nest their ops:
``ops: {<graph>: {ops: {<op>: {config: ...}}}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tocsin.definitions.graph import FlatNode
from tocsin.errors import DagsterInvalidConfigError

if TYPE_CHECKING:  # only named in annotations; job.py builds on this module
    from tocsin.definitions.job import JobDefinition

_TOP_LEVEL_KEYS = ("ops", "solids", "resources", "execution", "loggers", "inputs")
_OP_ENTRY_KEYS = ("config", "inputs", "outputs", "ops", "solids")
_DEFAULT_RESOURCE_KEYS = frozenset({"io_manager"})


@dataclass
class ResolvedRunConfig:
    """A run config, validated, with every part ready for execution."""

    raw: dict[str, Any]
    op_config: dict[str, Any] = field(default_factory=dict)
    op_inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    resource_config: dict[str, Any] = field(default_factory=dict)
    execution: dict[str, Any] = field(default_factory=dict)
    loggers: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        ops: dict[str, Any] = {}
        for handle, config in self.op_config.items():
            entry = ops
            parts = handle.split(".")
            for part in parts[:-1]:
                entry = entry.setdefault(part, {}).setdefault("ops", {})
            node_entry = entry.setdefault(parts[-1], {})
            node_entry["config"] = config
            if handle in self.op_inputs:
                node_entry["inputs"] = self.op_inputs[handle]
        return {
            "ops": ops,
            "resources": {k: {"config": v} for k, v in self.resource_config.items()},
            "execution": self.execution,
            "loggers": self.loggers,
        }


def _as_dict(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    to_dict = getattr(value, "to_config_dict", None)
    if callable(to_dict):
        return dict(to_dict())
    if not isinstance(value, Mapping):
        raise DagsterInvalidConfigError(
            f"{what} must be a dict (or RunConfig), got {type(value).__name__}: {value!r}.",
            [],
            value,
        )
    return dict(value)


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def default_run_config(
    job_def: JobDefinition, run_config: dict[str, Any], partition_key: str | None
) -> dict[str, Any]:
    """The job's own config for this run (dict, RunConfig, or a function)."""
    config = job_def.config
    if config is None:
        return {}
    by_partition = getattr(config, "get_run_config_for_partition_key", None)
    if callable(by_partition):
        return _as_dict(by_partition(partition_key), "partitioned config") if partition_key else {}
    config_fn = getattr(config, "config_fn", None)
    if callable(config_fn):
        return _as_dict(config_fn(run_config), "config function result")
    if callable(config) and not isinstance(config, Mapping):
        arg = partition_key if job_def.partitions_def is not None else run_config
        return _as_dict(config(arg), "config function result")
    return _as_dict(config, f"config of job '{job_def.name}'")


def resolve_run_config(
    job_def: JobDefinition, run_config: Any = None, partition_key: str | None = None
) -> ResolvedRunConfig:
    """Validate ``run_config`` (merged over the job's default) for ``job_def``.

    Raises:
        DagsterInvalidConfigError: naming every bad path (``ops.my_op.config.x``).
    """
    given = _as_dict(run_config, "run_config")
    default = default_run_config(job_def, given, partition_key)
    if getattr(job_def.config, "config_fn", None) is not None:
        raw = default
    else:
        raw = deep_merge(default, given) if default else given
    errors: list[str] = []
    resolved = ResolvedRunConfig(raw=raw)
    unknown = [k for k in raw if k not in _TOP_LEVEL_KEYS]
    if unknown:
        errors.append(
            f"Received unexpected config entries {unknown} at the root. Expected: "
            "['ops', 'resources', 'execution', 'loggers']."
        )
    if "ops" in raw and "solids" in raw:
        errors.append("Run config has both 'ops' and 'solids'; use 'ops' only.")
    ops_key = "solids" if "solids" in raw and "ops" not in raw else "ops"
    ops = raw.get(ops_key) or {}
    if not isinstance(ops, Mapping):
        errors.append(f"Value at path {ops_key} must be a dict of op name to entry, got {ops!r}.")
        ops = {}
    _check_op_entries(job_def, ops, (ops_key,), "", errors)
    for node in job_def.nodes_in_topological_order:
        entry = _op_entry(ops, node.handle)
        _resolve_op(node, entry, (ops_key, *_path_parts(node.handle)), resolved, errors)
    _resolve_resources(job_def, raw.get("resources") or {}, resolved, errors)
    _resolve_execution(job_def, raw.get("execution"), resolved, errors)
    resolved.loggers = dict(raw.get("loggers") or {})
    if errors:
        raise DagsterInvalidConfigError(f"Error in config for job {job_def.name}", errors, raw)
    return resolved


def _path_parts(handle: str) -> list[str]:
    parts = handle.split(".")
    out: list[str] = []
    for i, part in enumerate(parts):
        out.append(part)
        if i < len(parts) - 1:
            out.append("ops")
    return out


def _op_entry(ops: Mapping[str, Any], handle: str) -> Any:
    entry: Any = ops
    parts = handle.split(".")
    for i, part in enumerate(parts):
        if not isinstance(entry, Mapping):
            return None
        entry = entry.get(part)
        if entry is None:
            return None
        if i < len(parts) - 1:
            entry = entry.get("ops") if isinstance(entry, Mapping) else None
    return entry


def _check_op_entries(
    job_def: JobDefinition,
    ops: Mapping[str, Any],
    path: tuple[str, ...],
    prefix: str,
    errors: list[str],
) -> None:
    handles = job_def.nodes_by_handle
    for name, entry in ops.items():
        handle = prefix + name
        is_op = handle in handles
        is_graph = any(h.startswith(handle + ".") for h in handles)
        where = ".".join(path)
        if not (is_op or is_graph):
            known = sorted(
                {h[len(prefix) :].split(".")[0] for h in handles if h.startswith(prefix)}
            )
            errors.append(
                f'Received unexpected config entry "{name}" at path {where}. Expected one of '
                f"the job's ops: {known}."
            )
            continue
        if not isinstance(entry, Mapping):
            errors.append(
                f"Value at path {where}.{name} must be a dict like {{'config': ...}}, got "
                f"{entry!r}."
            )
            continue
        bad = [k for k in entry if k not in _OP_ENTRY_KEYS]
        if bad:
            errors.append(
                f"Received unexpected config entries {bad} at path {where}.{name}. Expected: "
                "['config', 'inputs']."
            )
        if is_graph and isinstance(entry.get("ops"), Mapping):
            _check_op_entries(job_def, entry["ops"], (*path, name, "ops"), handle + ".", errors)


def _resolve_op(
    node: FlatNode,
    entry: Any,
    path: tuple[str, ...],
    resolved: ResolvedRunConfig,
    errors: list[str],
) -> None:
    op_def = node.op_def
    value = entry.get("config") if isinstance(entry, Mapping) else None
    config_type = op_def.config_type
    if config_type is None:
        resolved.op_config[node.handle] = value
    else:
        from tocsin.definitions.config import process_config

        try:
            resolved.op_config[node.handle] = process_config(
                config_type, value, path=(*path, "config")
            )
        except DagsterInvalidConfigError as exc:
            errors.extend(exc.errors or [str(exc)])
    inputs = entry.get("inputs") if isinstance(entry, Mapping) else None
    if inputs:
        if not isinstance(inputs, Mapping):
            errors.append(f"Value at path {'.'.join(path)}.inputs must be a dict, got {inputs!r}.")
            return
        values: dict[str, Any] = {}
        for name, item in inputs.items():
            if name not in op_def.ins:
                errors.append(
                    f'Received unexpected config entry "{name}" at path '
                    f"{'.'.join(path)}.inputs. Expected inputs: {list(op_def.ins)}."
                )
                continue
            values[name] = item["value"] if isinstance(item, Mapping) and "value" in item else item
        resolved.op_inputs[node.handle] = values


def _resolve_resources(
    job_def: JobDefinition, given: Any, resolved: ResolvedRunConfig, errors: list[str]
) -> None:
    if not isinstance(given, Mapping):
        errors.append(f"Value at path resources must be a dict, got {given!r}.")
        return
    defs = job_def.resource_defs
    for key in given:
        if key not in defs and key not in _DEFAULT_RESOURCE_KEYS:
            errors.append(
                f'Received unexpected config entry "{key}" at path resources. Expected one of '
                f"the job's resources: {sorted(defs)}."
            )
    from tocsin.definitions.resources import process_config_value

    for key, definition in defs.items():
        entry = given.get(key)
        value = entry.get("config") if isinstance(entry, Mapping) else None
        try:
            resolved.resource_config[key] = process_config_value(
                definition, value, ("resources", key, "config")
            )
        except DagsterInvalidConfigError as exc:
            errors.extend(exc.errors or [str(exc)])
    if "io_manager" in given and "io_manager" not in defs:
        entry = given["io_manager"]
        resolved.resource_config["io_manager"] = (
            entry.get("config") if isinstance(entry, Mapping) else None
        )


def _resolve_execution(
    job_def: JobDefinition, given: Any, resolved: ResolvedRunConfig, errors: list[str]
) -> None:
    if given is None:
        given = {}
    if not isinstance(given, Mapping):
        errors.append(f"Value at path execution must be a dict, got {given!r}.")
        return
    executor_def = job_def.executor_def
    name = getattr(executor_def, "name", None)
    if set(given) == {name} and isinstance(given[name], Mapping):
        given = given[name]  # older shape: execution: {<executor name>: {config: ...}}
    elif len(given) == 1 and "config" not in given:
        other = next(iter(given))
        errors.append(
            f'Received unexpected config entry "{other}" at path execution. This job uses '
            f"the executor '{name}': write execution: {{config: {{...}}}}."
        )
        return
    value = given.get("config") if isinstance(given, Mapping) else None
    config_type = getattr(executor_def, "config_type", None)
    if config_type is None:
        resolved.execution = dict(value or {})
        return
    from tocsin.definitions.config import process_config

    try:
        resolved.execution = process_config(config_type, value, path=("execution", "config"))
    except DagsterInvalidConfigError as exc:
        errors.extend(exc.errors or [str(exc)])
