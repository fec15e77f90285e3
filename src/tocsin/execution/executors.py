"""Executors: how the steps of a run are carried out.

``in_process_executor`` runs steps one after another in this process.
``multiprocess_executor`` runs each step in a child process (up to ``max_concurrent`` at
once); the child loads the job again by importing the module that defined it, so a job that
cannot be imported (defined in ``__main__`` or inside a function) runs in process instead,
with an engine event saying so.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any

from tocsin.definitions.config import HasConfigSchema
from tocsin.definitions.op import check_valid_name
from tocsin.errors import DagsterInvalidDefinitionError, DagsterInvariantViolationError
from tocsin.execution.plan import ExecutionPlan, PlanScheduler, Step
from tocsin.model.events import DagsterEventType, EngineEventData, EventLogEntry

ET = DagsterEventType


class Executor(ABC):
    """Carries out the steps of an execution plan."""

    @abstractmethod
    def execute(self, plan_context: Any, execution_plan: ExecutionPlan) -> None:
        """Run every step of ``execution_plan``; ``plan_context.execute_step`` runs one."""

    @property
    def retries(self) -> Any:
        return "enabled"


class InitExecutorContext:
    """What an executor's creation function receives.

    Attributes:
        job: the job being run (``pipeline`` is the older name).
        executor_def: the executor's definition.
        executor_config: the processed ``execution`` config.
        instance: the instance of the run.
    """

    def __init__(
        self,
        job: Any,
        executor_def: ExecutorDefinition,
        executor_config: Any = None,
        instance: Any = None,
    ):
        self.job = job
        self.executor_def = executor_def
        self.executor_config = executor_config if executor_config is not None else {}
        self.instance = instance

    @property
    def pipeline(self) -> Any:
        return self.job

    @property
    def job_def(self) -> Any:
        return self.job


class ExecutorDefinition(HasConfigSchema):
    """A named way to execute steps, built per run from its config.

    Args:
        name: the executor's name.
        config_schema: schema of the ``execution`` config.
        executor_creation_fn: called with an ``InitExecutorContext``; returns an ``Executor``.
        description: free text.
    """

    def __init__(
        self,
        name: str,
        config_schema: Any = None,
        requirements: Any = None,
        executor_creation_fn: Callable[[InitExecutorContext], Executor] | None = None,
        description: str | None = None,
    ):
        self.name = check_valid_name(name, "executor name")
        if executor_creation_fn is None or not callable(executor_creation_fn):
            raise DagsterInvalidDefinitionError(
                f"Executor '{name}' needs an executor_creation_fn that returns an Executor."
            )
        self.config_schema = config_schema
        self.requirements = requirements
        self.executor_creation_fn = executor_creation_fn
        self.description = description

    def create(self, context: InitExecutorContext) -> Executor:
        executor = self.executor_creation_fn(context)
        if not isinstance(executor, Executor):
            raise DagsterInvariantViolationError(
                f"Executor '{self.name}' creation function returned {executor!r}; it must "
                "return an Executor instance."
            )
        return executor

    def configured(self, config: Mapping[str, Any], name: str | None = None) -> ExecutorDefinition:
        parent = self

        def create(context: InitExecutorContext) -> Executor:
            merged = {**dict(config), **dict(context.executor_config or {})}
            return parent.create(InitExecutorContext(context.job, parent, merged, context.instance))

        return ExecutorDefinition(name or self.name, self.config_schema, None, create)

    def __repr__(self) -> str:
        return f"<ExecutorDefinition {self.name}>"


def executor(
    name: Any = None,
    config_schema: Any = None,
    requirements: Any = None,
) -> Any:
    """Turn a function ``fn(init_context) -> Executor`` into an ``ExecutorDefinition``."""
    if callable(name) and not isinstance(name, str):
        fn = name
        return ExecutorDefinition(fn.__name__, None, None, fn)

    def decorate(fn: Callable[[InitExecutorContext], Executor]) -> ExecutorDefinition:
        return ExecutorDefinition(name or fn.__name__, config_schema, requirements, fn)

    return decorate


# ---------------------------------------------------------------------------- in process


class InProcessExecutor(Executor):
    """Runs steps one after another in this process."""

    def execute(self, plan_context: Any, execution_plan: ExecutionPlan) -> None:
        scheduler = PlanScheduler(execution_plan)
        plan_context.emit(ET.ENGINE_EVENT, f"Executing steps in process (pid: {os.getpid()})")
        while not scheduler.is_complete:
            ready = scheduler.ready()
            plan_context.report_skipped(scheduler.take_skipped())
            if not ready and not scheduler.running:
                if scheduler.pending:
                    raise DagsterInvariantViolationError(
                        f"Steps {scheduler.pending} can never run: their upstream never finished."
                    )
                break
            for step in ready:
                scheduler.complete(
                    step, plan_context.execute_step(step, scheduler.sources_for(step))
                )
        plan_context.failed_step_keys = scheduler.failed_step_keys


@executor(name="in_process", config_schema=None)
def in_process_executor(init_context: InitExecutorContext) -> Executor:
    return InProcessExecutor()


# ---------------------------------------------------------------------------- multiprocess


def job_origin(job_def: Any) -> tuple[str, str, str | None] | None:
    """``(module, attribute, file)`` from which a child process can load ``job_def``, if any.

    ``file`` is the module's file: a code location loaded from a file path gets a private
    module name that a fresh process cannot import, so the child then loads that file under
    the same name.
    """
    module_name = job_def.defined_in_module
    if not module_name or module_name == "__main__":
        return None
    module = sys.modules.get(module_name)
    if module is None:
        return None
    attr = _attribute_holding(module, job_def)
    if attr is None:
        return None
    return module_name, attr, getattr(module, "__file__", None)


def _attribute_holding(module: Any, job_def: Any) -> str | None:
    for attr, value in vars(module).items():
        if value is job_def:
            return attr
    for attr, value in vars(module).items():
        if getattr(value, "name", None) == job_def.name and type(value).__name__ == "JobDefinition":
            return attr
        get_job = getattr(value, "get_job_def", None)
        if callable(get_job) and type(value).__name__ == "Definitions":
            return attr
    return None


def _import_module(module_name: str, file: str | None) -> Any:
    """Import by name; a module that only exists under a private name is loaded from its file."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if file is None or exc.name != module_name:
            raise
    folder = os.path.dirname(os.path.abspath(file))
    if folder not in sys.path:
        sys.path.insert(0, folder)  # sibling imports work as they did in the code location
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load module {module_name!r} from {file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def load_job(module_name: str, attr: str, job_name: str, file: str | None = None) -> Any:
    """Import the module (from ``file`` when given) and return the job, from a ``Definitions``
    object if need be."""
    value = getattr(_import_module(module_name, file), attr)
    get_job = getattr(value, "get_job_def", None)
    if callable(get_job) and type(value).__name__ == "Definitions":
        return get_job(job_name)
    return value


class MultiprocessExecutor(Executor):
    """Runs each step in a child process, at most ``max_concurrent`` at a time."""

    def __init__(self, max_concurrent: int | None = None, start_method: str = "spawn"):
        self.max_concurrent = max_concurrent or os.cpu_count() or 1
        self.start_method = start_method

    def execute(self, plan_context: Any, execution_plan: ExecutionPlan) -> None:
        origin = job_origin(plan_context.job_def)
        ref = _instance_ref(plan_context.instance)
        if origin is None or ref is None:
            why = (
                "the job cannot be imported by a child process"
                if origin is None
                else ("the instance cannot be opened by a child process")
            )
            plan_context.emit(
                ET.ENGINE_EVENT,
                f"Running steps in process instead of in child processes: {why} (define the "
                "job at module level in an importable module).",
            )
            plan_context.build_resources()
            InProcessExecutor().execute(plan_context, execution_plan)
            return
        from tocsin.execution.child import run_steps_in_children

        run_steps_in_children(plan_context, execution_plan, origin, ref, self)


def _instance_ref(instance: Any) -> Any:
    get_ref = getattr(instance, "get_ref", None)
    if get_ref is None:
        return None
    try:
        return get_ref()
    except Exception:
        return None


def _multiprocess_schema() -> Any:
    from tocsin.definitions.config import Field, Noneable, Permissive

    return Permissive(
        {
            "max_concurrent": Field(Noneable(int), is_required=False, default_value=None),
            "start_method": Field(Permissive(), is_required=False),
        }
    )


def _create_multiprocess(init_context: InitExecutorContext) -> Executor:
    config = init_context.executor_config or {}
    start = config.get("start_method")
    method = next(iter(start)) if isinstance(start, Mapping) and start else "spawn"
    return MultiprocessExecutor(config.get("max_concurrent") or None, method)


class _MultiprocessDefinition(ExecutorDefinition):
    def _convert_config_schema(self) -> Any:
        return _multiprocess_schema()


multiprocess_executor = _MultiprocessDefinition(
    "multiprocess",
    None,
    None,
    _create_multiprocess,
    "Runs each step in its own child process (config: max_concurrent).",
)

default_executor = multiprocess_executor


def emit_entry_dicts(plan_context: Any, entries: list[dict[str, Any]]) -> None:
    for data in entries:
        plan_context.write(EventLogEntry.from_dict(data))


__all__ = [
    "EngineEventData",
    "Executor",
    "ExecutorDefinition",
    "InProcessExecutor",
    "InitExecutorContext",
    "MultiprocessExecutor",
    "Step",
    "default_executor",
    "executor",
    "in_process_executor",
    "multiprocess_executor",
]
