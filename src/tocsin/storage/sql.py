"""``SqlStorage``: every store of ``storage/base.py`` in SQLAlchemy Core, on SQLite or PostgreSQL.

Instigator state and ticks are in ``storage/sql_ticks.py``, the event log in
``storage/sql_events.py``. The dialects differ in two helpers only: ``insert_ignore`` (ON
CONFLICT DO NOTHING in both) and ``claim_due`` (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; on
SQLite the write transaction is already the single writer, begun with ``BEGIN IMMEDIATE`` by
``storage/sqlite.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from tocsin.errors import DagsterInvariantViolationError, DagsterRunNotFoundError, StorageError
from tocsin.model.run import DagsterRun, DagsterRunStatus, RunRecord, RunsFilter
from tocsin.model.tags import RUN_KEY_TAG
from tocsin.storage import bulk
from tocsin.storage import schema as t
from tocsin.storage.base import (
    DaemonHeartbeat,
    Lease,
    LeaseStore,
    MiscStore,
    PartitionStore,
    RunStore,
    run_instigator_id,
)
from tocsin.storage.sql_events import SqlEventLog
from tocsin.storage.sql_ticks import SqlTickStore

# Bound parameters per statement: SQLite allows 32766, PostgreSQL 65535.
_MAX_PARAMS = {"sqlite": 30000, "postgresql": 60000}


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _run_ident(run: DagsterRun) -> tuple[str, str] | None:
    """(instigator id, run key) for a keyed run, None for a run without a key."""
    key = run.tags.get(RUN_KEY_TAG)
    return None if key is None else (run_instigator_id(run.tags) or "", key)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class SqlStorage(SqlEventLog, SqlTickStore, RunStore, PartitionStore, LeaseStore, MiscStore):
    """All of tocsin's stores on one SQLAlchemy engine.

    Args:
        engine: an engine made by ``storage/sqlite.py`` or ``storage/postgres.py``.
        check_schema: create the schema in an empty database and refuse one at another
            revision (``SchemaVersionError``).
    """

    def __init__(self, engine: sa.Engine, *, check_schema: bool = True):
        self.engine = engine
        self.dialect = engine.dialect.name
        if self.dialect not in _MAX_PARAMS:
            raise StorageError(
                f"tocsin stores to sqlite or postgresql, not {self.dialect!r} ({engine.url!r})."
            )
        self._max_params = _MAX_PARAMS[self.dialect]
        self._writer = engine.execution_options(tocsin_write=True)
        # Tests set this to fail a transaction between two of its statements.
        self.fault: Callable[[str], None] | None = None
        if check_schema:
            from tocsin.storage.migrate import ensure_schema

            ensure_schema(engine)

    def __repr__(self) -> str:
        return f"SqlStorage({self.engine.url.render_as_string(hide_password=True)!r})"

    # -- transactions and the two dialect helpers -----------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        with self._writer.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn:
            yield conn

    def _checkpoint(self, name: str) -> None:
        if self.fault is not None:
            self.fault(name)

    def _insert_stmt(self, table: sa.Table) -> Any:
        if self.dialect == "postgresql":
            from sqlalchemy.dialects import postgresql

            return postgresql.insert(table)
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table)

    def insert_ignore(
        self,
        conn: sa.Connection,
        table: sa.Table,
        rows: Sequence[Mapping[str, Any]],
        returning: Sequence[sa.Column[Any]] = (),
    ) -> list[Any] | int:
        """Insert rows, skipping those that break a unique constraint.

        Returns:
            The ``returning`` columns of the inserted rows, or how many rows were inserted.
        """
        if not rows:
            return [] if returning else 0
        stmt = self._insert_stmt(table).on_conflict_do_nothing()
        if returning:
            stmt = stmt.returning(*returning)
        if returning:
            # "insertmanyvalues": one multi-row INSERT ... RETURNING per page, compiled once.
            return list(conn.execute(stmt, list(rows)).all())
        if self.dialect == "postgresql":
            # psycopg reports no row count for INSERT ... ON CONFLICT DO NOTHING (-1), so
            # count the rows that went in from what the statement returns.
            counted = stmt.returning(sa.literal_column("1"))
            return len(conn.execute(counted, list(rows)).all())
        if len(rows) == 1:
            return max(conn.execute(stmt, rows[0]).rowcount, 0)
        return max(conn.execute(stmt, list(rows)).rowcount, 0)

    def claim_due(self, conn: sa.Connection, query: sa.Select[Any]) -> list[Any]:
        """Select rows to work on so that a concurrent claimer never gets the same ones."""
        if self.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return list(conn.execute(query).all())

    def _upsert(
        self,
        conn: sa.Connection,
        table: sa.Table,
        keys: Mapping[str, Any],
        values: Mapping[str, Any],
    ) -> None:
        if self.insert_ignore(conn, table, [{**keys, **values}]):
            return
        where = [table.c[k] == v for k, v in keys.items()]
        conn.execute(sa.update(table).where(*where).values(**values))

    # -- runs -------------------------------------------------------------------------------------

    @staticmethod
    def _run_row(run: DagsterRun, now: datetime) -> dict[str, Any]:
        tags = run.tags
        return {
            "run_id": run.run_id,
            "job_name": run.job_name,
            "status": run.status.value,
            "instigator_id": run_instigator_id(tags),
            "run_key": run.run_key,
            "partition": run.partition_key,
            "run_body": json.dumps(run.to_dict(), separators=(",", ":")),
            "create_timestamp": now,
            "update_timestamp": now,
            "start_time": None if run.start_time is None else run.start_time.timestamp(),
            "end_time": None if run.end_time is None else run.end_time.timestamp(),
        }

    @staticmethod
    def _run_from_row(row: Any) -> DagsterRun:
        run = DagsterRun.from_dict(json.loads(row.run_body))
        start, end = row.start_time, row.end_time
        return replace(
            run,
            status=DagsterRunStatus(row.status),
            start_time=None if start is None else datetime.fromtimestamp(start, UTC),
            end_time=None if end is None else datetime.fromtimestamp(end, UTC),
        )

    def _insert_tags(self, conn: sa.Connection, runs: Iterable[DagsterRun]) -> None:
        bulk.executemany(conn, t.run_tags, bulk.TAG_COLUMNS, bulk.tag_values(runs))

    def add_run(self, run: DagsterRun) -> DagsterRun:
        with self._write() as conn:
            try:
                conn.execute(sa.insert(t.runs), [self._run_row(run, _utcnow())])
            except sa.exc.IntegrityError as exc:
                raise StorageError(
                    f"Run {run.run_id!r} was not stored: a run with this id, or with run key "
                    f"{run.run_key!r} for the same instigator, exists."
                ) from exc
            self._insert_tags(conn, [run])
        return run

    def add_runs(self, runs: Sequence[DagsterRun]) -> list[DagsterRun]:
        with self._write() as conn:
            made, _ = self._insert_runs(conn, runs)
        return made

    def _find_keys(
        self, conn: sa.Connection, instigator_id: str, keys: Sequence[str]
    ) -> dict[str, str]:
        found: dict[str, str] = {}
        c = t.runs.c
        for chunk in _chunks(keys, self._max_params - 10):
            rows = bulk.select_in(
                conn,
                t.runs,
                ("run_key", "run_id"),
                {"instigator_id": instigator_id},
                "run_key",
                chunk,
            )
            if rows is None:
                query = sa.select(c.run_key, c.run_id).where(
                    c.instigator_id == instigator_id, c.run_key.in_(chunk)
                )
                rows = list(conn.execute(query))
            found.update({key: run_id for key, run_id in rows})
        return found

    def find_run_ids_for_keys(self, instigator_id: str, run_keys: Iterable[str]) -> dict[str, str]:
        with self._read() as conn:
            return self._find_keys(conn, instigator_id, list(run_keys))

    def _existing_keys(
        self, conn: sa.Connection, keyed: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], str]:
        by_instigator: dict[str, list[str]] = {}
        for instigator_id, key in keyed:
            by_instigator.setdefault(instigator_id, []).append(key)
        existing: dict[tuple[str, str], str] = {}
        for instigator_id, keys in by_instigator.items():
            for key, run_id in self._find_keys(conn, instigator_id, keys).items():
                existing[(instigator_id, key)] = run_id
        return existing

    def _insert_runs(
        self, conn: sa.Connection, runs: Sequence[DagsterRun]
    ) -> tuple[list[DagsterRun], dict[str, str]]:
        """Insert the runs with new keys; return them and ``{skipped key: run holding it}``."""
        idents = [_run_ident(run) for run in runs]
        holders = self._existing_keys(conn, (i for i in idents if i is not None))
        candidates: list[DagsterRun] = []
        for run, ident in zip(runs, idents, strict=True):
            if ident is None:
                candidates.append(run)
            elif ident not in holders:
                holders[ident] = run.run_id
                candidates.append(run)
        inserted = self._insert_run_rows(conn, candidates)
        made = [run for run in candidates if run.run_id in inserted]
        if len(made) < len(candidates):
            # Another writer inserted some keys after we looked: ask again who holds them.
            lost = [_run_ident(r) for r in candidates if r.run_id not in inserted]
            holders.update(self._existing_keys(conn, (i for i in lost if i is not None)))
        self._insert_tags(conn, made)
        skipped = {
            ident[1]: holders[ident]
            for run, ident in zip(runs, idents, strict=True)
            if ident is not None and run.run_id not in inserted
        }
        return made, skipped

    def _insert_run_rows(self, conn: sa.Connection, runs: Sequence[DagsterRun]) -> set[str]:
        """Insert the runs, skipping any whose key or id is taken; the ids that went in.

        One prepared INSERT ... ON CONFLICT DO NOTHING over every row. When the driver's count
        says some rows were skipped (another writer took a key since ``_existing_keys``), one
        indexed look-up by run id tells which.
        """
        if not runs:
            return set()
        now = _utcnow()
        rows = bulk.run_values(conn.dialect, runs, now)
        count = bulk.insert_ignore_many(conn, t.runs, bulk.RUN_COLUMNS, rows)
        if count == -1:  # a driver this module cannot address: SQLAlchemy's RETURNING path
            dicts = [self._run_row(run, now) for run in runs]
            found = self.insert_ignore(conn, t.runs, dicts, [t.runs.c.run_id])
            return {row.run_id for row in found}  # type: ignore[union-attr]
        ids = [run.run_id for run in runs]
        if count == len(runs):
            return set(ids)
        return self._stored_run_ids(conn, runs)

    def _stored_run_ids(self, conn: sa.Connection, runs: Sequence[DagsterRun]) -> set[str]:
        """The ids among ``runs`` stored as these very runs (same id and same key)."""
        c = t.runs.c
        wanted = {run.run_id: run.run_key for run in runs}
        found: set[str] = set()
        for chunk in _chunks(list(wanted), self._max_params - 10):
            query = sa.select(c.run_id, c.run_key).where(c.run_id.in_(chunk))
            found.update(r.run_id for r in conn.execute(query) if r.run_key == wanted[r.run_id])
        return found

    def get_run_by_id(self, run_id: str) -> DagsterRun | None:
        with self._read() as conn:
            row = conn.execute(sa.select(t.runs).where(t.runs.c.run_id == run_id)).first()
        return None if row is None else self._run_from_row(row)

    def _filtered(self, query: sa.Select[Any], filters: RunsFilter | None) -> sa.Select[Any]:
        if filters is None:
            return query
        c = t.runs.c
        if filters.run_ids is not None:
            query = query.where(c.run_id.in_(list(filters.run_ids)))
        if filters.job_name is not None:
            query = query.where(c.job_name == filters.job_name)
        if filters.statuses is not None:
            query = query.where(c.status.in_([s.value for s in filters.statuses]))
        for key, value in (filters.tags or {}).items():
            if key in bulk.UNINDEXED_TAGS:
                raise DagsterInvariantViolationError(
                    f"Runs cannot be filtered by the tag {key!r}: tocsin keeps it on each run "
                    "but does not index it. Filter by dagster/*, tocsin/* or your own tags."
                )
            values = [value] if isinstance(value, str) else list(value)
            tagged = sa.select(t.run_tags.c.run_id).where(
                t.run_tags.c.key == key, t.run_tags.c.value.in_(values)
            )
            query = query.where(c.run_id.in_(tagged))
        bounds = (
            (c.create_timestamp, filters.created_after, filters.created_before),
            (c.update_timestamp, filters.updated_after, filters.updated_before),
        )
        for column, after, before in bounds:
            if after is not None:
                query = query.where(column > after)
            if before is not None:
                query = query.where(column < before)
        return query

    def _runs_query(
        self,
        filters: RunsFilter | None,
        limit: int | None,
        cursor: str | None,
        ascending: bool = False,
    ) -> sa.Select[Any]:
        c = t.runs.c
        query = self._filtered(sa.select(t.runs), filters)
        if cursor is not None:
            anchor = sa.select(c.id).where(c.run_id == cursor).scalar_subquery()
            query = query.where(c.id > anchor if ascending else c.id < anchor)
        query = query.order_by(c.id.asc() if ascending else c.id.desc())
        return query if limit is None else query.limit(limit)

    def get_runs(
        self, filters: RunsFilter | None = None, limit: int | None = None, cursor: str | None = None
    ) -> list[DagsterRun]:
        with self._read() as conn:
            rows = conn.execute(self._runs_query(filters, limit, cursor)).all()
        return [self._run_from_row(row) for row in rows]

    def get_run_records(
        self,
        filters: RunsFilter | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        ascending: bool = False,
    ) -> list[RunRecord]:
        with self._read() as conn:
            rows = conn.execute(self._runs_query(filters, limit, cursor, ascending)).all()
        return [
            RunRecord(
                storage_id=row.id,
                dagster_run=self._run_from_row(row),
                create_timestamp=row.create_timestamp,
                update_timestamp=row.update_timestamp,
                start_time=row.start_time,
                end_time=row.end_time,
            )
            for row in rows
        ]

    def get_run_statuses(self, run_ids: Sequence[str]) -> dict[str, tuple[str, DagsterRunStatus]]:
        c = t.runs.c
        found: dict[str, tuple[str, DagsterRunStatus]] = {}
        with self._read() as conn:
            for chunk in _chunks(list(dict.fromkeys(run_ids)), self._max_params - 10):
                columns = ("run_id", "job_name", "status")
                rows = bulk.select_in(conn, t.runs, columns, {}, "run_id", chunk)
                if rows is None:
                    query = sa.select(c.run_id, c.job_name, c.status).where(c.run_id.in_(chunk))
                    rows = list(conn.execute(query))
                for run_id, job_name, status in rows:
                    found[run_id] = (job_name, DagsterRunStatus(status))
        return found

    def get_runs_count(self, filters: RunsFilter | None = None) -> int:
        query = self._filtered(sa.select(sa.func.count()).select_from(t.runs), filters)
        with self._read() as conn:
            return int(conn.execute(query).scalar_one())

    def _require_run(self, conn: sa.Connection, run_id: str) -> Any:
        row = conn.execute(sa.select(t.runs).where(t.runs.c.run_id == run_id)).first()
        if row is None:
            raise DagsterRunNotFoundError(
                f"Run {run_id!r} is not in the run store.", invalid_run_id=run_id
            )
        return row

    def update_run_status(
        self,
        run_id: str,
        status: DagsterRunStatus,
        *,
        start_time: float | None = None,
        end_time: float | None = None,
    ) -> DagsterRun:
        values: dict[str, Any] = {"status": status.value, "update_timestamp": _utcnow()}
        if start_time is not None:
            values["start_time"] = start_time
        if end_time is not None:
            values["end_time"] = end_time
        with self._write() as conn:
            result = conn.execute(
                sa.update(t.runs).where(t.runs.c.run_id == run_id).values(**values)
            )
            if result.rowcount == 0:
                self._require_run(conn, run_id)
            row = self._require_run(conn, run_id)
        return self._run_from_row(row)

    def add_run_tags(self, run_id: str, tags: Mapping[str, str]) -> DagsterRun:
        with self._write() as conn:
            run = self._run_from_row(self._require_run(conn, run_id)).with_tags(tags)
            body = json.dumps(run.to_dict(), separators=(",", ":"))
            conn.execute(
                sa.update(t.runs)
                .where(t.runs.c.run_id == run_id)
                .values(run_body=body, update_timestamp=_utcnow())
            )
            conn.execute(
                sa.delete(t.run_tags).where(
                    t.run_tags.c.run_id == run_id, t.run_tags.c.key.in_(list(tags))
                )
            )
            self._insert_tags(conn, [replace(run, tags=dict(tags))])
        return run

    def delete_run(self, run_id: str) -> None:
        with self._write() as conn:
            conn.execute(sa.delete(t.run_tags).where(t.run_tags.c.run_id == run_id))
            conn.execute(sa.delete(t.event_logs).where(t.event_logs.c.run_id == run_id))
            conn.execute(sa.delete(t.runs).where(t.runs.c.run_id == run_id))

    def claim_queued_runs(self, limit: int, status: DagsterRunStatus) -> list[DagsterRun]:
        c = t.runs.c
        query = (
            sa.select(c.run_id)
            .where(c.status == DagsterRunStatus.QUEUED.value)
            .order_by(c.id)
            .limit(limit)
        )
        with self._write() as conn:
            run_ids = [row.run_id for row in self.claim_due(conn, query)]
            if not run_ids:
                return []
            conn.execute(
                sa.update(t.runs)
                .where(c.run_id.in_(run_ids))
                .values(status=status.value, update_timestamp=_utcnow())
            )
            rows = conn.execute(sa.select(t.runs).where(c.run_id.in_(run_ids)).order_by(c.id))
            return [self._run_from_row(row) for row in rows]

    # -- dynamic partitions -----------------------------------------------------------------------

    def add_dynamic_partitions(self, name: str, keys: Sequence[str]) -> None:
        rows = [{"partitions_def_name": name, "partition": key} for key in dict.fromkeys(keys)]
        with self._write() as conn:
            self.insert_ignore(conn, t.dynamic_partitions, rows)

    def get_dynamic_partitions(self, name: str) -> list[str]:
        c = t.dynamic_partitions.c
        query = sa.select(c.partition).where(c.partitions_def_name == name).order_by(c.id)
        with self._read() as conn:
            return list(conn.execute(query).scalars())

    def has_dynamic_partition(self, name: str, key: str) -> bool:
        c = t.dynamic_partitions.c
        query = sa.select(c.id).where(c.partitions_def_name == name, c.partition == key)
        with self._read() as conn:
            return conn.execute(query).first() is not None

    def delete_dynamic_partition(self, name: str, key: str) -> None:
        c = t.dynamic_partitions.c
        with self._write() as conn:
            conn.execute(
                sa.delete(t.dynamic_partitions).where(
                    c.partitions_def_name == name, c.partition == key
                )
            )

    # -- leases -----------------------------------------------------------------------------------

    def claim_lease(self, name: str, owner: str, duration: timedelta, now: datetime) -> bool:
        row = {"name": name, "owner": owner, "expires_at": now + duration}
        c = t.leases.c
        with self._write() as conn:
            if self.insert_ignore(conn, t.leases, [row]):
                return True
            stmt = (
                sa.update(t.leases)
                .where(c.name == name, sa.or_(c.owner == owner, c.expires_at <= now))
                .values(owner=owner, expires_at=now + duration)
            )
            return conn.execute(stmt).rowcount == 1

    def extend_lease(self, name: str, owner: str, duration: timedelta, now: datetime) -> bool:
        c = t.leases.c
        stmt = (
            sa.update(t.leases)
            .where(c.name == name, c.owner == owner, c.expires_at > now)
            .values(expires_at=now + duration)
        )
        with self._write() as conn:
            return conn.execute(stmt).rowcount == 1

    def release_lease(self, name: str, owner: str) -> None:
        c = t.leases.c
        with self._write() as conn:
            conn.execute(sa.delete(t.leases).where(c.name == name, c.owner == owner))

    def get_leases(self) -> list[Lease]:
        c = t.leases.c
        with self._read() as conn:
            rows = conn.execute(sa.select(t.leases).order_by(c.name)).all()
        return [Lease(row.name, row.owner, row.expires_at) for row in rows]

    # -- heartbeats and settings ------------------------------------------------------------------

    def add_daemon_heartbeat(self, heartbeat: DaemonHeartbeat) -> None:
        body = {"errors": [getattr(e, "to_dict", lambda e=e: e)() for e in heartbeat.errors]}
        values = {"daemon_id": heartbeat.daemon_id, "timestamp": heartbeat.timestamp, "body": body}
        with self._write() as conn:
            self._upsert(conn, t.daemon_heartbeats, {"daemon_type": heartbeat.daemon_type}, values)

    def get_daemon_heartbeats(self) -> dict[str, DaemonHeartbeat]:
        with self._read() as conn:
            rows = conn.execute(sa.select(t.daemon_heartbeats)).all()
        return {
            row.daemon_type: DaemonHeartbeat(
                row.timestamp, row.daemon_type, row.daemon_id, tuple(row.body.get("errors", ()))
            )
            for row in rows
        }

    def set_kv(self, values: Mapping[str, str]) -> None:
        with self._write() as conn:
            for key, value in values.items():
                self._upsert(conn, t.kvs, {"key": key}, {"value": value})

    def get_kv(self, keys: Sequence[str]) -> dict[str, str]:
        with self._read() as conn:
            rows = conn.execute(sa.select(t.kvs).where(t.kvs.c.key.in_(list(keys)))).all()
        return {row.key: row.value for row in rows}

    def set_kv_if_absent(self, key: str, value: str) -> str | None:
        c = t.kvs.c
        while True:
            with self._write() as conn:
                # A unique insert: on PostgreSQL a concurrent insert of the same key makes this
                # one wait for it to commit, then do nothing; SQLite has one writer at a time.
                # RETURNING, not the row count: SQLAlchemy reports -1 for it on psycopg.
                row = {"key": key, "value": value}
                if self.insert_ignore(conn, t.kvs, [row], [c.key]):
                    return None
                found = conn.execute(sa.select(c.value).where(c.key == key)).scalar()
            if found is not None:
                return str(found)
            # The holder was removed between the two statements: try to claim it again.

    def delete_kv_if(self, key: str, value: str) -> bool:
        c = t.kvs.c
        with self._write() as conn:
            result = conn.execute(sa.delete(t.kvs).where(c.key == key, c.value == value))
        return result.rowcount > 0

    # -- lifecycle --------------------------------------------------------------------------------

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
