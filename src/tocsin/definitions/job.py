"""Jobs: a graph plus what it needs to run (resources, executor, config, partitions).

A ``JobDefinition`` flattens and orders its graph once when built, so each run only walks
a ready list. ``validate_run_config`` checks a run config against the job's schema; the
checking itself (``resolve_run_config``, ``ResolvedRunConfig``) lives in ``run_config`` and
stays importable from here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tocsin.definitions.composition import (
    DependencyDefinition,
    DynamicCollectDependencyDefinition,
    MultiDependencyDefinition,
)
from tocsin.definitions.graph import FlatNode, GraphDefinition, compose
from tocsin.definitions.op import check_valid_name
from tocsin.definitions.resources import ResourceDefinition, coerce_resources
from tocsin.definitions.run_config import _DEFAULT_RESOURCE_KEYS
from tocsin.definitions.run_config import ResolvedRunConfig as ResolvedRunConfig
from tocsin.definitions.run_config import deep_merge as deep_merge
from tocsin.definitions.run_config import default_run_config as default_run_config
from tocsin.definitions.run_config import resolve_run_config as resolve_run_config
from tocsin.errors import DagsterInvalidDefinitionError


def dep_handles(dep: Any) -> list[tuple[str, str]]:
    """The ``(node handle, output)`` pairs an input depends on."""
    if isinstance(dep, MultiDependencyDefinition):
        return [(d.node, d.output) for d in dep.dependencies]
    if isinstance(dep, (DependencyDefinition, DynamicCollectDependencyDefinition)):
        return [(dep.node, dep.output)]
    return []


def _toposort(job_name: str, nodes: list[FlatNode]) -> list[FlatNode]:
    by_handle = {n.handle: n for n in nodes}
    ordered: list[FlatNode] = []
    state: dict[str, int] = {}

    def visit(node: FlatNode, path: list[str]) -> None:
        mark = state.get(node.handle)
        if mark == 2:
            return
        if mark == 1:
            cycle = " -> ".join([*path[path.index(node.handle) :], node.handle])
            raise DagsterInvalidDefinitionError(
                f"Circular dependencies exist in job '{job_name}': {cycle}."
            )
        state[node.handle] = 1
        for dep in node.dependencies.values():
            for upstream, _ in dep_handles(dep):
                if upstream in by_handle:
                    visit(by_handle[upstream], [*path, node.handle])
        state[node.handle] = 2
        ordered.append(node)

    for node in nodes:
        visit(node, [])
    return ordered


class JobDefinition:
    """A graph that can run: its resources, executor, default config and partitions.

    Args:
        graph_def: the graph to run.
        name: the job's name (defaults to the graph's).
        resource_defs: resource key to ``ResourceDefinition``, ``ConfigurableResource``
            or plain value.
        executor_def: how steps run (in-process or multiprocess); None for the default.
        config: default run config: a dict, a ``RunConfig``, or a function of the
            partition key (partitioned jobs) or of the given run config.
        tags: tags every run of this job gets.
        partitions_def: the job's partitions.
        description: free text.
        metadata: free-form metadata.
        op_retry_policy: retry policy for ops that have none of their own.
    """

    def __init__(
        self,
        *,
        graph_def: GraphDefinition,
        name: str | None = None,
        resource_defs: Mapping[str, Any] | None = None,
        executor_def: Any = None,
        config: Any = None,
        tags: Mapping[str, Any] | None = None,
        partitions_def: Any = None,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        logger_defs: Mapping[str, Any] | None = None,
        op_retry_policy: Any = None,
        hook_defs: Any = None,
        input_values: Mapping[str, Any] | None = None,
        run_tags: Mapping[str, Any] | None = None,
        _flat_nodes: list[FlatNode] | None = None,
        _op_selection: Sequence[str] | None = None,
    ):
        if not isinstance(graph_def, GraphDefinition):
            raise DagsterInvalidDefinitionError(
                f"JobDefinition graph_def must be a GraphDefinition, got {graph_def!r}."
            )
        self.name = check_valid_name(name or graph_def.name, "job name")
        self.graph = graph_def
        self.resource_defs: dict[str, ResourceDefinition] = coerce_resources(resource_defs)
        self._executor_def = executor_def
        self.config = config
        self.tags = {str(k): str(v) for k, v in {**graph_def.tags, **(tags or {})}.items()}
        self.run_tags = {str(k): str(v) for k, v in (run_tags or {}).items()}
        self.partitions_def = partitions_def
        self.description = description
        self.metadata = dict(metadata or {})
        self.logger_defs = dict(logger_defs or {})
        self.op_retry_policy = op_retry_policy
        self.hook_defs = hook_defs
        self.input_values = dict(input_values or {})
        self.op_selection = list(_op_selection) if _op_selection else None
        nodes = _flat_nodes if _flat_nodes is not None else graph_def.flatten()
        self.nodes_in_topological_order: list[FlatNode] = _toposort(self.name, nodes)
        self.nodes_by_handle = {n.handle: n for n in self.nodes_in_topological_order}
        self._resources_checked = False
        self.__module_hint = _caller_module()

    # -- accessors

    @property
    def graph_def(self) -> GraphDefinition:
        return self.graph

    @property
    def executor_def(self) -> Any:
        if self._executor_def is None:
            from tocsin.execution.executors import default_executor

            return default_executor
        return self._executor_def

    @property
    def has_explicit_executor(self) -> bool:
        return self._executor_def is not None

    @property
    def defined_in_module(self) -> str | None:
        """The module whose code built this job (used to load it again in a child process)."""
        return self.__module_hint

    @property
    def node_defs(self) -> list[Any]:
        return self.graph.node_defs

    @property
    def op_defs(self) -> list[Any]:
        seen: dict[int, Any] = {}
        for node in self.nodes_in_topological_order:
            seen.setdefault(id(node.op_def), node.op_def)
        return list(seen.values())

    @property
    def is_subset(self) -> bool:
        return self.op_selection is not None

    def has_op(self, handle: str) -> bool:
        return handle in self.nodes_by_handle

    def get_op(self, handle: str) -> FlatNode:
        node = self.nodes_by_handle.get(handle)
        if node is None:
            raise DagsterInvalidDefinitionError(
                f"Job '{self.name}' has no op '{handle}' (ops: {sorted(self.nodes_by_handle)})."
            )
        return node

    def __repr__(self) -> str:
        return f"<JobDefinition {self.name}>"

    # -- variants

    def _copy(self, **overrides: Any) -> JobDefinition:
        kwargs: dict[str, Any] = {
            "graph_def": self.graph,
            "name": self.name,
            "resource_defs": self.resource_defs,
            "executor_def": self._executor_def,
            "config": self.config,
            "tags": self.tags,
            "partitions_def": self.partitions_def,
            "description": self.description,
            "metadata": self.metadata,
            "logger_defs": self.logger_defs,
            "op_retry_policy": self.op_retry_policy,
            "hook_defs": self.hook_defs,
            "input_values": self.input_values,
            "run_tags": self.run_tags,
            "_flat_nodes": self.nodes_in_topological_order,
            "_op_selection": self.op_selection,
        }
        kwargs.update(overrides)
        copy = JobDefinition(**kwargs)
        copy.__module_hint = self.__module_hint
        return copy

    def with_top_level_resources(self, resources: Mapping[str, Any]) -> JobDefinition:
        """A copy whose resources are ``resources`` overridden by the job's own."""
        return self._copy(resource_defs={**coerce_resources(resources), **self.resource_defs})

    def with_resources(self, resources: Mapping[str, Any]) -> JobDefinition:
        """A copy whose resources are the job's own overridden by ``resources``."""
        return self._copy(resource_defs={**self.resource_defs, **coerce_resources(resources)})

    def with_executor_def(self, executor_def: Any) -> JobDefinition:
        return self._copy(executor_def=executor_def)

    def get_subset(
        self, op_selection: Sequence[str] | None = None, **_ignored: Any
    ) -> JobDefinition:
        """A copy that runs only the selected ops (``name``, ``*name``, ``name*``, ``+name``)."""
        if not op_selection:
            return self
        selected = select_ops(self, op_selection)
        nodes = []
        for node in self.nodes_in_topological_order:
            if node.handle not in selected:
                continue
            deps = {
                k: v
                for k, v in node.dependencies.items()
                if all(up in selected for up, _ in dep_handles(v))
            }
            nodes.append(FlatNode(node.handle, node.op_def, node.tags, node.retry_policy, deps))
        return self._copy(_flat_nodes=nodes, _op_selection=list(op_selection))

    # -- checks

    def validate_resource_requirements(self) -> None:
        """Raise if an op needs a resource key the job does not provide (checked once)."""
        if self._resources_checked:
            return
        provided = set(self.resource_defs) | _DEFAULT_RESOURCE_KEYS
        for node in self.nodes_in_topological_order:
            op_def = node.op_def
            needs = [(k, "op") for k in sorted(op_def.required_resource_keys)]
            needs += [(o.io_manager_key, "output") for o in op_def.outs.values()]
            needs += [
                (i.input_manager_key, "input") for i in op_def.ins.values() if i.input_manager_key
            ]
            for key, _kind in needs:
                if key not in provided:
                    raise DagsterInvalidDefinitionError(
                        f"resource with key '{key}' required by op '{node.handle}' was not "
                        f"provided. Please provide a ResourceDefinition to key '{key}', or "
                        "change the required key to one of the following keys which points to "
                        f"an ResourceDefinition: {sorted(provided)}"
                    )
        from tocsin.definitions.resources import required_closure

        required_closure(self.resource_defs, None)
        self._resources_checked = True

    # -- execution

    def execute_in_process(
        self,
        run_config: Any = None,
        instance: Any = None,
        partition_key: str | None = None,
        raise_on_error: bool = True,
        op_selection: Sequence[str] | None = None,
        tags: Mapping[str, Any] | None = None,
        resources: Mapping[str, Any] | None = None,
        run_id: str | None = None,
        input_values: Mapping[str, Any] | None = None,
        asset_selection: Any = None,
    ) -> Any:
        """Run the job in this process and return an ``ExecuteInProcessResult``.

        Args:
            run_config: run config (dict or ``RunConfig``), merged over the job's default.
            instance: where events and the run are recorded (an ephemeral one by default).
            partition_key: the partition to run, for partitioned jobs.
            raise_on_error: re-raise the first op error (the user's own exception).
            op_selection: run only these ops.
            tags: extra run tags.
            resources: resources that override the job's.
            run_id: the run id to use.
        """
        from tocsin.execution.run import execute_job_in_process

        return execute_job_in_process(
            self,
            run_config=run_config,
            instance=instance,
            partition_key=partition_key,
            raise_on_error=raise_on_error,
            op_selection=op_selection,
            tags=tags,
            resources=resources,
            run_id=run_id,
            input_values=input_values,
            asset_selection=asset_selection,
        )

    def resolve_run_config(
        self, run_config: Any = None, partition_key: str | None = None
    ) -> ResolvedRunConfig:
        """Merge the job's default config with ``run_config`` and validate it."""
        return resolve_run_config(self, run_config, partition_key)


