"""Composition: what calling ops inside ``@graph`` / ``@job`` records.

While a graph function runs, a ``Composition`` is on the stack. Calling an op (or a graph)
adds a node and returns handles to its outputs; passing a handle to another call records a
dependency. ``DynamicHandle.map(fn)`` runs ``fn`` once with a mapped handle, and
``.collect()`` fans the mapped results back in.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tocsin.errors import DagsterInvalidDefinitionError

_STACK: list[Composition] = []


def current_composition() -> Composition | None:
    return _STACK[-1] if _STACK else None


@dataclass(frozen=True)
class DependencyDefinition:
    """An input fed by output ``output`` of node ``node``."""

    node: str
    output: str = "result"
    description: str | None = None

    @property
    def solid(self) -> str:
        return self.node


@dataclass(frozen=True)
class MultiDependencyDefinition:
    """An input fed by a list of outputs (fan-in): the op receives a list."""

    dependencies: tuple[DependencyDefinition, ...]

    def __init__(self, dependencies: Any):
        object.__setattr__(self, "dependencies", tuple(dependencies))


@dataclass(frozen=True)
class DynamicCollectDependencyDefinition:
    """An input fed by all values of a dynamic (or mapped) output, as a list."""

    node: str
    output: str = "result"


@dataclass(frozen=True)
class NodeInvocation:
    """A dependency-dict key naming a node by definition name, alias, tags, retry policy."""

    name: str
    alias: str | None = None
    tags: Mapping[str, str] | None = None
    retry_policy: Any = None


@dataclass(frozen=True)
class OutputHandle:
    """What calling a node returns for one of its outputs."""

    node_name: str
    output_name: str
    is_dynamic: bool = False
    is_mapped: bool = False

    def map(self, fn: Callable[[Any], Any]) -> Any:
        if not self.is_dynamic:
            raise DagsterInvalidDefinitionError(
                f"Output '{self.output_name}' of node '{self.node_name}' is not dynamic: "
                ".map() works only on a DynamicOut."
            )
        return fn(OutputHandle(self.node_name, self.output_name, False, True))

    def collect(self) -> CollectHandle:
        if not (self.is_dynamic or self.is_mapped):
            raise DagsterInvalidDefinitionError(
                f"Output '{self.output_name}' of node '{self.node_name}' is not dynamic or "
                "mapped: .collect() works only downstream of a DynamicOut."
            )
        return CollectHandle(self.node_name, self.output_name)

    def alias(self, name: str) -> Any:  # a convenience so handles read like node calls
        raise DagsterInvalidDefinitionError(".alias() applies to an op, not to its output.")


@dataclass(frozen=True)
class CollectHandle:
    node_name: str
    output_name: str


@dataclass(frozen=True)
class GraphInputHandle:
    """A graph function's parameter while the graph is being composed."""

    input_name: str


@dataclass
class Node:
    name: str
    definition: Any
    tags: dict[str, str] = field(default_factory=dict)
    retry_policy: Any = None


class PendingNodeInvocation:
    """An op or graph with an alias, tags or retry policy, waiting to be called."""

    def __init__(
        self,
        definition: Any,
        alias: str | None = None,
        tags: Mapping[str, str] | None = None,
        retry_policy: Any = None,
    ):
        self.definition = definition
        self.given_alias = alias
        self.tags = dict(tags or {})
        self.retry_policy = retry_policy

    def alias(self, name: str) -> PendingNodeInvocation:
        return PendingNodeInvocation(self.definition, name, self.tags, self.retry_policy)

    def tag(self, tags: Mapping[str, str]) -> PendingNodeInvocation:
        return PendingNodeInvocation(
            self.definition, self.given_alias, {**self.tags, **tags}, self.retry_policy
        )

    def with_retry_policy(self, retry_policy: Any) -> PendingNodeInvocation:
        return PendingNodeInvocation(self.definition, self.given_alias, self.tags, retry_policy)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        composition = current_composition()
        if composition is None:
            raise DagsterInvalidDefinitionError(
                f"'{self.definition.name}' with an alias, tags or retry policy can only be "
                "called inside a @graph or @job function."
            )
        return composition.invoke(self.definition, self, args, kwargs)


