"""Ops: the unit of computation, and the values that describe their inputs and outputs.

An ``OpDefinition`` wraps a user function with named inputs (``In``), outputs (``Out``),
a config schema, the resource keys it needs and a retry policy. Inside ``@graph`` / ``@job``
composition, calling an op records a node instead of running it (see ``composition.py``);
outside composition, calling it runs the function directly (direct invocation).

The input and output values are defined in ``op_io``, the reading of the function's
signature in ``op_signature``; their names stay importable from here.
"""

from __future__ import annotations

import inspect
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from tocsin.definitions.config import HasConfigSchema
from tocsin.definitions.op_io import NO_VALUE as NO_VALUE
from tocsin.definitions.op_io import DynamicOut as DynamicOut
from tocsin.definitions.op_io import DynamicOutput as DynamicOutput
from tocsin.definitions.op_io import In as In
from tocsin.definitions.op_io import Nothing as Nothing
from tocsin.definitions.op_io import Out as Out
from tocsin.definitions.op_io import Output as Output
from tocsin.definitions.op_io import check_valid_name as check_valid_name
from tocsin.definitions.op_io import is_nothing as is_nothing
from tocsin.definitions.op_signature import RESOURCE_PARAM_MARKER as RESOURCE_PARAM_MARKER
from tocsin.definitions.op_signature import _read_signature as _read_signature
from tocsin.definitions.op_signature import is_config_annotation as is_config_annotation
from tocsin.definitions.op_signature import is_resource_annotation as is_resource_annotation
from tocsin.errors import CheckError, DagsterInvalidDefinitionError, DagsterInvalidInvocationError


class Backoff(Enum):
    """How the delay between retries grows."""

    LINEAR = "LINEAR"
    EXPONENTIAL = "EXPONENTIAL"


class Jitter(Enum):
    """Randomness added to the delay between retries."""

    FULL = "FULL"
    PLUS_MINUS = "PLUS_MINUS"


@dataclass(frozen=True)
class RetryPolicy:
    """How an op that raised is retried.

    Args:
        max_retries: how many times to retry after the first attempt.
        delay: seconds to wait before a retry (before backoff and jitter).
        backoff: how the delay grows with each attempt.
        jitter: randomness applied to the delay.
    """

    max_retries: int = 1
    delay: float | None = None
    backoff: Backoff | None = None
    jitter: Jitter | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.max_retries, int) or self.max_retries < 0:
            raise CheckError(
                f"RetryPolicy max_retries must be an int >= 0, got {self.max_retries!r}."
            )
        if self.delay is not None and (not isinstance(self.delay, (int, float)) or self.delay < 0):
            raise CheckError(f"RetryPolicy delay must be a number >= 0, got {self.delay!r}.")
        if (self.backoff or self.jitter) and self.delay is None:
            raise CheckError("RetryPolicy: backoff and jitter need a delay; pass delay=<seconds>.")

    def calculate_delay(self, attempt_num: int) -> float:
        """Seconds to wait before attempt ``attempt_num`` (1 = first retry)."""
        base = float(self.delay or 0)
        if self.backoff is Backoff.LINEAR:
            base *= attempt_num
        elif self.backoff is Backoff.EXPONENTIAL:
            base *= (2**attempt_num) - 1
        if self.jitter is Jitter.FULL:
            base = random.random() * base
        elif self.jitter is Jitter.PLUS_MINUS:
            base = max(0.0, base + base * (random.random() * 2 - 1))
        return base


# ---------------------------------------------------------------------------- definition


