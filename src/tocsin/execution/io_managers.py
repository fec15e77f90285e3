"""IO managers: where op outputs are stored and how downstream inputs load them.

An IO manager is a resource whose value is an ``IOManager``: ``handle_output(context, obj)``
stores an output, ``load_input(context)`` returns it. ``mem_io_manager`` keeps values in
memory (the default of ``execute_in_process``); ``fs_io_manager`` pickles them under the
instance's storage directory (the default for runs whose steps run in child processes).
"""

from __future__ import annotations

import os
import pickle
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any

from tocsin.definitions.config import Field, StringSource
from tocsin.definitions.resources import ResourceDefinition
from tocsin.errors import DagsterInvariantViolationError
from tocsin.model.asset_key import AssetKey
from tocsin.model.metadata import normalize_metadata


class IOManager(ABC):
    """Stores op outputs and loads them as downstream inputs."""

    @abstractmethod
    def handle_output(self, context: OutputContext, obj: Any) -> None:
        """Store ``obj``, the value of the output described by ``context``."""

    @abstractmethod
    def load_input(self, context: InputContext) -> Any:
        """Return the value for the input described by ``context``."""


class IOManagerDefinition(ResourceDefinition):
    """A resource definition whose value is an ``IOManager``.

    Args:
        resource_fn: builds the IO manager from an ``InitResourceContext``.
        config_schema: schema of its config.
        description: free text.
        required_resource_keys: resources it is built from.
    """

    def __init__(
        self,
        resource_fn: Callable[..., Any],
        config_schema: Any = None,
        description: str | None = None,
        required_resource_keys: Any = None,
        version: str | None = None,
        input_config_schema: Any = None,
        output_config_schema: Any = None,
    ):
        super().__init__(resource_fn, config_schema, description, required_resource_keys, version)
        self.input_config_schema = input_config_schema
        self.output_config_schema = output_config_schema

    @staticmethod
    def hardcoded_io_manager(
        value: IOManager, description: str | None = None
    ) -> IOManagerDefinition:
        """An IO manager definition that always returns ``value``."""
        return IOManagerDefinition(lambda: value, description=description)


def io_manager(
    config_schema: Any = None,
    description: str | None = None,
    required_resource_keys: Any = None,
    version: str | None = None,
    input_config_schema: Any = None,
    output_config_schema: Any = None,
) -> Any:
    """Turn a function that builds an ``IOManager`` into an ``IOManagerDefinition``.

    Usable bare (``@io_manager``) or with arguments.
    """
    if (
        callable(config_schema)
        and not isinstance(config_schema, type)
        and not isinstance(config_schema, Mapping)
    ):
        return IOManagerDefinition(config_schema)

    def decorate(fn: Callable[..., Any]) -> IOManagerDefinition:
        return IOManagerDefinition(
            fn,
            config_schema=config_schema,
            description=description,
            required_resource_keys=required_resource_keys,
            version=version,
            input_config_schema=input_config_schema,
            output_config_schema=output_config_schema,
        )

    return decorate


class _IOContextBase:
    """What input and output contexts share: the log, the asset key and the partition key."""

    _kind = "output"
    name: str | None
    _log: Any
    _asset_key: AssetKey | None
    _partition_key: str | None

    def _no_asset_key(self) -> str:
        raise NotImplementedError

    @property
    def log(self) -> Any:
        if self._log is None:
            from tocsin.definitions.logger import DagsterLogManager

            self._log = DagsterLogManager()
        return self._log

    @property
    def has_asset_key(self) -> bool:
        return self._asset_key is not None

    @property
    def asset_key(self) -> AssetKey:
        if self._asset_key is None:
            raise DagsterInvariantViolationError(
                f"{self._no_asset_key()}, so it has no asset_key. Check context.has_asset_key "
                "first."
            )
        return self._asset_key

    @property
    def has_partition_key(self) -> bool:
        return self._partition_key is not None

    @property
    def partition_key(self) -> str:
        if self._partition_key is None:
            raise DagsterInvariantViolationError(
                f"This {self._kind} is not partitioned (the run has no partition key)."
            )
        return self._partition_key

    @property
    def asset_partition_key(self) -> str:
        return self.partition_key


