"""What the pages and the JSON API share: reading and acting on sensors, schedules and runs.

Everything here works from the instance alone; when the web server is given code locations
(``workspace``) it also lists the instigators they define, previews them and ticks them now.
A tick made here writes its runs NOT_STARTED and leaves them for the daemon, which submits
unsubmitted runs of its instigators at the start of each pass.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tocsin.errors import DagsterError
from tocsin.model.run import DagsterRun, DagsterRunStatus, RunsFilter
from tocsin.model.tags import INSTIGATOR_TAG, PRIORITY_TAG
from tocsin.model.ticks import InstigatorState, InstigatorStatus, InstigatorType, Tick

SENSOR = "sensor"
SCHEDULE = "schedule"
KINDS = (SENSOR, SCHEDULE)
WAKE_KEY_PREFIX = "tocsin/wake/"
IDEMPOTENCY_KEY_PREFIX = "tocsin/push/"


class WebError(DagsterError):
    """A request the web server cannot serve: carries the HTTP status and a detail value."""

    def __init__(self, status: int, message: str, detail: Any = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.detail = detail


def not_found(kind: str, name: str, known: Iterable[str] = ()) -> WebError:
    import difflib

    known = sorted(set(known))
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return WebError(404, f"No {kind} named {name!r}.{hint}", {"known": known})


@dataclass(frozen=True)
class Instigator:
    """One sensor or schedule as the web server sees it: definition (if loaded) and state."""

    kind: str
    name: str
    location: str | None
    origin_id: str
    info: Any = None  # workspace InstigatorInfo, when a location defines it
    state: InstigatorState | None = None
    code_location: Any = None

    @property
    def is_running(self) -> bool:
        if self.state is not None and self.state.status != InstigatorStatus.DECLARED_IN_CODE:
            return self.state.status == InstigatorStatus.RUNNING
        return self.info is not None and self.info.default_status == "RUNNING"

    @property
    def interval(self) -> int | None:
        return None if self.info is None else self.info.minimum_interval_seconds

    @property
    def cron(self) -> str | None:
        cron = None if self.info is None else self.info.cron_schedule
        if cron is None and self.state is not None:
            cron = self.state.extra.get("cron_schedule")
        return cron if cron is None or isinstance(cron, str) else " | ".join(cron)

    @property
    def timezone(self) -> str:
        zone = None if self.info is None else self.info.execution_timezone
        return zone or "UTC"

    @property
    def wake_on(self) -> list[str]:
        extras = {} if self.info is None else dict(self.info.extras or {})
        declared = extras.get("wake_on")
        if declared is None and self.kind == SENSOR:
            declared = _wake_on_in_process(self.code_location, self.name)
        return [event_name(item) for item in declared or ()]

    @property
    def cursor(self) -> str | None:
        return None if self.state is None else self.state.cursor

    @property
    def paused_note(self) -> str | None:
        """Why pause on failure stopped it and how to resume, while it is stopped."""
        from tocsin.daemon.pause import PAUSE_NOTE

        if self.state is None or self.state.status != InstigatorStatus.STOPPED:
            return None
        note = self.state.extra.get(PAUSE_NOTE)
        return None if note is None else str(note)


def _wake_on_in_process(location: Any, name: str) -> Any:
    """``wake_on`` read from the definitions of an in-process location.

    Adapter until the workspace's ``InstigatorInfo.extras`` carries ``wake_on``.
    """
    defs = getattr(getattr(location, "handler", None), "defs", None)
    if defs is None:
        return None
    try:
        return getattr(defs.get_sensor_def(name), "wake_on", None)
    except DagsterError:
        return None


def event_name(item: Any) -> str:
    """A ``wake_on`` entry as text: an asset key as ``a/b``, anything else as ``str``."""
    to_user_string = getattr(item, "to_user_string", None)
    if to_user_string is not None:
        return str(to_user_string())
    if isinstance(item, (list, tuple)):
        return "/".join(str(p) for p in item)
    return str(item)


def origin_id_for(location: str, kind: str, name: str) -> str:
    return f"{location}:{kind}:{name}"


def as_locations(workspace: Any) -> list[Any]:
    """The code locations of ``workspace``: a list of them, or an object with ``locations``."""
    if workspace is None:
        return []
    locations = getattr(workspace, "locations", workspace)
    if isinstance(locations, dict):
        locations = list(locations.values())
    return list(locations)


class Service:
    """Reads and acts on one instance (and optionally some code locations)."""

    def __init__(self, instance: Any, workspace: Any = None):
        self.instance = instance
        self.locations = as_locations(workspace)

    # -- instigators ---------------------------------------------------------------------------

    def instigators(self, kind: str) -> list[Instigator]:
        itype = InstigatorType.SENSOR if kind == SENSOR else InstigatorType.SCHEDULE
        states = {s.origin_id: s for s in self.instance.ticks.all_instigator_state(itype)}
        found: dict[str, Instigator] = {}
        for location in self.locations:
            for info in _safe_list(location):
                if info.kind != kind:
                    continue
                origin = origin_id_for(location.name, kind, info.name)
                found[origin] = Instigator(
                    kind, info.name, location.name, origin, info, states.get(origin), location
                )
        for origin, state in states.items():
            if origin not in found:
                location = origin.split(":", 1)[0] if ":" in origin else None
                found[origin] = Instigator(kind, state.name, location, origin, None, state)
        return sorted(found.values(), key=lambda i: (i.name, i.location or ""))

    def instigator(self, kind: str, name: str, location: str | None = None) -> Instigator:
        items = self.instigators(kind)
        matches = [i for i in items if i.name == name]
        if location is not None:
            matches = [i for i in matches if i.location == location]
        if not matches:
            raise not_found(kind, name, [i.name for i in items])
        if len(matches) > 1:
            where = sorted(str(i.location) for i in matches)
            raise WebError(
                409,
                f"Several code locations define a {kind} named {name!r}: {where}. "
                "Pass ?location=<name> to choose one.",
                {"locations": where},
            )
        return matches[0]

    def _base_state(self, item: Instigator) -> InstigatorState:
        if item.state is not None:
            return item.state
        itype = InstigatorType.SENSOR if item.kind == SENSOR else InstigatorType.SCHEDULE
        return InstigatorState(
            origin_id=item.origin_id,
            name=item.name,
            instigator_type=itype,
            status=InstigatorStatus.DECLARED_IN_CODE,
        )

    def set_running(self, item: Instigator, running: bool, now: datetime) -> InstigatorState:
        """Start or stop; only the status and its times change, so a cursor or tick the
        daemon wrote since ``item`` was read stays."""
        status = InstigatorStatus.RUNNING if running else InstigatorStatus.STOPPED
        changes = {"status_changed_at": now.timestamp()}
        if running and item.kind == SCHEDULE:
            changes["started_at"] = now.timestamp()
        return self.instance.ticks.set_instigator_status(
            item.origin_id, status, changes, default=self._base_state(item)
        )

    def set_cursor(self, item: Instigator, cursor: str | None) -> InstigatorState:
        """Set the cursor; the status and the rest of the stored state stay as they are."""
        return self.instance.ticks.set_instigator_cursor(
            item.origin_id, cursor, default=self._base_state(item)
        )

    def _require_code(self, item: Instigator) -> Any:
        if item.code_location is None or item.info is None:
            raise WebError(
                409,
                f"The {item.kind} {item.name!r} is known only from storage: no loaded code "
                "location defines it, so it cannot be evaluated here. Start the web server "
                "with the code location (tocsin web -f defs.py, or tocsin dev).",
            )
        return item.code_location

    def preview(self, item: Instigator, cursor: str | None, now: datetime) -> Any:
        """Evaluate once; store nothing."""
        location = self._require_code(item)
        ref = _instance_ref(self.instance, location)
        if item.kind == SENSOR:
            state = item.state
            return location.evaluate_sensor(
                item.name,
                cursor=cursor if cursor is not None else item.cursor,
                last_tick_time=None if state is None else state.last_tick_timestamp,
                last_run_key=None if state is None else state.last_run_key,
                instance_ref=ref,
            )
        return location.evaluate_schedule(
            item.name, scheduled_time=self.latest_cron_time(item, now), instance_ref=ref
        )

    def tick_now(self, item: Instigator, now: datetime) -> Any:
        """Tick once now through the daemon's loop code; runs stay NOT_STARTED for the daemon."""
        location = self._require_code(item)
        state = self._base_state(item)
        if item.kind == SENSOR:
            from tocsin.daemon.sensors import SensorLoop

            loop: Any = SensorLoop(self.instance, [location], _LeaveForDaemon())
            outcome, _ = loop._tick_one(location, item.info, state, now)
            return outcome
        from tocsin.daemon.schedules import ScheduleLoop

        loop = ScheduleLoop(self.instance, [location], _LeaveForDaemon())
        return loop._tick_one(location, item.info, state, self.latest_cron_time(item, now), now)

    def latest_cron_time(self, item: Instigator, now: datetime) -> datetime:
        schedule = self.cron_schedule(item)
        if schedule is None:
            return now
        local = now.astimezone(_zone(item.timezone))
        return schedule.prev_at_or_before(local)

    def cron_schedule(self, item: Instigator) -> Any:
        if item.info is None or item.info.cron_schedule is None:
            return None
        from tocsin.cron import CronSchedule

        try:
            return CronSchedule.parse(item.info.cron_schedule, timezone=item.timezone)
        except DagsterError:
            return None

    def next_ticks(self, item: Instigator, now: datetime, count: int) -> list[dict[str, Any]]:
        """The next ``count`` tick times in the schedule's zone, each marked when DST moved."""
        schedule = self.cron_schedule(item)
        if schedule is None:
            return []
        local = now.astimezone(_zone(item.timezone))
        rows: list[dict[str, Any]] = []
        previous_offset = local.utcoffset()
        for when in _take(schedule.iter_after(local), count):
            offset = when.utcoffset()
            rows.append(
                {
                    "time": when,
                    "utc": when.astimezone(UTC),
                    "dst_change": offset != previous_offset,
                    "offset": _format_offset(offset),
                }
            )
            previous_offset = offset
        return rows

    def next_tick(self, item: Instigator, now: datetime) -> datetime | None:
        if not item.is_running:
            return None
        if item.kind == SCHEDULE:
            ticks = self.next_ticks(item, now, 1)
            return ticks[0]["utc"] if ticks else None
        last = None if item.state is None else item.state.last_tick_timestamp
        if last is None:
            return now
        return max(now, last + timedelta(seconds=item.interval or 30))

    def last_tick(self, item: Instigator) -> Tick | None:
        ticks = self.instance.ticks.get_ticks(item.origin_id, limit=1)
        return ticks[0] if ticks else None

    def last_runs(self, items: Sequence[Instigator]) -> dict[str, DagsterRun]:
        """The newest run of each instigator, in two queries when storage is tocsin's SQL."""
        engine = getattr(self.instance.runs, "engine", None)
        origins = [i.origin_id for i in items]
        if engine is None or not origins:
            found = {i.origin_id: self.last_run(i) for i in items}
            return {k: v for k, v in found.items() if v is not None}
        import sqlalchemy as sa

        from tocsin.storage import schema

        c = schema.runs.c
        query = (
            sa.select(sa.func.max(c.id))
            .where(c.instigator_id.in_(origins))
            .group_by(c.instigator_id)
        )
        with engine.connect() as conn:
            ids = [row[0] for row in conn.execute(query)]
            run_ids = [row[0] for row in conn.execute(sa.select(c.run_id).where(c.id.in_(ids)))]
        runs = self.instance.get_runs(RunsFilter(run_ids=run_ids)) if run_ids else []
        return {str(r.tags.get(INSTIGATOR_TAG)): r for r in runs}

    def last_run(self, item: Instigator) -> DagsterRun | None:
        runs = self.instance.get_runs(RunsFilter(tags={INSTIGATOR_TAG: item.origin_id}), limit=1)
        return runs[0] if runs else None

    def ticks(self, item: Instigator, *, limit: int, before: datetime | None = None) -> list[Tick]:
        return self.instance.ticks.get_ticks(item.origin_id, limit=limit, before=before)

    def tick(self, item: Instigator, tick_id: int) -> Tick:
        from tocsin.errors import NotFoundError

        try:
            tick = self.instance.ticks.get_tick(tick_id)
        except NotFoundError as exc:
            raise WebError(404, f"No tick with id {tick_id}.") from exc
        if tick.instigator_origin_id != item.origin_id:
            raise WebError(404, f"Tick {tick_id} is not a tick of {item.kind} {item.name!r}.")
        return tick

    # -- runs ----------------------------------------------------------------------------------

    def runs_page(
        self, filters: RunsFilter | None, limit: int, cursor: str | None
    ) -> tuple[list[Any], str | None]:
        if cursor is not None and self.instance.get_run_by_id(cursor) is None:
            raise WebError(400, f"cursor {cursor!r} is not the id of a run.", {"cursor": cursor})
        records = self.instance.get_run_records(filters, limit + 1, cursor)
        page = records[:limit]
        next_cursor = page[-1].dagster_run.run_id if len(records) > limit else None
        return page, next_cursor

    def run(self, run_id: str) -> DagsterRun:
        run = self.instance.get_run_by_id(run_id)
        if run is None:
            raise WebError(404, f"No run with id {run_id!r}.")
        return run

    def cancel_run(self, run_id: str) -> DagsterRun:
        run = self.run(run_id)
        if run.status.is_finished:
            raise WebError(
                409, f"Run {run_id} is already {run.status.value}; only unfinished runs cancel."
            )
        if run.status in (DagsterRunStatus.STARTED, DagsterRunStatus.STARTING):
            self.instance.report_run_canceling(run)
            launcher = getattr(self.instance, "run_launcher", None)
            terminate = getattr(launcher, "terminate", None)
            if terminate is not None:
                try:
                    terminate(run_id)
                except TypeError:
                    pass
            run = self.run(run_id)
        if not run.status.is_finished:
            self.instance.report_run_canceled(run)
        return self.run(run_id)

    def launch_run(
        self, job_name: str, run_config: dict[str, Any], tags: dict[str, str], location: Any
    ) -> DagsterRun:
        if self.locations:
            jobs = {j for loc in self.locations for j in _safe_jobs(loc)}
            if job_name not in jobs:
                raise not_found("job", job_name, jobs)
        run = self.instance.create_run(job_name=job_name, run_config=run_config, tags=tags)
        return self.instance.submit_run(run.run_id)

    def queue(self) -> list[dict[str, Any]]:
        """Queued runs, highest priority first, each with the limit that holds it."""
        queued = self.instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.QUEUED]), 1000)
        from tocsin.daemon.run_queue import IN_PROGRESS

        in_progress = self.instance.get_runs(RunsFilter(statuses=list(IN_PROGRESS)), 10000)
        settings = _queue_settings(self.instance)
        rows = [
            {
                "run": run,
                "priority": _priority(run),
                "held_by": _held_by(run, in_progress, settings),
            }
            for run in reversed(queued)
        ]
        rows.sort(key=lambda row: -row["priority"])
        return rows

    # -- pushes --------------------------------------------------------------------------------

    def claim_idempotency_key(self, key: str, claim: str) -> str | None:
        """Store ``claim`` for ``key`` unless the key is taken; the value there if it is."""
        return self.instance.misc.set_kv_if_absent(IDEMPOTENCY_KEY_PREFIX + key, claim)

    def release_idempotency_key(self, key: str, claim: str) -> bool:
        """Give ``key`` up if it still holds ``claim`` (a push that failed, or a stale claim)."""
        return self.instance.misc.delete_kv_if(IDEMPOTENCY_KEY_PREFIX + key, claim)

    def remember_idempotency_key(self, key: str, storage_id: int) -> None:
        self.instance.misc.set_kv({IDEMPOTENCY_KEY_PREFIX + key: str(storage_id)})

    def wake(self, names: Sequence[str], now: datetime) -> list[str]:
        """Record a wake request for each sensor whose ``wake_on`` lists one of ``names``."""
        wanted = set(names)
        woken = [item for item in self.instigators(SENSOR) if wanted.intersection(item.wake_on)]
        if woken:
            stamp = str(now.timestamp())
            self.instance.misc.set_kv({WAKE_KEY_PREFIX + i.origin_id: stamp for i in woken})
        return [i.origin_id for i in woken]


