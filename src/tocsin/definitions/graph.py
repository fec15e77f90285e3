"""Graphs: ops (and nested graphs) wired together by their inputs and outputs.

``@graph`` runs the decorated function once under a ``Composition`` to learn its nodes
and dependencies. A job flattens its graph into ``FlatNode``s (nested graphs become
``outer.inner`` handles) once, when the job is built, so execution never re-walks it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tocsin.definitions.composition import (
    CollectHandle,
    Composition,
    DependencyDefinition,
    DynamicCollectDependencyDefinition,
    GraphInputHandle,
    MultiDependencyDefinition,
    Node,
    NodeInvocation,
    OutputHandle,
    PendingNodeInvocation,
    current_composition,
)
from tocsin.definitions.op import OpDefinition, Out, check_valid_name
from tocsin.errors import DagsterInvalidDefinitionError

__all__ = [
    "DependencyDefinition",
    "DynamicCollectDependencyDefinition",
    "FlatNode",
    "GraphDefinition",
    "MultiDependencyDefinition",
    "NodeInvocation",
    "graph",
]


@dataclass
class FlatNode:
    """One op of a flattened graph: its handle (``outer.inner``), definition and inputs."""

    handle: str
    op_def: OpDefinition
    tags: dict[str, str] = field(default_factory=dict)
    retry_policy: Any = None
    dependencies: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.handle


class GraphDefinition:
    """A set of nodes and the dependencies between them.

    Args:
        name: the graph's name.
        node_defs: the op and graph definitions used (each once, under its own name, unless
            the dependency dict names them with ``NodeInvocation``).
        dependencies: ``{node_name: {input_name: DependencyDefinition(node, output)}}``.
        description: free text.
        input_mappings: graph input name to the ``(node, input)`` pairs it feeds.
        output_mappings: graph output name to the ``(node, output)`` pair that provides it.
        tags: string tags for runs of jobs built from this graph.
    """

    def __init__(
        self,
        name: str,
        node_defs: Sequence[Any] | None = None,
        dependencies: Mapping[Any, Mapping[str, Any]] | None = None,
        description: str | None = None,
        input_mappings: Mapping[str, Sequence[tuple[str, str]]] | None = None,
        output_mappings: Mapping[str, tuple[str, str]] | None = None,
        config: Any = None,
        tags: Mapping[str, Any] | None = None,
        *,
        nodes: Mapping[str, Node] | None = None,
    ):
        self.name = check_valid_name(name, "graph name")
        self.description = description
        self.tags = dict(tags or {})
        self.config = config
        self.input_mappings = {k: list(v) for k, v in (input_mappings or {}).items()}
        self.output_mappings = dict(output_mappings or {})
        if nodes is not None:
            self.nodes = dict(nodes)
            self.dependencies = {k: dict(v) for k, v in (dependencies or {}).items()}
        else:
            self.nodes, self.dependencies = _nodes_from_defs(name, node_defs or [], dependencies)
        self._validate()
        self.outs = {k: self._output_spec(k, v) for k, v in self.output_mappings.items()}

    # -- validation

    def _validate(self) -> None:
        for node_name, deps in self.dependencies.items():
            node = self.nodes.get(node_name)
            if node is None:
                raise DagsterInvalidDefinitionError(
                    f"Graph '{self.name}': the dependency dict names node '{node_name}', which "
                    f"is not in the graph (nodes: {sorted(self.nodes)})."
                )
            for input_name, dep in deps.items():
                if input_name not in node.definition.input_names:
                    raise DagsterInvalidDefinitionError(
                        f"Graph '{self.name}': node '{node_name}' has no input '{input_name}' "
                        f"(inputs: {list(node.definition.input_names)})."
                    )
                for upstream, output in _dep_pairs(dep):
                    self._check_output(node_name, upstream, output)

    def _check_output(self, node_name: str, upstream: str, output: str) -> None:
        up = self.nodes.get(upstream)
        if up is None:
            raise DagsterInvalidDefinitionError(
                f"Graph '{self.name}': node '{node_name}' depends on '{upstream}', which is "
                f"not in the graph (nodes: {sorted(self.nodes)})."
            )
        if output not in up.definition.outs:
            raise DagsterInvalidDefinitionError(
                f"Graph '{self.name}': node '{node_name}' depends on output '{output}' of "
                f"'{upstream}', which has outputs {list(up.definition.outs)}."
            )

    def _output_spec(self, name: str, mapping: tuple[str, str]) -> Out:
        node_name, output = mapping
        self._check_output(f"<graph output {name}>", node_name, output)
        return self.nodes[node_name].definition.outs[output]

    # -- node-like protocol (so graphs nest)

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(self.input_mappings)

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(self.outs)

    @property
    def node_type_str(self) -> str:
        return "graph"

    @property
    def node_defs(self) -> list[Any]:
        seen: dict[int, Any] = {}
        for node in self.nodes.values():
            seen.setdefault(id(node.definition), node.definition)
        return list(seen.values())

    @property
    def node_dict(self) -> dict[str, Node]:
        return dict(self.nodes)

    def alias(self, name: str) -> PendingNodeInvocation:
        return PendingNodeInvocation(self, alias=check_valid_name(name, "alias"))

    def tag(self, tags: Mapping[str, str]) -> PendingNodeInvocation:
        return PendingNodeInvocation(self, tags=dict(tags))

    def with_retry_policy(self, retry_policy: Any) -> PendingNodeInvocation:
        return PendingNodeInvocation(self, retry_policy=retry_policy)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        composition = current_composition()
        if composition is None:
            raise DagsterInvalidDefinitionError(
                f"Graph '{self.name}' can only be called inside another @graph or @job "
                "function. To run it, use graph.to_job().execute_in_process()."
            )
        return composition.invoke(self, None, args, kwargs)

    def __repr__(self) -> str:
        return f"<GraphDefinition {self.name}>"

    # -- flattening

    def flatten(self) -> list[FlatNode]:
        """The graph's ops with nested graphs inlined, dependencies resolved to handles."""
        out: list[FlatNode] = []
        self._flatten_into(out, "", {})
        return out

    def _flatten_into(self, out: list[FlatNode], prefix: str, external: dict[str, Any]) -> None:
        mapped_inputs = {
            (node, inp): graph_input
            for graph_input, pairs in self.input_mappings.items()
            for node, inp in pairs
        }
        for node in self.nodes.values():
            handle = prefix + node.name
            deps: dict[str, Any] = {}
            for input_name in node.definition.input_names:
                dep = self.dependencies.get(node.name, {}).get(input_name)
                if dep is not None:
                    deps[input_name] = self._resolve_dep(prefix, dep)
                elif (node.name, input_name) in mapped_inputs:
                    source = external.get(mapped_inputs[(node.name, input_name)])
                    if source is not None:
                        deps[input_name] = source
            if isinstance(node.definition, GraphDefinition):
                node.definition._flatten_into(out, handle + ".", deps)
            else:
                out.append(
                    FlatNode(handle, node.definition, dict(node.tags), node.retry_policy, deps)
                )

    def _resolve_dep(self, prefix: str, dep: Any) -> Any:
        if isinstance(dep, MultiDependencyDefinition):
            return MultiDependencyDefinition(
                self._resolve_output(prefix, d.node, d.output) for d in dep.dependencies
            )
        resolved = self._resolve_output(prefix, dep.node, dep.output)
        if isinstance(dep, DynamicCollectDependencyDefinition):
            return DynamicCollectDependencyDefinition(resolved.node, resolved.output)
        return resolved

    def _resolve_output(self, prefix: str, node_name: str, output: str) -> DependencyDefinition:
        definition = self.nodes[node_name].definition
        if isinstance(definition, GraphDefinition):
            inner_node, inner_output = definition.output_mappings[output]
            return definition._resolve_output(f"{prefix}{node_name}.", inner_node, inner_output)
        return DependencyDefinition(prefix + node_name, output)

    # -- jobs

    def to_job(
        self,
        name: str | None = None,
        description: str | None = None,
        resource_defs: Mapping[str, Any] | None = None,
        config: Any = None,
        tags: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        logger_defs: Mapping[str, Any] | None = None,
        executor_def: Any = None,
        hooks: Any = None,
        op_retry_policy: Any = None,
        op_selection: Sequence[str] | None = None,
        partitions_def: Any = None,
        input_values: Mapping[str, Any] | None = None,
        run_tags: Mapping[str, Any] | None = None,
        **_ignored: Any,
    ) -> Any:
        """Build a ``JobDefinition`` that runs this graph."""
        from tocsin.definitions.job import JobDefinition

        job_def = JobDefinition(
            name=name or self.name,
            graph_def=self,
            resource_defs=resource_defs,
            executor_def=executor_def,
            config=config,
            tags=tags,
            partitions_def=partitions_def,
            description=description or self.description,
            metadata=metadata,
            logger_defs=logger_defs,
            op_retry_policy=op_retry_policy,
            input_values=input_values,
            run_tags=run_tags,
        )
        return job_def.get_subset(op_selection=op_selection) if op_selection else job_def

    def execute_in_process(self, *args: Any, **kwargs: Any) -> Any:
        """Run this graph as a job in this process (see ``JobDefinition.execute_in_process``)."""
        resources = kwargs.pop("resources", None)
        return self.to_job(resource_defs=resources).execute_in_process(*args, **kwargs)


