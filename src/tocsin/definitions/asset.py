"""Assets: the ``@asset`` / ``@multi_asset`` decorators.

An asset is an op whose outputs carry asset keys: running the op materializes the assets.
The decorators build an ``AssetsDefinition`` (``assets_definition``), which pairs that op
with what the asset graph needs; ``AssetSpec``, ``AssetIn``, ``AssetOut``, ``SourceAsset``
and ``MaterializeResult`` are plain declarations (``asset_spec``). All of them stay
importable from here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from tocsin.definitions.asset_spec import NO_VALUE as NO_VALUE
from tocsin.definitions.asset_spec import AssetDep as AssetDep
from tocsin.definitions.asset_spec import AssetIn as AssetIn
from tocsin.definitions.asset_spec import AssetOut as AssetOut
from tocsin.definitions.asset_spec import AssetSpec as AssetSpec
from tocsin.definitions.asset_spec import MaterializeResult as MaterializeResult
from tocsin.definitions.asset_spec import SourceAsset as SourceAsset
from tocsin.definitions.asset_spec import _prefix_parts
from tocsin.definitions.asset_spec import coerce_key as coerce_key
from tocsin.definitions.asset_spec import dep_key as dep_key
from tocsin.definitions.assets_definition import AssetsDefinition as AssetsDefinition
from tocsin.errors import DagsterInvalidDefinitionError
from tocsin.model.asset_key import AssetKey

_NAME_RE = re.compile(r"^[A-Za-z0-9_]+$")


def _check_name(name: str, what: str) -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise DagsterInvalidDefinitionError(
            f'"{name}" is not a valid name in Dagster. Names must be in regex ^[A-Za-z0-9_]+$. '
            f"(the {what})"
        )
    return name


def _asset_key(fn: Callable[..., Any], name: str | None, key: Any, key_prefix: Any) -> AssetKey:
    if key is not None:
        if name is not None or key_prefix is not None:
            raise DagsterInvalidDefinitionError(
                "Cannot specify a name or key prefix for @asset when the key argument is "
                f"provided (got key={key!r}, name={name!r}, key_prefix={key_prefix!r})."
            )
        return coerce_key(key, "@asset key")
    asset_name = name if name is not None else getattr(fn, "__name__", None)
    _check_name(asset_name, "asset name")  # type: ignore[arg-type]
    return AssetKey([*_prefix_parts(key_prefix), asset_name])  # type: ignore[list-item]


def asset(
    compute_fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    key_prefix: str | Sequence[str] | None = None,
    ins: Mapping[str, AssetIn] | None = None,
    deps: Iterable[Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    description: str | None = None,
    config_schema: Any = None,
    required_resource_keys: Iterable[str] | None = None,
    resource_defs: Mapping[str, Any] | None = None,
    io_manager_key: str | None = None,
    io_manager_def: Any = None,
    dagster_type: Any = None,
    partitions_def: Any = None,
    op_tags: Mapping[str, Any] | None = None,
    group_name: str | None = None,
    output_required: bool = True,
    automation_condition: Any = None,
    auto_materialize_policy: Any = None,
    retry_policy: Any = None,
    code_version: str | None = None,
    key: Any = None,
    owners: Sequence[str] | None = None,
    kinds: Iterable[str] | None = None,
    **_ignored: Any,
) -> Any:
    """Declare an asset computed by the decorated function.

    Parameters of the function other than the context, ``config`` and resources are upstream
    assets, loaded through IO managers (``ins`` overrides how; ``deps`` adds dependencies
    whose values are not loaded). Works bare (``@asset``) and with arguments.

    Returns:
        An ``AssetsDefinition`` (or a decorator making one).
    """
    if ins is not None and not isinstance(ins, Mapping):
        raise DagsterInvalidDefinitionError(
            f"@asset ins must be a dict of parameter name to AssetIn, got {ins!r}."
        )

    def decorate(fn: Callable[..., Any]) -> AssetsDefinition:
        from tocsin.definitions.asset_op import build_asset_op

        if not callable(fn):
            raise DagsterInvalidDefinitionError(f"@asset must decorate a function, got {fn!r}.")
        asset_key = _asset_key(fn, name, key, key_prefix)
        if io_manager_key is not None and io_manager_def is not None:
            raise DagsterInvalidDefinitionError(
                "@asset got both io_manager_key and io_manager_def: give only one."
            )
        resources = dict(resource_defs or {})
        out_io_key = io_manager_key
        if io_manager_def is not None:
            out_io_key = f"{asset_key.to_python_identifier()}__io_manager"
            resources[out_io_key] = io_manager_def
        spec = AssetSpec(
            asset_key,
            description=description,
            metadata=metadata,
            skippable=not output_required,
            group_name=group_name,
            code_version=code_version,
            automation_condition=automation_condition,
            auto_materialize_policy=auto_materialize_policy,
            owners=owners,
            tags=tags,
            kinds=kinds,
            partitions_def=partitions_def,
        )
        op_def, keys_by_input, dep_keys = build_asset_op(
            fn,
            op_name=asset_key.to_python_identifier(),
            ins=dict(ins or {}),
            deps=list(deps or ()),
            outs={"result": (spec, out_io_key, dagster_type)},
            config_schema=config_schema,
            required_resource_keys=set(required_resource_keys or ()),
            op_tags=op_tags,
            description=description,
            retry_policy=retry_policy,
        )
        spec = spec.replace_attributes(deps=[*keys_by_input.values(), *dep_keys])
        return AssetsDefinition(
            keys_by_input_name=keys_by_input,
            keys_by_output_name={"result": asset_key},
            node_def=op_def,
            partitions_def=partitions_def,
            resource_defs=resources,
            specs=[spec],
        )

    if compute_fn is not None:
        return decorate(compute_fn)
    return decorate


def multi_asset(
    *,
    outs: Mapping[str, AssetOut] | None = None,
    name: str | None = None,
    ins: Mapping[str, AssetIn] | None = None,
    deps: Iterable[Any] | None = None,
    description: str | None = None,
    config_schema: Any = None,
    required_resource_keys: Iterable[str] | None = None,
    internal_asset_deps: Mapping[str, set[AssetKey]] | None = None,
    partitions_def: Any = None,
    op_tags: Mapping[str, Any] | None = None,
    can_subset: bool = False,
    resource_defs: Mapping[str, Any] | None = None,
    group_name: str | None = None,
    retry_policy: Any = None,
    code_version: str | None = None,
    specs: Sequence[AssetSpec] | None = None,
    **_ignored: Any,
) -> Callable[[Callable[..., Any]], AssetsDefinition]:
    """Declare several assets computed by one function (one op output per asset).

    Give either ``outs`` (output name to ``AssetOut``) or ``specs`` (one ``AssetSpec`` per
    asset; the function then returns ``MaterializeResult``s naming their ``asset_key``).
    """
    if can_subset:
        raise DagsterInvalidDefinitionError(
            "can_subset=True is not supported by tocsin: a multi-asset always materializes all "
            "of its keys. Drop can_subset or split the multi-asset."
        )
    if outs and specs:
        raise DagsterInvalidDefinitionError(
            "@multi_asset got both outs and specs: give one of them."
        )
    if not outs and not specs:
        raise DagsterInvalidDefinitionError(
            "@multi_asset needs outs (a dict of output name to AssetOut) or specs (a list of "
            "AssetSpec)."
        )
    if outs is not None and not (
        isinstance(outs, Mapping) and all(isinstance(o, AssetOut) for o in outs.values())
    ):
        raise DagsterInvalidDefinitionError(
            f"@multi_asset outs must be a dict of output name to AssetOut, got {outs!r}."
        )

    def decorate(fn: Callable[..., Any]) -> AssetsDefinition:
        from tocsin.definitions.asset_op import build_asset_op

        op_name = _check_name(name or fn.__name__, "multi_asset name")
        out_specs: dict[str, tuple[AssetSpec, str | None, Any]] = {}
        if outs:
            for out_name, out in outs.items():
                _check_name(out_name, "multi_asset output name")
                spec = out.to_spec(out.key_for(out_name))
                if group_name and spec.group_name is None:
                    spec = spec.replace_attributes(group_name=group_name)
                out_specs[out_name] = (spec, out.io_manager_key, out.dagster_type)
        else:
            for spec in specs or ():
                if not isinstance(spec, AssetSpec):
                    raise DagsterInvalidDefinitionError(
                        f"@multi_asset specs must be AssetSpec objects, got {spec!r}."
                    )
                if group_name and spec.group_name is None:
                    spec = spec.replace_attributes(group_name=group_name)
                out_specs[spec.key.to_python_identifier()] = (spec, spec.io_manager_key, None)
        own_keys = {s.key for s, _, _ in out_specs.values()}
        spec_deps = [
            d.asset_key
            for s, _, _ in out_specs.values()
            for d in s.deps
            if d.asset_key not in own_keys
        ]
        op_def, keys_by_input, dep_keys = build_asset_op(
            fn,
            op_name=op_name,
            ins=dict(ins or {}),
            deps=[*(deps or ()), *spec_deps],
            outs=out_specs,
            config_schema=config_schema,
            required_resource_keys=set(required_resource_keys or ()),
            op_tags=op_tags,
            description=description,
            retry_policy=retry_policy,
        )
        all_upstream = [*keys_by_input.values(), *dep_keys]
        final_specs = []
        for out_name, (spec, _, _) in out_specs.items():
            if internal_asset_deps and out_name in internal_asset_deps:
                spec_deps_for_out = [coerce_key(k) for k in internal_asset_deps[out_name]]
            elif specs:
                shared = [*keys_by_input.values(), *(dep_key(d) for d in deps or ())]
                spec_deps_for_out = [*(d.asset_key for d in spec.deps), *shared]
            else:
                spec_deps_for_out = all_upstream
            final_specs.append(spec.replace_attributes(deps=spec_deps_for_out))
        return AssetsDefinition(
            keys_by_input_name=keys_by_input,
            keys_by_output_name={n: s.key for n, (s, _, _) in out_specs.items()},
            node_def=op_def,
            partitions_def=partitions_def,
            resource_defs=resource_defs,
            specs=final_specs,
        )

    return decorate
