"""The event log half of ``SqlStorage``: append-only entries and the asset indexes beside them.

Each materialization also moves ``asset_keys.last_materialization_id`` (and the per-partition
row), so the latest materialization of an asset is one indexed read whatever the history.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from tocsin.errors import StorageError
from tocsin.model.asset_key import AssetKey
from tocsin.model.events import DagsterEventType, EventLogEntry, EventLogRecord, EventRecordsFilter
from tocsin.storage import bulk
from tocsin.storage import schema as t
from tocsin.storage.base import EventLog, RunStatusChange

_MATERIALIZATION = DagsterEventType.ASSET_MATERIALIZATION.value
_OBSERVATION = DagsterEventType.ASSET_OBSERVATION.value
_INSERT_EVENTS = sa.insert(t.event_logs).returning(t.event_logs.c.id)
# Bound parameters in one ``IN (...)`` list: under both SQLite's and PostgreSQL's limits.
_IN_CHUNK = 20000
_EVENT_COLUMNS = (
    "run_id",
    "event_type",
    "event",
    "timestamp",
    "step_key",
    "asset_key",
    "partition",
)
_INSERT_EVENTS_ORDERED = sa.insert(t.event_logs).returning(
    t.event_logs.c.id, sort_by_parameter_order=True
)


def event_row(entry: EventLogEntry) -> dict[str, Any]:
    event = entry.dagster_event
    asset_key = None if event is None else event.asset_key
    return {
        "run_id": entry.run_id,
        "event_type": None if event is None else event.event_type_value,
        "event": json.dumps(entry.to_dict(), separators=(",", ":"), default=str),
        "timestamp": entry.timestamp,
        "step_key": entry.step_key,
        "asset_key": None if asset_key is None else asset_key.to_string(),
        "partition": None if event is None else event.partition,
    }


def _entry(row: Any) -> EventLogEntry:
    return EventLogEntry.from_dict(json.loads(row.event), row.id)


def _apply_run_changes(conn: sa.Connection, changes: Sequence[RunStatusChange]) -> None:
    """Apply status changes with one ``UPDATE ... WHERE run_id IN (...)`` per distinct change.

    Several changes to one run fold into what applying them in order leaves: the last status,
    the last start time and the last end time given. Runs left with the same values (a batch
    of RUN_ENQUEUED events, say) then share one statement.
    """
    now = datetime.now(UTC)
    final: dict[str, tuple[str, float | None, float | None]] = {}
    for change in changes:
        _, start, end = final.get(change.run_id, (None, None, None))
        final[change.run_id] = (
            change.status.value,
            start if change.start_time is None else change.start_time,
            end if change.end_time is None else change.end_time,
        )
    groups: dict[tuple[str, float | None, float | None], list[str]] = {}
    for run_id, change_values in final.items():
        groups.setdefault(change_values, []).append(run_id)
    c = t.runs.c
    unknown = 0
    for (status, start, end), run_ids in groups.items():
        values: dict[str, Any] = {"status": status, "update_timestamp": now}
        if start is not None:
            values["start_time"] = start
        if end is not None:
            values["end_time"] = end
        for first in range(0, len(run_ids), _IN_CHUNK):
            chunk = run_ids[first : first + _IN_CHUNK]
            result = conn.execute(sa.update(t.runs).where(c.run_id.in_(chunk)).values(values))
            if result.rowcount is not None and 0 <= result.rowcount < len(chunk):
                unknown += len(chunk) - result.rowcount
    if unknown:
        logging.getLogger("tocsin").debug("events for %d unknown runs", unknown)


def _record_conditions(f: EventRecordsFilter) -> list[sa.ColumnElement[bool]]:
    """The WHERE clauses of an ``EventRecordsFilter`` beyond its event type."""
    c = t.event_logs.c
    out: list[sa.ColumnElement[bool]] = []
    if f.asset_key is not None:
        out.append(c.asset_key == f.asset_key.to_string())
    if f.asset_partitions is not None:
        out.append(c.partition.in_(list(f.asset_partitions)))
    if f.after_cursor is not None:
        out.append(c.id > f.after_cursor)
    if f.before_cursor is not None:
        out.append(c.id < f.before_cursor)
    if f.after_timestamp is not None:
        out.append(c.timestamp > f.after_timestamp)
    if f.before_timestamp is not None:
        out.append(c.timestamp < f.before_timestamp)
    if f.storage_ids is not None:
        out.append(c.id.in_(list(f.storage_ids)))
    if f.run_ids is not None:
        out.append(c.run_id.in_(list(f.run_ids)))
    return out


class SqlEventLog(EventLog):
    """Event log methods; mixed into ``SqlStorage``, which supplies the transactions."""

    # Provided by SqlStorage.
    dialect: str
    _write: Any
    _read: Any
    _upsert: Any

    def store_event(self, entry: EventLogEntry) -> EventLogEntry:
        return self.store_events([entry])[0]

    def store_events(
        self, entries: Sequence[EventLogEntry], run_changes: Sequence[RunStatusChange] = ()
    ) -> list[EventLogEntry]:
        if not entries and not run_changes:
            return []
        rows = [event_row(entry) for entry in entries]
        with self._write() as conn:
            ids: list[int] = []
            if rows:
                ids = self._insert_events(conn, rows)
                self._index_assets(conn, rows, ids)
            if run_changes:
                _apply_run_changes(conn, run_changes)
        return [entry.with_storage_id(i) for entry, i in zip(entries, ids, strict=True)]

    def _insert_events(self, conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> list[int]:
        """Insert with one multi-row INSERT ... RETURNING per page; the ids in row order."""
        if self.dialect == "sqlite":
            return self._insert_events_sqlite(conn, rows)
        return list(conn.execute(_INSERT_EVENTS_ORDERED, rows).scalars())

    def _insert_events_sqlite(
        self, conn: sa.Connection, rows: Sequence[dict[str, Any]]
    ) -> list[int]:
        """One prepared INSERT over all rows, then their ids in one indexed read.

        The transaction holds SQLite's write lock (``BEGIN IMMEDIATE``), so no other writer
        can add events meanwhile, and SQLite numbers the rows of each INSERT in order: the ids
        above the largest one before the insert are exactly these rows', in row order.
        """
        sql = bulk.insert_sql(conn.dialect, t.event_logs, _EVENT_COLUMNS)
        if sql is None or len(rows) == 1:
            # SQLite lists RETURNING rows in no promised order: sorting restores row order.
            return sorted(conn.execute(_INSERT_EVENTS, list(rows)).scalars())
        c = t.event_logs.c
        before = conn.execute(sa.select(sa.func.max(c.id))).scalar() or 0
        bulk.executemany_sql(conn, sql, (tuple(row[k] for k in _EVENT_COLUMNS) for row in rows))
        ids = list(conn.execute(sa.select(c.id).where(c.id > before).order_by(c.id)).scalars())
        if len(ids) != len(rows):
            raise StorageError(
                f"Stored {len(rows)} events but found {len(ids)} new event ids; another "
                "writer changed the event log inside this transaction."
            )
        return ids

    def _index_assets(
        self, conn: sa.Connection, rows: Sequence[dict[str, Any]], ids: Sequence[int]
    ) -> None:
        """Move the asset indexes to the newest materialization/observation of each key."""
        materialized: dict[str, dict[str, Any]] = {}
        partitions: dict[tuple[str, str], int] = {}
        observed: dict[str, int] = {}
        for row, storage_id in zip(rows, ids, strict=True):
            key = row["asset_key"]
            if key is None:
                continue
            if row["event_type"] == _MATERIALIZATION:
                materialized[key] = {
                    "last_materialization_id": storage_id,
                    "last_materialization_timestamp": row["timestamp"],
                    "last_run_id": row["run_id"],
                }
                if row["partition"] is not None:
                    partitions[(key, row["partition"])] = storage_id
            elif row["event_type"] == _OBSERVATION:
                observed[key] = storage_id
        for key, values in materialized.items():
            self._upsert(conn, t.asset_keys, {"asset_key": key}, values)
        for (key, partition), storage_id in partitions.items():
            self._upsert(
                conn,
                t.asset_partitions,
                {"asset_key": key, "partition": partition},
                {"last_materialization_id": storage_id},
            )
        for key, storage_id in observed.items():
            self._upsert(
                conn, t.asset_keys, {"asset_key": key}, {"last_observation_id": storage_id}
            )

    def get_logs_for_run(
        self, run_id: str, of_type: Iterable[DagsterEventType] | None = None, after: int = -1
    ) -> list[EventLogEntry]:
        c = t.event_logs.c
        query = sa.select(c.id, c.event).where(c.run_id == run_id, c.id > after).order_by(c.id)
        if of_type is not None:
            query = query.where(c.event_type.in_({e.value for e in of_type}))
        with self._read() as conn:
            return [_entry(row) for row in conn.execute(query)]

    def get_event_records(
        self, records_filter: EventRecordsFilter, limit: int | None = None, ascending: bool = False
    ) -> list[EventLogRecord]:
        c = t.event_logs.c
        f = records_filter
        query = sa.select(c.id, c.event).where(c.event_type == f.event_type.value)
        query = query.where(*_record_conditions(f))
        query = query.order_by(c.id.asc() if ascending else c.id.desc())
        if limit is not None:
            query = query.limit(limit)
        with self._read() as conn:
            return [EventLogRecord(row.id, _entry(row)) for row in conn.execute(query)]

    def get_event_records_after(
        self, storage_id: int, event_types: Iterable[DagsterEventType], limit: int | None = None
    ) -> list[EventLogRecord]:
        c = t.event_logs.c
        types = sorted({e.value for e in event_types})
        query = (
            sa.select(c.id, c.event)
            .where(c.event_type.in_(types), c.id > storage_id)
            .order_by(c.id)
        )
        if limit is not None:
            query = query.limit(limit)
        with self._read() as conn:
            return [EventLogRecord(row.id, _entry(row)) for row in conn.execute(query)]

    def get_latest_materialization_event(
        self, asset_key: AssetKey, partition: str | None = None
    ) -> EventLogEntry | None:
        key = asset_key.to_string()
        c = t.event_logs.c
        if partition is None:
            index: sa.Table = t.asset_keys
            where = [t.asset_keys.c.asset_key == key]
        else:
            index = t.asset_partitions
            where = [index.c.asset_key == key, index.c.partition == partition]
        query = (
            sa.select(c.id, c.event)
            .select_from(t.event_logs.join(index, index.c.last_materialization_id == c.id))
            .where(*where)
        )
        with self._read() as conn:
            row = conn.execute(query).first()
        return None if row is None else _entry(row)

    def get_latest_materialization_ids(self, asset_key: AssetKey) -> dict[str, int]:
        c = t.asset_partitions.c
        query = sa.select(c.partition, c.last_materialization_id).where(
            c.asset_key == asset_key.to_string()
        )
        with self._read() as conn:
            return {row.partition: row.last_materialization_id for row in conn.execute(query)}

    def get_asset_keys(self, prefix: Sequence[str] | None = None) -> list[AssetKey]:
        c = t.asset_keys.c
        query = sa.select(c.asset_key).where(
            sa.or_(c.last_materialization_id.is_not(None), c.last_observation_id.is_not(None))
        )
        with self._read() as conn:
            keys = [AssetKey.from_db_string(value) for value in conn.execute(query).scalars()]
        found = sorted(k for k in keys if k is not None)
        return found if prefix is None else [k for k in found if k.has_prefix(prefix)]

    def wipe_assets(self, asset_keys: Sequence[AssetKey]) -> None:
        keys = [k.to_string() for k in asset_keys]
        with self._write() as conn:
            conn.execute(
                sa.delete(t.asset_partitions).where(t.asset_partitions.c.asset_key.in_(keys))
            )
            conn.execute(sa.delete(t.asset_keys).where(t.asset_keys.c.asset_key.in_(keys)))
            # The runs' logs keep the events; they just stop counting for the asset.
            conn.execute(
                sa.update(t.event_logs)
                .where(t.event_logs.c.asset_key.in_(keys))
                .values(asset_key=None, partition=None)
            )

    def delete_events(self, run_id: str) -> None:
        with self._write() as conn:
            conn.execute(sa.delete(t.event_logs).where(t.event_logs.c.run_id == run_id))

    def get_max_storage_id(self) -> int:
        with self._read() as conn:
            value = conn.execute(sa.select(sa.func.max(t.event_logs.c.id))).scalar()
        return int(value or 0)