class Composition:
    """Records the nodes and dependencies of one graph function while it runs."""

    def __init__(self, graph_name: str):
        self.graph_name = graph_name
        self.nodes: dict[str, Node] = {}
        self.dependencies: dict[str, dict[str, Any]] = {}
        self.input_mappings: dict[str, list[tuple[str, str]]] = {}
        self._uses: dict[str, int] = {}

    def __enter__(self) -> Composition:
        _STACK.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _STACK.pop()

    def _node_name(self, definition: Any, pending: PendingNodeInvocation | None) -> str:
        if pending is not None and pending.given_alias:
            name = pending.given_alias
            if name in self.nodes:
                raise DagsterInvalidDefinitionError(
                    f"Graph '{self.graph_name}' uses the alias '{name}' twice; aliases must be "
                    "unique within a graph."
                )
            return name
        count = self._uses.get(definition.name, 0) + 1
        self._uses[definition.name] = count
        name = definition.name if count == 1 else f"{definition.name}_{count}"
        while name in self.nodes:
            count += 1
            self._uses[definition.name] = count
            name = f"{definition.name}_{count}"
        return name

    def invoke(
        self,
        definition: Any,
        pending: PendingNodeInvocation | None,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        name = self._node_name(definition, pending)
        tags = dict(pending.tags) if pending else {}
        retry = pending.retry_policy if pending else None
        self.nodes[name] = Node(name, definition, tags, retry)
        input_names = [n for n in definition.input_names]
        if len(args) > len(input_names):
            raise DagsterInvalidDefinitionError(
                f"In graph '{self.graph_name}', '{definition.name}' was called with "
                f"{len(args)} positional inputs but takes {len(input_names)} {input_names}."
            )
        given = dict(zip(input_names, args, strict=False))
        for key, value in kwargs.items():
            if key not in input_names:
                raise DagsterInvalidDefinitionError(
                    f"In graph '{self.graph_name}', '{definition.name}' was called with input "
                    f"'{key}', which it does not have (inputs: {input_names})."
                )
            given[key] = value
        deps: dict[str, Any] = {}
        mapped = False
        for input_name, value in given.items():
            dep, is_mapped = self._dependency_for(definition, name, input_name, value)
            mapped = mapped or is_mapped
            if dep is not None:
                deps[input_name] = dep
        self.dependencies[name] = deps
        return self._outputs_of(definition, name, mapped)

    def _dependency_for(self, definition: Any, node: str, input_name: str, value: Any) -> Any:
        if isinstance(value, OutputHandle):
            if value.is_dynamic:
                raise DagsterInvalidDefinitionError(
                    f"In graph '{self.graph_name}', input '{input_name}' of '{node}' was given "
                    f"the dynamic output '{value.output_name}' of '{value.node_name}' directly. "
                    "Use .map(fn) to run once per value or .collect() to get them all."
                )
            return DependencyDefinition(value.node_name, value.output_name), value.is_mapped
        if isinstance(value, CollectHandle):
            return DynamicCollectDependencyDefinition(value.node_name, value.output_name), False
        if isinstance(value, GraphInputHandle):
            self.input_mappings.setdefault(value.input_name, []).append((node, input_name))
            return None, False
        if (
            isinstance(value, (list, tuple))
            and value
            and all(isinstance(v, OutputHandle) for v in value)
        ):
            return (
                MultiDependencyDefinition(
                    DependencyDefinition(v.node_name, v.output_name) for v in value
                ),
                False,
            )
        raise DagsterInvalidDefinitionError(
            f"In graph '{self.graph_name}', input '{input_name}' of '{node}' was given "
            f"{value!r}. Inside a graph, inputs must come from other ops' outputs or from the "
            "graph's own inputs; pass constants through config or default values."
        )

    def _outputs_of(self, definition: Any, name: str, mapped: bool) -> Any:
        handles = [
            OutputHandle(name, out_name, bool(getattr(out, "is_dynamic", False)), mapped)
            for out_name, out in definition.outs.items()
        ]
        if len(handles) == 1:
            return handles[0]
        if not handles:
            return None
        cls = namedtuple(f"{definition.name}_outputs", [h.output_name for h in handles])  # type: ignore[misc]
        return cls(*handles)