class _LeaveForDaemon:
    """A coordinator that submits nothing: the daemon finds NOT_STARTED runs and submits them."""

    def submit(self, runs: Sequence[DagsterRun]) -> list[str]:
        return []


def _safe_list(location: Any) -> list[Any]:
    try:
        if location.load_error() is not None:
            return []
        return list(location.list_instigators())
    except Exception:  # a broken location shows as empty, the page still renders
        return []


def _safe_jobs(location: Any) -> list[str]:
    try:
        return list(location.list_jobs())
    except Exception:  # a broken location has no jobs to launch
        return []


def _instance_ref(instance: Any, location: Any) -> Any:
    from tocsin.workspace.location import InProcessLocation

    if isinstance(location, InProcessLocation):
        return instance
    get_ref = getattr(instance, "get_ref", None)
    return None if get_ref is None else get_ref()


def _zone(name: str) -> Any:
    from tocsin.cron import get_timezone

    return get_timezone(name)


def _take(iterator: Iterable[Any], count: int) -> list[Any]:
    out = []
    for item in iterator:
        out.append(item)
        if len(out) >= count:
            break
    return out


def _format_offset(offset: timedelta | None) -> str:
    if offset is None:
        return "+00:00"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _priority(run: DagsterRun) -> int:
    try:
        return int(run.tags.get(PRIORITY_TAG, 0))
    except ValueError:
        return 0


def _queue_settings(instance: Any) -> Any:
    """The limits the queue daemon applies: the queued run coordinator's, else the
    ``run_queue`` settings; limits that do not parse show as none (the daemon reports them)."""
    from tocsin.daemon.run_queue import (
        QueueSettings,
        is_queued_coordinator,
        queue_settings,
        settings_from_mapping,
    )
    from tocsin.errors import ConfigError

    coordinator = getattr(instance, "run_coordinator", None)
    try:
        if is_queued_coordinator(coordinator):
            return queue_settings(coordinator)
        return settings_from_mapping(instance.settings.get("run_queue") or {})
    except ConfigError:
        return QueueSettings()


def _held_by(run: DagsterRun, in_progress: list[DagsterRun], settings: Any) -> str:
    from tocsin.daemon.run_queue import hold_reason

    return hold_reason(run, in_progress, settings) or "waiting for the queue daemon"


def utcnow() -> datetime:
    return datetime.fromtimestamp(time.time(), tz=UTC)
