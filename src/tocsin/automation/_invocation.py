"""How sensor and schedule functions are called: their parameters, resources and invocation.

A sensor or schedule function takes an optional context (its first parameter that is not a
resource) and any number of resource parameters, recognised by their annotation
(a ``ConfigurableResource`` subclass or ``ResourceParam[...]``). This module finds those
parameters, resolves the arguments of a direct call (``my_sensor(context)``) and calls the
function with the context and the resources it asks for.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tocsin.errors import (
    CheckError,
    DagsterInvalidDefinitionError,
    DagsterInvalidInvocationError,
    ParameterCheckError,
)

_NAME = re.compile(r"^[A-Za-z0-9_]+$")
_RESOURCE_CLASS_NAMES = frozenset(
    [
        *("ConfigurableResource", "ConfigurableResourceFactory", "ResourceDefinition"),
        *("IOManager", "ConfigurableIOManager", "ConfigurableIOManagerFactory"),
        "ConfigurableLegacyIOManager",
    ]
)


def check_valid_name(name: Any) -> str:
    """Return ``name`` if it is a valid definition name, else raise.

    Raises:
        DagsterInvalidDefinitionError: the name has characters outside ``[A-Za-z0-9_]``.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise DagsterInvalidDefinitionError(
            f'"{name}" is not a valid name in Dagster. Names must be in regex ^[A-Za-z0-9_]+$.'
        )
    return name


def _is_resource_annotation(annotation: Any) -> bool:
    if isinstance(annotation, str):
        return "ResourceParam" in annotation or annotation.rsplit(".", 1)[-1].endswith("Resource")
    if typing.get_origin(annotation) is typing.Annotated:
        return any("resource" in str(meta).lower() for meta in annotation.__metadata__[:])
    if isinstance(annotation, type):
        return bool({c.__name__ for c in annotation.__mro__} & _RESOURCE_CLASS_NAMES)
    return False


@dataclass(frozen=True)
class FunctionParams:
    """The parameters of a sensor or schedule function that tocsin fills in."""

    context_param: str | None
    resource_params: tuple[str, ...]


def inspect_params(fn: Callable[..., Any]) -> FunctionParams:
    """Find the context parameter and the resource parameters of ``fn``."""
    signature = inspect.signature(fn)
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except Exception:
        # Unresolvable annotations (e.g. names only imported under TYPE_CHECKING): fall
        # back to their text.
        hints = {}
    context_param = None
    resources: list[str] = []
    for name, param in signature.parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        annotation = hints.get(name, param.annotation)
        if annotation is not param.empty and _is_resource_annotation(annotation):
            resources.append(name)
        elif context_param is None:
            context_param = name
    return FunctionParams(context_param, tuple(resources))


def check_resource_keys(
    required_resource_keys: Any, params: FunctionParams, decorator: str
) -> set[str]:
    """The resource keys a function needs: declared keys or resource parameters, not both."""
    if required_resource_keys is None:
        return set(params.resource_params)
    if isinstance(required_resource_keys, str) or not isinstance(
        required_resource_keys, set | frozenset | list | tuple
    ):
        raise ParameterCheckError(
            f'Param "required_resource_keys" is not a set. Got {required_resource_keys!r} '
            f"which is type {type(required_resource_keys)}."
        )
    keys = set(required_resource_keys)
    if keys and params.resource_params:
        raise ParameterCheckError(
            "Invariant violation for parameter required_resource_keys: cannot specify resource "
            f"requirements in both @{decorator} decorator and as arguments to the decorated "
            f"function (resource parameters: {list(params.resource_params)}). Use one of the two."
        )
    return keys | set(params.resource_params)


def call_with_context(
    fn: Callable[..., Any],
    params: FunctionParams,
    context: Any,
    required_keys: set[str],
    kind: str,
    name: str,
) -> Any:
    """Call ``fn`` with ``context`` (if it takes one) and the resources it asks for.

    Raises:
        DagsterInvalidDefinitionError: a required resource is missing from the context.
    """
    resources = context.resources if required_keys else {}
    for key in sorted(required_keys):
        if key not in resources:
            raise DagsterInvalidDefinitionError(
                f"Resource with key '{key}' required by {kind.lower()} '{name}' was not provided."
            )
    kwargs = {key: getattr(resources, key) for key in params.resource_params}
    if params.context_param is None:
        return fn(**kwargs)
    return fn(context, **kwargs)


def resolve_direct_call(
    kind: str,
    params: FunctionParams,
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    context_cls: type,
    default_context: Callable[[], Any],
) -> tuple[Any, dict[str, Any]]:
    """Work out the context and the resource arguments of ``my_sensor(...)``.

    Args:
        kind: "Sensor" or "Schedule", for the messages.
        params: the function's parameters.
        args, kwargs: what the caller passed.
        context_cls: the context class the function expects.
        default_context: builds a context when the caller passed None.

    Returns:
        The context and a dict of resources passed as keyword arguments.
    """
    resource_kwargs = {k: v for k, v in kwargs.items() if k in params.resource_params}
    other_kwargs = {k: v for k, v in kwargs.items() if k not in params.resource_params}
    if len(args) + len(other_kwargs) > 1:
        raise DagsterInvalidInvocationError(
            f"{kind} invocation received multiple non-resource arguments. Only a first "
            "positional context parameter should be provided when invoking."
        )
    if params.context_param is not None and other_kwargs:
        key = next(iter(other_kwargs))
        if key != params.context_param:
            raise DagsterInvalidInvocationError(
                f"{kind} invocation expected argument '{params.context_param}'."
            )
        context = other_kwargs[key]
    elif args:
        context = args[0]
    elif params.context_param is not None:
        raise DagsterInvalidInvocationError(
            f"{kind} evaluation function expected context argument, but no context argument "
            "was provided when invoking."
        )
    else:
        context = None
    if context is None:
        context = default_context()
    elif not isinstance(context, context_cls):
        if params.context_param is None and params.resource_params:
            raise DagsterInvalidInvocationError(
                f"If directly invoking a {kind.lower()}, you may not provide resources as "
                "positional arguments, only as keyword arguments."
            )
        raise CheckError(
            f"Object {context!r} is not a {context_cls.__name__}. Got {context!r} with type "
            f"{type(context)}."
        )
    return context, resource_kwargs
