"""The execution plan: which steps run, in what order, with inputs from where.

A step is one op run; an op downstream of a ``DynamicOut`` (through ``.map``) becomes one
step per mapping key (``op[key]``), known only once the dynamic step has run. The
``PlanScheduler`` hands out steps whose upstream ops are complete and records how each
ended, so executors (in-process or multiprocess) only ask "what is ready?".
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from tocsin.definitions.composition import (
    DependencyDefinition,
    DynamicCollectDependencyDefinition,
    MultiDependencyDefinition,
)
from tocsin.definitions.graph import FlatNode
from tocsin.definitions.job import dep_handles


@dataclass(frozen=True)
class Step:
    """One op run: ``key`` is the op handle, plus ``[mapping_key]`` for mapped steps."""

    key: str
    node: FlatNode
    mapping_key: str | None = None

    @property
    def handle(self) -> str:
        return self.node.handle

    @property
    def op_def(self) -> Any:
        return self.node.op_def


@dataclass(frozen=True)
class Source:
    """Where one value of an input comes from: an upstream step's output."""

    step_key: str
    node_handle: str
    output_name: str
    mapping_key: str | None = None


@dataclass
class StepOutcome:
    """How a step ended and which outputs (and mapping keys) it produced."""

    success: bool
    outputs: dict[str, list[str | None]] = field(default_factory=dict)
    skipped: bool = False


class ExecutionPlan:
    """The job's ops in dependency order, with which ones are mapped over a dynamic output."""

    def __init__(self, nodes: Sequence[FlatNode]):
        self.nodes = list(nodes)
        self.by_handle = {n.handle: n for n in self.nodes}
        # handle -> (dynamic node handle, output) it is mapped over, or None
        self.mapped_over: dict[str, tuple[str, str] | None] = {}
        for node in self.nodes:
            self.mapped_over[node.handle] = self._mapping_source(node)
        self.upstream: dict[str, set[str]] = {
            n.handle: {
                u for d in n.dependencies.values() for u, _ in dep_handles(d) if u in self.by_handle
            }
            for n in self.nodes
        }

    def _mapping_source(self, node: FlatNode) -> tuple[str, str] | None:
        for dep in node.dependencies.values():
            if not isinstance(dep, DependencyDefinition):
                continue
            upstream = self.by_handle.get(dep.node)
            if upstream is None:
                continue
            out = upstream.op_def.outs.get(dep.output)
            if out is not None and out.is_dynamic:
                return (dep.node, dep.output)
            source = self.mapped_over.get(dep.node)
            if source is not None:
                return source
        return None

    def is_mapped(self, handle: str) -> bool:
        return self.mapped_over.get(handle) is not None

    @property
    def step_keys_to_execute(self) -> list[str]:
        return [n.handle for n in self.nodes]

    def topological_steps(self) -> Iterator[FlatNode]:
        return iter(self.nodes)


