"""What the scheduler would do for one schedule over a time window, without touching any
real instance: ``tocsin schedule simulate``.

The simulation drives the daemon's own ``ScheduleLoop`` with a fake clock, one pass every
``step`` seconds from ``start`` to ``end``, against a throwaway instance in a temporary
directory. The schedule counts as started at ``start``; while the daemon is "down" (an
``Outage``) no pass happens, and when it comes back the loop is built afresh, like a restarted
daemon. Runs are not executed: a fake launcher marks each run started when it is submitted and
finished ``run_duration`` seconds later, so catch-up, overlap, jitter and daylight-saving rules
all act exactly as in the daemon. The result lists the ticks (with what each did not run and
why) and the runs, in the schedule's time zone.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tocsin.daemon.catchup import SchedulePolicy, jitter_offset
from tocsin.daemon.common import instigator_id
from tocsin.daemon.schedules import STARTED_AT, STATUS_CHANGED_AT, ScheduleLoop
from tocsin.daemon.why import not_run_of
from tocsin.launchers.base import ImmediateCoordinator, RunLauncher
from tocsin.model.events import DagsterEvent, DagsterEventType, EventLogEntry
from tocsin.model.run import DagsterRun, DagsterRunStatus, RunsFilter
from tocsin.model.tags import INSTIGATOR_TAG, SCHEDULED_EXECUTION_TIME_TAG
from tocsin.model.ticks import InstigatorState, InstigatorStatus, InstigatorType
from tocsin.workspace.messages import SCHEDULE, InstigatorInfo

# A simulation of more passes than this is refused (it would take minutes).
MAX_STEPS = 500_000


@dataclass(frozen=True)
class Outage:
    """The daemon is down from ``start`` (inclusive) to ``end`` (exclusive)."""

    start: datetime
    end: datetime


def clock_steps(
    start: datetime, end: datetime, down: Sequence[Outage], step: float
) -> Iterator[tuple[datetime, bool]]:
    """The times of the daemon's passes, each with whether the daemon just came back up.

    A pass every ``step`` seconds from ``start`` up to ``end`` inclusive, none within an
    outage; the first pass after an outage is at its end, and the grid restarts there.
    """
    delta = timedelta(seconds=step)
    now, restarted = start, False
    while now <= end:
        outage = next((o for o in down if o.start <= now < o.end), None)
        if outage is not None:
            now, restarted = outage.end, True
            continue
        yield now, restarted
        restarted = False
        now += delta


class SimulatedLauncher(RunLauncher):
    """Marks each run started when launched and finished ``duration`` seconds later, in the
    instance's event log, at the simulated times (``advance`` moves its clock)."""

    def __init__(self, instance: Any, duration: float):
        self.instance = instance
        self.duration = timedelta(seconds=duration)
        self.now: datetime | None = None
        self.started: dict[str, datetime] = {}
        self.finished: dict[str, datetime] = {}
        self._runs: dict[str, DagsterRun] = {}

    def launch_run(self, run: DagsterRun) -> None:
        assert self.now is not None, "advance() the launcher's clock before launching"
        self.started[run.run_id] = self.now
        self._runs[run.run_id] = run
        self._event(run, DagsterEventType.RUN_START, self.now, "Started (simulated).")

    def terminate(self, run_id: str) -> bool:
        run = self._runs.get(run_id)
        if run is None or run_id in self.finished or self.now is None:
            return False
        self.finished[run_id] = self.now
        self._event(run, DagsterEventType.RUN_CANCELED, self.now, "Canceled (simulated).")
        return True

    def advance(self, now: datetime) -> None:
        """Move the clock to ``now``: a run being canceled (the overlap policy
        ``cancel_other``) stops at once, as the daemon's run monitoring would stop it; every
        other run whose duration has passed finishes."""
        for run_id in list(self.started):
            if run_id in self.finished:
                continue
            current = self.instance.get_run_by_id(run_id)
            if current is not None and current.status == DagsterRunStatus.CANCELING:
                self.finished[run_id] = now
                self._event(current, DagsterEventType.RUN_CANCELED, now, "Canceled (simulated).")
            elif current is not None and current.status.is_finished:
                self.finished[run_id] = now
        due = sorted(
            (self.started[run_id] + self.duration, run_id)
            for run_id in self.started
            if run_id not in self.finished and self.started[run_id] + self.duration <= now
        )
        for when, run_id in due:
            self.finished[run_id] = when
            self._event(self._runs[run_id], DagsterEventType.RUN_SUCCESS, when, "Finished.")
        self.now = now

    def _event(self, run: DagsterRun, kind: DagsterEventType, when: datetime, text: str) -> None:
        event = DagsterEvent(event_type_value=kind.value, job_name=run.job_name, message=text)
        self.instance.handle_new_event(
            EventLogEntry(
                run_id=run.run_id,
                job_name=run.job_name,
                dagster_event=event,
                timestamp=when.timestamp(),
            )
        )


