"""Resources as seen from a sensor or schedule context: initialize them, hand them out.

A context is given a mapping ``key -> resource`` where a resource is a plain value, a
``ResourceDefinition`` or a ``ConfigurableResource``. Definitions are initialized through
``tocsin.definitions.resources.build_resources`` (imported on first use); plain values are
used as they are. Resources whose initialization is a generator need a scope to be torn
down in, so they are only available inside ``with build_sensor_context(...) as context:``.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator, Mapping
from typing import Any

from tocsin.errors import DagsterInvariantViolationError, DagsterUnknownResourceError


class ResourceScope:
    """``with context:`` support: generator resources opened inside are torn down on exit."""

    _stack: contextlib.ExitStack | None = None

    def __enter__(self) -> Any:
        self._stack = contextlib.ExitStack()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            stack.close()


class Resources:
    """Initialized resources, read as attributes (``context.resources.db``)."""

    def __init__(self, values: Mapping[str, Any]):
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, name: str) -> Any:
        values = object.__getattribute__(self, "_values")
        if name in values:
            return values[name]
        if name.startswith("__"):
            raise AttributeError(name)
        raise DagsterUnknownResourceError(name)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Resources are read-only")

    def __contains__(self, name: object) -> bool:
        return name in object.__getattribute__(self, "_values")

    def __iter__(self) -> Iterator[str]:
        return iter(object.__getattribute__(self, "_values"))

    def _asdict(self) -> dict[str, Any]:
        return dict(object.__getattribute__(self, "_values"))

    def __repr__(self) -> str:
        return f"Resources({sorted(object.__getattribute__(self, '_values'))!r})"


def _needs_init(value: Any) -> bool:
    """True for resource definitions and configurable resources (which need initializing)."""
    names = {cls.__name__ for cls in type(value).__mro__}
    return bool(
        names & {"ResourceDefinition", "ConfigurableResource", "ConfigurableResourceFactory"}
    ) or hasattr(value, "resource_fn")


def _is_generator_resource(value: Any) -> bool:
    fn = getattr(value, "resource_fn", None)
    return fn is not None and (inspect.isgeneratorfunction(fn) or _is_cm_function(fn))


def _is_cm_function(fn: Any) -> bool:
    return getattr(fn, "__wrapped__", None) is not None and inspect.isgeneratorfunction(
        fn.__wrapped__
    )


def open_resources(
    resources: Mapping[str, Any], stack: contextlib.ExitStack | None, builder_name: str
) -> Resources:
    """Initialize ``resources``; generator resources need ``stack`` (an entered context).

    Args:
        resources: key -> value / resource definition.
        stack: where to register teardown, or None when the context was not entered.
        builder_name: the ``build_*_context`` function to name in the error message.

    Raises:
        DagsterInvariantViolationError: a generator resource outside a ``with`` block.
    """
    if not any(_needs_init(v) for v in resources.values()):
        return Resources(resources)
    if stack is None and any(_is_generator_resource(v) for v in resources.values()):
        raise DagsterInvariantViolationError(
            "At least one provided resource is a generator, but attempting to access "
            "resources outside of context manager scope. You can use the following syntax to "
            f"open a context manager: `with {builder_name}(...) as context:`"
        )
    from tocsin.definitions.resources import build_resources

    manager = build_resources(dict(resources))
    if stack is not None:
        built = stack.enter_context(manager)
    else:
        # No generator resources: nothing needs tearing down after initialization.
        with manager as built:
            pass
    values = built._asdict() if hasattr(built, "_asdict") else dict(vars(built))
    return Resources(values)
