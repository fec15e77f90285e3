"""One interface per store. The docstrings are the contract every backend keeps.

``SqlStorage`` (``storage/sql.py``) implements all of them on SQLite and PostgreSQL. A plugin
backend subclasses the ones it provides; a missing method fails when the class is constructed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from tocsin.model.asset_key import AssetKey
from tocsin.model.events import DagsterEventType, EventLogEntry, EventLogRecord, EventRecordsFilter
from tocsin.model.run import DagsterRun, DagsterRunStatus, RunRecord, RunsFilter
from tocsin.model.tags import INSTIGATOR_TAG, RUN_KEY_TAG, SCHEDULE_NAME_TAG, SENSOR_NAME_TAG
from tocsin.model.ticks import InstigatorState, InstigatorStatus, InstigatorType, Tick, TickStatus


@dataclass(frozen=True)
class Lease:
    """A named lease: who holds it and until when."""

    name: str
    owner: str
    expires_at: datetime


@dataclass(frozen=True)
class LeaseFence:
    """What a fenced write checks first: ``owner`` still holds lease ``name`` at ``now``."""

    name: str
    owner: str
    now: datetime


@dataclass(frozen=True)
class RunStatusChange:
    """A run's new status (and start or end time) that a run lifecycle event brings."""

    run_id: str
    status: DagsterRunStatus
    start_time: float | None = None
    end_time: float | None = None


@dataclass(frozen=True)
class DaemonHeartbeat:
    """The last sign of life of one daemon loop."""

    timestamp: datetime
    daemon_type: str
    daemon_id: str | None = None
    errors: Sequence[Any] = ()


class RunStore(ABC):
    """Runs, their tags and their status."""

    @abstractmethod
    def add_run(self, run: DagsterRun) -> DagsterRun:
        """Insert one run.

        Raises:
            StorageError: a run with this id, or with this (instigator, run key), exists.
        """

    @abstractmethod
    def add_runs(self, runs: Sequence[DagsterRun]) -> list[DagsterRun]:
        """Insert runs, skip those whose (instigator_id, run_key) exists; return the new ones.

        Within the batch the first run with a key wins. One statement per chunk, never a
        query per key.
        """

    @abstractmethod
    def find_run_ids_for_keys(self, instigator_id: str, run_keys: Iterable[str]) -> dict[str, str]:
        """Return ``{run_key: run_id}`` for those of ``run_keys`` that already have a run."""

    @abstractmethod
    def get_run_by_id(self, run_id: str) -> DagsterRun | None:
        """The run with this id, or None."""

    @abstractmethod
    def get_runs(
        self, filters: RunsFilter | None = None, limit: int | None = None, cursor: str | None = None
    ) -> list[DagsterRun]:
        """Runs matching ``filters``, newest first.

        Args:
            filters: every field that is set must match.
            limit: at most this many.
            cursor: a run id; only runs created before it are returned.
        """

    @abstractmethod
    def get_run_records(
        self,
        filters: RunsFilter | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        ascending: bool = False,
    ) -> list[RunRecord]:
        """Like ``get_runs`` with storage ids and timestamps."""

    @abstractmethod
    def get_runs_count(self, filters: RunsFilter | None = None) -> int:
        """How many runs match ``filters``."""

    def get_run_statuses(self, run_ids: Sequence[str]) -> dict[str, tuple[str, DagsterRunStatus]]:
        """``{run_id: (job name, status)}`` for those of ``run_ids`` that exist.

        A store may answer this without reading whole runs; the default reads them.
        """
        runs = self.get_runs(RunsFilter(run_ids=list(run_ids))) if run_ids else []
        return {run.run_id: (run.job_name, run.status) for run in runs}

    @abstractmethod
    def update_run_status(
        self,
        run_id: str,
        status: DagsterRunStatus,
        *,
        start_time: float | None = None,
        end_time: float | None = None,
    ) -> DagsterRun:
        """Move a run to ``status`` (and set its start/end times when given).

        Raises:
            DagsterRunNotFoundError: no run has this id.
        """

    @abstractmethod
    def add_run_tags(self, run_id: str, tags: Mapping[str, str]) -> DagsterRun:
        """Add or overwrite tags of a run.

        Raises:
            DagsterRunNotFoundError: no run has this id.
        """

    @abstractmethod
    def delete_run(self, run_id: str) -> None:
        """Delete a run, its tags and its events. Deleting a missing run does nothing."""

    @abstractmethod
    def claim_queued_runs(self, limit: int, status: DagsterRunStatus) -> list[DagsterRun]:
        """Move up to ``limit`` QUEUED runs, oldest first, to ``status`` and return them.

        Two callers at once never get the same run.
        """


