"""Reading an op function's signature: its context, inputs, resources and config parameters."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, get_args, get_origin

from tocsin.errors import DagsterInvalidDefinitionError

_CONTEXT_NAMES = frozenset({"context", "_context", "context_", "_"})
_CONTEXT_TYPE_NAMES = ("OpExecutionContext", "AssetExecutionContext")
RESOURCE_PARAM_MARKER = "tocsin_resource_param"


def _resolved_parameters(fn: Callable[..., Any]) -> list[inspect.Parameter]:
    try:
        return list(inspect.signature(fn, eval_str=True).parameters.values())
    except Exception:  # string annotations naming things not importable here
        return list(inspect.signature(fn).parameters.values())


def _is_context_param(param: inspect.Parameter) -> bool:
    if param.name in _CONTEXT_NAMES:
        return True
    annotation = param.annotation
    name = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    return any(t in str(name) for t in _CONTEXT_TYPE_NAMES)


def is_resource_annotation(annotation: Any) -> bool:
    """True for ``ResourceParam[...]`` and ``ConfigurableResource`` subclasses."""
    if get_origin(annotation) is Annotated:
        return RESOURCE_PARAM_MARKER in get_args(annotation)[1:]
    return isinstance(annotation, type) and getattr(annotation, "_tocsin_is_resource", False)


def is_config_annotation(annotation: Any) -> bool:
    """True for subclasses of the pydantic-backed ``Config`` (not resources)."""
    if not isinstance(annotation, type) or is_resource_annotation(annotation):
        return False
    return any(
        c.__name__ == "Config" and c.__module__.startswith("tocsin.definitions.config")
        for c in annotation.__mro__[1:]
    )


@dataclass(frozen=True)
class _Signature:
    has_context: bool
    input_names: tuple[str, ...]
    resource_params: tuple[str, ...]
    config_param: str | None
    config_cls: Any
    has_kwargs: bool
    annotations: Mapping[str, Any]
    defaults: Mapping[str, Any]


def _read_signature(fn: Callable[..., Any], what: str) -> _Signature:
    params = _resolved_parameters(fn)
    has_context = bool(params) and _is_context_param(params[0])
    rest = params[1:] if has_context else params
    inputs: list[str] = []
    resources: list[str] = []
    config_param = None
    config_cls = None
    has_kwargs = False
    annotations: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    for p in rest:
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            has_kwargs = True
            continue
        if p.kind is inspect.Parameter.VAR_POSITIONAL:
            raise DagsterInvalidDefinitionError(
                f"{what} has a *{p.name} parameter; name each input as its own parameter."
            )
        if is_resource_annotation(p.annotation):
            resources.append(p.name)
        elif is_config_annotation(p.annotation):
            config_param, config_cls = p.name, p.annotation
        else:
            inputs.append(p.name)
            if p.annotation is not inspect.Parameter.empty:
                annotations[p.name] = p.annotation
            if p.default is not inspect.Parameter.empty:
                defaults[p.name] = p.default
    return _Signature(
        has_context,
        tuple(inputs),
        tuple(resources),
        config_param,
        config_cls,
        has_kwargs,
        annotations,
        defaults,
    )
