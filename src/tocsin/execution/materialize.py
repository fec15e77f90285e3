"""``materialize`` and ``materialize_to_memory``: run assets in this process.

Both build a job over the given assets (``__ephemeral_asset_job__``), run it with
``execute_in_process`` and return its ``ExecuteInProcessResult``. Materializations land in
the instance's event log like those of any run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tocsin.definitions.asset_graph import AssetGraph, split_assets
from tocsin.definitions.asset_job import EPHEMERAL_JOB_NAME, build_asset_job
from tocsin.definitions.asset_selection import AssetSelection
from tocsin.errors import DagsterInvalidDefinitionError, DagsterInvariantViolationError


def _check_inputs_provided(graph: AssetGraph, declared: set[Any]) -> None:
    for assets_def in graph.assets_defs:
        for spec in assets_def.op.ins.values():
            key = spec.asset_key
            if key is None or spec.is_nothing:
                continue
            if not graph.is_materializable(key) and key not in declared:
                raise DagsterInvalidDefinitionError(
                    f'Input asset "{key.to_string()}" is not produced by any of the provided '
                    "asset ops and is not one of the provided sources. Pass the upstream asset "
                    "(or a SourceAsset for it) to materialize."
                )


def materialize(
    assets: Sequence[Any],
    run_config: Any = None,
    instance: Any = None,
    resources: Mapping[str, Any] | None = None,
    partition_key: str | None = None,
    raise_on_error: bool = True,
    tags: Mapping[str, str] | None = None,
    selection: Any = None,
) -> Any:
    """Materialize ``assets`` (or the ``selection`` of them) in this process.

    Args:
        assets: ``@asset`` definitions, plus ``SourceAsset``s / ``AssetSpec``s they read.
        run_config: run config for the run.
        instance: where the run and its events are recorded (ephemeral by default).
        resources: resources for the assets (plain values are allowed).
        partition_key: the partition to materialize, for partitioned assets.
        raise_on_error: re-raise the first error of an asset function.
        tags: tags for the run.
        selection: which of ``assets`` to run (the rest are loaded when read).

    Returns:
        The ``ExecuteInProcessResult`` of the run.
    """
    if isinstance(assets, (str, bytes)) or not isinstance(assets, Sequence):
        raise DagsterInvalidDefinitionError(f"materialize takes a list of assets, got {assets!r}.")
    computed, external = split_assets(assets)
    graph = AssetGraph(computed, external)
    _check_inputs_provided(graph, {s.key for s in external})
    chosen = AssetSelection.all() if selection is None else AssetSelection.from_coercible(selection)
    keys = chosen.resolve(graph)
    from tocsin.execution.io_managers import fs_io_manager

    # Values persist in the instance's storage directory, so a later run can load them.
    with_io = {"io_manager": fs_io_manager, **dict(resources or {})}
    job_def = build_asset_job(EPHEMERAL_JOB_NAME, graph, keys, resource_defs=with_io)
    return job_def.execute_in_process(
        run_config=run_config,
        instance=instance,
        partition_key=partition_key,
        raise_on_error=raise_on_error,
        tags=tags,
    )


def materialize_to_memory(
    assets: Sequence[Any],
    run_config: Any = None,
    instance: Any = None,
    resources: Mapping[str, Any] | None = None,
    partition_key: str | None = None,
    raise_on_error: bool = True,
    tags: Mapping[str, str] | None = None,
    selection: Any = None,
) -> Any:
    """Like ``materialize``, but every output is kept in memory (``mem_io_manager``).

    Raises:
        DagsterInvariantViolationError: ``resources`` provides an IO manager key.
    """
    from tocsin.execution.io_managers import mem_io_manager

    computed, external = split_assets(assets)
    io_keys = {"io_manager"}
    for assets_def in computed:
        io_keys |= {o.io_manager_key for o in assets_def.op.outs.values()}
    io_keys |= {s.io_manager_key for s in external}
    for key in sorted(io_keys & set(resources or {})):
        raise DagsterInvariantViolationError(
            f"Attempted to call `materialize_to_memory` with a resource provided for io manager "
            f"key '{key}'. Do not provide resources for io manager keys when calling "
            "`materialize_to_memory`, as it will override io management behavior for all keys."
        )
    in_memory = {**dict(resources or {}), **{k: mem_io_manager for k in io_keys}}
    return materialize(
        assets,
        run_config=run_config,
        instance=instance,
        resources=in_memory,
        partition_key=partition_key,
        raise_on_error=raise_on_error,
        tags=tags,
        selection=selection,
    )
