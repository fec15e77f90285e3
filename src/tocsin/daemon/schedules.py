"""The schedule loop: one pass per ``ScheduleLoop.tick(now)``.

For each running schedule it takes the latest cron time at or before ``now`` (in the
schedule's time zone) and, if that time is after the schedule was started and after the last
time it handled, evaluates the schedule for it and writes tick, runs and the handled time in
one transaction. After downtime only the latest missed time runs. A handled time is never
evaluated again, so a scheduled time never runs twice; a user run key is de-duplicated like a
sensor's.

The time a schedule was started and the last scheduled time it handled are kept in the
instigator state's ``extra`` (``started_at``, ``last_scheduled_time``: UTC timestamps).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from tocsin.daemon.common import (
    TickOutcome,
    TickReport,
    build_runs,
    drop_used_keys,
    find_unsubmitted,
    fresh_state,
    instigator_id,
    instigators_of,
    is_running,
    state_after_tick,
)
from tocsin.daemon.sensors import instance_ref_for
from tocsin.errors import DagsterInvariantViolationError
from tocsin.model.errors_info import serializable_error_info_from_exc
from tocsin.model.tags import SCHEDULE_NAME_TAG, SCHEDULED_EXECUTION_TIME_TAG
from tocsin.model.ticks import InstigatorState, InstigatorType, Tick, TickStatus
from tocsin.workspace.location import CodeLocation
from tocsin.workspace.messages import SCHEDULE, Evaluation, InstigatorInfo

STARTED_AT = "started_at"
LAST_SCHEDULED = "last_scheduled_time"


def latest_cron_time(info: InstigatorInfo, now: datetime) -> datetime | None:
    """The latest time of the schedule's cron at or before ``now``, in its time zone."""
    from tocsin.cron import CronSchedule

    if info.cron_schedule is None:
        raise DagsterInvariantViolationError(
            f"Schedule {info.name!r} was listed without a cron_schedule; reload its code location."
        )
    zone = info.execution_timezone or "UTC"
    cron = CronSchedule.parse(info.cron_schedule, timezone=zone)
    return cron.prev_at_or_before(now.astimezone(ZoneInfo(zone)))


class ScheduleLoop:
    """Ticks the running schedules of some code locations (see the module docstring)."""

    def __init__(
        self,
        instance: Any,
        locations: Sequence[CodeLocation],
        coordinator: Any,
        *,
        evaluation_timeout: float | None = None,
    ):
        self.instance = instance
        self.locations = list(locations)
        self.coordinator = coordinator
        self.evaluation_timeout = evaluation_timeout

    def tick(self, now: datetime) -> TickReport:
        report = TickReport(now=now)
        known: list[str] = []
        work = []
        for location in self.locations:
            for info in instigators_of(location, SCHEDULE, report):
                origin = instigator_id(location.name, SCHEDULE, info.name)
                known.append(origin)
                item = self._due(location, info, now, report)
                if item is not None:
                    work.append(item)
        leftovers = find_unsubmitted(self.instance, known)
        if leftovers:
            self.coordinator.submit(leftovers)
            report.submitted_run_ids.extend(r.run_id for r in leftovers)
        for location, info, state, scheduled in work:
            outcome = self._tick_one(location, info, state, scheduled, now)
            report.outcomes.append(outcome)
            report.submitted_run_ids.extend(outcome.run_ids)
        return report

    def _due(self, location: CodeLocation, info: InstigatorInfo, now: datetime, report):
        origin = instigator_id(location.name, SCHEDULE, info.name)
        state = self.instance.ticks.get_instigator_state(origin)
        if not is_running(info, state):
            return None
        if state is None or STARTED_AT not in state.extra:
            # Started now (by default status) or by a user who left no start time: nothing
            # before this moment is ever run.
            base = state or fresh_state(location.name, info)
            started = replace(base, extra={**base.extra, STARTED_AT: now.timestamp()})
            state = self.instance.ticks.add_instigator_state(started)
        try:
            scheduled = latest_cron_time(info, now)
        except Exception as exc:  # a bad cron string fails this schedule only
            report.location_errors[origin] = serializable_error_info_from_exc(exc)
            return None
        if scheduled is None or scheduled.timestamp() < state.extra[STARTED_AT]:
            return None
        last = state.extra.get(LAST_SCHEDULED)
        if last is not None and scheduled.timestamp() <= last:
            return None
        return location, info, state, scheduled

    def _tick_one(self, location, info, state: InstigatorState, scheduled: datetime, now):
        tick = self.instance.ticks.create_tick(
            Tick(
                instigator_origin_id=state.origin_id,
                instigator_name=info.name,
                instigator_type=InstigatorType.SCHEDULE,
                timestamp=now,
                scheduled_execution_time=scheduled,
            )
        )
        evaluation = location.evaluate_schedule(
            info.name,
            scheduled_time=scheduled,
            instance_ref=instance_ref_for(self.instance, location),
            timeout=self.evaluation_timeout,
        )
        return self._record(location, info, state, tick, evaluation, scheduled, now)

    def _record(self, location, info, state, tick, evaluation: Evaluation, scheduled, now):
        runs, problems = build_runs(
            evaluation.run_requests,
            origin_id=state.origin_id,
            location=location,
            tick_id=tick.tick_id,
            system_tags={
                SCHEDULE_NAME_TAG: info.name,
                SCHEDULED_EXECUTION_TIME_TAG: scheduled.isoformat(),
            },
        )
        error = evaluation.error
        if error is None and problems:
            from tocsin.model.errors_info import SerializableErrorInfo

            error = SerializableErrorInfo("; ".join(problems), [], "DagsterInvalidDefinitionError")
        if error is not None:
            runs = []
        runs, _used = drop_used_keys(self.instance, state.origin_id, runs)
        if error is not None:
            status = TickStatus.FAILURE
        else:
            status = TickStatus.SUCCESS if runs else TickStatus.SKIPPED
        skip = evaluation.skip_message if status == TickStatus.SKIPPED else None
        tick = tick.with_status(
            status, skip_reason=skip, error=error, log_lines=evaluation.log_lines, end_timestamp=now
        )
        # The handled time moves on even after a FAILURE: that time is over; the next one
        # is evaluated when it comes (the FAILURE tick records what went wrong).
        new_state = state_after_tick(
            state,
            now=now,
            status=status,
            cursor=state.cursor,
            last_run_key=None,
            **{LAST_SCHEDULED: scheduled.timestamp()},
        )
        new_runs = self.instance.ticks.write_tick(tick, runs, None, new_state)
        if new_runs:
            self.coordinator.submit(new_runs)
        run_ids = tuple(r.run_id for r in new_runs)
        return TickOutcome(state.origin_id, status, tick.tick_id, run_ids, skip, error)
