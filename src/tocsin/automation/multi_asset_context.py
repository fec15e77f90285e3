"""The context of a multi-asset sensor: new materializations of several assets, and a cursor.

The function receives a ``MultiAssetSensorEvaluationContext``. It reads new materializations
(those after the cursor) with ``latest_materialization_records_by_key()``,
``materialization_records_for_key(key)`` or ``latest_materialization_records_by_partition(key)``,
and marks what it has handled with ``advance_cursor({key: record})`` or
``advance_all_cursors()``. Reads always see the cursor the evaluation started with; advances
are written to the cursor when the evaluation ends, so a tick that fails moves nothing.

The cursor is JSON: for each monitored key (``str(AssetKey)``) the partition and storage id of
the last consumed materialization, and, for partitioned assets, the partitions that were
materialized before it but not consumed yet (``{partition: storage_id}``), which stay visible
to ``latest_materialization_records_by_partition`` until consumed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tocsin.automation.context import SensorEvaluationContext
from tocsin.errors import CheckError, DagsterInvalidInvocationError
from tocsin.model.asset_key import AssetKey
from tocsin.model.events import DagsterEventType, EventLogRecord, EventRecordsFilter

_MATERIALIZATION = DagsterEventType.ASSET_MATERIALIZATION


@dataclass
class _KeyCursor:
    """Position of one monitored asset: last consumed event and unconsumed older partitions."""

    partition: str | None = None
    storage_id: int | None = None
    trailing: dict[str, int] = field(default_factory=dict)

    def to_list(self) -> list[Any]:
        return [self.partition, self.storage_id, dict(self.trailing)]

    @staticmethod
    def from_list(value: Any) -> _KeyCursor:
        if not isinstance(value, list | tuple) or len(value) != 3:
            raise ValueError(f"expected [partition, storage_id, {{partition: id}}], got {value!r}")
        partition, storage_id, trailing = value
        return _KeyCursor(partition, storage_id, dict(trailing or {}))

    def copy(self) -> _KeyCursor:
        return _KeyCursor(self.partition, self.storage_id, dict(self.trailing))


def resolve_monitored(monitored_assets: Any, definitions: Any) -> list[AssetKey]:
    names = {c.__name__ for c in type(monitored_assets).__mro__}
    if "AssetSelection" in names:
        if definitions is None:
            raise CheckError(
                "A multi-asset sensor that monitors an AssetSelection needs the code location's "
                "definitions to resolve it: pass definitions=... (or repository_def=...) to "
                "build_multi_asset_sensor_context, or monitor a list of AssetKeys."
            )
        graph_source = getattr(definitions, "definitions", definitions)
        return sorted(monitored_assets.resolve(graph_source))
    if isinstance(monitored_assets, str) or not isinstance(monitored_assets, Iterable):
        raise CheckError(
            "monitored_assets must be a list of AssetKeys or an AssetSelection, got "
            f"{monitored_assets!r}."
        )
    keys: list[AssetKey] = []
    for item in monitored_assets:
        try:
            key = AssetKey.from_coercible(item)
        except CheckError:
            raise CheckError(
                "monitored_assets: every member must be an AssetKey (or a str / list of str), "
                f"got {item!r} of type {type(item).__name__}."
            ) from None
        if key not in keys:
            keys.append(key)
    return keys


class MultiAssetSensorEvaluationContext(SensorEvaluationContext):
    """The context of a multi-asset sensor: the sensor context plus reads of new materializations.

    Build one for tests with ``build_multi_asset_sensor_context``.
    """

    def __init__(
        self,
        instance_ref: Any,
        last_tick_completion_time: float | None,
        last_run_key: str | None,
        cursor: str | None,
        repository_name: str | None,
        repository_def: Any,
        monitored_assets: Any,
        instance: Any = None,
        resource_defs: Mapping[str, Any] | None = None,
        definitions: Any = None,
        last_sensor_start_time: float | None = None,
        sensor_name: str | None = None,
    ):
        super().__init__(
            instance_ref=instance_ref,
            last_tick_completion_time=last_tick_completion_time,
            last_run_key=last_run_key,
            cursor=cursor,
            repository_name=repository_name,
            repository_def=repository_def,
            instance=instance,
            sensor_name=sensor_name,
            resources=resource_defs,
            definitions=definitions,
            last_sensor_start_time=last_sensor_start_time,
        )
        self._monitored_assets = monitored_assets
        self._asset_keys = resolve_monitored(monitored_assets, self.repository_def)
        self._key_cursors, self._other_cursor_entries = self._parse_cursor(cursor)
        self._advances: dict[AssetKey, _KeyCursor] = {}

    # -- cursor -------------------------------------------------------------------------------

    def _parse_cursor(self, cursor: str | None) -> tuple[dict[AssetKey, _KeyCursor], dict]:
        by_text = {str(key): key for key in self._asset_keys}
        found: dict[AssetKey, _KeyCursor] = {key: _KeyCursor() for key in self._asset_keys}
        others: dict[str, Any] = {}
        if not cursor:
            return found, others
        try:
            data = json.loads(cursor)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            for text, value in data.items():
                if text in by_text:
                    found[by_text[text]] = _KeyCursor.from_list(value)
                else:
                    others[text] = value
        except ValueError as exc:
            raise CheckError(
                "The cursor of a multi-asset sensor must be the JSON it writes itself "
                "(e.g. {\"AssetKey(['a'])\": [null, 12, {}]}); "
                f"could not read {cursor!r}: {exc}."
            ) from None
        return found, others

    def _cursor_text(self) -> str:
        data: dict[str, Any] = {str(k): c.to_list() for k, c in self._key_cursors.items()}
        data.update(self._other_cursor_entries)
        return json.dumps(data)

    def update_cursor_after_evaluation(self) -> None:
        """Write the advances made during this evaluation into the cursor."""
        if not self._advances:
            return
        self._key_cursors.update(self._advances)
        self._advances = {}
        self.update_cursor(self._cursor_text())

    def _check_key(self, asset_key: Any) -> AssetKey:
        key = AssetKey.from_coercible(asset_key)
        if key not in self._key_cursors:
            monitored = ", ".join(k.to_user_string() for k in self._asset_keys)
            raise DagsterInvalidInvocationError(
                f"Asset key {key.to_user_string()!r} is not monitored by this sensor. "
                f"Monitored asset keys: {monitored}."
            )
        return key

    def _position(self, key: AssetKey) -> _KeyCursor:
        return self._key_cursors[key]

    # -- reads ----------------------------------------------------------------------------------

    @property
    def asset_keys(self) -> list[AssetKey]:
        return list(self._asset_keys)

    @property
    def monitored_assets(self) -> Any:
        return self._monitored_assets

    @property
    def assets_defs_by_key(self) -> dict[AssetKey, Any]:
        """Each monitored key's ``AssetsDefinition`` (None for keys the definitions lack)."""
        definitions = self.repository_def
        source = getattr(definitions, "definitions", definitions)
        graph = source.get_asset_graph() if source is not None else None
        return {
            key: None if graph is None else graph.assets_def_for_key(key)
            for key in self._asset_keys
        }

    def _records(
        self,
        key: AssetKey,
        *,
        after: int | None,
        before: int | None = None,
        limit: int | None = None,
        ascending: bool = True,
    ) -> list[EventLogRecord]:
        records_filter = EventRecordsFilter(
            _MATERIALIZATION, asset_key=key, after_cursor=after, before_cursor=before
        )
        return list(
            self.instance.get_event_records(records_filter, limit=limit, ascending=ascending)
        )

    def latest_materialization_records_by_key(
        self, asset_keys: Sequence[Any] | None = None
    ) -> dict[AssetKey, EventLogRecord | None]:
        """For each key, the newest materialization after the cursor (or None)."""
        keys = self._asset_keys if asset_keys is None else [self._check_key(k) for k in asset_keys]
        out: dict[AssetKey, EventLogRecord | None] = {}
        for key in keys:
            found = self._records(
                key, after=self._position(key).storage_id, limit=1, ascending=False
            )
            out[key] = found[0] if found else None
        return out

    def materialization_records_for_key(
        self, asset_key: Any, limit: int | None = None
    ) -> list[EventLogRecord]:
        """The materializations of ``asset_key`` after the cursor, oldest first."""
        key = self._check_key(asset_key)
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            raise CheckError(f"limit must be an int or None, got {limit!r}.")
        return self._records(key, after=self._position(key).storage_id, limit=limit)

    def _unconsumed_by_partition(self, key: AssetKey) -> dict[str, EventLogRecord]:
        position = self._position(key)
        by_partition: dict[str, EventLogRecord] = {}
        if position.trailing:
            trailing = EventRecordsFilter(
                _MATERIALIZATION, asset_key=key, storage_ids=sorted(position.trailing.values())
            )
            for record in self.instance.get_event_records(trailing, ascending=True):
                if record.partition_key is not None:
                    by_partition[record.partition_key] = record
        for record in self._records(key, after=position.storage_id):
            if record.partition_key is not None:
                by_partition[record.partition_key] = record
        return by_partition

    def latest_materialization_records_by_partition(
        self, asset_key: Any, after_cursor_partition: bool | None = False
    ) -> dict[str, EventLogRecord]:
        """For each partition, its newest materialization not consumed yet.

        Args:
            asset_key: a monitored asset.
            after_cursor_partition: keep only partitions that come after the cursor's
                partition in the asset's partitions definition.
        """
        key = self._check_key(asset_key)
        by_partition = self._unconsumed_by_partition(key)
        cursor_partition = self._position(key).partition
        if not after_cursor_partition or cursor_partition is None:
            return by_partition
        order = self._partition_order(key)
        start = order.index(cursor_partition) if cursor_partition in order else -1
        return {p: r for p, r in by_partition.items() if p in order and order.index(p) > start}

    def _partition_order(self, key: AssetKey) -> list[str]:
        assets_def = self.assets_defs_by_key.get(key)
        partitions_def = getattr(assets_def, "partitions_def", None)
        if partitions_def is None:
            raise DagsterInvalidInvocationError(
                f"after_cursor_partition needs the partitions of {key.to_user_string()!r}: give "
                "the context the definitions that contain the partitioned asset."
            )
        return list(partitions_def.get_partition_keys(dynamic_partitions_store=self.instance))

    def latest_materialization_records_by_partition_and_asset(
        self,
    ) -> dict[str, dict[AssetKey, EventLogRecord]]:
        """For each partition, each monitored asset's newest unconsumed materialization of it."""
        out: dict[str, dict[AssetKey, EventLogRecord]] = {}
        for key in self._asset_keys:
            for partition, record in self._unconsumed_by_partition(key).items():
                out.setdefault(partition, {})[key] = record
        return out

    def get_cursor_partition(self, asset_key: Any) -> str | None:
        return self._position(self._check_key(asset_key)).partition

    def get_trailing_unconsumed_events(self, asset_key: Any) -> list[EventLogRecord]:
        """The partitioned materializations passed over by the cursor but not consumed."""
        key = self._check_key(asset_key)
        ids = sorted(self._position(key).trailing.values())
        if not ids:
            return []
        records_filter = EventRecordsFilter(_MATERIALIZATION, asset_key=key, storage_ids=ids)
        return list(self.instance.get_event_records(records_filter, ascending=True))

    def all_partitions_materialized(
        self, asset_key: Any, partitions: Sequence[str] | None = None
    ) -> bool:
        """Whether every partition (or each of ``partitions``) has been materialized."""
        key = self._check_key(asset_key)
        wanted = list(partitions) if partitions is not None else self._partition_order(key)
        return all(
            self.instance.get_latest_materialization_event(key, partition) is not None
            for partition in wanted
        )

    # -- advancing --------------------------------------------------------------------------------

    def advance_cursor(self, materialization_records_by_key: Mapping[Any, Any]) -> None:
        """Mark these records (one per key; None: leave that key) as consumed."""
        if not isinstance(materialization_records_by_key, Mapping):
            raise CheckError(
                "advance_cursor expects a dict {asset_key: EventLogRecord or None}, got "
                f"{materialization_records_by_key!r}."
            )
        for raw_key, record in materialization_records_by_key.items():
            key = self._check_key(raw_key)
            if record is None:
                continue
            if not isinstance(record, EventLogRecord):
                raise CheckError(
                    f"advance_cursor: the value for {key.to_user_string()!r} must be an "
                    f"EventLogRecord (as returned by the context's read methods), got {record!r}."
                )
            self._advance(key, record)

    def _advance(self, key: AssetKey, record: EventLogRecord) -> None:
        current = self._advances.get(key) or self._position(key).copy()
        partition = record.partition_key
        if current.storage_id is None or record.storage_id > current.storage_id:
            for passed in self._records(key, after=current.storage_id, before=record.storage_id):
                passed_partition = passed.partition_key
                if passed_partition is not None and passed_partition != partition:
                    current.trailing[passed_partition] = passed.storage_id
            current.partition, current.storage_id = partition, record.storage_id
        if partition is not None and current.trailing.get(partition, -1) <= record.storage_id:
            current.trailing.pop(partition, None)
        self._advances[key] = current

    def advance_all_cursors(self) -> None:
        """Mark every materialization of every monitored asset as consumed."""
        for key, record in self.latest_materialization_records_by_key().items():
            current = self._advances.get(key) or self._position(key).copy()
            if record is not None and (
                current.storage_id is None or record.storage_id > current.storage_id
            ):
                current = _KeyCursor(record.partition_key, record.storage_id)
            current.trailing = {}
            self._advances[key] = current


