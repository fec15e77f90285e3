"""Asset declarations as data: keys, ``AssetSpec``, ``AssetIn`` / ``AssetOut``, ``SourceAsset``.

These values name assets and describe them without saying how to compute them;
``AssetsDefinition`` (in ``assets_definition``) and the ``@asset`` / ``@multi_asset``
decorators (in ``asset``) build on them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from tocsin.errors import DagsterInvalidDefinitionError
from tocsin.model.asset_key import AssetKey


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
    from tocsin.definitions.assets_definition import AssetsDefinition  # it builds on this module

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