class EventLog(ABC):
    """The append-only event log and the asset indexes kept beside it."""

    @abstractmethod
    def store_event(self, entry: EventLogEntry) -> EventLogEntry:
        """Append an entry; return it with its ``storage_id`` (global, increasing)."""

    @abstractmethod
    def store_events(
        self, entries: Sequence[EventLogEntry], run_changes: Sequence[RunStatusChange] = ()
    ) -> list[EventLogEntry]:
        """Append entries in order in one transaction; return them in order with storage ids.

        ``run_changes`` are applied in the same transaction (a store that is also the
        ``RunStore`` of the instance gets them); a change for a run that does not exist is
        skipped. The asset indexes end as if the entries had been stored one by one.
        """

    @abstractmethod
    def get_logs_for_run(
        self, run_id: str, of_type: Iterable[DagsterEventType] | None = None, after: int = -1
    ) -> list[EventLogEntry]:
        """A run's entries in order, optionally only of some types and after a storage id."""

    @abstractmethod
    def get_event_records(
        self, records_filter: EventRecordsFilter, limit: int | None = None, ascending: bool = False
    ) -> list[EventLogRecord]:
        """Records matching the filter, newest first unless ``ascending``."""

    @abstractmethod
    def get_event_records_after(
        self, storage_id: int, event_types: Iterable[DagsterEventType], limit: int | None = None
    ) -> list[EventLogRecord]:
        """Records of these types with a storage id greater than ``storage_id``, oldest first."""

    @abstractmethod
    def get_latest_materialization_event(
        self, asset_key: AssetKey, partition: str | None = None
    ) -> EventLogEntry | None:
        """The newest materialization of an asset (or of one partition of it), or None."""

    @abstractmethod
    def get_latest_materialization_ids(self, asset_key: AssetKey) -> dict[str, int]:
        """``{partition: storage id}`` of the newest materialization of each partition."""

    @abstractmethod
    def get_asset_keys(self, prefix: Sequence[str] | None = None) -> list[AssetKey]:
        """Every asset that has a materialization or observation, sorted."""

    @abstractmethod
    def wipe_assets(self, asset_keys: Sequence[AssetKey]) -> None:
        """Forget the materializations and observations of these assets (run logs stay)."""

    @abstractmethod
    def delete_events(self, run_id: str) -> None:
        """Delete every entry of a run."""

    @abstractmethod
    def get_max_storage_id(self) -> int:
        """The storage id of the newest entry, 0 if the log is empty."""


class PartitionStore(ABC):
    """Dynamic partitions: named sets of partition keys that users add and delete."""

    @abstractmethod
    def add_dynamic_partitions(self, name: str, keys: Sequence[str]) -> None:
        """Add keys to the set ``name``; keys already there are left as they are."""

    @abstractmethod
    def get_dynamic_partitions(self, name: str) -> list[str]:
        """The keys of ``name`` in the order they were added."""

    @abstractmethod
    def has_dynamic_partition(self, name: str, key: str) -> bool:
        """Whether ``key`` is in the set ``name``."""

    @abstractmethod
    def delete_dynamic_partition(self, name: str, key: str) -> None:
        """Remove ``key`` from ``name``; removing a missing key does nothing."""