class PlanScheduler:
    """Tracks which steps are done and which are ready to run."""

    def __init__(self, plan: ExecutionPlan):
        self.plan = plan
        self.pending: list[str] = [n.handle for n in plan.nodes]
        self.node_done: set[str] = set()
        self.outcomes: dict[str, StepOutcome] = {}
        self.steps_of: dict[str, list[Step]] = {}
        self.running: set[str] = set()
        self.skipped: list[tuple[Step, str, list[str]]] = []  # step, reason, upstream keys

    # -- readiness

    def ready(self) -> list[Step]:
        """Steps that may start now (their upstream ops have finished)."""
        out: list[Step] = []
        still: list[str] = []
        for handle in self.pending:
            if self.plan.upstream[handle] <= self.node_done:
                out.extend(self._expand(handle))
            else:
                still.append(handle)
        self.pending = still
        return out

    def _expand(self, handle: str) -> list[Step]:
        node = self.plan.by_handle[handle]
        source = self.plan.mapped_over[handle]
        if source is None:
            steps = [Step(handle, node)]
        else:
            keys = self._mapping_keys(*source)
            steps = [Step(f"{handle}[{k}]", node, k) for k in keys]
        self.steps_of[handle] = steps
        runnable = []
        for step in steps:
            reason, upstream = self._blocked(step)
            if reason is None:
                runnable.append(step)
                self.running.add(step.key)
            else:
                self.skipped.append((step, reason, upstream))
                self.outcomes[step.key] = StepOutcome(False, skipped=True)
        if not runnable:
            self.node_done.add(handle)
        return runnable

    def _mapping_keys(self, handle: str, output: str) -> list[str]:
        keys: list[str] = []
        for step in self.steps_of.get(handle, []):
            outcome = self.outcomes.get(step.key)
            if outcome is not None and outcome.success:
                keys.extend(k for k in outcome.outputs.get(output, []) if k is not None)
        return keys

    def _blocked(self, step: Step) -> tuple[str | None, list[str]]:
        failed: list[str] = []
        missing: list[str] = []
        for sources in self.sources_for(step).values():
            for src in sources:
                outcome = self.outcomes.get(src.step_key)
                if outcome is None or not outcome.success:
                    if outcome is not None and outcome.skipped:
                        missing.append(src.step_key)
                    else:
                        failed.append(src.step_key)
                elif src.mapping_key not in outcome.outputs.get(src.output_name, []):
                    missing.append(src.step_key)
        if failed:
            return "failed", sorted(set(failed))
        if missing:
            return "skipped", sorted(set(missing))
        return None, []

    # -- sources

    def sources_for(self, step: Step) -> dict[str, list[Source]]:
        """For each input fed by other steps, the outputs it reads (a list for fan-in)."""
        result: dict[str, list[Source]] = {}
        for input_name, dep in step.node.dependencies.items():
            if isinstance(dep, MultiDependencyDefinition):
                result[input_name] = [
                    self._source(step, d.node, d.output) for d in dep.dependencies
                ]
            elif isinstance(dep, DynamicCollectDependencyDefinition):
                result[input_name] = self._collect_sources(dep.node, dep.output)
            elif isinstance(dep, DependencyDefinition):
                result[input_name] = [self._source(step, dep.node, dep.output)]
        return result

    def _source(self, step: Step, handle: str, output: str) -> Source:
        upstream = self.plan.by_handle[handle]
        if upstream.op_def.outs[output].is_dynamic:
            return Source(handle, handle, output, step.mapping_key)
        if self.plan.is_mapped(handle):
            return Source(f"{handle}[{step.mapping_key}]", handle, output, None)
        return Source(handle, handle, output, None)

    def _collect_sources(self, handle: str, output: str) -> list[Source]:
        upstream = self.plan.by_handle[handle]
        if upstream.op_def.outs[output].is_dynamic:
            return [
                Source(s.key, handle, output, k)
                for s in self.steps_of.get(handle, [])
                if self.outcomes.get(s.key) is not None and self.outcomes[s.key].success
                for k in self.outcomes[s.key].outputs.get(output, [])
            ]
        return [
            Source(s.key, handle, output, None)
            for s in self.steps_of.get(handle, [])
            if self.outcomes.get(s.key) is not None
            and self.outcomes[s.key].success
            and None in self.outcomes[s.key].outputs.get(output, [])
        ]

    # -- completion

    def complete(self, step: Step, outcome: StepOutcome) -> None:
        self.outcomes[step.key] = outcome
        self.running.discard(step.key)
        steps = self.steps_of[step.handle]
        if all(s.key in self.outcomes for s in steps):
            self.node_done.add(step.handle)

    def take_skipped(self) -> list[tuple[Step, str, list[str]]]:
        skipped, self.skipped = self.skipped, []
        return skipped

    @property
    def is_complete(self) -> bool:
        return not self.pending and not self.running

    @property
    def failed_step_keys(self) -> list[str]:
        return [k for k, o in self.outcomes.items() if not o.success and not o.skipped]
