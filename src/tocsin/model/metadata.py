"""Metadata values attached to materializations, outputs and definitions.

Users pass plain Python values or ``MetadataValue.*(...)``; ``normalize_metadata`` turns
either into ``MetadataValue`` instances. Each kind is its own subclass so that
``isinstance(v, IntMetadataValue)`` works, and every value has ``.value``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any, ClassVar

from tocsin.errors import DagsterInvalidDefinitionError


class MetadataValue:
    """A typed metadata value. Build one with the static constructors (``MetadataValue.int(3)``)."""

    kind: ClassVar[str] = "value"
    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.value == self.value  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((self.kind, json.dumps(self.value, sort_keys=True, default=str)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value!r})"

    # The seeds' older entry-data accessors (``entry.entry_data.int_value``).
    @property
    def int_value(self) -> Any:
        return self.value

    @property
    def float_value(self) -> Any:
        return self.value

    @property
    def data(self) -> Any:
        return self.value

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value}

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> MetadataValue:
        cls = _KINDS.get(data.get("kind", ""), JsonMetadataValue)
        return cls(data.get("value"))

    @staticmethod
    def text(value: str) -> MetadataValue:
        return TextMetadataValue(value)

    @staticmethod
    def int(value: int) -> MetadataValue:
        return IntMetadataValue(value)

    @staticmethod
    def float(value: float) -> MetadataValue:
        return FloatMetadataValue(value)

    @staticmethod
    def bool(value: bool) -> MetadataValue:
        return BoolMetadataValue(value)

    @staticmethod
    def json(value: Any) -> MetadataValue:
        return JsonMetadataValue(value)

    @staticmethod
    def url(value: str) -> MetadataValue:
        return UrlMetadataValue(value)

    @staticmethod
    def path(value: str | os.PathLike[str]) -> MetadataValue:
        return PathMetadataValue(os.fspath(value))

    @staticmethod
    def md(value: str) -> MetadataValue:
        return MarkdownMetadataValue(value)

    @staticmethod
    def timestamp(value: Any) -> MetadataValue:
        ts = value.timestamp() if hasattr(value, "timestamp") else value
        return TimestampMetadataValue(ts)

    @staticmethod
    def null() -> MetadataValue:
        return NullMetadataValue(None)

    @staticmethod
    def asset(key: Any) -> MetadataValue:
        from tocsin.model.asset_key import AssetKey

        return AssetMetadataValue(AssetKey.from_coercible(key).to_user_string())


class TextMetadataValue(MetadataValue):
    kind = "text"


class IntMetadataValue(MetadataValue):
    kind = "int"


class FloatMetadataValue(MetadataValue):
    kind = "float"


class BoolMetadataValue(MetadataValue):
    kind = "bool"


class JsonMetadataValue(MetadataValue):
    kind = "json"


class UrlMetadataValue(MetadataValue):
    kind = "url"


class PathMetadataValue(MetadataValue):
    kind = "path"


class MarkdownMetadataValue(MetadataValue):
    kind = "md"


class TimestampMetadataValue(MetadataValue):
    kind = "timestamp"


class NullMetadataValue(MetadataValue):
    kind = "null"


class AssetMetadataValue(MetadataValue):
    kind = "asset"


_KINDS: dict[str, type[MetadataValue]] = {
    c.kind: c
    for c in (
        TextMetadataValue,
        IntMetadataValue,
        FloatMetadataValue,
        BoolMetadataValue,
        JsonMetadataValue,
        UrlMetadataValue,
        PathMetadataValue,
        MarkdownMetadataValue,
        TimestampMetadataValue,
        NullMetadataValue,
        AssetMetadataValue,
    )
}


class MetadataEntry:
    """The seeds' older ``(label, entry_data)`` view of one metadata item."""

    __slots__ = ("entry_data", "label")

    def __init__(self, label: str, entry_data: MetadataValue):
        self.label = label
        self.entry_data = entry_data

    @property
    def value(self) -> MetadataValue:
        return self.entry_data

    def __repr__(self) -> str:
        return f"MetadataEntry({self.label!r}, {self.entry_data!r})"


def normalize_value(key: str, value: Any) -> MetadataValue:
    """Turn one raw value into a MetadataValue, or explain which types are allowed."""
    if isinstance(value, MetadataValue):
        return value
    if value is None:
        return NullMetadataValue(None)
    if isinstance(value, bool):
        return BoolMetadataValue(value)
    if isinstance(value, int):
        return IntMetadataValue(value)
    if isinstance(value, float):
        return FloatMetadataValue(value)
    if isinstance(value, str):
        return TextMetadataValue(value)
    if isinstance(value, os.PathLike):
        return PathMetadataValue(os.fspath(value))
    if isinstance(value, (dict, list, tuple)):
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            pass
        else:
            return JsonMetadataValue(list(value) if isinstance(value, tuple) else value)
    raise DagsterInvalidDefinitionError(
        f"Could not resolve the metadata value for '{key}' to a known type. "
        f"Its type was {type(value).__name__}. Use a str, int, float, bool, JSON-able "
        "dict/list, or a MetadataValue (for example MetadataValue.text(str(value)))."
    )


def normalize_metadata(metadata: Mapping[str, Any] | None) -> dict[str, MetadataValue]:
    """Normalise a mapping of raw values to MetadataValues, keeping key order."""
    if not metadata:
        return {}
    return {str(k): normalize_value(str(k), v) for k, v in metadata.items()}


def metadata_to_dict(metadata: Mapping[str, MetadataValue]) -> dict[str, Any]:
    return {k: v.to_dict() for k, v in metadata.items()}


def metadata_from_dict(data: Mapping[str, Any] | None) -> dict[str, MetadataValue]:
    return {k: MetadataValue.from_dict(v) for k, v in (data or {}).items()}
