"""``AssetKey``: the path that names an asset."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from tocsin.errors import CheckError

_VALID_PART = re.compile(r"^[A-Za-z0-9_\-.]+$")


class AssetKey:
    """The path that names an asset, e.g. ``AssetKey(["raw", "users"])``.

    Args:
        path: a string (one part) or a sequence of strings.
    """

    __slots__ = ("_hash", "path")
    path: tuple[str, ...]
    _hash: int

    def __init__(self, path: str | Sequence[str]):
        if isinstance(path, str):
            parts: tuple[str, ...] = (path,)
        elif isinstance(path, Sequence) and all(isinstance(p, str) for p in path):
            parts = tuple(path)
        else:
            raise CheckError(f"AssetKey path must be a str or a list of str, got {path!r}.")
        object.__setattr__(self, "path", parts)
        object.__setattr__(self, "_hash", hash(parts))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("AssetKey is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AssetKey) and other.path == self.path

    def __hash__(self) -> int:
        return self._hash

    def __lt__(self, other: AssetKey) -> bool:
        return self.path < other.path

    def __repr__(self) -> str:
        return f"AssetKey({list(self.path)!r})"

    def __str__(self) -> str:
        return f"AssetKey({list(self.path)!r})"

    def to_user_string(self) -> str:
        """The key as users write it: parts joined with ``/``."""
        return "/".join(self.path)

    def to_string(self) -> str:
        """The key as stored: a JSON list of its parts."""
        return json.dumps(list(self.path))

    def to_python_identifier(self, suffix: str | None = None) -> str:
        name = "__".join(self.path).replace("-", "_").replace(".", "_")
        return f"{name}_{suffix}" if suffix else name

    @staticmethod
    def from_user_string(value: str) -> AssetKey:
        return AssetKey(value.split("/"))

    @staticmethod
    def from_db_string(value: str | None) -> AssetKey | None:
        if not value:
            return None
        if value.startswith("["):
            return AssetKey(json.loads(value))
        return AssetKey(value.split("."))

    @staticmethod
    def from_coercible(value: CoercibleToAssetKey) -> AssetKey:
        if isinstance(value, AssetKey):
            return value
        if isinstance(value, str):
            return AssetKey(value.split("/")) if "/" in value else AssetKey(value)
        if isinstance(value, Sequence):
            return AssetKey(list(value))
        key = getattr(value, "key", None)
        if isinstance(key, AssetKey):
            return key
        raise CheckError(f"Cannot turn {value!r} into an AssetKey: give a str, list or AssetKey.")

    def with_prefix(self, prefix: str | Sequence[str]) -> AssetKey:
        prefix_parts = [prefix] if isinstance(prefix, str) else list(prefix)
        return AssetKey([*prefix_parts, *self.path])

    @property
    def parent(self) -> AssetKey:
        return AssetKey(list(self.path[:-1]))

    def has_prefix(self, prefix: Sequence[str]) -> bool:
        return len(self.path) >= len(prefix) and self.path[: len(prefix)] == tuple(prefix)


CoercibleToAssetKey = AssetKey | str | Sequence[str]