class OutputContext(_IOContextBase):
    """What an IO manager knows about the output it stores.

    Attributes:
        step_key: the step that produced the output (``op`` or ``op[mapping_key]``).
        name: the output name.
        run_id: the run that produced it.
        mapping_key: the dynamic mapping key, if any.
        metadata: the output's definition metadata.
        asset_key: the asset this output materializes, if any.
        partition_key: the run's partition key, if any.
        config: output config (None unless the IO manager defines an output config schema).
    """

    def __init__(
        self,
        step_key: str | None = None,
        name: str | None = None,
        job_name: str | None = None,
        run_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        mapping_key: str | None = None,
        config: Any = None,
        dagster_type: Any = None,
        log: Any = None,
        resource_config: Any = None,
        resources: Any = None,
        asset_key: AssetKey | None = None,
        partition_key: str | None = None,
        op_def: Any = None,
        step_context: Any = None,
    ):
        self.step_key = step_key
        self.name = name
        self.job_name = job_name
        self.run_id = run_id
        self.metadata = dict(metadata or {})
        self.definition_metadata = self.metadata
        self.mapping_key = mapping_key
        self.config = config
        self.dagster_type = dagster_type
        self._log = log
        self.resource_config = resource_config
        self.resources = resources
        self._asset_key = asset_key
        self._partition_key = partition_key
        self.op_def = op_def
        self._step_context = step_context
        self._user_metadata: dict[str, Any] = {}

    def _no_asset_key(self) -> str:
        return f"Output '{self.name}' of step '{self.step_key}' is not an asset"

    @property
    def has_asset_partitions(self) -> bool:
        return self._asset_key is not None and self._partition_key is not None

    def get_identifier(self) -> list[str]:
        """Parts that name this output uniquely: run id, step key, name[, mapping key]."""
        parts = [str(self.run_id), str(self.step_key), str(self.name)]
        if self.mapping_key:
            parts.append(self.mapping_key)
        return parts

    def get_asset_identifier(self) -> list[str]:
        parts = list(self.asset_key.path)
        if self._partition_key is not None:
            parts.append(self._partition_key)
        return parts

    def add_output_metadata(self, metadata: Mapping[str, Any]) -> None:
        """Metadata to record with this output's handled-output / materialization event."""
        self._user_metadata.update(metadata)

    def get_logged_metadata(self) -> dict[str, Any]:
        return normalize_metadata(self._user_metadata)

    def consume_logged_metadata(self) -> dict[str, Any]:
        data = normalize_metadata(self._user_metadata)
        self._user_metadata = {}
        return data


class InputContext(_IOContextBase):
    """What an IO manager knows about the input it loads.

    Attributes:
        name: the input name.
        upstream_output: the ``OutputContext`` of the output feeding this input (None when
            the input has no upstream and no asset).
        asset_key: the asset this input loads, if any.
        partition_key: the run's partition key, if any.
        config: input config (None unless the IO manager defines an input config schema).
        metadata: the input's definition metadata.
    """

    _kind = "input"

    def __init__(
        self,
        name: str | None = None,
        job_name: str | None = None,
        op_def: Any = None,
        config: Any = None,
        metadata: Mapping[str, Any] | None = None,
        upstream_output: OutputContext | None = None,
        dagster_type: Any = None,
        log: Any = None,
        resource_config: Any = None,
        resources: Any = None,
        asset_key: AssetKey | None = None,
        partition_key: str | None = None,
        step_context: Any = None,
    ):
        self.name = name
        self.job_name = job_name
        self.op_def = op_def
        self.config = config
        self.metadata = dict(metadata or {})
        self.definition_metadata = self.metadata
        self.upstream_output = upstream_output
        self.dagster_type = dagster_type
        self._log = log
        self.resource_config = resource_config
        self.resources = resources
        self._asset_key = asset_key
        self._partition_key = partition_key
        self._step_context = step_context

    def _no_asset_key(self) -> str:
        return f"Input '{self.name}' does not load an asset"

    def get_identifier(self) -> list[str]:
        if self.upstream_output is None:
            raise DagsterInvariantViolationError(
                f"Input '{self.name}' has no upstream output to identify."
            )
        return self.upstream_output.get_identifier()

    def get_asset_identifier(self) -> list[str]:
        parts = list(self.asset_key.path)
        if self._partition_key is not None:
            parts.append(self._partition_key)
        return parts


