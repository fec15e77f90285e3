"""The context an op's function receives: config, resources, logging, the run and its partition.

``OpExecutionContext`` reads everything from a ``StepData`` that the executor fills once
per step (or that ``build_op_context`` fills for direct invocation in tests), so building a
context costs one small object.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tocsin.definitions.resources import Resources, init_resources
from tocsin.errors import (
    CheckError,
    DagsterInvalidDefinitionError,
    DagsterInvalidInvocationError,
    DagsterInvariantViolationError,
)
from tocsin.model.asset_key import AssetKey
from tocsin.model.events import AssetMaterialization, AssetObservation
from tocsin.model.tags import PARTITION_NAME_TAG


@dataclass(slots=True)
class StepData:
    """Everything a context exposes about one step of one run (all optional: a context built
    with ``build_op_context`` has no run, job or step)."""

    asset_partition_range: Any = None
    config_instance: Any = None
    dagster_run: Any = None
    events: list[AssetMaterialization | AssetObservation] = field(default_factory=list)
    flush: Callable[[], None] | None = None
    instance: Any = None
    job_def: Any = None
    job_name: str | None = None
    log: Any = None
    mapping_key: str | None = None
    node_handle: str | None = None
    op_config: Any = None
    op_def: Any = None
    output_metadata: dict[tuple[str, str | None], dict[str, Any]] = field(default_factory=dict)
    partition_key: str | None = None
    partitions_def: Any = None
    resources: Resources = field(default_factory=lambda: Resources({}))
    retry_number: int = 0
    run_tags: Mapping[str, str] = field(default_factory=dict)
    step_key: str | None = None


class OpExecutionContext:
    """What an op's function receives as ``context``."""

    _tocsin_is_op_context = True

    def __init__(self, data: StepData):
        self._data = data

    # -- config, resources, logging

    @property
    def op_config(self) -> Any:
        return self._data.op_config

    @property
    def solid_config(self) -> Any:
        return self._data.op_config

    @property
    def config_instance(self) -> Any:
        """The op's ``Config`` object, built once from its processed config."""
        data = self._data
        if data.config_instance is None and data.op_def is not None and data.op_def.config_cls:
            from tocsin.definitions.config_class import config_to_instance

            data.config_instance = config_to_instance(
                data.op_def.config_cls,
                data.op_config,
                path=("ops", str(data.node_handle), "config"),
            )
        return data.config_instance

    @property
    def log(self) -> Any:
        if self._data.log is None:
            from tocsin.definitions.logger import DagsterLogManager

            self._data.log = DagsterLogManager()
        return self._data.log

    @property
    def resources(self) -> Resources:
        return self._data.resources

    # -- the run

    @property
    def run_id(self) -> str:
        run = self._data.dagster_run
        return "EPHEMERAL" if run is None else run.run_id

    @property
    def run(self) -> Any:
        if self._data.dagster_run is None:
            raise DagsterInvariantViolationError(
                "This context is not part of a run (it was built with build_op_context), so "
                "it has no run."
            )
        return self._data.dagster_run

    @property
    def dagster_run(self) -> Any:
        return self.run

    @property
    def pipeline_run(self) -> Any:
        return self.run

    @property
    def run_tags(self) -> Mapping[str, str]:
        return dict(self._data.run_tags)

    def has_tag(self, key: str) -> bool:
        return key in self._data.run_tags

    def get_tag(self, key: str) -> str | None:
        return self._data.run_tags.get(key)

    @property
    def job_name(self) -> str:
        return self._data.job_name or "ephemeral_job"

    @property
    def pipeline_name(self) -> str:
        return self.job_name

    @property
    def job_def(self) -> Any:
        return self._data.job_def

    @property
    def instance(self) -> Any:
        data = self._data
        if data.instance is None:
            raise DagsterInvariantViolationError(
                "This context has no instance. Pass instance=... to build_op_context."
            )
        if data.flush is not None:
            # Whatever the op reads from the instance includes the events it has made so far.
            data.flush()
        return data.instance

    @property
    def retry_number(self) -> int:
        return self._data.retry_number

    # -- the op

    @property
    def op_def(self) -> Any:
        return self._data.op_def

    @property
    def solid_def(self) -> Any:
        return self._data.op_def

    @property
    def op_handle(self) -> str:
        return str(self._data.node_handle)

    node_handle = op_handle

    @property
    def step_key(self) -> str:
        return self._data.step_key or str(self._data.node_handle)

    def get_step_key(self) -> str:
        return self.step_key

    def get_mapping_key(self) -> str | None:
        return self._data.mapping_key

    @property
    def selected_output_names(self) -> set[str]:
        op_def = self._data.op_def
        return set() if op_def is None else set(op_def.outs)

    # -- partitions

    @property
    def has_partition_key(self) -> bool:
        return self._data.partition_key is not None

    @property
    def partition_key(self) -> str:
        key = self._data.partition_key
        if key is None:
            raise CheckError(
                "Cannot access partition_key for a non-partitioned run. Check "
                "context.has_partition_key first."
            )
        return key

    @property
    def partition_keys(self) -> list[str]:
        return [self.partition_key]

    @property
    def asset_partition_key_range(self) -> Any:
        return self.partition_key_range

    @property
    def partition_key_range(self) -> Any:
        from tocsin.definitions.partitions import PartitionKeyRange

        return PartitionKeyRange(self.partition_key, self.partition_key)

    def asset_partition_key_for_output(self, output_name: str = "result") -> str:
        return self.partition_key

    def asset_partition_key_for_input(self, input_name: str) -> str:
        return self.partition_key

    @property
    def partition_time_window(self) -> Any:
        partitions_def = self._data.partitions_def
        window_for = getattr(partitions_def, "time_window_for_partition_key", None)
        if window_for is None:
            raise DagsterInvariantViolationError(
                "partition_time_window is only defined for runs of time-window partitioned jobs "
                f"or assets; this run's partitions are {partitions_def!r}."
            )
        return window_for(self.partition_key)

    @property
    def asset_partitions_time_window(self) -> Any:
        return self.partition_time_window

    def asset_partitions_time_window_for_output(self, output_name: str = "result") -> Any:
        return self.partition_time_window

    # -- events and metadata

    def add_output_metadata(
        self,
        metadata: Mapping[str, Any],
        output_name: str | None = None,
        mapping_key: str | None = None,
    ) -> None:
        """Metadata to record with an output (and its asset materialization, if any)."""
        op_def = self._data.op_def
        if output_name is None:
            if op_def is not None and len(op_def.outs) > 1:
                raise DagsterInvariantViolationError(
                    f"Op '{op_def.name}' has outputs {list(op_def.outs)}; pass output_name to "
                    "add_output_metadata."
                )
            output_name = next(iter(op_def.outs)) if op_def is not None else "result"
        elif op_def is not None and output_name not in op_def.outs:
            raise DagsterInvariantViolationError(
                f"Op '{op_def.name}' has no output '{output_name}' (outputs: {list(op_def.outs)})."
            )
        key = (output_name, mapping_key)
        self._data.output_metadata.setdefault(key, {}).update(metadata)

    def get_output_metadata(
        self, output_name: str = "result", mapping_key: str | None = None
    ) -> Any:
        return self._data.output_metadata.get((output_name, mapping_key))

    def log_event(self, event: Any) -> None:
        """Record an ``AssetMaterialization`` or ``AssetObservation`` for this step."""
        if not isinstance(event, (AssetMaterialization, AssetObservation)):
            raise DagsterInvariantViolationError(
                f"log_event takes an AssetMaterialization or AssetObservation, got {event!r}."
            )
        self._data.events.append(event)

    def get_events(self) -> list[Any]:
        """Events logged with ``log_event`` (useful after direct invocation)."""
        return list(self._data.events)

    # -- direct invocation

    def bind(
        self, op_def: Any, resource_values: Mapping[str, Any] | None = None
    ) -> OpExecutionContext:
        """A context for invoking ``op_def`` directly with this context's config/resources."""
        data = self._data
        available = data.resources._asdict()
        available.update(resource_values or {})
        missing = sorted(op_def.required_resource_keys - set(available))
        if missing:
            raise DagsterInvalidDefinitionError(
                f"resource with key '{missing[0]}' required by op '{op_def.name}' was not "
                f"provided. Pass it to build_op_context(resources={{'{missing[0]}': ...}})."
            )
        config = data.op_config
        if op_def.config_type is not None:
            from tocsin.definitions.config import process_config

            config = process_config(op_def.config_type, config, path=("config",))
        bound = dataclasses.replace(
            data,
            op_def=op_def,
            node_handle=data.node_handle or op_def.name,
            op_config=config,
            config_instance=None,
            resources=Resources(available, op_def.required_resource_keys),
        )
        return type(self)(bound)

    def invoke_direct(self, inputs: Mapping[str, Any]) -> Any:
        op_def = self._data.op_def
        return op_def.call_compute(self, inputs, self._data.resources)

    # -- context manager (tears down resources built by build_op_context)

    def __enter__(self) -> OpExecutionContext:
        return self

    def __exit__(self, *exc: object) -> None:
        stack = getattr(self, "_stack", None)
        if stack is not None:
            stack.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} step={self.step_key!r} run={self.run_id!r}>"


