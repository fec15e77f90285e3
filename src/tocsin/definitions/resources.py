"""Resources: the long-lived objects (clients, connections, IO managers) ops use.

A ``ResourceDefinition`` wraps a function that builds the resource from an
``InitResourceContext``. If the function is a generator, the code after its ``yield`` is
the teardown, run when the run (or ``build_resources`` block) ends, whether it failed or
not. ``init_resources`` builds a set of resources in dependency order; it is what both
execution and ``build_resources`` use. ``ConfigurableResource`` (pydantic) lives in
``configurable_resource.py`` and is loaded only when used.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Iterator, Mapping
from typing import Annotated, Any, TypeVar

from tocsin.definitions.config import HasConfigSchema
from tocsin.definitions.op import RESOURCE_PARAM_MARKER
from tocsin.errors import (
    DagsterInvalidDefinitionError,
    DagsterInvalidInvocationError,
    DagsterResourceFunctionError,
    DagsterUnknownResourceError,
    user_code_error_boundary,
)

T = TypeVar("T")

ResourceParam = Annotated[T, RESOURCE_PARAM_MARKER]
"""Annotate an op or sensor parameter as ``ResourceParam[MyClient]`` to receive a resource."""


def __getattr__(name: str) -> Any:
    if name in ("ConfigurableResource", "ConfigurableIOManager"):
        from tocsin.definitions import configurable_resource

        return getattr(configurable_resource, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class ResourceDefinition(HasConfigSchema):
    """How to build one resource.

    Args:
        resource_fn: called with an ``InitResourceContext`` (or with nothing, if it takes no
            parameter); returns the resource, or yields it and then tears it down.
        config_schema: schema of ``context.resource_config``.
        description: free text.
        required_resource_keys: other resources this one is built from.
    """

    def __init__(
        self,
        resource_fn: Callable[..., Any],
        config_schema: Any = None,
        description: str | None = None,
        required_resource_keys: Any = None,
        version: str | None = None,
    ):
        if not callable(resource_fn):
            raise DagsterInvalidDefinitionError(
                f"ResourceDefinition resource_fn must be callable, got {resource_fn!r}."
            )
        if isinstance(required_resource_keys, str):
            raise DagsterInvalidDefinitionError(
                f"required_resource_keys must be a set of str, got the str "
                f"{required_resource_keys!r}. Write {{{required_resource_keys!r}}}."
            )
        self.resource_fn = resource_fn
        self.config_schema = config_schema
        self.description = description
        self.required_resource_keys: set[str] = set(required_resource_keys or ())
        self.version = version
        self._takes_context = _takes_argument(resource_fn)

    def build(self, context: InitResourceContext) -> Any:
        """Call the resource function (a generator's first value is the resource)."""
        if self._takes_context:
            return self.resource_fn(context)
        return self.resource_fn()

    def configured(self, config: Any, name: str | None = None) -> ResourceDefinition:
        """A copy of this resource whose config is fixed to ``config`` (or ``config(...)``)."""
        parent = self

        def configured_fn(context: InitResourceContext) -> Any:
            value = config(context.resource_config) if callable(config) else config
            processed = process_config_value(parent, value, ("config",))
            return parent.build(context.replace_config(processed))

        return ResourceDefinition(
            configured_fn,
            None,
            self.description,
            self.required_resource_keys,
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self._takes_context:
            if args or kwargs:
                raise DagsterInvalidInvocationError(
                    "Resource function takes no context, but arguments were given."
                )
            return self.resource_fn()
        context = args[0] if args else kwargs.get("context", kwargs.get("init_context"))
        if context is None:
            context = build_init_resource_context()
        return self.resource_fn(context)

    @staticmethod
    def hardcoded_resource(value: Any, description: str | None = None) -> ResourceDefinition:
        """A resource that is always ``value``."""
        return _HardcodedResource(value, description)

    @staticmethod
    def none_resource(description: str | None = None) -> ResourceDefinition:
        """A resource whose value is None."""
        return _HardcodedResource(None, description)

    @staticmethod
    def mock_resource(description: str | None = None) -> ResourceDefinition:
        from unittest import mock

        return _HardcodedResource(mock.MagicMock(), description)

    @staticmethod
    def string_resource(description: str | None = None) -> ResourceDefinition:
        return ResourceDefinition(lambda ctx: ctx.resource_config, str, description)


class _HardcodedResource(ResourceDefinition):
    def __init__(self, value: Any, description: str | None = None):
        super().__init__(lambda: value, None, description)
        self.value = value


def _takes_argument(fn: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(
        p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL) for p in params
    )


def resource(
    resource_fn: Callable[..., Any] | None = None,
    *,
    config_schema: Any = None,
    description: str | None = None,
    required_resource_keys: Any = None,
    version: str | None = None,
) -> Any:
    """Turn a function into a ``ResourceDefinition``; usable bare or with arguments."""

    def decorate(fn: Callable[..., Any]) -> ResourceDefinition:
        return ResourceDefinition(
            fn,
            config_schema=config_schema,
            description=description or inspect.getdoc(fn),
            required_resource_keys=required_resource_keys,
            version=version,
        )

    if resource_fn is not None:
        return decorate(resource_fn)
    return decorate


def coerce_resource(key: str, value: Any) -> ResourceDefinition:
    """Turn what a user passes for a resource into a ``ResourceDefinition``.

    A ``ResourceDefinition`` stays as it is, a ``ConfigurableResource`` instance provides its
    own definition, and any other object becomes a hardcoded resource.
    """
    if isinstance(value, ResourceDefinition):
        return value
    to_def = getattr(value, "get_resource_definition", None)
    if callable(to_def) and getattr(value, "_tocsin_is_resource", False):
        return to_def()
    return ResourceDefinition.hardcoded_resource(value)


def coerce_resources(resources: Mapping[str, Any] | None) -> dict[str, ResourceDefinition]:
    if resources is None:
        return {}
    if not isinstance(resources, Mapping):
        raise DagsterInvalidDefinitionError(
            f"resource_defs must be a dict of resource key to resource, got {resources!r}."
        )
    return {k: coerce_resource(k, v) for k, v in resources.items()}


class Resources:
    """The built resources, read as attributes: ``context.resources.db``."""

    def __init__(self, values: Mapping[str, Any], allowed: Any = None):
        object.__setattr__(self, "_values", values)
        object.__setattr__(self, "_allowed", allowed)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        allowed = self._allowed
        if (allowed is not None and name not in allowed) or name not in self._values:
            raise DagsterUnknownResourceError(name)
        return self._values[name]

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Resources are read-only.")

    def __contains__(self, name: object) -> bool:
        return name in self._values and (self._allowed is None or name in self._allowed)

    def __iter__(self) -> Iterator[str]:
        return iter(self._asdict())

    def __getitem__(self, name: str) -> Any:
        return self.__getattr__(name)

    def _asdict(self) -> dict[str, Any]:
        if self._allowed is None:
            return dict(self._values)
        return {k: v for k, v in self._values.items() if k in self._allowed}

    def original_resource_dict(self) -> dict[str, Any]:
        return self._asdict()

    def __repr__(self) -> str:
        return f"Resources({sorted(self._asdict())})"


class InitResourceContext:
    """What a resource function receives.

    Attributes:
        resource_config: the resource's processed config.
        resources: the resources this one declared in ``required_resource_keys``.
        log: a log manager (messages become events of the run, when there is one).
        instance: the instance of the run, if any.
    """

    def __init__(
        self,
        resource_config: Any = None,
        resources: Resources | None = None,
        instance: Any = None,
        log: Any = None,
        resource_def: ResourceDefinition | None = None,
        dagster_run: Any = None,
        resource_key: str | None = None,
    ):
        self.resource_config = resource_config
        self.resources = resources if resources is not None else Resources({})
        self.instance = instance
        self._log = log
        self.resource_def = resource_def
        self.dagster_run = dagster_run
        self.resource_key = resource_key

    @property
    def log(self) -> Any:
        if self._log is None:
            from tocsin.definitions.logger import DagsterLogManager

            self._log = DagsterLogManager()
        return self._log

    @property
    def log_manager(self) -> Any:
        return self.log

    @property
    def run_id(self) -> str | None:
        return None if self.dagster_run is None else self.dagster_run.run_id

    @property
    def pipeline_run(self) -> Any:
        return self.dagster_run

    def replace_config(self, config: Any) -> InitResourceContext:
        return InitResourceContext(
            config,
            self.resources,
            self.instance,
            self._log,
            self.resource_def,
            self.dagster_run,
            self.resource_key,
        )


def build_init_resource_context(
    config: Any = None,
    resources: Mapping[str, Any] | None = None,
    instance: Any = None,
) -> InitResourceContext:
    """Build an ``InitResourceContext`` to call a resource function in a test.

    Args:
        config: the resource config, as given (not validated).
        resources: resources this one depends on (values or definitions without teardown).
        instance: the instance, if the resource reads it.
    """
    values: dict[str, Any] = {}
    for key, value in (resources or {}).items():
        if isinstance(value, ResourceDefinition) or getattr(value, "_tocsin_is_resource", False):
            stack = contextlib.ExitStack()
            values.update(init_resources({key: value}, None, {}, instance, None, None, stack))
        else:
            values[key] = value
    return InitResourceContext(config, Resources(values), instance)


def process_config_value(definition: ResourceDefinition, value: Any, path: tuple[str, ...]) -> Any:
    """Validate a resource's config against its schema (None schema accepts anything)."""
    config_type = definition.config_type
    if config_type is None:
        return value
    from tocsin.definitions.config import process_config

    return process_config(config_type, value, path=path)


def required_closure(defs: Mapping[str, ResourceDefinition], keys: Any) -> list[str]:
    """``keys`` and every key they need, ordered so dependencies come first.

    Raises:
        DagsterInvalidDefinitionError: a needed key is not defined, or the needs form a cycle.
    """
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = visiting, 2 = done

    def visit(key: str, path: list[str]) -> None:
        if state.get(key) == 2:
            return
        if state.get(key) == 1:
            cycle = " -> ".join([*path[path.index(key) :], key])
            raise DagsterInvalidDefinitionError(
                f"Resource key '{key}' transitively depends on itself: {cycle}. Break the cycle "
                "in required_resource_keys."
            )
        definition = defs.get(key)
        if definition is None:
            needed_by = path[-1] if path else None
            raise DagsterInvalidDefinitionError(
                f"Resource with key '{key}' required by resource with key '{needed_by}' was not "
                f"provided. Provided resources: {sorted(defs)}."
            )
        state[key] = 1
        for dep in sorted(definition.required_resource_keys):
            visit(dep, [*path, key])
        state[key] = 2
        order.append(key)

    for key in sorted(defs if keys is None else keys):
        visit(key, [])
    return order


def init_resources(
    resource_defs: Mapping[str, Any],
    keys: Any,
    resource_config: Mapping[str, Any],
    instance: Any,
    log: Any,
    dagster_run: Any,
    stack: contextlib.ExitStack,
    *,
    processed: bool = False,
) -> dict[str, Any]:
    """Build resources ``keys`` (all when None) and their dependencies.

    Teardowns (generator resources, context managers) are pushed on ``stack`` so the caller
    decides when they run. ``resource_config`` maps key to its config value (processed
    already when ``processed`` is True).
    """
    defs = {k: coerce_resource(k, v) for k, v in resource_defs.items()}
    values: dict[str, Any] = {}
    for key in required_closure(defs, keys):
        definition = defs[key]
        config = resource_config.get(key)
        if not processed:
            config = process_config_value(definition, config, ("resources", key, "config"))
        deps = Resources(values, definition.required_resource_keys)
        context = InitResourceContext(config, deps, instance, log, definition, dagster_run, key)
        values[key] = _build_one(key, definition, context, stack)
    return values


def _build_one(
    key: str, definition: ResourceDefinition, context: InitResourceContext, stack: Any
) -> Any:
    if isinstance(definition, _HardcodedResource):
        return definition.value
    message = f"Error executing resource_fn on ResourceDefinition {key}"
    with user_code_error_boundary(DagsterResourceFunctionError, message):
        value = definition.build(context)
        if inspect.isgenerator(value):
            generator = value
            try:
                value = next(generator)
            except StopIteration:
                raise DagsterInvalidDefinitionError(
                    f"Resource generator for '{key}' did not yield a value; yield the resource "
                    "once, then tear it down after the yield."
                ) from None
            stack.callback(_finish_generator, key, generator)
        elif isinstance(value, contextlib._GeneratorContextManager):
            value = stack.enter_context(value)
    return value


def _finish_generator(key: str, generator: Any) -> None:
    with user_code_error_boundary(
        DagsterResourceFunctionError, f"Error tearing down resource {key}"
    ):
        try:
            next(generator)
        except StopIteration:
            return
    raise DagsterInvalidDefinitionError(
        f"Resource generator for '{key}' yielded more than once; yield exactly one value."
    )


@contextlib.contextmanager
def build_resources(
    resources: Mapping[str, Any],
    instance: Any = None,
    resource_config: Mapping[str, Any] | None = None,
    dagster_run: Any = None,
    log_manager: Any = None,
) -> Iterator[Resources]:
    """Build resources for use outside a run; tears them down when the block ends.

    Args:
        resources: resource key to definition, ``ConfigurableResource`` or plain value.
        instance: passed to each resource's init context.
        resource_config: ``{key: {"config": ...}}`` (or ``{key: config}``).

    Example:
        with build_resources({"db": db_resource}) as resources:
            resources.db.query(...)
    """
    config = {}
    for key, value in (resource_config or {}).items():
        config[key] = (
            value.get("config") if isinstance(value, Mapping) and "config" in value else value
        )
    with contextlib.ExitStack() as stack:
        values = init_resources(resources, None, config, instance, log_manager, dagster_run, stack)
        yield Resources(values)