def build_output_context(**kwargs: Any) -> OutputContext:
    """An ``OutputContext`` for testing an IO manager."""
    return OutputContext(**kwargs)


def build_input_context(**kwargs: Any) -> InputContext:
    """An ``InputContext`` for testing an IO manager."""
    return InputContext(**kwargs)


class InMemoryIOManager(IOManager):
    """Keeps every output in a dict, keyed by its identifier (or asset key)."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, ...], Any] = {}

    def _key(self, context: OutputContext) -> tuple[str, ...]:
        if context.has_asset_key:
            return ("asset", *context.get_asset_identifier())
        return tuple(context.get_identifier())

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        self.values[self._key(context)] = obj

    def load_input(self, context: InputContext) -> Any:
        if context.upstream_output is None:
            if context.has_asset_key:
                key: tuple[str, ...] = ("asset", *context.get_asset_identifier())
            else:
                raise DagsterInvariantViolationError(
                    f"Input '{context.name}' has no upstream output for the memory IO manager."
                )
        else:
            key = self._key(context.upstream_output)
        if key not in self.values:
            raise DagsterInvariantViolationError(
                f"The memory IO manager has no value for {list(key)}: it keeps values only for "
                "the run that produced them. Use fs_io_manager to share values between runs."
            )
        return self.values[key]


class PickledObjectFilesystemIOManager(IOManager):
    """Pickles outputs to files under ``base_dir``.

    Op outputs go to ``<base_dir>/<run_id>/<step_key>/<output_name>``; asset outputs to
    ``<base_dir>/<asset key path>[/<partition>]`` so later runs can load them.
    """

    def __init__(self, base_dir: str):
        self.base_dir = base_dir

    def _path(self, context: OutputContext) -> str:
        parts = (
            context.get_asset_identifier() if context.has_asset_key else context.get_identifier()
        )
        return os.path.join(self.base_dir, *parts)

    def handle_output(self, context: OutputContext, obj: Any) -> None:
        path = self._path(context)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.tmp{os.getpid()}"
        with open(tmp, "wb") as fh:
            pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        context.add_output_metadata({"path": path})

    def load_input(self, context: InputContext) -> Any:
        if context.upstream_output is not None:
            path = self._path(context.upstream_output)
        elif context.has_asset_key:
            path = os.path.join(self.base_dir, *context.get_asset_identifier())
        else:
            raise DagsterInvariantViolationError(
                f"Input '{context.name}' has no upstream output for the filesystem IO manager."
            )
        try:
            with open(path, "rb") as fh:
                return pickle.load(fh)
        except FileNotFoundError:
            raise DagsterInvariantViolationError(
                f"fs_io_manager found no stored value at {path} for input '{context.name}'. "
                "Materialize the upstream output first."
            ) from None


def _mem_io_manager_fn(_context: Any) -> InMemoryIOManager:
    return InMemoryIOManager()


def _fs_io_manager_fn(context: Any) -> PickledObjectFilesystemIOManager:
    config = context.resource_config or {}
    base_dir = config.get("base_dir")
    if base_dir is None:
        instance = context.instance
        if instance is None:
            base_dir = os.path.join(os.getcwd(), "storage")
        else:
            base_dir = instance.storage_directory()
    return PickledObjectFilesystemIOManager(base_dir)


mem_io_manager = IOManagerDefinition(
    _mem_io_manager_fn, description="Keeps op outputs in memory for the length of a run."
)

fs_io_manager = IOManagerDefinition(
    _fs_io_manager_fn,
    config_schema={"base_dir": Field(StringSource, is_required=False)},
    description="Pickles op outputs under the instance's storage directory (or base_dir).",
)