def _caller_module() -> str | None:
    frame = inspect.currentframe()
    try:
        while frame is not None:
            module = frame.f_globals.get("__name__", "")
            if not module.startswith("tocsin.definitions") and not module.startswith(
                "tocsin.execution"
            ):
                return module
            frame = frame.f_back
    finally:
        del frame
    return None


def select_ops(job_def: JobDefinition, selection: Sequence[str]) -> set[str]:
    """The op handles a selection names; ``*`` / ``+`` walk up- or downstream."""
    if isinstance(selection, str):
        selection = [selection]
    ups: dict[str, set[str]] = {n.handle: set() for n in job_def.nodes_in_topological_order}
    downs: dict[str, set[str]] = {h: set() for h in ups}
    for node in job_def.nodes_in_topological_order:
        for dep in node.dependencies.values():
            for up, _ in dep_handles(dep):
                ups[node.handle].add(up)
                downs[up].add(node.handle)
    selected: set[str] = set()
    for item in selection:
        body = item.strip("*+")
        matches = [h for h in ups if h == body or h.startswith(body + ".")]
        if not matches:
            raise DagsterInvalidDefinitionError(
                f"op_selection {item!r} of job '{job_def.name}' matches no op. Ops: {sorted(ups)}."
            )
        up_depth = _depth(item, leading=True)
        down_depth = _depth(item, leading=False)
        for handle in matches:
            selected |= _walk(handle, ups, up_depth) | _walk(handle, downs, down_depth)
    return selected


