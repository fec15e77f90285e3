"""``AssetSelection``: a query over the asset graph that resolves to a set of asset keys.

Selections compose with ``|`` (union), ``&`` (intersection) and ``-`` (difference), walk the
graph with ``upstream()`` / ``downstream()``, and parse the string forms used in
``define_asset_job``: ``"*"`` (everything), ``"a/b"`` (one key), ``"*a"`` / ``"a*"`` (all
ancestors / descendants), ``"+a"`` / ``"a++"`` (one step per ``+``), ``"key:a"``,
``"group:g"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from tocsin.errors import DagsterInvalidDefinitionError
from tocsin.model.asset_key import AssetKey

_LEGACY = re.compile(r"^(\*|\+*)([^*+\s]+?)(\*|\+*)$")


def _coerce_graph(assets_or_graph: Any) -> Any:
    from tocsin.definitions.asset_graph import AssetGraph

    if isinstance(assets_or_graph, AssetGraph):
        return assets_or_graph
    get_graph = getattr(assets_or_graph, "get_asset_graph", None)
    if callable(get_graph):
        return get_graph()
    if isinstance(assets_or_graph, Iterable) and not isinstance(assets_or_graph, (str, bytes)):
        return AssetGraph.from_assets(assets_or_graph)
    raise DagsterInvalidDefinitionError(
        "AssetSelection.resolve needs an AssetGraph, a Definitions or a list of assets, got "
        f"{assets_or_graph!r}."
    )


def _keys_of(value: Any) -> list[AssetKey]:
    from tocsin.definitions.asset import AssetsDefinition, AssetSpec, SourceAsset, coerce_key

    if isinstance(value, AssetsDefinition):
        return sorted(value.keys)
    if isinstance(value, (SourceAsset, AssetSpec)):
        return [value.key]
    return [coerce_key(value, "asset key in a selection")]


class AssetSelection:
    """A set of assets, defined by a query that is resolved against an asset graph."""

    # --- constructors -----------------------------------------------------------------------

    @staticmethod
    def all(include_sources: bool = False) -> AssetSelection:
        """Every asset (external assets too when ``include_sources``)."""
        return _AllSelection(include_sources)

    @staticmethod
    def assets(*assets_defs: Any) -> AssetSelection:
        """The given assets: definitions, specs, source assets or keys."""
        return _KeysSelection([k for a in assets_defs for k in _keys_of(a)])

    @staticmethod
    def keys(*asset_keys: Any) -> AssetSelection:
        """The assets with these keys (str ``"a/b"``, list of parts or ``AssetKey``)."""
        return _KeysSelection([k for a in asset_keys for k in _keys_of(a)])

    @staticmethod
    def groups(*group_strs: str, include_sources: bool = False) -> AssetSelection:
        """The assets in any of these groups."""
        for group in group_strs:
            if not isinstance(group, str):
                raise DagsterInvalidDefinitionError(
                    f"AssetSelection.groups takes group names (str), got {group!r}."
                )
        return _GroupsSelection(group_strs, include_sources)

    @staticmethod
    def key_prefixes(
        *key_prefixes: str | Sequence[str], include_sources: bool = False
    ) -> AssetSelection:
        """The assets whose key starts with any of these prefixes (a str is one part)."""
        prefixes: list[tuple[str, ...]] = []
        for prefix in key_prefixes:
            if isinstance(prefix, str):
                prefixes.append((prefix,))
            elif isinstance(prefix, Sequence) and all(isinstance(p, str) for p in prefix):
                prefixes.append(tuple(prefix))
            else:
                raise DagsterInvalidDefinitionError(
                    f"AssetSelection.key_prefixes takes str or lists of str, got {prefix!r}."
                )
        return _PrefixSelection(prefixes, include_sources)

    @staticmethod
    def from_string(text: str) -> AssetSelection:
        """Parse a selection string (see the module docstring for the forms)."""
        return _parse(text)

    @staticmethod
    def from_coercible(value: Any) -> AssetSelection:
        """An ``AssetSelection`` from a selection, a string, or a list of keys/assets/strings."""
        if isinstance(value, AssetSelection):
            return value
        if isinstance(value, str):
            return _parse(value)
        if isinstance(value, Iterable) and not isinstance(value, bytes):
            items = list(value)
            if items and all(isinstance(v, str) for v in items):
                return _union([_parse(v) for v in items])
            if all(isinstance(v, AssetSelection) for v in items) and items:
                return _union(items)
            return AssetSelection.assets(*items)
        from tocsin.definitions.asset import AssetsDefinition, AssetSpec, SourceAsset

        if isinstance(value, (AssetKey, AssetsDefinition, AssetSpec, SourceAsset)):
            return AssetSelection.assets(value)
        raise DagsterInvalidDefinitionError(
            f"Cannot use {value!r} as an asset selection: give an AssetSelection, a selection "
            'string such as "*" or "my_asset*", or a list of asset keys or assets.'
        )

    # --- graph walks and algebra --------------------------------------------------------------

    def upstream(self, depth: int | None = None, include_self: bool = True) -> AssetSelection:
        """This selection and its ancestors (``depth`` steps; all when None)."""
        return _WalkSelection(self, "up", depth, include_self)

    def downstream(self, depth: int | None = None, include_self: bool = True) -> AssetSelection:
        """This selection and its descendants (``depth`` steps; all when None)."""
        return _WalkSelection(self, "down", depth, include_self)

    def roots(self) -> AssetSelection:
        """The assets of this selection with no parent inside it."""
        return _EdgeSelection(self, "roots")

    def sinks(self) -> AssetSelection:
        """The assets of this selection with no child inside it."""
        return _EdgeSelection(self, "sinks")

    def sources(self) -> AssetSelection:
        """Alias of ``roots()``."""
        return self.roots()

    def required_multi_asset_neighbors(self) -> AssetSelection:
        """This selection plus the other keys of any multi-asset it touches."""
        return _EdgeSelection(self, "neighbors")

    def __or__(self, other: AssetSelection) -> AssetSelection:
        return _SetSelection("|", self, _check(other, "|"))

    def __and__(self, other: AssetSelection) -> AssetSelection:
        return _SetSelection("&", self, _check(other, "&"))

    def __sub__(self, other: AssetSelection) -> AssetSelection:
        return _SetSelection("-", self, _check(other, "-"))

    # --- resolution ----------------------------------------------------------------------------

    def resolve(self, assets_or_graph: Any) -> set[AssetKey]:
        """The asset keys this selection names in ``assets_or_graph``.

        Args:
            assets_or_graph: an ``AssetGraph``, a ``Definitions``, or a list of assets.

        Raises:
            DagsterInvalidDefinitionError: a selected key is not in the graph.
        """
        return self.resolve_inner(_coerce_graph(assets_or_graph))

    def resolve_inner(self, graph: Any) -> set[AssetKey]:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(other) == vars(self)

    def __hash__(self) -> int:
        return hash(repr(self))


def _check(other: Any, op: str) -> AssetSelection:
    if not isinstance(other, AssetSelection):
        raise DagsterInvalidDefinitionError(
            f"Cannot combine an AssetSelection with {other!r} using '{op}': wrap it with "
            "AssetSelection.assets(...) or AssetSelection.keys(...)."
        )
    return other


def _union(selections: list[AssetSelection]) -> AssetSelection:
    result = selections[0]
    for sel in selections[1:]:
        result = result | sel
    return result


def _parse(text: str) -> AssetSelection:
    value = text.strip()
    if value == "*":
        return AssetSelection.all()
    if value.startswith("key:"):
        return AssetSelection.keys(AssetKey.from_user_string(value[4:].strip().strip('"')))
    if value.startswith("group:"):
        return AssetSelection.groups(value[6:].strip().strip('"'))
    match = _LEGACY.match(value)
    if not match:
        raise DagsterInvalidDefinitionError(
            f'Cannot parse the asset selection string "{text}". Use "*", a key such as '
            '"my_asset" or "prefix/my_asset", optionally with "*" or "+" before (ancestors) or '
            'after (descendants), "key:<key>" or "group:<name>".'
        )
    up, name, down = match.groups()
    base = AssetSelection.keys(AssetKey.from_user_string(name))
    parts = []
    if up:
        parts.append(base.upstream(None if up == "*" else len(up)))
    if down:
        parts.append(base.downstream(None if down == "*" else len(down)))
    return _union(parts) if parts else base


class _AllSelection(AssetSelection):
    def __init__(self, include_sources: bool):
        self.include_sources = include_sources

    def resolve_inner(self, graph: Any) -> set[AssetKey]:
        return graph.all_asset_keys if self.include_sources else graph.materializable_asset_keys

    def __repr__(self) -> str:
        return "AssetSelection.all()"


class _KeysSelection(AssetSelection):
    def __init__(self, keys: list[AssetKey]):
        self.selected_keys = tuple(keys)

    def resolve_inner(self, graph: Any) -> set[AssetKey]:
        missing = [k for k in self.selected_keys if not graph.has(k)]
        if missing:
            names = [k.to_user_string() for k in missing]
            raise DagsterInvalidDefinitionError(
                f"AssetKey(s) {names} were selected, but no AssetsDefinition objects supply "
                "these keys. Make sure all keys are spelled correctly, and all "
                "AssetsDefinitions are correctly added to the `Definitions`."
                + _suggestions(missing, graph)
            )
        return set(self.selected_keys)

    def __repr__(self) -> str:
        names = ", ".join(repr(k.to_user_string()) for k in self.selected_keys)
        return f"AssetSelection.keys({names})"


def _suggestions(missing: list[AssetKey], graph: Any) -> str:
    lines = []
    for key in missing:
        similar = sorted(
            k.to_user_string() for k in graph.all_asset_keys if k.path[-1] == key.path[-1]
        )
        if similar:
            lines.append(f"\n\nFor selected asset {key.to_user_string()}, did you mean {similar}?")
    return "".join(lines)


class _GroupsSelection(AssetSelection):
    def __init__(self, groups: Sequence[str], include_sources: bool):
        self.group_names = tuple(groups)
        self.include_sources = include_sources

    def resolve_inner(self, graph: Any) -> set[AssetKey]:
        pool = graph.all_asset_keys if self.include_sources else graph.materializable_asset_keys
        return {k for k in pool if graph.group_name(k) in self.group_names}

    def __repr__(self) -> str:
        return f"AssetSelection.groups({', '.join(map(repr, self.group_names))})"


class _PrefixSelection(AssetSelection):
    def __init__(self, prefixes: list[tuple[str, ...]], include_sources: bool):
        self.prefixes = tuple(prefixes)
        self.include_sources = include_sources

    def resolve_inner(self, graph: Any) -> set[AssetKey]:
        pool = graph.all_asset_keys if self.include_sources else graph.materializable_asset_keys
        return {k for k in pool if any(k.has_prefix(p) for p in self.prefixes)}

    def __repr__(self) -> str:
        return f"AssetSelection.key_prefixes({', '.join(map(repr, self.prefixes))})"


class _WalkSelection(AssetSelection):
    def __init__(self, child: AssetSelection, direction: str, depth: int | None, include: bool):
        if depth is not None and (not isinstance(depth, int) or depth < 0):
            raise DagsterInvalidDefinitionError(
                f"AssetSelection.{direction}stream depth must be an int >= 0 or None, got "
                f"{depth!r}."
            )
        self.child = child
        self.direction = direction
        self.depth = depth
        self.include_self = include

    def resolve_inner(self, graph: Any) -> set[AssetKey]:
        start = self.child.resolve_inner(graph)
        walk = graph.upstream if self.direction == "up" else graph.downstream
        reached = walk(start, self.depth)
        if self.direction == "up":
            # External assets are never run; ancestors mean ancestors that can be computed.
            reached = {k for k in reached if graph.is_materializable(k)} | start
        return reached if self.include_self else reached - start

    def __repr__(self) -> str:
        return f"{self.child!r}.{self.direction}stream(depth={self.depth})"


class _EdgeSelection(AssetSelection):
    def __init__(self, child: AssetSelection, kind: str):
        self.child = child
        self.kind = kind

    def resolve_inner(self, graph: Any) -> set[AssetKey]:
        keys = self.child.resolve_inner(graph)
        if self.kind == "roots":
            return {k for k in keys if not graph.parents(k) & keys}
        if self.kind == "sinks":
            return {k for k in keys if not graph.children(k) & keys}
        result = set(keys)
        for key in keys:
            assets_def = graph.assets_def_for_key(key)
            if assets_def is not None:
                result |= assets_def.keys
        return result

    def __repr__(self) -> str:
        return f"{self.child!r}.{self.kind}()"


class _SetSelection(AssetSelection):
    def __init__(self, op: str, left: AssetSelection, right: AssetSelection):
        self.op = op
        self.left = left
        self.right = right

    def resolve_inner(self, graph: Any) -> set[AssetKey]:
        left = self.left.resolve_inner(graph)
        right = self.right.resolve_inner(graph)
        if self.op == "|":
            return left | right
        if self.op == "&":
            return left & right
        return left - right

    def __repr__(self) -> str:
        return f"({self.left!r} {self.op} {self.right!r})"


CoercibleToAssetSelection = Any
