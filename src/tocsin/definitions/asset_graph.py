"""The asset graph: every known asset key, who computes it, and its parents and children.

Built from ``AssetsDefinition``s (computed assets) and ``SourceAsset``s / ``AssetSpec``s
(external assets). Keys that something depends on but nothing declares become implicit
external assets, so the graph is closed. Selections and asset jobs resolve against it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tocsin.definitions.asset import AssetsDefinition, AssetSpec, SourceAsset
from tocsin.errors import DagsterInvalidDefinitionError
from tocsin.model.asset_key import AssetKey


def split_assets(
    assets: Iterable[Any],
) -> tuple[list[AssetsDefinition], list[SourceAsset]]:
    """Sort user-given assets into computed ones and external ones; reject anything else."""
    computed: list[AssetsDefinition] = []
    external: list[SourceAsset] = []
    seen: set[int] = set()
    for item in assets:
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, AssetsDefinition):
            computed.append(item)
        elif isinstance(item, SourceAsset):
            external.append(item)
        elif isinstance(item, AssetSpec):
            external.append(SourceAsset.from_spec(item))
        else:
            raise DagsterInvalidDefinitionError(
                f"Expected an asset (an @asset function, AssetsDefinition, SourceAsset or "
                f"AssetSpec), got {item!r} of type {type(item).__name__}."
            )
    return computed, external


class AssetGraph:
    """All assets of a set of definitions and the edges between them.

    Args:
        assets_defs: the computed assets.
        source_assets: the external assets (read, not computed).
    """

    def __init__(
        self,
        assets_defs: Iterable[AssetsDefinition] = (),
        source_assets: Iterable[SourceAsset] = (),
    ):
        self.assets_defs = list(assets_defs)
        self._def_by_key: dict[AssetKey, AssetsDefinition] = {}
        for assets_def in self.assets_defs:
            for key in assets_def.keys:
                if key in self._def_by_key:
                    raise DagsterInvalidDefinitionError(f"Duplicate asset key: {key!r}")
                self._def_by_key[key] = assets_def
        self._source_by_key: dict[AssetKey, SourceAsset] = {}
        for source in source_assets:
            # A computed asset wins over an external declaration of the same key.
            if source.key not in self._def_by_key:
                self._source_by_key.setdefault(source.key, source)
        self._parents: dict[AssetKey, set[AssetKey]] = {}
        self._children: dict[AssetKey, set[AssetKey]] = {}
        for key in [*self._def_by_key, *self._source_by_key]:
            self._parents.setdefault(key, set())
            self._children.setdefault(key, set())
        for assets_def in self.assets_defs:
            for key, deps in assets_def.asset_deps.items():
                for parent in deps:
                    if parent not in self._parents:
                        self._source_by_key[parent] = SourceAsset(parent)
                        self._parents[parent] = set()
                        self._children[parent] = set()
                    self._parents[key].add(parent)
                    self._children[parent].add(key)

    @staticmethod
    def from_assets(assets: Iterable[Any]) -> AssetGraph:
        computed, external = split_assets(assets)
        return AssetGraph(computed, external)

    # --- keys ---------------------------------------------------------------------------------

    @property
    def all_asset_keys(self) -> set[AssetKey]:
        return set(self._parents)

    @property
    def materializable_asset_keys(self) -> set[AssetKey]:
        return set(self._def_by_key)

    @property
    def external_asset_keys(self) -> set[AssetKey]:
        return set(self._source_by_key)

    @property
    def source_assets(self) -> list[SourceAsset]:
        return list(self._source_by_key.values())

    def has(self, key: AssetKey) -> bool:
        return key in self._parents

    def is_materializable(self, key: AssetKey) -> bool:
        return key in self._def_by_key

    def assets_def_for_key(self, key: AssetKey) -> AssetsDefinition | None:
        return self._def_by_key.get(key)

    def source_asset_for_key(self, key: AssetKey) -> SourceAsset | None:
        return self._source_by_key.get(key)

    # --- attributes ---------------------------------------------------------------------------

    def group_name(self, key: AssetKey) -> str:
        assets_def = self._def_by_key.get(key)
        if assets_def is not None:
            return assets_def.group_names_by_key[key]
        return self._source_by_key[key].group_name

    def partitions_def(self, key: AssetKey) -> Any:
        assets_def = self._def_by_key.get(key)
        if assets_def is not None:
            return assets_def.partitions_def
        return self._source_by_key[key].partitions_def

    def io_manager_key(self, key: AssetKey) -> str:
        assets_def = self._def_by_key.get(key)
        if assets_def is not None:
            return assets_def.get_io_manager_key_for_asset_key(key)
        return self._source_by_key[key].io_manager_key

    # --- edges ----------------------------------------------------------------------------------

    def parents(self, key: AssetKey) -> set[AssetKey]:
        return set(self._parents.get(key, ()))

    def children(self, key: AssetKey) -> set[AssetKey]:
        return set(self._children.get(key, ()))

    def upstream(self, keys: Iterable[AssetKey], depth: int | None = None) -> set[AssetKey]:
        """``keys`` and their ancestors up to ``depth`` steps (all of them when None)."""
        return self._walk(keys, self._parents, depth)

    def downstream(self, keys: Iterable[AssetKey], depth: int | None = None) -> set[AssetKey]:
        """``keys`` and their descendants up to ``depth`` steps (all of them when None)."""
        return self._walk(keys, self._children, depth)

    @staticmethod
    def _walk(
        keys: Iterable[AssetKey], edges: dict[AssetKey, set[AssetKey]], depth: int | None
    ) -> set[AssetKey]:
        seen = set(keys)
        frontier = set(seen)
        level = 0
        while frontier and (depth is None or level < depth):
            frontier = {n for k in frontier for n in edges.get(k, ())} - seen
            seen |= frontier
            level += 1
        return seen

    def toposort(self, keys: Iterable[AssetKey]) -> list[AssetKey]:
        """``keys`` ordered so that parents come before children (ties by key)."""
        wanted = set(keys)
        order: list[AssetKey] = []
        done: set[AssetKey] = set()
        remaining = sorted(wanted)
        while remaining:
            ready = [k for k in remaining if not (self._parents.get(k, set()) & wanted) - done]
            if not ready:
                cycle = ", ".join(k.to_user_string() for k in remaining)
                raise DagsterInvalidDefinitionError(
                    f"The assets {cycle} depend on each other in a cycle; break the cycle."
                )
            order.extend(ready)
            done.update(ready)
            remaining = [k for k in remaining if k not in done]
        return order