class TickStore(ABC):
    """Instigator state and ticks; the one transaction of the tick protocol."""

    @abstractmethod
    def get_instigator_state(self, origin_id: str) -> InstigatorState | None:
        """The stored state of one instigator, or None."""

    @abstractmethod
    def all_instigator_state(
        self, instigator_type: InstigatorType | None = None
    ) -> list[InstigatorState]:
        """Every stored state, optionally of one type, sorted by origin id."""

    @abstractmethod
    def add_instigator_state(self, state: InstigatorState) -> InstigatorState:
        """Insert or replace the state of ``state.origin_id``."""

    def update_instigator_state(self, state: InstigatorState) -> InstigatorState:
        """Insert or replace the state of ``state.origin_id``."""
        return self.add_instigator_state(state)

    def set_instigator_status(
        self,
        origin_id: str,
        status: InstigatorStatus | None,
        extra_changes: Mapping[str, Any] | None = None,
        *,
        default: InstigatorState | None = None,
    ) -> InstigatorState:
        """Set an instigator's status (None: leave it) and some keys of its ``extra``, nothing
        else.

        The cursor, the last tick and the other ``extra`` keys stay as stored, so a change
        made through the web UI or the CLI never undoes what a daemon wrote meanwhile. A
        missing state is created from ``default`` (its status and extra overridden).

        The default reads and writes the state; ``SqlStorage`` does it in one locked
        transaction.

        Raises:
            NotFoundError: there is no state for ``origin_id`` and no ``default``.
        """
        state = self.get_instigator_state(origin_id) or _require_default(origin_id, default)
        extra = {**state.extra, **(extra_changes or {})}
        status = state.status if status is None else status
        return self.add_instigator_state(replace(state, status=status, extra=extra))

    def set_instigator_cursor(
        self, origin_id: str, cursor: str | None, *, default: InstigatorState | None = None
    ) -> InstigatorState:
        """Set an instigator's cursor, nothing else (see ``set_instigator_status``).

        Raises:
            NotFoundError: there is no state for ``origin_id`` and no ``default``.
        """
        state = self.get_instigator_state(origin_id) or _require_default(origin_id, default)
        return self.add_instigator_state(replace(state, cursor=cursor))

    @abstractmethod
    def delete_instigator_state(self, origin_id: str) -> None:
        """Forget an instigator's state (its ticks stay)."""

    @abstractmethod
    def create_tick(self, tick: Tick) -> Tick:
        """Store a new tick; return it with its ``tick_id``."""

    @abstractmethod
    def update_tick(self, tick: Tick) -> Tick:
        """Overwrite a stored tick (``tick.tick_id`` must be set)."""

    @abstractmethod
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
        """Record a finished evaluation in ONE transaction.

        Writes the tick (inserted, or updated when ``tick.tick_id`` is set); inserts the runs
        whose (instigator, run key) is new (within the batch the first wins); records on the
        tick the runs made and, for each skipped key, the run that holds it; writes ``cursor``
        and ``state``. If anything fails nothing is written.

        Args:
            tick: the tick to store.
            new_runs: runs the evaluation asked for, NOT_STARTED.
            cursor: the instigator's new cursor (None leaves ``state``'s cursor).
            state: the instigator state to write with the tick.
            lease: when given, the transaction first checks (and holds, until it commits)
                that ``lease.owner`` still holds the lease ``lease.name``, unexpired at
                ``lease.now``; a daemon whose tick claim passed to another daemon while it
                evaluated thus commits nothing.
            enqueue: ids among ``new_runs`` to insert QUEUED, each with its RUN_ENQUEUED
                event in the same transaction (what the queued run coordinator's submission
                would do right after the commit).

        Returns:
            The runs inserted, in request order (those in ``enqueue`` QUEUED).

        Raises:
            TickClaimLostError: ``lease`` is no longer held by its owner; nothing is written.
        """

    @abstractmethod
    def get_tick(self, tick_id: int) -> Tick:
        """The tick with this id.

        Raises:
            NotFoundError: no tick has this id.
        """

    @abstractmethod
    def get_ticks(
        self,
        origin_id: str,
        *,
        limit: int | None = None,
        statuses: Sequence[TickStatus] | None = None,
        before: datetime | None = None,
        after: datetime | None = None,
    ) -> list[Tick]:
        """An instigator's ticks, newest first."""

    @abstractmethod
    def purge_ticks(
        self, origin_id: str | None, before: datetime, statuses: Sequence[TickStatus] | None = None
    ) -> int:
        """Delete ticks older than ``before`` (optionally only some statuses); return how many."""