class AssetExecutionContext(OpExecutionContext):
    """The context of an asset's function: an op context that also knows its asset keys."""

    @property
    def op_execution_context(self) -> OpExecutionContext:
        return self

    @property
    def selected_asset_keys(self) -> set[AssetKey]:
        op_def = self._data.op_def
        if op_def is None:
            return set()
        return {o.asset_key for o in op_def.outs.values() if o.asset_key is not None}

    @property
    def asset_key(self) -> AssetKey:
        keys = sorted(self.selected_asset_keys)
        if len(keys) != 1:
            raise DagsterInvariantViolationError(
                f"asset_key is defined only for a single asset; this step has {len(keys)} "
                f"({[k.to_user_string() for k in keys]}). Use selected_asset_keys."
            )
        return keys[0]

    def asset_key_for_output(self, output_name: str = "result") -> AssetKey:
        op_def = self._data.op_def
        out = op_def.outs.get(output_name) if op_def is not None else None
        if out is None or out.asset_key is None:
            raise DagsterInvariantViolationError(f"Output '{output_name}' is not an asset.")
        return out.asset_key


def build_op_context(
    resources: Mapping[str, Any] | None = None,
    op_config: Any = None,
    resources_config: Mapping[str, Any] | None = None,
    instance: Any = None,
    config: Any = None,
    partition_key: str | None = None,
    partition_key_range: Any = None,
    mapping_key: str | None = None,
    run_tags: Mapping[str, str] | None = None,
    partitions_def: Any = None,
    retry_number: int = 0,
    **_ignored: Any,
) -> OpExecutionContext:
    """Build a context to invoke an op directly in a test: ``my_op(build_op_context(), x)``.

    Args:
        resources: resource key to definition or value; built now, torn down when the
            context is used as a context manager and the block ends.
        op_config: the op's config (``config`` is an alias).
        resources_config: resource key to its config.
        instance: the instance ``context.instance`` returns.
        partition_key: the partition ``context.partition_key`` returns.
    """
    if op_config is not None and config is not None:
        raise DagsterInvalidInvocationError(
            "build_op_context got both op_config and config; they are the same thing, pass one."
        )
    stack = contextlib.ExitStack()
    values = init_resources(
        resources or {},
        None,
        {
            k: (v.get("config") if isinstance(v, Mapping) and "config" in v else v)
            for k, v in (resources_config or {}).items()
        },
        instance,
        None,
        None,
        stack,
    )
    tags = dict(run_tags or {})
    if partition_key is not None:
        tags.setdefault(PARTITION_NAME_TAG, partition_key)
    data = StepData(
        op_config=op_config if op_config is not None else config,
        resources=Resources(values),
        instance=instance,
        partition_key=partition_key,
        partitions_def=partitions_def,
        mapping_key=mapping_key,
        run_tags=tags,
        retry_number=retry_number,
        asset_partition_range=partition_key_range,
    )
    context = AssetExecutionContext(data)
    context._stack = stack  # type: ignore[attr-defined]
    return context


build_asset_context = build_op_context
