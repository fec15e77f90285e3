"""The instigator state and tick half of ``SqlStorage``: the tick protocol's one transaction.

``write_tick`` commits a tick, its runs and the instigator's state together. With ``lease``
(several daemons on one database) it first checks, in the same transaction, that the daemon
still holds the tick's claim (``tick/<origin id>``); on PostgreSQL the lease row stays locked
(``SELECT ... FOR UPDATE``) until the commit, so no other daemon takes the claim over in
between. On SQLite the write transaction is the only writer (``BEGIN IMMEDIATE``).

``set_instigator_status`` and ``set_instigator_cursor`` change one part of a state in a locked
transaction, so a start/stop or a cursor set through the web UI or the CLI never overwrites
what a daemon wrote meanwhile.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from tocsin.errors import NotFoundError, TickClaimLostError
from tocsin.model.events import run_enqueued_entry
from tocsin.model.run import DagsterRun, DagsterRunStatus
from tocsin.model.ticks import InstigatorState, InstigatorStatus, InstigatorType, Tick, TickStatus
from tocsin.storage import schema as t
from tocsin.storage.base import LeaseFence, TickStore
from tocsin.storage.sql_events import event_row


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SqlTickStore(TickStore):
    """Instigator state and ticks; mixed into ``SqlStorage``, which supplies the transactions."""

    # Provided by SqlStorage.
    dialect: str
    _write: Any
    _read: Any
    _upsert: Any
    _insert_runs: Any
    _insert_events: Any
    _checkpoint: Any
    insert_ignore: Any

    @staticmethod
    def _state_values(state: InstigatorState) -> dict[str, Any]:
        return {
            "name": state.name,
            "instigator_type": state.instigator_type.value,
            "status": state.status.value,
            "body": state.to_dict(),
            "update_timestamp": _utcnow(),
        }

    def get_instigator_state(self, origin_id: str) -> InstigatorState | None:
        c = t.instigators.c
        with self._read() as conn:
            body = conn.execute(sa.select(c.body).where(c.origin_id == origin_id)).scalar()
        return None if body is None else InstigatorState.from_dict(body)

    def all_instigator_state(
        self, instigator_type: InstigatorType | None = None
    ) -> list[InstigatorState]:
        c = t.instigators.c
        query = sa.select(c.body).order_by(c.origin_id)
        if instigator_type is not None:
            query = query.where(c.instigator_type == instigator_type.value)
        with self._read() as conn:
            return [InstigatorState.from_dict(body) for body in conn.execute(query).scalars()]

    def add_instigator_state(self, state: InstigatorState) -> InstigatorState:
        with self._write() as conn:
            self._write_state(conn, state)
        return state

    def _write_state(self, conn: sa.Connection, state: InstigatorState) -> None:
        self._upsert(conn, t.instigators, {"origin_id": state.origin_id}, self._state_values(state))

    def delete_instigator_state(self, origin_id: str) -> None:
        with self._write() as conn:
            conn.execute(sa.delete(t.instigators).where(t.instigators.c.origin_id == origin_id))

    @staticmethod
    def _tick_values(tick: Tick) -> dict[str, Any]:
        return {
            "instigator_origin_id": tick.instigator_origin_id,
            "instigator_name": tick.instigator_name,
            "instigator_type": tick.instigator_type.value,
            "status": tick.status.value,
            "timestamp": tick.timestamp,
            "body": tick.to_dict(),
        }

    def _save_tick(self, conn: sa.Connection, tick: Tick) -> Tick:
        if tick.tick_id is None:
            insert = sa.insert(t.ticks).values(**self._tick_values(tick)).returning(t.ticks.c.id)
            return replace(tick, tick_id=conn.execute(insert).scalar_one())
        update = sa.update(t.ticks).where(t.ticks.c.id == tick.tick_id)
        if conn.execute(update.values(**self._tick_values(tick))).rowcount == 0:
            raise NotFoundError(f"Tick {tick.tick_id} is not in the tick store.")
        return tick

    def create_tick(self, tick: Tick) -> Tick:
        with self._write() as conn:
            return self._save_tick(conn, replace(tick, tick_id=None))

    def update_tick(self, tick: Tick) -> Tick:
        if tick.tick_id is None:
            raise NotFoundError(
                "update_tick needs a stored tick (tick_id is None); use create_tick."
            )
        with self._write() as conn:
            return self._save_tick(conn, tick)

    def write_tick(
        self,
        tick: Tick,
        new_runs: Sequence[DagsterRun] = (),
        cursor: str | None = None,
        state: InstigatorState | None = None,
        *,
        lease: LeaseFence | None = None,
        enqueue: Collection[str] = (),
    ) -> list[DagsterRun]:
        wanted = set(enqueue)
        if wanted:
            queued = DagsterRunStatus.QUEUED
            new_runs = [replace(r, status=queued) if r.run_id in wanted else r for r in new_runs]
        with self._write() as conn:
            if lease is not None:
                self._check_fence(conn, lease)
            made, skipped = self._insert_runs(conn, new_runs)
            if wanted:
                self._store_enqueued(conn, [r for r in made if r.run_id in wanted])
            self._checkpoint("runs")
            tick = replace(
                tick,
                run_ids=(*tick.run_ids, *(r.run_id for r in made)),
                run_keys=(*tick.run_keys, *(r.run_key for r in made if r.run_key is not None)),
                skipped_run_keys={**tick.skipped_run_keys, **skipped},
            )
            tick = self._save_tick(conn, tick)
            self._checkpoint("tick")
            state = self._state_for_tick(conn, tick, cursor, state)
            if state is not None:
                state = self._keep_stop(conn, state)
                self._write_state(conn, state)
            self._checkpoint("state")
        return made

    def _store_enqueued(self, conn: sa.Connection, runs: Sequence[DagsterRun]) -> None:
        """The RUN_ENQUEUED event of each run inserted QUEUED, on the tick's connection."""
        if not runs:
            return
        pid = os.getpid()
        entries = [run_enqueued_entry(run.run_id, run.job_name, pid) for run in runs]
        self._insert_events(conn, [event_row(entry) for entry in entries])

    def _state_for_tick(
        self, conn: sa.Connection, tick: Tick, cursor: str | None, state: InstigatorState | None
    ) -> InstigatorState | None:
        if state is None and cursor is None:
            return None
        if state is None:
            c = t.instigators.c
            body = conn.execute(
                sa.select(c.body).where(c.origin_id == tick.instigator_origin_id)
            ).scalar()
            state = (
                InstigatorState.from_dict(body)
                if body is not None
                else InstigatorState(
                    tick.instigator_origin_id,
                    tick.instigator_name,
                    tick.instigator_type,
                    InstigatorStatus.DECLARED_IN_CODE,
                )
            )
        last_key = tick.run_keys[-1] if tick.run_keys else state.last_run_key
        return replace(
            state,
            cursor=state.cursor if cursor is None else cursor,
            last_tick_timestamp=tick.timestamp,
            last_tick_status=tick.status,
            last_run_key=last_key,
        )

    def _keep_stop(self, conn: sa.Connection, state: InstigatorState) -> InstigatorState:
        """A tick never undoes a stop made while it was evaluated.

        The daemon read ``state`` before the evaluation; if someone stopped the instigator since
        (web UI, CLI), the stored STOPPED stays, with its ``status_changed_at``.
        """
        if state.status == InstigatorStatus.STOPPED:
            return state
        c = t.instigators.c
        query = sa.select(c.status, c.body).where(c.origin_id == state.origin_id)
        if self.dialect == "postgresql":
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is None or row.status != InstigatorStatus.STOPPED.value:
            return state
        extra = dict(state.extra)
        stopped_at = (row.body.get("extra") or {}).get("status_changed_at")
        if stopped_at is not None:
            extra["status_changed_at"] = stopped_at
        return replace(state, status=InstigatorStatus.STOPPED, extra=extra)

    def get_tick(self, tick_id: int) -> Tick:
        with self._read() as conn:
            body = conn.execute(sa.select(t.ticks.c.body).where(t.ticks.c.id == tick_id)).scalar()
        if body is None:
            raise NotFoundError(f"Tick {tick_id} is not in the tick store.")
        return Tick.from_dict(body, tick_id)

    def get_ticks(
        self,
        origin_id: str,
        *,
        limit: int | None = None,
        statuses: Sequence[TickStatus] | None = None,
        before: datetime | None = None,
        after: datetime | None = None,
    ) -> list[Tick]:
        c = t.ticks.c
        query = (
            sa.select(c.id, c.body)
            .where(c.instigator_origin_id == origin_id)
            .order_by(c.timestamp.desc(), c.id.desc())
        )
        if statuses is not None:
            query = query.where(c.status.in_([s.value for s in statuses]))
        if before is not None:
            query = query.where(c.timestamp < before)
        if after is not None:
            query = query.where(c.timestamp > after)
        if limit is not None:
            query = query.limit(limit)
        with self._read() as conn:
            return [Tick.from_dict(row.body, row.id) for row in conn.execute(query)]

    def purge_ticks(
        self, origin_id: str | None, before: datetime, statuses: Sequence[TickStatus] | None = None
    ) -> int:
        c = t.ticks.c
        stmt = sa.delete(t.ticks).where(c.timestamp < before)
        if origin_id is not None:
            stmt = stmt.where(c.instigator_origin_id == origin_id)
        if statuses is not None:
            stmt = stmt.where(c.status.in_([s.value for s in statuses]))
        with self._write() as conn:
            return int(conn.execute(stmt).rowcount)

    # -- fencing and targeted state changes -------------------------------------------------------

    def _check_fence(self, conn: sa.Connection, fence: LeaseFence) -> None:
        """Raise ``TickClaimLostError`` unless ``fence.owner`` holds the lease at ``fence.now``.

        On PostgreSQL the lease row stays locked until the transaction ends, so a daemon
        claiming it meanwhile waits for this commit (then finds it taken or re-claims it).
        """
        c = t.leases.c
        query = sa.select(c.owner, c.expires_at).where(c.name == fence.name)
        if self.dialect == "postgresql":
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is not None and row.owner == fence.owner and row.expires_at > fence.now:
            return
        holder = None if row is None or row.expires_at <= fence.now else str(row.owner)
        raise TickClaimLostError(fence.name, fence.owner, holder)

    def _locked_state(self, conn: sa.Connection, origin_id: str) -> InstigatorState | None:
        c = t.instigators.c
        query = sa.select(c.body).where(c.origin_id == origin_id)
        if self.dialect == "postgresql":
            query = query.with_for_update()
        body = conn.execute(query).scalar()
        return None if body is None else InstigatorState.from_dict(body)

    def _change_state(
        self, origin_id: str, default: InstigatorState | None, change: Any
    ) -> InstigatorState:
        """Apply ``change(state) -> state`` to the stored state in one locked transaction."""
        with self._write() as conn:
            state = self._locked_state(conn, origin_id)
            if state is None:
                if default is None:
                    raise NotFoundError(
                        f"No stored state for instigator {origin_id!r}; pass default= (the "
                        "state to create) to set it anyway."
                    )
                created = change(replace(default, origin_id=origin_id))
                values = {"origin_id": origin_id, **self._state_values(created)}
                if self.insert_ignore(conn, t.instigators, [values]):
                    return created
                # Written by someone else since the read: change what they wrote.
                state = self._locked_state(conn, origin_id)
                assert state is not None
            changed = change(state)
            self._write_state(conn, changed)
        return changed

    def set_instigator_status(
        self,
        origin_id: str,
        status: InstigatorStatus | None,
        extra_changes: Mapping[str, Any] | None = None,
        *,
        default: InstigatorState | None = None,
    ) -> InstigatorState:
        extra_changes = dict(extra_changes or {})

        def change(state: InstigatorState) -> InstigatorState:
            kept = state.status if status is None else status
            return replace(state, status=kept, extra={**state.extra, **extra_changes})

        return self._change_state(origin_id, default, change)

    def set_instigator_cursor(
        self, origin_id: str, cursor: str | None, *, default: InstigatorState | None = None
    ) -> InstigatorState:
        return self._change_state(origin_id, default, lambda state: replace(state, cursor=cursor))
