"""Asset jobs: ``define_asset_job`` and how a selection of assets becomes a ``JobDefinition``.

``define_asset_job`` returns an ``UnresolvedAssetJobDefinition``: a name and a selection. It
becomes a real job only when ``Definitions`` (or ``materialize``) resolves it against the
asset graph: one node per selected asset op, an edge wherever a selected asset feeds another,
and inputs from unselected assets left unconnected so execution loads them through their IO
managers.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from tocsin.definitions.asset import AssetsDefinition
from tocsin.definitions.asset_graph import AssetGraph
from tocsin.definitions.asset_selection import AssetSelection
from tocsin.errors import DagsterInvalidDefinitionError
from tocsin.model.asset_key import AssetKey

EPHEMERAL_JOB_NAME = "__ephemeral_asset_job__"


class UnresolvedAssetJobDefinition:
    """A job named by a selection of assets, resolved later against an asset graph."""

    def __init__(
        self,
        name: str,
        selection: AssetSelection,
        config: Any = None,
        description: str | None = None,
        tags: Mapping[str, Any] | None = None,
        run_tags: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        partitions_def: Any = None,
        executor_def: Any = None,
        op_retry_policy: Any = None,
    ):
        self.name = name
        self.selection = selection
        self.config = config
        self.description = description
        self.tags = dict(tags or {})
        self.run_tags = dict(run_tags) if run_tags is not None else None
        self.metadata = dict(metadata or {})
        self.partitions_def = partitions_def
        self.executor_def = executor_def
        self.op_retry_policy = op_retry_policy

    def resolve(
        self,
        asset_graph: AssetGraph,
        resource_defs: Mapping[str, Any] | None = None,
        executor_def: Any = None,
        logger_defs: Mapping[str, Any] | None = None,
    ) -> Any:
        """Build the ``JobDefinition`` for this selection in ``asset_graph``.

        Args:
            asset_graph: the assets to select from.
            resource_defs: resources available to the job (the assets' own are added).
            executor_def: used when the job was defined without one.
            logger_defs: loggers for the job.
        """
        keys = self.selection.resolve(asset_graph)
        return build_asset_job(
            self.name,
            asset_graph,
            keys,
            resource_defs=resource_defs,
            executor_def=self.executor_def or executor_def,
            logger_defs=logger_defs,
            config=self.config,
            description=self.description,
            tags=self.tags,
            run_tags=self.run_tags,
            metadata=self.metadata,
            partitions_def=self.partitions_def,
            op_retry_policy=self.op_retry_policy,
        )

    def __repr__(self) -> str:
        return f"<UnresolvedAssetJobDefinition {self.name} selection={self.selection!r}>"


def define_asset_job(
    name: str,
    selection: Any = None,
    config: Any = None,
    description: str | None = None,
    tags: Mapping[str, Any] | None = None,
    run_tags: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    partitions_def: Any = None,
    executor_def: Any = None,
    hooks: Any = None,
    op_retry_policy: Any = None,
    **_ignored: Any,
) -> UnresolvedAssetJobDefinition:
    """Declare a job that materializes a selection of assets.

    Args:
        name: the job's name.
        selection: which assets (an ``AssetSelection``, a string such as ``"*"`` or
            ``"my_asset*"``, or a list of keys / assets); all assets when None.
        config: run config for the job.
        description: free text.
        tags: tags for the job and its runs.
        partitions_def: the job's partitions (inferred from the assets when None).
        executor_def: how to execute (the ``Definitions`` executor when None).

    Returns:
        An ``UnresolvedAssetJobDefinition``, resolved by ``Definitions``.
    """
    from tocsin.definitions.op import check_valid_name

    check_valid_name(name, "job name")
    chosen = AssetSelection.all() if selection is None else AssetSelection.from_coercible(selection)
    return UnresolvedAssetJobDefinition(
        name,
        chosen,
        config=config,
        description=description,
        tags=tags,
        run_tags=run_tags,
        metadata=metadata,
        partitions_def=partitions_def,
        executor_def=executor_def,
        op_retry_policy=op_retry_policy,
    )


def _selected_defs(name: str, graph: AssetGraph, keys: set[AssetKey]) -> list[AssetsDefinition]:
    chosen: list[AssetsDefinition] = []
    for key in graph.toposort({k for k in keys if graph.is_materializable(k)}):
        assets_def = graph.assets_def_for_key(key)
        if assets_def is None or assets_def in chosen:
            continue
        missing = assets_def.keys - keys
        if missing:
            raise DagsterInvalidDefinitionError(
                f"When building job '{name}', the AssetsDefinition '{assets_def.op.name}' "
                f"contains asset keys {sorted(k.to_user_string() for k in assets_def.keys)}, "
                f"but only {sorted(k.to_user_string() for k in assets_def.keys & keys)} were "
                "selected. This AssetsDefinition does not support subsetting: select all of "
                "its keys."
            )
        chosen.append(assets_def)
    return chosen


def _infer_partitions_def(name: str, graph: AssetGraph, defs: list[AssetsDefinition]) -> Any:
    found: list[Any] = []
    for assets_def in defs:
        pdef = assets_def.partitions_def
        if pdef is not None and not any(pdef == f for f in found):
            found.append(pdef)
    if len(found) > 1:
        raise DagsterInvalidDefinitionError(
            f"Multiple partitioned assets exist in assets job '{name}'. Selected assets must "
            "have the same partitions definitions, but the selected assets have different "
            f"partitions definitions: {found!r}. Select assets that share one, or pass "
            "partitions_def to define_asset_job."
        )
    return found[0] if found else None


def _op_for_job(
    assets_def: AssetsDefinition, graph: AssetGraph, producer: Mapping[AssetKey, Any]
) -> Any:
    """The asset's op; a copy whose unconnected inputs load through the upstream IO manager."""
    op_def = assets_def.op
    new_ins = {}
    for input_name, spec in op_def.ins.items():
        key = spec.asset_key
        if key is None or key in producer or spec.input_manager_key or spec.is_nothing:
            continue
        if not graph.has(key):
            continue
        io_key = graph.io_manager_key(key)
        if io_key != "io_manager":
            new_in = copy.copy(spec)
            new_in.input_manager_key = io_key
            new_ins[input_name] = new_in
    if not new_ins:
        return op_def
    copied = copy.copy(op_def)
    copied.ins = {**op_def.ins, **new_ins}
    return copied


def _resources_for(
    defs: list[AssetsDefinition], graph: AssetGraph, resource_defs: Mapping[str, Any] | None
) -> dict[str, Any]:
    resources = dict(resource_defs or {})
    for source in graph.source_assets:
        for key, value in source.resource_defs.items():
            resources.setdefault(key, value)
    for assets_def in defs:
        for key, value in assets_def.resource_defs.items():
            resources.setdefault(key, value)
    return resources


def build_asset_job(
    name: str,
    asset_graph: AssetGraph,
    selected_keys: set[AssetKey],
    *,
    resource_defs: Mapping[str, Any] | None = None,
    executor_def: Any = None,
    logger_defs: Mapping[str, Any] | None = None,
    config: Any = None,
    description: str | None = None,
    tags: Mapping[str, Any] | None = None,
    run_tags: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    partitions_def: Any = None,
    op_retry_policy: Any = None,
) -> Any:
    """A ``JobDefinition`` that materializes ``selected_keys`` of ``asset_graph``."""
    from tocsin.definitions.graph import DependencyDefinition, GraphDefinition
    from tocsin.definitions.job import JobDefinition

    defs = _selected_defs(name, asset_graph, selected_keys)
    producer: dict[AssetKey, tuple[str, str]] = {}
    for assets_def in defs:
        for output_name, key in assets_def.keys_by_output_name.items():
            producer[key] = (assets_def.op.name, output_name)
    names: dict[str, AssetsDefinition] = {}
    node_defs = []
    dependencies: dict[str, dict[str, DependencyDefinition]] = {}
    for assets_def in defs:
        op_name = assets_def.op.name
        if op_name in names:
            raise DagsterInvalidDefinitionError(
                f"Job '{name}': two assets have ops named '{op_name}' ({names[op_name]!r} and "
                f"{assets_def!r}); give one of them another name or key."
            )
        names[op_name] = assets_def
        node_defs.append(_op_for_job(assets_def, asset_graph, producer))
        deps = {}
        for input_name, spec in assets_def.op.ins.items():
            if spec.asset_key is not None and spec.asset_key in producer:
                node, output = producer[spec.asset_key]
                deps[input_name] = DependencyDefinition(node, output)
        if deps:
            dependencies[op_name] = deps
    graph_def = GraphDefinition(name=name, node_defs=node_defs, dependencies=dependencies)
    pdef = partitions_def or _infer_partitions_def(name, asset_graph, defs)
    return JobDefinition(
        name=name,
        graph_def=graph_def,
        resource_defs=_resources_for(defs, asset_graph, resource_defs),
        executor_def=executor_def,
        logger_defs=logger_defs,
        config=config,
        tags=tags,
        run_tags=run_tags,
        partitions_def=pdef,
        description=description,
        metadata=metadata,
        op_retry_policy=op_retry_policy,
    )