def _depth(item: str, leading: bool) -> int:
    text = item if leading else item[::-1]
    if text.startswith("*"):
        return 10**9
    return len(text) - len(text.lstrip("+"))


def _walk(start: str, edges: dict[str, set[str]], depth: int) -> set[str]:
    seen = {start}
    frontier = {start}
    while frontier and depth > 0:
        frontier = {n for f in frontier for n in edges[f]} - seen
        seen |= frontier
        depth -= 1
    return seen


def validate_run_config(job_def: Any, run_config: Any = None) -> dict[str, Any]:
    """Validate ``run_config`` for ``job_def`` and return it processed (defaults filled).

    Raises:
        DagsterInvalidConfigError: the config does not match; each error names its path.
    """
    if not isinstance(job_def, JobDefinition):
        raise DagsterInvalidDefinitionError(
            f"validate_run_config expects a JobDefinition, got {job_def!r}."
        )
    return resolve_run_config(job_def, run_config).to_dict()


def job(
    compose_fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    resource_defs: Mapping[str, Any] | None = None,
    config: Any = None,
    tags: Mapping[str, Any] | None = None,
    run_tags: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    logger_defs: Mapping[str, Any] | None = None,
    executor_def: Any = None,
    hooks: Any = None,
    op_retry_policy: Any = None,
    partitions_def: Any = None,
    input_values: Mapping[str, Any] | None = None,
    **_ignored: Any,
) -> Any:
    """Turn a composition function into a ``JobDefinition``; usable bare or with arguments."""

    def decorate(fn: Callable[..., Any]) -> JobDefinition:
        job_name = check_valid_name(name or fn.__name__, "job name")
        graph_def = GraphDefinition(
            name=job_name,
            description=description or inspect.getdoc(fn),
            **compose(job_name, fn),
        )
        return JobDefinition(
            graph_def=graph_def,
            name=job_name,
            resource_defs=resource_defs,
            executor_def=executor_def,
            config=config,
            tags=tags,
            run_tags=run_tags,
            partitions_def=partitions_def,
            description=description or inspect.getdoc(fn),
            metadata=metadata,
            logger_defs=logger_defs,
            op_retry_policy=op_retry_policy,
            hook_defs=hooks,
            input_values=input_values,
        )

    if compose_fn is not None:
        return decorate(compose_fn)
    return decorate