class LeaseStore(ABC):
    """Short named leases so that several daemons never do the same work at once."""

    @abstractmethod
    def claim_lease(self, name: str, owner: str, duration: timedelta, now: datetime) -> bool:
        """Take the lease if free, expired or already ``owner``'s; True if ``owner`` holds it."""

    @abstractmethod
    def extend_lease(self, name: str, owner: str, duration: timedelta, now: datetime) -> bool:
        """Push the expiry of ``owner``'s unexpired lease to ``now + duration``."""

    @abstractmethod
    def release_lease(self, name: str, owner: str) -> None:
        """Give the lease up if ``owner`` holds it."""

    @abstractmethod
    def get_leases(self) -> list[Lease]:
        """Every lease row, sorted by name (expired ones included)."""


class MiscStore(ABC):
    """Daemon heartbeats and instance-wide settings."""

    @abstractmethod
    def add_daemon_heartbeat(self, heartbeat: DaemonHeartbeat) -> None:
        """Record the latest heartbeat of ``heartbeat.daemon_type``."""

    @abstractmethod
    def get_daemon_heartbeats(self) -> dict[str, DaemonHeartbeat]:
        """The latest heartbeat of each daemon type."""

    @abstractmethod
    def set_kv(self, values: Mapping[str, str]) -> None:
        """Store instance-wide settings."""

    @abstractmethod
    def get_kv(self, keys: Sequence[str]) -> dict[str, str]:
        """The settings that are set among ``keys``."""

    @abstractmethod
    def set_kv_if_absent(self, key: str, value: str) -> str | None:
        """Store ``key`` -> ``value`` only if ``key`` is not set yet, atomically.

        Of concurrent callers with the same key exactly one stores its value.

        Returns:
            None when this call stored ``value``; otherwise the value already there (unchanged).
        """

    @abstractmethod
    def delete_kv_if(self, key: str, value: str) -> bool:
        """Remove ``key`` only while it holds ``value``; True when it was removed."""


HeartbeatStore = MiscStore


class ComputeLogStore(ABC):
    """Captured stdout/stderr of each step of each run."""

    @abstractmethod
    def log_path(self, run_id: str, step_key: str, io_type: str) -> str:
        """Where the ``stdout`` or ``stderr`` of a step is written."""

    @abstractmethod
    def write(self, run_id: str, step_key: str, io_type: str, data: str) -> None:
        """Append ``data`` to a step's log."""

    @abstractmethod
    def read(self, run_id: str, step_key: str, io_type: str, offset: int = 0) -> tuple[str, int]:
        """Return the text from byte ``offset`` on, and the offset to read from next."""

    @abstractmethod
    def delete_logs(self, run_id: str) -> None:
        """Remove every captured log of a run."""


def _require_default(origin_id: str, default: InstigatorState | None) -> InstigatorState:
    if default is None:
        from tocsin.errors import NotFoundError

        raise NotFoundError(
            f"No stored state for instigator {origin_id!r}; pass default= (the state to "
            "create) to set it anyway."
        )
    return default


def run_instigator_id(tags: Mapping[str, Any]) -> str | None:
    """The instigator that de-duplicates a run's key, from its tags (None if it has no key)."""
    if tags.get(RUN_KEY_TAG) is None:
        return tags.get(INSTIGATOR_TAG)
    if INSTIGATOR_TAG in tags:
        return str(tags[INSTIGATOR_TAG])
    if SENSOR_NAME_TAG in tags:
        return f"sensor:{tags[SENSOR_NAME_TAG]}"
    if SCHEDULE_NAME_TAG in tags:
        return f"schedule:{tags[SCHEDULE_NAME_TAG]}"
    return ""


@dataclass(frozen=True)
class EventRecordsResult:
    """A page of event records: the records, a cursor to read on from, whether more remain."""

    records: Sequence[EventLogRecord]
    cursor: str | None
    has_more: bool
