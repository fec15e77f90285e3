"""``AssetsDefinition``: one op and the assets its outputs materialize.

It pairs the op with what the asset graph needs (keys, dependencies, groups, partitions,
automation conditions kept as data), one ``AssetSpec`` per asset.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tocsin.definitions.asset_spec import AssetSpec, SourceAsset, _prefix_parts
from tocsin.errors import DagsterInvalidDefinitionError, DagsterInvariantViolationError
from tocsin.model.asset_key import AssetKey


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
