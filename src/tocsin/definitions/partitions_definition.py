"""``PartitionsDefinition`` and the partitions whose keys are a list: static and dynamic.

``StaticPartitionsDefinition`` holds a fixed list of keys; ``DynamicPartitionsDefinition``
reads keys added at run time from a dynamic partitions store (usually the instance). The
value types every partitions definition uses (``TimeWindow``, ``PartitionKeyRange``,
``ScheduleType``) live here too; time-window partitions build on them in
``time_window_partitions``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from enum import Enum
from typing import Any, NamedTuple, Protocol

from tocsin.errors import (
    DagsterInvalidDefinitionError,
    DagsterInvalidInvocationError,
    DagsterInvariantViolationError,
    DagsterUnknownPartitionError,
)


class TimeWindow(NamedTuple):
    """A half-open interval ``[start, end)`` of time, as tz-aware datetimes."""

    start: _dt.datetime
    end: _dt.datetime


class PartitionKeyRange(NamedTuple):
    """The partition keys from ``start`` to ``end``, both included."""

    start: str
    end: str


class ScheduleType(Enum):
    """The cadence of a time-window partitions definition."""

    HOURLY = "HOURLY"
    DAILY = "DAILY"
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"


class DynamicPartitionsStore(Protocol):
    """Where dynamic partition keys live (the instance implements this)."""

    def get_dynamic_partitions(self, partitions_def_name: str) -> Sequence[str]: ...


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


class PartitionsDefinition:
    """Base class: a set of partition keys, in order."""

    def get_partition_keys(
        self,
        current_time: _dt.datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        """The keys that exist at ``current_time`` (default: now), in order."""
        raise NotImplementedError

    def has_partition_key(
        self,
        partition_key: str,
        current_time: _dt.datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> bool:
        """Whether ``partition_key`` exists at ``current_time``."""
        return partition_key in self.get_partition_keys(current_time, dynamic_partitions_store)

    def validate_partition_key(
        self,
        partition_key: str,
        current_time: _dt.datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> None:
        """Raise ``DagsterUnknownPartitionError`` unless ``partition_key`` exists.

        Raises:
            DagsterUnknownPartitionError: the key is not one of this definition's keys.
        """
        if not self.has_partition_key(partition_key, current_time, dynamic_partitions_store):
            raise DagsterUnknownPartitionError(
                f"Could not find a partition with key `{partition_key}` in {self}."
                f"{self._key_hint(current_time, dynamic_partitions_store)}"
            )

    def _key_hint(
        self, current_time: _dt.datetime | None, store: DynamicPartitionsStore | None
    ) -> str:
        try:
            keys = self.get_partition_keys(current_time, store)
        except DagsterInvariantViolationError:
            return ""
        if not keys:
            return " It has no partitions yet."
        if len(keys) <= 5:
            return f" Its keys are {', '.join(map(repr, keys))}."
        return f" Its {len(keys)} keys run from {keys[0]!r} to {keys[-1]!r}."

    def get_partition_keys_in_range(
        self,
        partition_key_range: PartitionKeyRange,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        """The keys from ``partition_key_range.start`` to ``.end``, both included.

        Raises:
            DagsterInvalidInvocationError: an end of the range is not a key, or end < start.
        """
        keys = self.get_partition_keys(dynamic_partitions_store=dynamic_partitions_store)
        missing = [k for k in partition_key_range if k not in keys]
        if missing:
            raise DagsterInvalidInvocationError(
                f"Partition range {partition_key_range.start} to {partition_key_range.end} is "
                f"not a valid range. Nonexistent partition keys: {missing}"
            )
        lo, hi = keys.index(partition_key_range.start), keys.index(partition_key_range.end)
        if hi < lo:
            raise DagsterInvalidInvocationError(
                f"Partition range {partition_key_range.start} to {partition_key_range.end} "
                "ends before it starts; swap the two keys."
            )
        return keys[lo : hi + 1]

    def get_first_partition_key(
        self,
        current_time: _dt.datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> str | None:
        keys = self.get_partition_keys(current_time, dynamic_partitions_store)
        return keys[0] if keys else None

    def get_last_partition_key(
        self,
        current_time: _dt.datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> str | None:
        keys = self.get_partition_keys(current_time, dynamic_partitions_store)
        return keys[-1] if keys else None

    def get_num_partitions(
        self,
        current_time: _dt.datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> int:
        return len(self.get_partition_keys(current_time, dynamic_partitions_store))


class StaticPartitionsDefinition(PartitionsDefinition):
    """A fixed, ordered list of partition keys.

    Args:
        partition_keys: the keys; each a string, no duplicates.

    Raises:
        DagsterInvalidDefinitionError: a key is not a string or appears twice.
    """

    def __init__(self, partition_keys: Sequence[str]):
        if isinstance(partition_keys, str) or not isinstance(partition_keys, Sequence):
            raise DagsterInvalidDefinitionError(
                f"StaticPartitionsDefinition takes a list of string keys, got {partition_keys!r}."
            )
        bad = [k for k in partition_keys if not isinstance(k, str)]
        if bad:
            raise DagsterInvalidDefinitionError(
                f"Partition keys must be strings; got {bad!r}. Convert them with str()."
            )
        seen: set[str] = set()
        repeated: set[str] = set()
        for key in partition_keys:
            (repeated if key in seen else seen).add(key)
        duplicates = sorted(repeated)
        if duplicates:
            raise DagsterInvalidDefinitionError(
                "Partition keys must be unique. Duplicate instances of partition keys: "
                f"{duplicates}."
            )
        self._keys = list(partition_keys)
        self._key_set = frozenset(self._keys)

    def get_partition_keys(
        self,
        current_time: _dt.datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        return list(self._keys)

    def has_partition_key(
        self,
        partition_key: str,
        current_time: _dt.datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> bool:
        return partition_key in self._key_set

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StaticPartitionsDefinition) and self._keys == other._keys

    def __hash__(self) -> int:
        return hash(("static", tuple(self._keys)))

    def __str__(self) -> str:
        shown = ", ".join(self._keys[:5]) + (", ..." if len(self._keys) > 5 else "")
        return f"StaticPartitionsDefinition with {len(self._keys)} keys ({shown})"

    def __repr__(self) -> str:
        return f"StaticPartitionsDefinition(partition_keys={self._keys!r})"


class DynamicPartitionsDefinition(PartitionsDefinition):
    """Partition keys added and removed at run time, stored under ``name``.

    Args:
        name: the name the keys are stored under (``instance.add_dynamic_partitions(name,
            keys)``).

    Raises:
        DagsterInvalidDefinitionError: no name, or a name that is not a non-empty string.
    """

    def __init__(self, partition_fn: Any = None, name: str | None = None):
        if partition_fn is not None:
            raise DagsterInvalidDefinitionError(
                "DynamicPartitionsDefinition(partition_fn=...) is not supported; give it a "
                "name=... and add keys with instance.add_dynamic_partitions(name, keys)."
            )
        if not isinstance(name, str) or not name:
            raise DagsterInvalidDefinitionError(
                f"DynamicPartitionsDefinition needs name= a non-empty string, got {name!r}."
            )
        self.name = name

    def _store(self, store: DynamicPartitionsStore | None) -> DynamicPartitionsStore:
        if store is None:
            raise DagsterInvariantViolationError(
                f"DynamicPartitionsDefinition '{self.name}' reads its keys from a dynamic "
                "partitions store; pass dynamic_partitions_store=<the instance>."
            )
        return store

    def get_partition_keys(
        self,
        current_time: _dt.datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        return list(self._store(dynamic_partitions_store).get_dynamic_partitions(self.name))

    def has_partition_key(
        self,
        partition_key: str,
        current_time: _dt.datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> bool:
        store = self._store(dynamic_partitions_store)
        has = getattr(store, "has_dynamic_partition", None)
        if has is not None:
            return bool(has(self.name, partition_key))
        return partition_key in store.get_dynamic_partitions(self.name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DynamicPartitionsDefinition) and self.name == other.name

    def __hash__(self) -> int:
        return hash(("dynamic", self.name))

    def __str__(self) -> str:
        return f"DynamicPartitionsDefinition '{self.name}'"

    def __repr__(self) -> str:
        return f"DynamicPartitionsDefinition(name={self.name!r})"