def _dep_pairs(dep: Any) -> list[tuple[str, str]]:
    if isinstance(dep, MultiDependencyDefinition):
        return [(d.node, d.output) for d in dep.dependencies]
    if isinstance(dep, (DependencyDefinition, DynamicCollectDependencyDefinition)):
        return [(dep.node, dep.output)]
    raise DagsterInvalidDefinitionError(
        f"A dependency must be a DependencyDefinition, MultiDependencyDefinition or "
        f"DynamicCollectDependencyDefinition, got {dep!r}."
    )


def _nodes_from_defs(
    graph_name: str, node_defs: Sequence[Any], dependencies: Mapping[Any, Mapping[str, Any]] | None
) -> tuple[dict[str, Node], dict[str, dict[str, Any]]]:
    by_name: dict[str, Any] = {}
    for d in node_defs:
        if not isinstance(d, (OpDefinition, GraphDefinition)):
            raise DagsterInvalidDefinitionError(
                f"Graph '{graph_name}': node_defs must hold ops and graphs, got {d!r}."
            )
        if d.name in by_name and by_name[d.name] is not d:
            raise DagsterInvalidDefinitionError(
                f"Graph '{graph_name}' has two different definitions named '{d.name}'."
            )
        by_name[d.name] = d
    nodes: dict[str, Node] = {}
    deps: dict[str, dict[str, Any]] = {}
    for key, value in (dependencies or {}).items():
        if isinstance(key, NodeInvocation):
            definition = by_name.get(key.name)
            if definition is None:
                raise DagsterInvalidDefinitionError(
                    f"Graph '{graph_name}': NodeInvocation names '{key.name}', which is not in "
                    f"node_defs ({sorted(by_name)})."
                )
            alias = key.alias or key.name
            nodes[alias] = Node(alias, definition, dict(key.tags or {}), key.retry_policy)
        else:
            alias = key
            if alias in by_name:
                nodes.setdefault(alias, Node(alias, by_name[alias]))
        deps[alias] = dict(value)
    invoked = {n.definition.name for n in nodes.values()}
    for name, definition in by_name.items():
        if name not in nodes and name not in invoked:
            nodes[name] = Node(name, definition)
    return nodes, deps


