"""Building the op behind an asset.

The asset function becomes an op whose inputs load upstream assets (``In(asset_key=...)``),
whose ``deps`` become ``Nothing`` inputs (ordering only, no value), and whose outputs carry
the asset keys. A thin wrapper turns ``MaterializeResult`` returns into ``Output``s so that
execution records the materialization with the result's metadata.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from tocsin.definitions.asset import (
    NO_VALUE,
    AssetIn,
    AssetSpec,
    MaterializeResult,
    dep_key,
)
from tocsin.definitions.op import In, Nothing, OpDefinition, Out, Output, _read_signature
from tocsin.errors import DagsterInvalidDefinitionError
from tocsin.model.asset_key import AssetKey

_INVALID_CHARS = re.compile(r"[^A-Za-z0-9_]")


def _dep_input_name(key: AssetKey, taken: set[str]) -> str:
    base = _INVALID_CHARS.sub("_", "_".join(key.path))
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    return name


def _to_output(item: Any, output_for_key: Mapping[AssetKey, str]) -> Any:
    if not isinstance(item, MaterializeResult):
        return item
    if item.asset_key is not None:
        if item.asset_key not in output_for_key:
            known = sorted(k.to_user_string() for k in output_for_key)
            raise DagsterInvalidDefinitionError(
                f"MaterializeResult names asset '{item.asset_key.to_user_string()}', which this "
                f"asset function does not produce (it produces {known})."
            )
        output_name = output_for_key[item.asset_key]
    elif len(output_for_key) == 1:
        output_name = next(iter(output_for_key.values()))
    else:
        raise DagsterInvalidDefinitionError(
            "A multi-asset returned a MaterializeResult without asset_key: set "
            "MaterializeResult(asset_key=...) so tocsin knows which asset it is for."
        )
    value = None if item.value is NO_VALUE else item.value
    output = Output(value, output_name=output_name, metadata=item.metadata, tags=item.tags)
    output._tocsin_materialize_result = item  # type: ignore[attr-defined]
    return output


def _convert_result(result: Any, output_for_key: Mapping[AssetKey, str]) -> Any:
    if isinstance(result, MaterializeResult):
        return _to_output(result, output_for_key)
    if (
        isinstance(result, (tuple, list))
        and result
        and any(isinstance(r, MaterializeResult) for r in result)
    ):
        outputs = [_to_output(r, output_for_key) for r in result]

        def emit() -> Iterator[Any]:
            yield from outputs

        return emit()
    return result


def _wrap(
    fn: Callable[..., Any], output_for_key: Mapping[AssetKey, str], extra: list[str]
) -> Callable[..., Any]:
    """A function with ``fn``'s parameters plus ``**kwargs`` that drops the ``Nothing`` deps."""
    params = list(inspect.signature(fn).parameters.values())
    accepted = {p.name for p in params}
    takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)

    def keep(kwargs: dict[str, Any]) -> dict[str, Any]:
        if takes_kwargs:
            return {k: v for k, v in kwargs.items() if k not in extra}
        return {k: v for k, v in kwargs.items() if k in accepted}

    if inspect.isgeneratorfunction(fn):

        def gen_wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
            for item in fn(*args, **keep(kwargs)):
                yield _to_output(item, output_for_key)

        wrapper: Callable[..., Any] = gen_wrapper
    else:

        def plain_wrapper(*args: Any, **kwargs: Any) -> Any:
            return _convert_result(fn(*args, **keep(kwargs)), output_for_key)

        wrapper = plain_wrapper
    functools.update_wrapper(wrapper, fn)
    if not takes_kwargs:
        var_kw = inspect.Parameter("__tocsin_deps", inspect.Parameter.VAR_KEYWORD)
        resolved = _resolved_params(fn)
        wrapper.__signature__ = inspect.Signature([*resolved, var_kw])  # type: ignore[attr-defined]
    return wrapper


def _resolved_params(fn: Callable[..., Any]) -> list[inspect.Parameter]:
    try:
        return list(inspect.signature(fn, eval_str=True).parameters.values())
    except Exception:  # string annotations naming things not importable here
        return list(inspect.signature(fn).parameters.values())


def build_asset_op(
    fn: Callable[..., Any],
    *,
    op_name: str,
    ins: dict[str, AssetIn],
    deps: list[Any],
    outs: Mapping[str, tuple[AssetSpec, str | None, Any]],
    config_schema: Any,
    required_resource_keys: set[str],
    op_tags: Mapping[str, Any] | None,
    description: str | None,
    retry_policy: Any,
) -> tuple[OpDefinition, dict[str, AssetKey], list[AssetKey]]:
    """Make the op for an asset function.

    Returns:
        The op, the asset key each value input loads, and the keys of the ``deps`` inputs.
    """
    signature = _read_signature(fn, f"Asset '{op_name}'")
    for name, asset_in in ins.items():
        if not isinstance(asset_in, AssetIn):
            raise DagsterInvalidDefinitionError(
                f"Asset '{op_name}': ins['{name}'] must be an AssetIn, got {asset_in!r}."
            )
        if name not in signature.input_names and not signature.has_kwargs:
            raise DagsterInvalidDefinitionError(
                f"Asset '{op_name}': ins has '{name}', which is not a parameter of the "
                f"function (its inputs are {list(signature.input_names)})."
            )
    op_ins: dict[str, In] = {}
    keys_by_input: dict[str, AssetKey] = {}
    for name in [*signature.input_names, *(n for n in ins if n not in signature.input_names)]:
        asset_in = ins.get(name) or AssetIn()
        key = asset_in.key_for(name)
        keys_by_input[name] = key
        dagster_type = None if asset_in.dagster_type is NO_VALUE else asset_in.dagster_type
        op_ins[name] = In(
            dagster_type=dagster_type
            if dagster_type is not None
            else signature.annotations.get(name),
            metadata=asset_in.metadata,
            asset_key=key,
            input_manager_key=asset_in.input_manager_key,
        )
    dep_keys: list[AssetKey] = []
    extra: list[str] = []
    taken = set(op_ins)
    for dep in deps:
        key = dep_key(dep)
        if key in keys_by_input.values() or key in dep_keys:
            continue
        input_name = _dep_input_name(key, taken)
        taken.add(input_name)
        extra.append(input_name)
        dep_keys.append(key)
        op_ins[input_name] = In(dagster_type=Nothing, asset_key=key)
    output_for_key = {spec.key: name for name, (spec, _, _) in outs.items()}
    op_outs = {
        name: Out(
            dagster_type=None if dagster_type is NO_VALUE else dagster_type,
            description=spec.description,
            is_required=not spec.skippable,
            io_manager_key=io_manager_key,
            metadata=spec.metadata,
            asset_key=spec.key,
            code_version=spec.code_version,
        )
        for name, (spec, io_manager_key, dagster_type) in outs.items()
    }
    op_def = OpDefinition(
        compute_fn=_wrap(fn, output_for_key, extra),
        name=op_name,
        ins=op_ins,
        outs=op_outs,
        description=description or inspect.getdoc(fn),
        config_schema=config_schema,
        required_resource_keys=required_resource_keys or None,
        tags=op_tags,
        retry_policy=retry_policy,
    )
    return op_def, keys_by_input, dep_keys
