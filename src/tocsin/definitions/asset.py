"""Assets: the ``@asset`` / ``@multi_asset`` decorators and the values they make.

An asset is an op whose outputs carry asset keys: running the op materializes the assets.
``AssetsDefinition`` pairs that op with what the asset graph needs (keys, dependencies,
groups, partitions, automation conditions kept as data). ``SourceAsset`` and ``AssetSpec``
name assets that tocsin reads but does not compute.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from tocsin.errors import DagsterInvalidDefinitionError, DagsterInvariantViolationError
from tocsin.model.asset_key import AssetKey

_NAME_RE = re.compile(r"^[A-Za-z0-9_]+$")


class _NoValue:
    def __repr__(self) -> str:
        return "<no value>"


NO_VALUE: Any = _NoValue()


def coerce_key(value: Any, what: str = "asset key") -> AssetKey:
    """Turn a str (``"a/b"`` splits on ``/``), list of str or AssetKey into an ``AssetKey``."""
    if isinstance(value, AssetKey):
        return value
    if isinstance(value, str) and value:
        return AssetKey(value.split("/"))
    if isinstance(value, Sequence) and value and all(isinstance(p, str) for p in value):
        return AssetKey(list(value))
    raise DagsterInvalidDefinitionError(
        f"Invalid {what} {value!r}: give a non-empty str (parts split on '/'), a list of str, "
        "or an AssetKey."
    )


def _prefix_parts(key_prefix: str | Sequence[str] | None) -> list[str]:
    if key_prefix is None:
        return []
    if isinstance(key_prefix, str):
        return [key_prefix]
    if isinstance(key_prefix, Sequence) and all(isinstance(p, str) for p in key_prefix):
        return list(key_prefix)
    raise DagsterInvalidDefinitionError(
        f"Invalid key_prefix {key_prefix!r}: give a str or a list of str."
    )


def dep_key(value: Any) -> AssetKey:
    """The key a ``deps`` entry names: a key, an ``AssetsDefinition``, spec or source asset."""
    if isinstance(value, AssetsDefinition):
        if len(value.keys) != 1:
            names = sorted(k.to_user_string() for k in value.keys)
            raise DagsterInvalidDefinitionError(
                f"Cannot pass a multi-asset with keys {names} "
                "to deps: pass its keys (or specs) one by one."
            )
        return value.key
    if isinstance(value, (AssetSpec, SourceAsset, AssetDep)):
        return value.key
    if isinstance(value, str):
        return AssetKey(value.split("/")) if "/" in value else AssetKey(value)
    return coerce_key(value, "deps entry")


class AssetDep:
    """A dependency of an asset on another asset (the entries of ``AssetSpec.deps``)."""

    def __init__(self, asset: Any, *, partition_mapping: Any = None):
        self.asset_key = dep_key(asset)
        self.partition_mapping = partition_mapping

    @property
    def key(self) -> AssetKey:
        return self.asset_key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AssetDep) and other.asset_key == self.asset_key

    def __hash__(self) -> int:
        return hash(self.asset_key)

    def __repr__(self) -> str:
        return f"AssetDep({self.asset_key!r})"


class AssetIn:
    """How an asset input maps to an upstream asset.

    Args:
        key: the upstream asset key (default: the parameter name).
        metadata: metadata for the input, visible to the IO manager.
        key_prefix: prefix for the key inferred from the parameter name.
        input_manager_key: resource key of the IO manager that loads the input.
        partition_mapping: kept as data.
        dagster_type: the input's type.
    """

    def __init__(
        self,
        key: Any = None,
        metadata: Mapping[str, Any] | None = None,
        key_prefix: str | Sequence[str] | None = None,
        input_manager_key: str | None = None,
        partition_mapping: Any = None,
        dagster_type: Any = NO_VALUE,
    ):
        if key is not None and key_prefix is not None:
            raise DagsterInvalidDefinitionError(
                f"AssetIn got both key={key!r} and key_prefix={key_prefix!r}: give only one."
            )
        self.key = coerce_key(key, "AssetIn key") if key is not None else None
        self.metadata = dict(metadata or {})
        self.key_prefix = _prefix_parts(key_prefix) if key_prefix is not None else None
        self.input_manager_key = input_manager_key
        self.partition_mapping = partition_mapping
        self.dagster_type = dagster_type

    def key_for(self, input_name: str) -> AssetKey:
        if self.key is not None:
            return self.key
        return AssetKey([*(self.key_prefix or []), input_name])

    def __repr__(self) -> str:
        return f"AssetIn(key={self.key!r}, key_prefix={self.key_prefix!r})"


class AssetOut:
    """One output of a ``@multi_asset``: the asset it materializes and how."""

    def __init__(
        self,
        key_prefix: str | Sequence[str] | None = None,
        key: Any = None,
        dagster_type: Any = NO_VALUE,
        description: str | None = None,
        is_required: bool = True,
        io_manager_key: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        group_name: str | None = None,
        code_version: str | None = None,
        automation_condition: Any = None,
        backfill_policy: Any = None,
        owners: Sequence[str] | None = None,
        tags: Mapping[str, str] | None = None,
        kinds: Iterable[str] | None = None,
        auto_materialize_policy: Any = None,
        **_ignored: Any,
    ):
        if key is not None and key_prefix is not None:
            raise DagsterInvalidDefinitionError(
                f"AssetOut got both key={key!r} and key_prefix={key_prefix!r}: give only one."
            )
        self.key = coerce_key(key, "AssetOut key") if key is not None else None
        self.key_prefix = _prefix_parts(key_prefix) if key_prefix is not None else None
        self.dagster_type = dagster_type
        self.description = description
        self.is_required = is_required
        self.io_manager_key = io_manager_key
        self.metadata = dict(metadata or {})
        self.group_name = group_name
        self.code_version = code_version
        self.automation_condition = automation_condition
        self.auto_materialize_policy = auto_materialize_policy
        self.backfill_policy = backfill_policy
        self.owners = list(owners or [])
        self.tags = dict(tags or {})
        self.kinds = set(kinds or ())

    def key_for(self, output_name: str) -> AssetKey:
        if self.key is not None:
            return self.key
        return AssetKey([*(self.key_prefix or []), output_name])

    def to_spec(self, key: AssetKey, deps: Iterable[Any] = ()) -> AssetSpec:
        return AssetSpec(
            key,
            deps=deps,
            description=self.description,
            metadata=self.metadata,
            skippable=not self.is_required,
            group_name=self.group_name,
            code_version=self.code_version,
            automation_condition=self.automation_condition,
            auto_materialize_policy=self.auto_materialize_policy,
            owners=self.owners,
            tags=self.tags,
            kinds=self.kinds,
        )


class AssetSpec:
    """What tocsin knows about one asset, without how to compute it.

    In ``Definitions(assets=[...])`` a spec declares an external asset; in
    ``@multi_asset(specs=[...])`` each spec is one of the computed assets.
    """

    def __init__(
        self,
        key: Any,
        *,
        deps: Iterable[Any] | None = None,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        skippable: bool = False,
        group_name: str | None = None,
        code_version: str | None = None,
        automation_condition: Any = None,
        owners: Sequence[str] | None = None,
        tags: Mapping[str, str] | None = None,
        kinds: Iterable[str] | None = None,
        partitions_def: Any = None,
        auto_materialize_policy: Any = None,
        io_manager_key: str | None = None,
        **_ignored: Any,
    ):
        self.key = coerce_key(key, "AssetSpec key")
        self.deps = tuple(d if isinstance(d, AssetDep) else AssetDep(d) for d in (deps or ()))
        self.description = description
        self.metadata = dict(metadata or {})
        self.skippable = skippable
        self.group_name = group_name
        self.code_version = code_version
        self.automation_condition = automation_condition
        self.auto_materialize_policy = auto_materialize_policy
        self.owners = list(owners or [])
        self.tags = dict(tags or {})
        self.kinds = set(kinds or ())
        self.partitions_def = partitions_def
        self.io_manager_key = io_manager_key

    @property
    def dep_keys(self) -> set[AssetKey]:
        return {d.asset_key for d in self.deps}

    def _attributes(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "deps": self.deps,
            "description": self.description,
            "metadata": self.metadata,
            "skippable": self.skippable,
            "group_name": self.group_name,
            "code_version": self.code_version,
            "automation_condition": self.automation_condition,
            "auto_materialize_policy": self.auto_materialize_policy,
            "owners": self.owners,
            "tags": self.tags,
            "kinds": self.kinds,
            "partitions_def": self.partitions_def,
            "io_manager_key": self.io_manager_key,
        }

    def replace_attributes(self, **changes: Any) -> AssetSpec:
        """A copy with the given attributes replaced."""
        attrs = self._attributes()
        unknown = set(changes) - set(attrs)
        if unknown:
            raise DagsterInvalidDefinitionError(
                f"AssetSpec.replace_attributes got unknown attributes {sorted(unknown)}; "
                f"known ones are {sorted(attrs)}."
            )
        attrs.update(changes)
        key = attrs.pop("key")
        return AssetSpec(key, **attrs)

    def merge_attributes(
        self,
        *,
        deps: Iterable[Any] = (),
        metadata: Mapping[str, Any] | None = None,
        owners: Sequence[str] = (),
        tags: Mapping[str, str] | None = None,
        kinds: Iterable[str] = (),
    ) -> AssetSpec:
        """A copy with the given deps, metadata, owners, tags and kinds added."""
        return self.replace_attributes(
            deps=[*self.deps, *deps],
            metadata={**self.metadata, **(metadata or {})},
            owners=[*self.owners, *owners],
            tags={**self.tags, **(tags or {})},
            kinds=self.kinds | set(kinds),
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AssetSpec) and other._attributes() == self._attributes()

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"AssetSpec(key={self.key!r})"


class MaterializeResult:
    """What an asset function may return instead of a value: metadata for its materialization.

    Args:
        asset_key: which asset this is for (needed only for multi-assets).
        metadata: metadata recorded with the materialization.
        check_results: kept as data.
        data_version: kept as data.
        tags: tags recorded with the materialization.
        value: a value for the IO manager to store (none by default).
    """

    def __init__(
        self,
        *,
        asset_key: Any = None,
        metadata: Mapping[str, Any] | None = None,
        check_results: Sequence[Any] | None = None,
        data_version: Any = None,
        tags: Mapping[str, str] | None = None,
        value: Any = NO_VALUE,
    ):
        self.asset_key = coerce_key(asset_key, "MaterializeResult asset_key") if asset_key else None
        self.metadata = dict(metadata or {})
        self.check_results = list(check_results or [])
        self.data_version = data_version
        self.tags = dict(tags or {})
        self.value = value

    def __repr__(self) -> str:
        return f"MaterializeResult(asset_key={self.asset_key!r}, metadata={self.metadata!r})"


class SourceAsset:
    """An asset that tocsin reads (through an IO manager) but does not materialize."""

    def __init__(
        self,
        key: Any,
        metadata: Mapping[str, Any] | None = None,
        io_manager_key: str | None = None,
        io_manager_def: Any = None,
        description: str | None = None,
        partitions_def: Any = None,
        group_name: str | None = None,
        resource_defs: Mapping[str, Any] | None = None,
        observe_fn: Callable[..., Any] | None = None,
        op_tags: Mapping[str, Any] | None = None,
        *,
        auto_observe_interval_minutes: float | None = None,
        automation_condition: Any = None,
        tags: Mapping[str, str] | None = None,
        **_ignored: Any,
    ):
        self.key = coerce_key(key, "SourceAsset key")
        self.metadata = dict(metadata or {})
        self.io_manager_def = io_manager_def
        self.io_manager_key = io_manager_key or (
            f"{self.key.to_python_identifier()}__io_manager" if io_manager_def else "io_manager"
        )
        self.description = description
        self.partitions_def = partitions_def
        self.group_name = group_name or "default"
        self.resource_defs = dict(resource_defs or {})
        if io_manager_def is not None:
            self.resource_defs.setdefault(self.io_manager_key, io_manager_def)
        self.observe_fn = observe_fn
        self.op_tags = dict(op_tags or {})
        self.auto_observe_interval_minutes = auto_observe_interval_minutes
        self.automation_condition = automation_condition
        self.tags = dict(tags or {})

    @property
    def keys(self) -> set[AssetKey]:
        return {self.key}

    is_executable = False
    is_materializable = False

    def get_io_manager_key(self) -> str:
        return self.io_manager_key

    @staticmethod
    def from_spec(spec: AssetSpec) -> SourceAsset:
        return SourceAsset(
            spec.key,
            metadata=spec.metadata,
            io_manager_key=spec.io_manager_key,
            description=spec.description,
            partitions_def=spec.partitions_def,
            group_name=spec.group_name,
            automation_condition=spec.automation_condition,
            tags=spec.tags,
        )

    def __repr__(self) -> str:
        return f"SourceAsset(key={self.key!r})"


def _automation_condition_of(spec: AssetSpec) -> Any:
    if spec.automation_condition is not None:
        return spec.automation_condition
    policy = spec.auto_materialize_policy
    to_condition = getattr(policy, "to_automation_condition", None)
    return to_condition() if callable(to_condition) else None


class AssetsDefinition:
    """One op and the assets its outputs materialize.

    Args:
        keys_by_input_name: the upstream asset each op input loads.
        keys_by_output_name: the asset each op output materializes.
        node_def: the op.
        partitions_def: how the assets are partitioned.
        can_subset: whether a run may compute only some of the keys (only False is supported).
        resource_defs: resources the assets bring along.
        specs: per-asset attributes (group, metadata, deps, ...); defaults from the other args.
    """

    def __init__(
        self,
        *,
        keys_by_input_name: Mapping[str, AssetKey] | None = None,
        keys_by_output_name: Mapping[str, AssetKey] | None = None,
        node_def: Any = None,
        partitions_def: Any = None,
        asset_deps: Mapping[AssetKey, Iterable[AssetKey]] | None = None,
        can_subset: bool = False,
        resource_defs: Mapping[str, Any] | None = None,
        group_names_by_key: Mapping[AssetKey, str] | None = None,
        metadata_by_key: Mapping[AssetKey, Mapping[str, Any]] | None = None,
        tags_by_key: Mapping[AssetKey, Mapping[str, str]] | None = None,
        descriptions_by_key: Mapping[AssetKey, str] | None = None,
        owners_by_key: Mapping[AssetKey, Sequence[str]] | None = None,
        specs: Sequence[AssetSpec] | None = None,
        **_ignored: Any,
    ):
        if node_def is None:
            raise DagsterInvalidDefinitionError("AssetsDefinition needs node_def (the op).")
        if can_subset:
            raise DagsterInvalidDefinitionError(
                "can_subset=True is not supported by tocsin: a multi-asset always materializes "
                "all of its keys. Drop can_subset or split the multi-asset."
            )
        self._node_def = node_def
        self._keys_by_input_name = dict(keys_by_input_name or {})
        self._keys_by_output_name = dict(keys_by_output_name or {})
        if not self._keys_by_output_name:
            raise DagsterInvalidDefinitionError(
                f"AssetsDefinition for op '{getattr(node_def, 'name', node_def)}' has no "
                "outputs mapped to asset keys (keys_by_output_name is empty)."
            )
        self._partitions_def = partitions_def
        self._resource_defs = dict(resource_defs or {})
        upstream = set(self._keys_by_input_name.values())
        by_key = {s.key: s for s in specs or ()}
        built: list[AssetSpec] = []
        for key in self._keys_by_output_name.values():
            spec = by_key.get(key) or AssetSpec(
                key,
                deps=(asset_deps or {}).get(key, upstream),
                group_name=(group_names_by_key or {}).get(key),
                metadata=(metadata_by_key or {}).get(key),
                tags=(tags_by_key or {}).get(key),
                description=(descriptions_by_key or {}).get(key),
                owners=(owners_by_key or {}).get(key),
            )
            built.append(spec)
        self._specs = tuple(built)
        self._specs_by_key = {s.key: s for s in built}

    # --- keys and structure -------------------------------------------------------------

    @property
    def keys(self) -> set[AssetKey]:
        return set(self._specs_by_key)

    @property
    def key(self) -> AssetKey:
        if len(self._specs) != 1:
            raise DagsterInvariantViolationError(
                "Tried to retrieve asset key from an assets definition with multiple asset keys: "
                + ", ".join(k.to_user_string() for k in sorted(self.keys))
            )
        return self._specs[0].key

    @property
    def op(self) -> Any:
        return self._node_def

    @property
    def node_def(self) -> Any:
        return self._node_def

    @property
    def specs(self) -> tuple[AssetSpec, ...]:
        return self._specs

    @property
    def specs_by_key(self) -> dict[AssetKey, AssetSpec]:
        return dict(self._specs_by_key)

    def get_asset_spec(self, key: AssetKey | None = None) -> AssetSpec:
        return self._specs_by_key[key] if key is not None else self._specs_by_key[self.key]

    @property
    def keys_by_input_name(self) -> dict[str, AssetKey]:
        return dict(self._keys_by_input_name)

    @property
    def keys_by_output_name(self) -> dict[str, AssetKey]:
        return dict(self._keys_by_output_name)

    def get_output_name_for_asset_key(self, key: AssetKey) -> str:
        for name, out_key in self._keys_by_output_name.items():
            if out_key == key:
                return name
        raise DagsterInvariantViolationError(
            f"Asset key {key.to_user_string()} is not produced by op '{self.op.name}'."
        )

    def get_io_manager_key_for_asset_key(self, key: AssetKey) -> str:
        out = self.op.outs[self.get_output_name_for_asset_key(key)]
        return getattr(out, "io_manager_key", None) or "io_manager"

    @property
    def asset_deps(self) -> dict[AssetKey, set[AssetKey]]:
        return {s.key: s.dep_keys for s in self._specs}

    @property
    def dependency_keys(self) -> set[AssetKey]:
        deps: set[AssetKey] = set()
        for spec in self._specs:
            deps |= spec.dep_keys
        return deps

    @property
    def partitions_def(self) -> Any:
        return self._partitions_def

    @property
    def can_subset(self) -> bool:
        return False

    @property
    def resource_defs(self) -> dict[str, Any]:
        return dict(self._resource_defs)

    @property
    def required_resource_keys(self) -> set[str]:
        return set(getattr(self.op, "required_resource_keys", set()) or set())

    is_executable = True
    is_materializable = True
    is_external = False

    # --- per-key attributes ---------------------------------------------------------------

    @property
    def group_names_by_key(self) -> dict[AssetKey, str]:
        return {s.key: s.group_name or "default" for s in self._specs}

    @property
    def metadata_by_key(self) -> dict[AssetKey, dict[str, Any]]:
        return {s.key: dict(s.metadata) for s in self._specs}

    @property
    def descriptions_by_key(self) -> dict[AssetKey, str]:
        return {s.key: s.description for s in self._specs if s.description is not None}

    @property
    def tags_by_key(self) -> dict[AssetKey, dict[str, str]]:
        return {s.key: dict(s.tags) for s in self._specs}

    @property
    def owners_by_key(self) -> dict[AssetKey, list[str]]:
        return {s.key: list(s.owners) for s in self._specs}

    @property
    def code_versions_by_key(self) -> dict[AssetKey, str | None]:
        return {s.key: s.code_version for s in self._specs}

    @property
    def automation_conditions_by_key(self) -> dict[AssetKey, Any]:
        return {s.key: c for s in self._specs if (c := _automation_condition_of(s)) is not None}

    @property
    def automation_condition(self) -> Any:
        return _automation_condition_of(self.get_asset_spec())

    @property
    def auto_materialize_policies_by_key(self) -> dict[AssetKey, Any]:
        return {
            s.key: s.auto_materialize_policy
            for s in self._specs
            if s.auto_materialize_policy is not None
        }

    @property
    def auto_materialize_policy(self) -> Any:
        return self.get_asset_spec().auto_materialize_policy

    # --- conversions ------------------------------------------------------------------------

    def to_source_asset(self, key: AssetKey | None = None) -> SourceAsset:
        spec = self.get_asset_spec(key)
        return SourceAsset(
            spec.key,
            metadata=spec.metadata,
            io_manager_key=self.get_io_manager_key_for_asset_key(spec.key),
            description=spec.description,
            partitions_def=self.partitions_def,
            group_name=spec.group_name,
        )

    def to_source_assets(self) -> list[SourceAsset]:
        return [self.to_source_asset(k) for k in self.keys]

    @staticmethod
    def from_op(
        op_def: Any,
        *,
        keys_by_input_name: Mapping[str, AssetKey] | None = None,
        keys_by_output_name: Mapping[str, AssetKey] | None = None,
        key_prefix: str | Sequence[str] | None = None,
        group_name: str | None = None,
        partitions_def: Any = None,
        **kwargs: Any,
    ) -> AssetsDefinition:
        """Wrap an existing op: its inputs and outputs name assets (by default their names)."""
        prefix = _prefix_parts(key_prefix)
        ins = keys_by_input_name or {n: AssetKey([n]) for n in op_def.ins}
        outs = keys_by_output_name or {n: AssetKey([*prefix, n]) for n in op_def.outs}
        groups = {k: group_name for k in outs.values()} if group_name else None
        return AssetsDefinition(
            keys_by_input_name=ins,
            keys_by_output_name=outs,
            node_def=op_def,
            partitions_def=partitions_def,
            group_names_by_key=groups,
            **kwargs,
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Invoke the asset's function directly (for tests), as its op would be invoked."""
        result = self.op(*args, **kwargs)
        return getattr(result, "_tocsin_materialize_result", result)

    def __repr__(self) -> str:
        keys = ", ".join(k.to_user_string() for k in sorted(self.keys))
        return f"<AssetsDefinition op={self.op.name!r} keys=[{keys}]>"


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