def build_multi_asset_sensor_context(
    monitored_assets: Any,
    repository_def: Any = None,
    instance: Any = None,
    cursor: str | None = None,
    repository_name: str | None = None,
    cursor_from_latest_materializations: bool = False,
    resources: Mapping[str, Any] | None = None,
    definitions: Any = None,
    last_sensor_start_time: float | None = None,
) -> MultiAssetSensorEvaluationContext:
    """Build a ``MultiAssetSensorEvaluationContext`` to call a multi-asset sensor in a test.

    Args:
        monitored_assets: the asset keys (or an ``AssetSelection``) the sensor watches.
        repository_def / definitions: the code location's definitions (exactly one).
        instance: the instance to read materializations from.
        cursor: a cursor written by an earlier evaluation.
        cursor_from_latest_materializations: start after each asset's newest materialization
            (needs ``instance``; excludes ``cursor``).
        resources: key -> resource.

    Raises:
        CheckError: both or neither of ``repository_def`` / ``definitions`` were given.
        DagsterInvalidInvocationError: ``cursor_from_latest_materializations`` without an
            instance, or together with ``cursor``.
    """
    if (repository_def is None) == (definitions is None):
        raise CheckError(
            "Failure condition: Exactly one of `definitions` or `repository_def` must be provided."
        )
    if cursor_from_latest_materializations:
        if cursor is not None:
            raise DagsterInvalidInvocationError(
                "Cannot provide both cursor and cursor_from_latest_materializations objects. "
                "tocsin will override the provided cursor based on the "
                "cursor_from_latest_materializations object."
            )
        if instance is None:
            raise DagsterInvalidInvocationError(
                "Cannot provide cursor_from_latest_materializations object without a Dagster "
                "instance."
            )
    if cursor is not None and not isinstance(cursor, str):
        raise CheckError(
            f'Param "cursor" is not a str. Got {cursor!r} which is type {type(cursor)}.'
        )
    context = MultiAssetSensorEvaluationContext(
        instance_ref=None,
        last_tick_completion_time=None,
        last_run_key=None,
        cursor=cursor,
        repository_name=repository_name,
        repository_def=repository_def,
        monitored_assets=monitored_assets,
        instance=instance,
        resource_defs=resources,
        definitions=definitions,
        last_sensor_start_time=last_sensor_start_time,
    )
    if cursor_from_latest_materializations:
        context.advance_all_cursors()
        context.update_cursor_after_evaluation()
    return context