def start_schedule(instance: Any, location: Any, info: InstigatorInfo, at: datetime) -> None:
    """Store the schedule as started at ``at`` and the location's other schedules as stopped."""
    for other in location.list_instigators():
        if other.kind != SCHEDULE:
            continue
        running = other.name == info.name
        extra = {STARTED_AT: at.timestamp(), STATUS_CHANGED_AT: at.timestamp()} if running else {}
        instance.ticks.add_instigator_state(
            InstigatorState(
                origin_id=instigator_id(location.name, SCHEDULE, other.name),
                name=other.name,
                instigator_type=InstigatorType.SCHEDULE,
                status=InstigatorStatus.RUNNING if running else InstigatorStatus.STOPPED,
                extra=extra,
            )
        )


def simulate_schedule(
    location: Any,
    info: InstigatorInfo,
    *,
    start: datetime,
    end: datetime,
    down: Sequence[Outage] = (),
    run_duration: float = 60.0,
    step: float = 60.0,
    policy_defaults: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Simulate ``info`` (a schedule of ``location``) over ``start``..``end``; see the module
    docstring. Returns the plain-data description ``describe`` makes."""
    from tocsin.instance.instance import DagsterInstance

    instance = DagsterInstance.ephemeral()
    try:
        start_schedule(instance, location, info, start)
        launcher = SimulatedLauncher(instance, run_duration)
        coordinator = ImmediateCoordinator(instance, launcher)
        defaults = dict(policy_defaults or {})
        loop: ScheduleLoop | None = None
        errors: list[dict[str, Any]] = []
        origin = instigator_id(location.name, SCHEDULE, info.name)
        for now, restarted in clock_steps(start, end, down, step):
            launcher.advance(now)
            if loop is None or restarted:
                loop = ScheduleLoop(instance, [location], coordinator, policy_defaults=defaults)
            report = loop.tick(now)
            for key, error in report.location_errors.items():
                if key in (origin, location.name):
                    errors.append({"at": now.isoformat(), "message": error.message.strip()})
        launcher.advance(end)
        result = describe(instance, origin, info, launcher.started, launcher.finished)
        policy = SchedulePolicy.resolve(info.extras, defaults)
        result.update(
            {
                "schedule": info.name,
                "cron_schedule": info.cron_schedule,
                "timezone": info.execution_timezone or "UTC",
                "from": start.isoformat(),
                "to": end.isoformat(),
                "down": [[o.start.isoformat(), o.end.isoformat()] for o in down],
                "run_duration_seconds": run_duration,
                "step_seconds": step,
                "catchup": policy.catchup,
                "jitter_offset_seconds": round(jitter_offset(origin, policy.jitter), 3),
                "errors": _dedupe(errors),
            }
        )
        return result
    finally:
        instance.dispose()


def describe(
    instance: Any,
    origin: str,
    info: InstigatorInfo,
    started: Mapping[str, datetime],
    finished: Mapping[str, datetime],
) -> dict[str, Any]:
    """The schedule's ticks and runs in ``instance`` as plain data, times in its zone: what
    ``simulate`` prints, and what a daemon's instance can be compared with."""
    zone = ZoneInfo(info.execution_timezone or "UTC")

    def show(when: datetime | None) -> str | None:
        return None if when is None else when.astimezone(zone).isoformat()

    ticks = sorted(instance.ticks.get_ticks(origin), key=lambda t: t.tick_id)
    runs = list(reversed(instance.get_runs(RunsFilter(tags={INSTIGATOR_TAG: origin}))))
    return {
        "ticks": [
            {
                "at": show(tick.timestamp),
                "scheduled_time": show(tick.scheduled_execution_time),
                "status": tick.status.value,
                "skip_reason": tick.skip_reason,
                "error": tick.error.message.strip().splitlines()[0] if tick.error else None,
                "run_ids": list(tick.run_ids),
                "not_run": [
                    {
                        "reason": item.reason,
                        "scheduled_time": show(item.scheduled_time),
                        "detail": item.detail,
                    }
                    for item in not_run_of(tick)
                ],
            }
            for tick in ticks
        ],
        "runs": [
            {
                "run_id": run.run_id,
                "scheduled_time": show(_tag_time(run.tags.get(SCHEDULED_EXECUTION_TIME_TAG))),
                "status": run.status.value,
                "started": show(started.get(run.run_id)),
                "finished": show(finished.get(run.run_id)),
            }
            for run in runs
        ],
    }


def _tag_time(text: str | None) -> datetime | None:
    return None if not text else datetime.fromisoformat(text)


def _dedupe(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first occurrence of each distinct error message (a bad cron fails every pass)."""
    seen: set[str] = set()
    kept = []
    for item in errors:
        if item["message"] not in seen:
            seen.add(item["message"])
            kept.append(item)
    return kept