class OpDefinition(HasConfigSchema):
    """An op: a function with declared inputs, outputs, config and resource needs.

    Args:
        compute_fn: the user function.
        name: the op's name (letters, digits, underscores).
        ins: input name to ``In``.
        outs: output name to ``Out``.
        description: free text.
        config_schema: schema of ``context.op_config``.
        required_resource_keys: resource keys the op reads from ``context.resources``.
        tags: string tags.
        retry_policy: how to retry the op when it raises.
    """

    def __init__(
        self,
        compute_fn: Callable[..., Any],
        name: str,
        ins: Mapping[str, In] | None = None,
        outs: Mapping[str, Out] | None = None,
        description: str | None = None,
        config_schema: Any = None,
        required_resource_keys: Any = None,
        tags: Mapping[str, Any] | None = None,
        retry_policy: RetryPolicy | None = None,
        code_version: str | None = None,
    ):
        self.name = check_valid_name(name, "op name")
        if not callable(compute_fn):
            raise DagsterInvalidDefinitionError(
                f"Op '{name}': compute_fn must be callable, got {compute_fn!r}."
            )
        self.compute_fn = compute_fn
        self.description = description
        self.tags = dict(tags or {})
        self.retry_policy = retry_policy
        self.code_version = code_version
        if retry_policy is not None and not isinstance(retry_policy, RetryPolicy):
            raise DagsterInvalidDefinitionError(
                f"Op '{name}': retry_policy must be a RetryPolicy, got {retry_policy!r}."
            )
        self._signature = _read_signature(compute_fn, f"Op '{name}'")
        self.ins = self._build_ins(ins)
        self.outs = self._build_outs(outs)
        self.config_schema = self._build_config_schema(config_schema)
        keys = _as_key_set(required_resource_keys, f"Op '{name}'")
        if keys and self._signature.resource_params:
            raise DagsterInvalidDefinitionError(
                f"Op '{name}' declares both required_resource_keys {sorted(keys)} and resource "
                f"parameters {list(self._signature.resource_params)}; use one or the other."
            )
        self.required_resource_keys: set[str] = keys | set(self._signature.resource_params)

    # -- construction helpers

    def _build_ins(self, ins: Mapping[str, In] | None) -> dict[str, In]:
        sig = self._signature
        given = dict(ins or {})
        for key, value in given.items():
            if not isinstance(value, In):
                raise DagsterInvalidDefinitionError(
                    f"Op '{self.name}': ins['{key}'] must be an In, got {value!r}."
                )
            if key not in sig.input_names and not sig.has_kwargs and not value.is_nothing:
                raise DagsterInvalidDefinitionError(
                    f"Op '{self.name}': input '{key}' in ins has no matching parameter in the "
                    f"function (parameters: {list(sig.input_names)}). Add a parameter named "
                    f"'{key}' or **kwargs."
                )
        result: dict[str, In] = {}
        for param in sig.input_names:
            spec = given.pop(param, None)
            if spec is None:
                spec = In(
                    dagster_type=sig.annotations.get(param),
                    default_value=sig.defaults.get(param, NO_VALUE),
                )
            elif not spec.has_default_value and param in sig.defaults:
                spec.default_value = sig.defaults[param]
            result[param] = spec
        result.update(given)  # inputs passed through **kwargs
        return result

    def _build_outs(self, outs: Mapping[str, Out] | None) -> dict[str, Out]:
        if outs is None:
            return {"result": Out()}
        for key, value in outs.items():
            check_valid_name(key, "output name")
            if not isinstance(value, Out):
                raise DagsterInvalidDefinitionError(
                    f"Op '{self.name}': out['{key}'] must be an Out, got {value!r}."
                )
        return dict(outs)

    def _build_config_schema(self, config_schema: Any) -> Any:
        cls = self._signature.config_cls
        if cls is None:
            return config_schema
        if config_schema is not None:
            raise DagsterInvalidDefinitionError(
                f"Op '{self.name}' has both config_schema and a Config parameter "
                f"'{self._signature.config_param}'; use one or the other."
            )
        return cls

    # -- properties

    @property
    def node_type_str(self) -> str:
        return "op"

    @property
    def has_context_param(self) -> bool:
        return self._signature.has_context

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(self.ins)

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(self.outs)

    @property
    def config_param(self) -> str | None:
        return self._signature.config_param

    @property
    def config_cls(self) -> Any:
        return self._signature.config_cls

    @property
    def resource_params(self) -> tuple[str, ...]:
        return self._signature.resource_params

    def __repr__(self) -> str:
        return f"<OpDefinition {self.name}>"

    # -- variants

    def alias(self, name: str) -> Any:
        from tocsin.definitions.composition import PendingNodeInvocation

        return PendingNodeInvocation(self, alias=check_valid_name(name, "alias"))

    def tag(self, tags: Mapping[str, str]) -> Any:
        from tocsin.definitions.composition import PendingNodeInvocation

        return PendingNodeInvocation(self, tags=dict(tags))

    def with_retry_policy(self, retry_policy: RetryPolicy) -> Any:
        from tocsin.definitions.composition import PendingNodeInvocation

        return PendingNodeInvocation(self, retry_policy=retry_policy)

    # -- invocation

    def call_compute(self, context: Any, inputs: Mapping[str, Any], resources: Any) -> Any:
        """Call the user function with the context, inputs, resource and config params."""
        sig = self._signature
        kwargs = dict(inputs)
        for name in sig.resource_params:
            kwargs[name] = getattr(resources, name)
        if sig.config_param is not None:
            kwargs[sig.config_param] = context.config_instance
        if sig.has_context:
            return self.compute_fn(context, **kwargs)
        return self.compute_fn(**kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from tocsin.definitions.composition import current_composition

        composition = current_composition()
        if composition is not None:
            return composition.invoke(self, None, args, kwargs)
        return self._direct_invoke(args, kwargs)

    def _direct_invoke(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        sig = self._signature
        context = None
        if args and getattr(args[0], "_tocsin_is_op_context", False):
            context, args = args[0], args[1:]
        elif "context" in kwargs and getattr(kwargs["context"], "_tocsin_is_op_context", False):
            context = kwargs.pop("context")
        if sig.has_context and context is None:
            raise DagsterInvalidInvocationError(
                f"Compute function of op '{self.name}' has context argument, but no context "
                "was provided when invoking. Pass build_op_context() as the first argument."
            )
        resource_values = {k: kwargs.pop(k) for k in sig.resource_params if k in kwargs}
        inputs = self._bind_inputs(args, kwargs)
        if context is None:
            if self.required_resource_keys - set(resource_values) or sig.config_param:
                from tocsin.execution.context import build_op_context

                context = build_op_context()
            else:
                return self.compute_fn(**inputs, **resource_values)
        bound = context.bind(self, resource_values)
        return bound.invoke_direct(inputs)

    def _bind_inputs(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        names = [n for n, spec in self.ins.items() if not spec.is_nothing]
        if len(args) > len(names):
            raise DagsterInvalidInvocationError(
                f"Too many input arguments were provided for op '{self.name}': it takes "
                f"{len(names)} input(s) {names}, got {len(args)} positional value(s)."
            )
        bound = dict(zip(names, args, strict=False))
        for key, value in kwargs.items():
            if key not in self.ins:
                raise DagsterInvalidInvocationError(
                    f"Op '{self.name}' has no input named '{key}' (inputs: {list(self.ins)})."
                )
            if key in bound:
                raise DagsterInvalidInvocationError(
                    f"Op '{self.name}' got input '{key}' both positionally and by keyword."
                )
            bound[key] = value
        for name in names:
            if name not in bound:
                spec = self.ins[name]
                if not spec.has_default_value:
                    raise DagsterInvalidInvocationError(
                        f"No value provided for required input '{name}' of op '{self.name}'."
                    )
                bound[name] = spec.default_value
        return bound


def _as_key_set(value: Any, what: str) -> set[str]:
    if value is None:
        return set()
    if isinstance(value, str):
        raise DagsterInvalidDefinitionError(
            f"{what}: required_resource_keys must be a set of str, got the str {value!r}. "
            f"Write {{{value!r}}}."
        )
    keys = set(value)
    bad = [k for k in keys if not isinstance(k, str)]
    if bad:
        raise DagsterInvalidDefinitionError(
            f"{what}: required_resource_keys must contain only str, got {bad!r}."
        )
    return keys


def op(
    compute_fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    ins: Mapping[str, In] | None = None,
    out: Out | Mapping[str, Out] | None = None,
    outs: Mapping[str, Out] | None = None,
    config_schema: Any = None,
    required_resource_keys: Any = None,
    tags: Mapping[str, Any] | None = None,
    retry_policy: RetryPolicy | None = None,
    code_version: str | None = None,
    **_ignored: Any,
) -> Any:
    """Turn a function into an ``OpDefinition``; usable bare (``@op``) or with arguments.

    Args:
        name: the op's name (defaults to the function's).
        description: free text (defaults to the docstring).
        ins: input specifications keyed by parameter name.
        out: one ``Out``, or a dict of output name to ``Out`` for several outputs.
        config_schema: schema of ``context.op_config``.
        required_resource_keys: resource keys the op uses.
        tags: string tags.
        retry_policy: how to retry when the function raises.
    """
    if out is not None and outs is not None:
        raise DagsterInvalidDefinitionError("@op takes either out or outs, not both.")
    spec = out if out is not None else outs

    def decorate(fn: Callable[..., Any]) -> OpDefinition:
        outs_dict: Mapping[str, Out] | None
        if spec is None:
            outs_dict = None
        elif isinstance(spec, Out):
            outs_dict = {"result": spec}
        elif isinstance(spec, Mapping):
            outs_dict = spec
        else:
            raise DagsterInvalidDefinitionError(
                f"@op out must be an Out or a dict of Out, got {spec!r}."
            )
        return OpDefinition(
            compute_fn=fn,
            name=name or fn.__name__,
            ins=ins,
            outs=outs_dict,
            description=description or inspect.getdoc(fn),
            config_schema=config_schema,
            required_resource_keys=required_resource_keys,
            tags=tags,
            retry_policy=retry_policy,
            code_version=code_version,
        )

    if compute_fn is not None:
        if not callable(compute_fn):
            raise DagsterInvalidDefinitionError(
                f"@op was given {compute_fn!r} positionally; pass options by keyword, "
                "e.g. @op(name='x')."
            )
        return decorate(compute_fn)
    return decorate
