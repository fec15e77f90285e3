"""``DagsterInstance``: the facade the rest of tocsin talks to for runs, events and ticks.

An instance is opened from a home directory (``$TOCSIN_HOME/tocsin.yaml`` or
``$DAGSTER_HOME/dagster.yaml``), from an ``InstanceRef`` handed to a child process, or as an
ephemeral SQLite database in a temporary directory. The stores are attributes: ``runs``,
``events``, ``ticks`` (plus ``leases``, ``partitions``, ``misc``); with the built-in storage
they are all the same ``SqlStorage``.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from tocsin.errors import (
    CheckError,
    ConfigError,
    DagsterHomeNotSetError,
    DagsterRunNotFoundError,
)
from tocsin.instance.ref import (
    InstanceRef,
    MigrationResult,
    default_ref,
    engine_for,
    open_store,
    ref_from_config,
    rehydrate_optional,
    storage_dir_url,
    storage_urls,
)
from tocsin.model.asset_key import AssetKey
from tocsin.model.errors_info import SerializableErrorInfo
from tocsin.model.events import (
    DagsterEvent,
    DagsterEventType,
    EngineEventData,
    EventLogEntry,
    EventLogRecord,
    EventRecordsFilter,
    JobFailureData,
    run_enqueued_entry,
)
from tocsin.model.run import DagsterRun, DagsterRunStatus, RunRecord, RunsFilter

_STATUS_FOR_EVENT = {
    DagsterEventType.RUN_ENQUEUED.value: DagsterRunStatus.QUEUED,
    DagsterEventType.RUN_STARTING.value: DagsterRunStatus.STARTING,
    DagsterEventType.RUN_START.value: DagsterRunStatus.STARTED,
    DagsterEventType.RUN_SUCCESS.value: DagsterRunStatus.SUCCESS,
    DagsterEventType.RUN_FAILURE.value: DagsterRunStatus.FAILURE,
    DagsterEventType.RUN_CANCELING.value: DagsterRunStatus.CANCELING,
    DagsterEventType.RUN_CANCELED.value: DagsterRunStatus.CANCELED,
}

DEFAULT_WEBSERVER_URL = "http://127.0.0.1:3000"


def _home_from_env() -> str:
    for name in ("TOCSIN_HOME", "DAGSTER_HOME"):
        value = os.environ.get(name)
        if value:
            return value
    raise DagsterHomeNotSetError(
        "No instance home is set: set TOCSIN_HOME to a directory for tocsin's runs, events and "
        "tocsin.yaml (for example `export TOCSIN_HOME=~/.tocsin`), or run `tocsin dev`, which "
        "uses ./.tocsin."
    )


class DagsterInstance:
    """Runs, events, ticks and the components that act on them, behind one object.

    Open one with ``DagsterInstance.get()``, ``from_config(home)``, ``from_ref(ref)``,
    ``ephemeral()`` or ``local_temp()``; close it with ``dispose()`` or a ``with`` block.
    """

    def __init__(
        self,
        *,
        runs: Any,
        events: Any,
        ticks: Any,
        compute_log_manager: Any,
        local_artifact_storage: Any,
        run_coordinator: Any = None,
        run_launcher: Any = None,
        scheduler: Any = None,
        settings: Mapping[str, Any] | None = None,
        ref: InstanceRef | None = None,
        is_ephemeral: bool = False,
        owned_dir: str | None = None,
        closers: Sequence[Any] = (),
    ):
        from tocsin.storage.base import LeaseStore, MiscStore, PartitionStore

        self.runs = runs
        self.events = events
        self.ticks = ticks
        self.partitions = _first_of(PartitionStore, events, runs, ticks)
        self.leases = _first_of(LeaseStore, ticks, runs, events)
        self.misc = _first_of(MiscStore, runs, ticks, events)
        self.compute_log_manager = compute_log_manager
        self.local_artifact_storage = local_artifact_storage
        self.run_coordinator = run_coordinator
        self.run_launcher = run_launcher
        self.scheduler = scheduler
        self.settings: Mapping[str, Any] = dict(settings or {})
        self._ref = ref
        self.is_ephemeral = is_ephemeral
        self._owned_dir = owned_dir
        self._closers = list(closers)
        self._disposed = False

    # -- opening and closing ----------------------------------------------------------------------

    @classmethod
    def ephemeral(cls, tempdir: str | None = None, **_ignored: Any) -> DagsterInstance:
        """An instance on a fresh SQLite database in a temporary directory (deleted on dispose)."""
        from tocsin.storage.sql import SqlStorage
        from tocsin.storage.sqlite import DB_FILENAME, copy_template, sqlite_engine

        owned = tempdir is None
        home = tempfile.mkdtemp(prefix="tocsin-") if tempdir is None else os.fspath(tempdir)
        storage_dir = os.path.join(home, "storage")
        os.makedirs(storage_dir, exist_ok=True)
        db = os.path.join(storage_dir, DB_FILENAME)
        if not os.path.exists(db):
            copy_template(db)
        storage = SqlStorage(sqlite_engine(db), check_schema=not owned)
        ref = default_ref(home, {}, {})
        return cls._assemble(
            ref,
            {storage_dir_url(storage_dir): storage},
            is_ephemeral=True,
            owned_dir=home if owned else None,
        )

    @classmethod
    def local_temp(
        cls, tempdir: str | None = None, overrides: Mapping[str, Any] | None = None
    ) -> DagsterInstance:
        """A persistent-style instance in a temporary directory, configured by ``overrides``."""
        home = tempfile.mkdtemp(prefix="tocsin-") if tempdir is None else os.fspath(tempdir)
        if overrides:
            import yaml

            Path(home, "tocsin.yaml").write_text(yaml.safe_dump(dict(overrides)))
        instance = cls.from_config(home)
        if tempdir is None:
            instance._owned_dir = home
        return instance

    @classmethod
    def get(cls) -> DagsterInstance:
        """The instance of ``$TOCSIN_HOME`` (or ``$DAGSTER_HOME``).

        Raises:
            DagsterHomeNotSetError: neither variable is set.
        """
        return cls.from_config(_home_from_env())

    @classmethod
    def from_config(cls, home: str | os.PathLike[str]) -> DagsterInstance:
        """Open the instance whose home directory is ``home`` (reading its tocsin.yaml).

        Raises:
            ConfigError: the home is not a directory, or its tocsin.yaml is wrong.
        """
        from tocsin.instance.config import find_config_file, load_instance_config

        home = os.path.abspath(os.fspath(home))
        if not os.path.isdir(home):
            raise DagsterHomeNotSetError(
                f"Instance home {home!r} is not a directory: create it (mkdir -p {home}) or "
                "point TOCSIN_HOME at an existing directory."
            )
        path = find_config_file(home)
        config = load_instance_config(path) if path is not None else None
        return cls.from_ref(ref_from_config(home, config))

    @classmethod
    def from_ref(cls, ref: InstanceRef) -> DagsterInstance:
        """Open the instance a ref describes (in this or another process)."""
        return cls._assemble(ref, {})

    @classmethod
    def _assemble(
        cls,
        ref: InstanceRef,
        opened: dict[str, Any],
        *,
        is_ephemeral: bool = False,
        owned_dir: str | None = None,
    ) -> DagsterInstance:
        from tocsin.storage.base import EventLog, RunStore, TickStore

        runs = open_store(ref.run_storage_data, RunStore, opened, "run_storage")
        events = open_store(ref.event_storage_data, EventLog, opened, "event_log_storage")
        ticks = open_store(ref.schedule_storage_data, TickStore, opened, "schedule_storage")
        if hasattr(ticks, "engine") and hasattr(runs, "engine") and ticks is not runs:
            raise ConfigError(
                "run_storage and schedule_storage point at different databases; they must share "
                "one so that a tick and the runs it makes are written together."
            )
        return cls(
            runs=runs,
            events=events,
            ticks=ticks,
            compute_log_manager=ref.compute_logs_data.rehydrate(),
            local_artifact_storage=ref.local_artifact_storage_data.rehydrate(),
            run_coordinator=rehydrate_optional(ref.run_coordinator_data),
            run_launcher=rehydrate_optional(ref.run_launcher_data),
            scheduler=rehydrate_optional(ref.scheduler_data),
            settings=ref.settings,
            ref=ref,
            is_ephemeral=is_ephemeral,
            owned_dir=owned_dir,
            closers=[s for s in opened.values() if hasattr(s, "dispose")],
        )

    @classmethod
    def migrate(cls, home: str | os.PathLike[str] | None = None) -> list[MigrationResult]:
        """Bring every database of the instance at ``home`` (default: ``$TOCSIN_HOME``) to head.

        Works on a database that is too old to open; a fresh one is created at head.

        Returns:
            One ``MigrationResult`` per database: its URL (password hidden), revisions before
            and after.
        """
        from tocsin.instance.config import find_config_file, load_instance_config
        from tocsin.storage.migrate import upgrade

        home = os.path.abspath(os.fspath(home) if home is not None else _home_from_env())
        path = find_config_file(home)
        ref = ref_from_config(home, load_instance_config(path) if path else None)
        results = []
        for url in storage_urls(ref):
            engine = engine_for(url)
            try:
                before, after = upgrade(engine)
            finally:
                engine.dispose()
            results.append(
                MigrationResult(engine.url.render_as_string(hide_password=True), before, after)
            )
        return results

    upgrade = migrate

    def get_ref(self) -> InstanceRef:
        """An ``InstanceRef`` a child process can open with ``DagsterInstance.from_ref``."""
        if self._ref is None:
            raise CheckError("This instance was built directly and has no ref to hand over.")
        return self._ref

    def dispose(self) -> None:
        """Close the database connections; an ephemeral instance also deletes its directory."""
        if self._disposed:
            return
        self._disposed = True
        for store in self._closers:
            store.dispose()
        if self._owned_dir is not None:
            shutil.rmtree(self._owned_dir, ignore_errors=True)

    def __enter__(self) -> DagsterInstance:
        return self

    def __exit__(self, *exc: object) -> None:
        self.dispose()

    def __repr__(self) -> str:
        kind = "ephemeral" if self.is_ephemeral else "persistent"
        return f"<DagsterInstance {kind} {self.root_directory!r}>"

    @property
    def compute_logs(self) -> Any:
        """The compute log manager (stdout/stderr of steps)."""
        return self.compute_log_manager

    # -- directories and URLs ---------------------------------------------------------------------

    @property
    def root_directory(self) -> str:
        return str(self.local_artifact_storage.base_dir)

    def storage_directory(self) -> str:
        """The directory where the filesystem IO manager keeps outputs."""
        return str(self.local_artifact_storage.storage_dir)

    def schedules_directory(self) -> str:
        return str(self.local_artifact_storage.schedules_dir)

    def get_run_url(self, run_id: str) -> str:
        """The web UI address of a run (``webserver.base_url`` in tocsin.yaml)."""
        web = self.settings.get("webserver") or {}
        base = str(web.get("base_url") or DEFAULT_WEBSERVER_URL).rstrip("/")
        return f"{base}/runs/{run_id}"

    # -- runs -------------------------------------------------------------------------------------

    def create_run(
        self,
        *,
        job_name: str,
        run_id: str | None = None,
        run_config: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        status: DagsterRunStatus | None = None,
        asset_selection: Any = None,
        op_selection: Sequence[str] | None = None,
        root_run_id: str | None = None,
        parent_run_id: str | None = None,
        **_ignored: Any,
    ) -> DagsterRun:
        """Store a new run and return it."""
        values: dict[str, Any] = {
            "job_name": job_name,
            "run_config": dict(run_config or {}),
            "status": status or DagsterRunStatus.NOT_STARTED,
            "tags": {k: str(v) for k, v in (tags or {}).items()},
            "asset_selection": None if asset_selection is None else frozenset(asset_selection),
            "op_selection": None if op_selection is None else list(op_selection),
            "root_run_id": root_run_id,
            "parent_run_id": parent_run_id,
        }
        if run_id is not None:
            values["run_id"] = run_id
        return self.runs.add_run(DagsterRun(**values))

    def add_run(self, run: DagsterRun) -> DagsterRun:
        return self.runs.add_run(run)

    def add_runs(self, runs: Sequence[DagsterRun]) -> list[DagsterRun]:
        return self.runs.add_runs(runs)

    def get_run_by_id(self, run_id: str) -> DagsterRun | None:
        return self.runs.get_run_by_id(run_id)

    def get_run(self, run_id: str) -> DagsterRun:
        """The run with this id.

        Raises:
            DagsterRunNotFoundError: no run has this id.
        """
        run = self.runs.get_run_by_id(run_id)
        if run is None:
            raise DagsterRunNotFoundError(f"Run {run_id!r} does not exist.", invalid_run_id=run_id)
        return run

    def has_run(self, run_id: str) -> bool:
        return self.runs.get_run_by_id(run_id) is not None

    def get_run_record_by_id(self, run_id: str) -> RunRecord | None:
        records = self.runs.get_run_records(RunsFilter(run_ids=[run_id]), limit=1)
        return records[0] if records else None

    def get_runs(
        self, filters: RunsFilter | None = None, limit: int | None = None, cursor: str | None = None
    ) -> list[DagsterRun]:
        return self.runs.get_runs(filters, limit, cursor)

    def get_run_ids(
        self, filters: RunsFilter | None = None, limit: int | None = None, cursor: str | None = None
    ) -> list[str]:
        return [r.run_id for r in self.runs.get_runs(filters, limit, cursor)]

    def get_runs_count(self, filters: RunsFilter | None = None) -> int:
        return self.runs.get_runs_count(filters)

    def get_run_records(
        self,
        filters: RunsFilter | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        ascending: bool = False,
    ) -> list[RunRecord]:
        return self.runs.get_run_records(filters, limit, cursor, ascending)

    def delete_run(self, run_id: str) -> None:
        self.runs.delete_run(run_id)
        if self.events is not self.runs:
            self.events.delete_events(run_id)

    def add_run_tags(self, run_id: str, new_tags: Mapping[str, str]) -> DagsterRun:
        return self.runs.add_run_tags(run_id, {k: str(v) for k, v in new_tags.items()})

    def update_run_status(self, run_id: str, status: DagsterRunStatus) -> DagsterRun:
        return self.runs.update_run_status(run_id, status)

    # -- events -----------------------------------------------------------------------------------

    def handle_new_event(self, entry: EventLogEntry) -> EventLogEntry:
        """Store an event; a run lifecycle event also moves the run's status and times."""
        return self.handle_new_events([entry])[0]

    def handle_new_events(self, entries: Sequence[EventLogEntry]) -> list[EventLogEntry]:
        """Store events in order, in one transaction; return them with their storage ids.

        Run lifecycle events among them move their runs' status and times in the same
        transaction (when the event log and the run storage share a database; otherwise
        right after it). An event for a run that does not exist is stored all the same.
        """
        entries = list(entries)
        for entry in entries:
            if not isinstance(entry, EventLogEntry):
                raise CheckError(
                    f"handle_new_events takes EventLogEntry objects, got {entry!r} "
                    f"({type(entry).__name__}); wrap a DagsterEvent with "
                    "EventLogEntry(run_id=..., dagster_event=event)."
                )
        changes = [c for c in map(_run_change, entries) if c is not None]
        if self.events is self.runs:
            return self.events.store_events(entries, changes)
        stored = self.events.store_events(entries)
        for change in changes:
            try:
                self.runs.update_run_status(
                    change.run_id,
                    change.status,
                    start_time=change.start_time,
                    end_time=change.end_time,
                )
            except DagsterRunNotFoundError:
                logging.getLogger("tocsin").debug("event for unknown run %s", change.run_id)
        return stored

    def store_event(self, entry: EventLogEntry) -> EventLogEntry:
        return self.handle_new_event(entry)

    def report_dagster_event(
        self, event: DagsterEvent, run_id: str, log_level: int = logging.INFO
    ) -> EventLogEntry:
        entry = EventLogEntry(
            run_id=run_id,
            level=log_level,
            user_message=event.message or "",
            job_name=event.job_name,
            step_key=event.step_key,
            dagster_event=event,
        )
        return self.handle_new_event(entry)

    def _report(
        self,
        kind: DagsterEventType,
        run: DagsterRun,
        message: str,
        data: Any = None,
        step_key: str | None = None,
        level: int = logging.INFO,
    ) -> EventLogEntry:
        event = DagsterEvent(
            event_type_value=kind.value,
            job_name=run.job_name,
            step_key=step_key,
            message=message,
            event_specific_data=data,
            pid=os.getpid(),
        )
        return self.report_dagster_event(event, run.run_id, level)

    def report_engine_event(
        self,
        message: str,
        dagster_run: DagsterRun | None = None,
        engine_event_data: EngineEventData | None = None,
        cls: Any = None,
        step_key: str | None = None,
        run_id: str | None = None,
    ) -> EventLogEntry:
        """Record an engine event (something the system did around a run)."""
        run = dagster_run if dagster_run is not None else self.get_run(str(run_id))
        data = engine_event_data or EngineEventData()
        return self._report(DagsterEventType.ENGINE_EVENT, run, message, data, step_key)

    def report_run_failed(
        self, dagster_run: DagsterRun, message: str | None = None, error: Any = None
    ) -> EventLogEntry:
        """Record that a run failed (moves it to FAILURE)."""
        text = message or f'Execution of run for "{dagster_run.job_name}" failed.'
        info = error if isinstance(error, SerializableErrorInfo) or error is None else None
        return self._report(
            DagsterEventType.RUN_FAILURE,
            dagster_run,
            text,
            JobFailureData(info),
            level=logging.ERROR,
        )

    def report_run_canceled(
        self, dagster_run: DagsterRun, message: str | None = None
    ) -> EventLogEntry:
        """Record that a run was canceled (moves it to CANCELED)."""
        text = message or "This run has been marked as canceled from outside the execution context."
        return self._report(DagsterEventType.RUN_CANCELED, dagster_run, text, level=logging.ERROR)

    def report_run_canceling(
        self, dagster_run: DagsterRun, message: str | None = None
    ) -> EventLogEntry:
        text = message or "Sending run termination request."
        return self._report(DagsterEventType.RUN_CANCELING, dagster_run, text)

    def all_logs(
        self, run_id: str, of_type: DagsterEventType | Sequence[DagsterEventType] | None = None
    ) -> list[EventLogEntry]:
        """Every entry of a run in order, optionally only of some event types."""
        types = [of_type] if isinstance(of_type, DagsterEventType) else of_type
        return self.events.get_logs_for_run(run_id, of_type=types)

    def get_records_for_run(self, run_id: str, cursor: int = -1) -> list[EventLogEntry]:
        return self.events.get_logs_for_run(run_id, after=cursor)

    def get_event_records(
        self,
        event_records_filter: EventRecordsFilter,
        limit: int | None = None,
        ascending: bool = False,
    ) -> list[EventLogRecord]:
        return self.events.get_event_records(event_records_filter, limit, ascending)

    def get_event_records_after(
        self, storage_id: int, event_types: Sequence[DagsterEventType], limit: int | None = None
    ) -> list[EventLogRecord]:
        return self.events.get_event_records_after(storage_id, event_types, limit)

    def get_latest_materialization_event(
        self, asset_key: AssetKey, partition: str | None = None
    ) -> EventLogEntry | None:
        return self.events.get_latest_materialization_event(asset_key, partition)

    def get_latest_materialization_events(
        self, asset_keys: Sequence[AssetKey]
    ) -> dict[AssetKey, EventLogEntry | None]:
        return {k: self.events.get_latest_materialization_event(k) for k in asset_keys}

    def fetch_materializations(
        self,
        records_filter: Any,
        limit: int,
        cursor: str | None = None,
        ascending: bool = False,
    ) -> Any:
        """A page of materializations of an asset (an ``AssetKey`` or an ``EventRecordsFilter``).

        Returns:
            An ``EventRecordsResult``: ``records``, a ``cursor`` to pass back, ``has_more``.
        """
        return self._fetch(
            DagsterEventType.ASSET_MATERIALIZATION, records_filter, limit, cursor, ascending
        )

    def fetch_observations(
        self, records_filter: Any, limit: int, cursor: str | None = None, ascending: bool = False
    ) -> Any:
        return self._fetch(
            DagsterEventType.ASSET_OBSERVATION, records_filter, limit, cursor, ascending
        )

    def _fetch(
        self,
        kind: DagsterEventType,
        records_filter: Any,
        limit: int,
        cursor: str | None,
        ascending: bool,
    ) -> Any:
        from tocsin.storage.base import EventRecordsResult

        if isinstance(records_filter, EventRecordsFilter):
            f = replace(records_filter, event_type=kind)
        else:
            f = EventRecordsFilter(kind, asset_key=AssetKey.from_coercible(records_filter))
        if cursor is not None:
            position = int(cursor)
            f = (
                replace(f, after_cursor=position)
                if ascending
                else replace(f, before_cursor=position)
            )
        records = self.events.get_event_records(f, limit + 1, ascending)
        page = records[:limit]
        next_cursor = str(page[-1].storage_id) if page else cursor
        return EventRecordsResult(page, next_cursor, len(records) > limit)

    def get_asset_keys(
        self, prefix: Sequence[str] | None = None, **_ignored: Any
    ) -> list[AssetKey]:
        return self.events.get_asset_keys(prefix)

    def has_asset_key(self, asset_key: AssetKey) -> bool:
        return asset_key in self.events.get_asset_keys()

    def wipe_assets(self, asset_keys: Sequence[AssetKey]) -> None:
        self.events.wipe_assets(list(asset_keys))

    # -- dynamic partitions -----------------------------------------------------------------------

    def add_dynamic_partitions(
        self, partitions_def_name: str, partition_keys: Sequence[str]
    ) -> None:
        if isinstance(partition_keys, str):
            raise CheckError(
                f"add_dynamic_partitions takes a list of keys, got the string {partition_keys!r}; "
                f"write [{partition_keys!r}]."
            )
        self.partitions.add_dynamic_partitions(partitions_def_name, list(partition_keys))

    def get_dynamic_partitions(self, partitions_def_name: str) -> list[str]:
        return self.partitions.get_dynamic_partitions(partitions_def_name)

    def has_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> bool:
        return self.partitions.has_dynamic_partition(partitions_def_name, partition_key)

    def delete_dynamic_partition(self, partitions_def_name: str, partition_key: str) -> None:
        self.partitions.delete_dynamic_partition(partitions_def_name, partition_key)

    # -- submitting and launching -----------------------------------------------------------------

    def submit_run(self, run_id: str, workspace: Any = None) -> DagsterRun:
        """Hand a NOT_STARTED run to the run coordinator; return it as it now stands."""
        run = self.get_run(run_id)
        coordinator = self.run_coordinator
        if coordinator is not None and hasattr(coordinator, "submit_run"):
            result = coordinator.submit_run(self, run)
            if isinstance(result, DagsterRun):
                return result
            return self.get_run(run_id)
        return self.enqueue_run(run)

    def enqueue_run(self, run: DagsterRun) -> DagsterRun:
        """Mark a run QUEUED with a RUN_ENQUEUED event (idempotent for a queued run)."""
        if run.status == DagsterRunStatus.QUEUED:
            return run
        self._report(DagsterEventType.RUN_ENQUEUED, run, f"Run {run.run_id} was enqueued.")
        return self.get_run(run.run_id)

    def enqueue_runs(self, run_ids: Sequence[str]) -> list[str]:
        """Mark every NOT_STARTED run among ``run_ids`` QUEUED, in one transaction.

        Returns:
            The ids that were enqueued; runs in any other status are left alone.
        """
        if not run_ids:
            return []
        # Only the job name and status are needed: no run body is read or rebuilt.
        unique = list(dict.fromkeys(run_ids))
        statuses = self.runs.get_run_statuses(unique)
        waiting = {
            run_id: statuses[run_id][0]
            for run_id in unique
            if run_id in statuses and statuses[run_id][1] == DagsterRunStatus.NOT_STARTED
        }
        pid = os.getpid()
        entries = [
            run_enqueued_entry(run_id, job_name, pid) for run_id, job_name in waiting.items()
        ]
        self.handle_new_events(entries)
        return [run_id for run_id in run_ids if run_id in waiting]

    def launch_run(self, run_id: str, workspace: Any = None) -> DagsterRun:
        """Hand a run to the run launcher; return it as it now stands."""
        run = self.get_run(run_id)
        launcher = self.run_launcher
        if launcher is not None and hasattr(launcher, "launch_run"):
            result = launcher.launch_run(self, run)
            if isinstance(result, DagsterRun):
                return result
            return self.get_run(run_id)
        return self.mark_run_starting(run)

    def mark_run_starting(self, run: DagsterRun) -> DagsterRun:
        self._report(DagsterEventType.RUN_STARTING, run, "Launching run.")
        return self.get_run(run.run_id)

    # -- daemon heartbeats and settings -----------------------------------------------------------

    def add_daemon_heartbeat(self, daemon_heartbeat: Any) -> None:
        self.misc.add_daemon_heartbeat(daemon_heartbeat)

    def get_daemon_heartbeats(self) -> dict[str, Any]:
        return self.misc.get_daemon_heartbeats()

    def get_settings(self, key: str) -> Any:
        return self.settings.get(key) or {}

    # -- ticks and instigator state (delegated) ---------------------------------------------------

    def get_instigator_state(self, origin_id: str, selector_id: str | None = None) -> Any:
        return self.ticks.get_instigator_state(origin_id)

    def all_instigator_state(self, instigator_type: Any = None, **_ignored: Any) -> list[Any]:
        return self.ticks.all_instigator_state(instigator_type)

    def add_instigator_state(self, state: Any) -> Any:
        return self.ticks.add_instigator_state(state)

    def update_instigator_state(self, state: Any) -> Any:
        return self.ticks.update_instigator_state(state)

    def get_ticks(self, origin_id: str, **kwargs: Any) -> list[Any]:
        return self.ticks.get_ticks(origin_id, **kwargs)


Instance = DagsterInstance


def _run_change(entry: EventLogEntry) -> Any:
    """The run status change a lifecycle event brings, or None."""
    event = entry.dagster_event
    status = None if event is None else _STATUS_FOR_EVENT.get(event.event_type_value)
    if status is None:
        return None
    from tocsin.storage.base import RunStatusChange

    if status == DagsterRunStatus.STARTED:
        return RunStatusChange(entry.run_id, status, start_time=entry.timestamp)
    if status.is_finished:
        return RunStatusChange(entry.run_id, status, end_time=entry.timestamp)
    return RunStatusChange(entry.run_id, status)


def _first_of(kind: type, *stores: Any) -> Any:
    for store in stores:
        if isinstance(store, kind):
            return store
    return stores[0]