def compose(name: str, fn: Callable[..., Any], out: Any = None) -> dict[str, Any]:
    """Run a graph function under a composition and return GraphDefinition kwargs."""
    params = list(inspect.signature(fn).parameters.values())
    handles = [GraphInputHandle(p.name) for p in params]
    with Composition(name) as composition:
        returned = fn(*handles)
    input_mappings = {p.name: composition.input_mappings.get(p.name, []) for p in params}
    return {
        "nodes": composition.nodes,
        "dependencies": composition.dependencies,
        "input_mappings": input_mappings,
        "output_mappings": _output_mappings(name, returned, out),
    }


def _output_mappings(name: str, returned: Any, out: Any) -> dict[str, tuple[str, str]]:
    if returned is None:
        return {}
    if isinstance(returned, (OutputHandle, CollectHandle)):
        if isinstance(returned, CollectHandle):
            raise DagsterInvalidDefinitionError(
                f"Graph '{name}' returns a collected dynamic output; return it from an op."
            )
        key = next(iter(out)) if isinstance(out, Mapping) and len(out) == 1 else "result"
        return {key: (returned.node_name, returned.output_name)}
    if isinstance(returned, Mapping):
        return {str(k): _handle_pair(name, v) for k, v in returned.items()}
    if isinstance(returned, tuple):
        if hasattr(returned, "_fields") and not isinstance(out, Mapping):
            return {
                f: _handle_pair(name, v) for f, v in zip(returned._fields, returned, strict=True)
            }
        if not isinstance(out, Mapping) or len(out) != len(returned):
            raise DagsterInvalidDefinitionError(
                f"Graph '{name}' returns a tuple of {len(returned)} outputs; name them with "
                "out={'a': GraphOut(), ...} (one entry per returned value)."
            )
        return {k: _handle_pair(name, v) for k, v in zip(out, returned, strict=True)}
    raise DagsterInvalidDefinitionError(
        f"Graph '{name}' returned {returned!r}; a graph function may return None, an op's "
        "output, a dict of outputs or a tuple of outputs."
    )


def _handle_pair(name: str, value: Any) -> tuple[str, str]:
    if not isinstance(value, OutputHandle):
        raise DagsterInvalidDefinitionError(
            f"Graph '{name}' returned {value!r} as an output; return outputs of ops called "
            "inside the graph."
        )
    return value.node_name, value.output_name


def graph(
    compose_fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    out: Any = None,
    config: Any = None,
    tags: Mapping[str, Any] | None = None,
    **_ignored: Any,
) -> Any:
    """Turn a composition function into a ``GraphDefinition``; usable bare or with arguments."""

    def decorate(fn: Callable[..., Any]) -> GraphDefinition:
        graph_name = check_valid_name(name or fn.__name__, "graph name")
        parts = compose(graph_name, fn, out)
        return GraphDefinition(
            name=graph_name,
            description=description or inspect.getdoc(fn),
            config=config,
            tags=tags,
            **parts,
        )

    if compose_fn is not None:
        return decorate(compose_fn)
    return decorate
