"""The schedule loop: one pass per ``ScheduleLoop.tick(now)``.

For each running schedule it finds the cron times due since the last time it handled (never
before the schedule was started), lets the schedule's catch-up policy choose which of them run
(``tocsin.daemon.catchup``: by default only the latest, the reference's behaviour), and for each
evaluates the schedule and writes tick, runs and the handled time in one transaction. The due
times it does not run are recorded on the pass's first tick with their reasons
(``tocsin.daemon.why``); when none runs, a SKIPPED tick records them. A handled time is never
evaluated again, so a scheduled time never runs twice; a user run key is de-duplicated like a
sensor's.

The time a schedule was started, the last scheduled time it handled and the cron that handled
it are kept in the instigator state's ``extra`` (``started_at``, ``last_scheduled_time``: UTC
timestamps; ``cron``).

The overlap policy and pause on failure (``daemon/overlap.py``, ``daemon/pause.py``) apply as
for sensors, with tocsin.yaml's ``schedules:`` values for schedules that set none. Every tick
records what it did not turn into a run and why (``daemon/why.py``).

With several daemons on one database (``claims``, see ``daemon/leases.py``) a pass handles
only the schedules this daemon holds, each tick under its tick lease, and gives a tick up when
another daemon handled a scheduled time since this pass read the state. Its commit is fenced by
that lease (see ``daemon/leases.py``): a daemon that lost it while evaluating commits nothing,
its tick ends SKIPPED ("Tick abandoned: claim lost to daemon X") and the times it had left are
run by the daemon now holding the claim.

The long-running daemon does not wait for a pass's schedules (``tick(now, wait=False)``): each
due schedule is handled on the loop's threads, one in flight per schedule, like sensors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tocsin.daemon.catchup import (
    DST_POLICY_KEY,
    DuePlan,
    SchedulePolicy,
    jitter_offset,
    plan_due,
)
from tocsin.daemon.common import (
    TickOutcome,
    TickReport,
    build_runs,
    drop_used_keys,
    fresh_state,
    instigator_id,
    instigators_of,
    is_running,
    state_after_tick,
)
from tocsin.daemon.inflight import BackgroundTicks, TickAbandoned
from tocsin.daemon.leases import (
    NO_CLAIMS,
    record_claim_lost,
    submit_leftovers,
    write_fenced_tick,
)
from tocsin.daemon.overlap import cancel_runs, plan_overlap, release_held, submittable
from tocsin.daemon.pause import (
    PAUSE_NOTE,
    cleared_if_resumed,
    count_tick,
    failed_runs_note,
    noted,
    paused,
)
from tocsin.daemon.policy import policy_for
from tocsin.daemon.run_queue import enqueued_with_tick
from tocsin.daemon.sensors import instance_ref_for
from tocsin.daemon.why import EVALUATION_TIMEOUT, PAUSED, NotRun, duplicate_keys, with_not_run
from tocsin.errors import DagsterInvariantViolationError, TickClaimLostError
from tocsin.model.errors_info import serializable_error_info_from_exc
from tocsin.model.tags import SCHEDULE_NAME_TAG, SCHEDULED_EXECUTION_TIME_TAG
from tocsin.model.ticks import (
    InstigatorState,
    InstigatorStatus,
    InstigatorType,
    Tick,
    TickStatus,
)
from tocsin.workspace.location import CodeLocation
from tocsin.workspace.messages import SCHEDULE, Evaluation, InstigatorInfo

STARTED_AT = "started_at"
LAST_SCHEDULED = "last_scheduled_time"
CRON_KEY = "cron"
STATUS_CHANGED_AT = "status_changed_at"


def schedule_cron(info: InstigatorInfo, dst_policy: str | None = None) -> Any:
    """The schedule's ``CronSchedule`` in its zone, with its DST policy (``dst_policy``, else
    the one in ``info.extras``)."""
    from tocsin.cron import CronSchedule

    if info.cron_schedule is None:
        raise DagsterInvariantViolationError(
            f"Schedule {info.name!r} was listed without a cron_schedule; reload its code location."
        )
    zone = info.execution_timezone or "UTC"
    policy = dst_policy if dst_policy is not None else (info.extras or {}).get(DST_POLICY_KEY)
    return CronSchedule.parse(info.cron_schedule, timezone=zone, dst_policy=policy)


def latest_cron_time(info: InstigatorInfo, now: datetime) -> datetime | None:
    """The latest time of the schedule's cron at or before ``now``, in its time zone."""
    cron = schedule_cron(info)
    return cron.prev_at_or_before(now.astimezone(ZoneInfo(cron.timezone)))


def cron_key(info: InstigatorInfo, policy: SchedulePolicy) -> str:
    """What identifies the schedule's times: a different key means the cron was changed."""
    cron = info.cron_schedule
    text = cron if isinstance(cron, str) else "|".join(cron or ())
    return f"{text} @ {info.execution_timezone or 'UTC'} dst={policy.dst_policy or 'default'}"


def effective_start(state: InstigatorState) -> float:
    """When the schedule was last started: times before it never run (a schedule started
    again after a stop does not catch up the time it was stopped)."""
    start = float(state.extra[STARTED_AT])
    changed = state.extra.get(STATUS_CHANGED_AT)
    if state.status == InstigatorStatus.RUNNING and changed is not None:
        start = max(start, float(changed))
    return start


def schedule_settings(instance: Any) -> dict[str, Any]:
    """``schedules:`` settings of tocsin.yaml, when the instance exposes them."""
    settings = getattr(instance, "get_settings", None)
    try:
        return dict((settings("schedules") if settings else None) or {})
    except Exception:  # an instance without settings support: defaults apply
        return {}


class _ClaimLost(Exception):
    """A scheduled time's tick lost its claim (recorded as abandoned): the plan stops."""

    def __init__(self, outcome: TickOutcome):
        super().__init__(outcome.skip_reason)
        self.outcome = outcome


def handled(state: InstigatorState, scheduled: datetime, status: TickStatus, now: datetime):
    """The state after a tick for ``scheduled``: that time is handled, the cursor unchanged."""
    return state_after_tick(
        state,
        now=now,
        status=status,
        cursor=state.cursor,
        last_run_key=None,
        **{LAST_SCHEDULED: scheduled.timestamp()},
    )


class ScheduleLoop(BackgroundTicks):
    """Ticks the running schedules of some code locations (see the module docstring).

    ``max_workers`` schedules are evaluated at once when the daemon ticks in the background.
    """

    def __init__(
        self,
        instance: Any,
        locations: Sequence[CodeLocation],
        coordinator: Any,
        *,
        evaluation_timeout: float | None = None,
        policy_defaults: dict[str, Any] | None = None,
        claims: Any = None,
        max_workers: int = 4,
    ):
        self.instance = instance
        self.locations = list(locations)
        self.coordinator = coordinator
        self.evaluation_timeout = evaluation_timeout
        # Instance-wide catch-up/jitter/DST options; a schedule's own value wins.
        self.policy_defaults = (
            schedule_settings(instance) if policy_defaults is None else dict(policy_defaults)
        )
        self.claims = NO_CLAIMS if claims is None else claims
        self._init_background(max_workers, "schedule")

    def tick(self, now: datetime, *, wait: bool = True) -> TickReport:
        """One pass (see the module docstring); ``wait`` as for ``SensorLoop.tick``.

        With ``wait`` the due schedules are evaluated one after the other in this thread;
        without it each starts on the loop's threads and a schedule still in flight is not
        due, so a slow schedule holds up only itself.
        """
        report = TickReport(now=now)
        self._collect(report, wait=wait)  # a waiting pass first lets earlier ticks finish
        busy = self._in_flight.busy()
        known: list[str] = []
        listed = []
        for location in self.locations:
            for info in instigators_of(location, SCHEDULE, report):
                origin = instigator_id(location.name, SCHEDULE, info.name)
                known.append(origin)
                listed.append((location, info, origin))
        if self.claims.shared:
            running = [origin for _, info, origin in listed if self._is_running(info, origin)]
            held = self.claims.select(SCHEDULE, running, now)
            listed = [item for item in listed if item[2] in held]
            known = [origin for origin in known if origin in held]
        # A schedule in flight is not due, and its runs may be between commit and submit.
        listed = [item for item in listed if item[2] not in busy]
        known = [origin for origin in known if origin not in busy]
        work = []
        for location, info, _origin in listed:
            item = self._due(location, info, now, report)
            if item is not None:
                work.append(item)
        report.submitted_run_ids.extend(
            submit_leftovers(self.instance, self.coordinator, self.claims, known, now)
        )
        report.submitted_run_ids.extend(release_held(self.instance, self.coordinator, known))
        for location, info, state, plan, key in work:
            if wait:
                self._add(report, self._plan_claimed(location, info, state, plan, key, now))
            else:
                args = (location, info, state, plan, key, now)
                self._in_flight.start(state.origin_id, self._plan_in_background, *args)
        if wait:
            self._collect(report, wait=True)
        return report

    def _add(self, report: TickReport, result: list[TickOutcome]) -> None:
        for outcome in result:
            report.outcomes.append(outcome)
            report.submitted_run_ids.extend(outcome.run_ids)

    def _plan_in_background(self, location, info, state, plan, key: str, now):
        try:
            return self._plan_claimed(location, info, state, plan, key, now)
        except TickAbandoned:
            return []

    def _is_running(self, info: InstigatorInfo, origin: str) -> bool:
        return is_running(info, self.instance.ticks.get_instigator_state(origin))

    def _plan_claimed(self, location, info, state: InstigatorState, plan, key: str, now):
        """``_run_plan`` under the schedule's tick lease; no outcome when another daemon has
        it or handled a scheduled time since this pass read the state."""
        with self.claims.tick(state.origin_id, now) as held:
            if not held:
                return []
            if self.claims.shared:
                current = self.instance.ticks.get_instigator_state(state.origin_id)
                last = None if current is None else current.extra.get(LAST_SCHEDULED)
                if last != state.extra.get(LAST_SCHEDULED):
                    return []
            return self._run_plan(location, info, state, plan, key, now)

    def _due(self, location: CodeLocation, info: InstigatorInfo, now: datetime, report):
        origin = instigator_id(location.name, SCHEDULE, info.name)
        state = self.instance.ticks.get_instigator_state(origin)
        if not is_running(info, state):
            return None
        if state is None or STARTED_AT not in state.extra:
            # Started now (by default status) or by a user who left no start time: nothing
            # before this moment is ever run.
            # Only that key is written, so a stop made meanwhile is not undone.
            state = self.instance.ticks.set_instigator_status(
                origin,
                None,
                {STARTED_AT: now.timestamp()},
                default=state or fresh_state(location.name, info),
            )
        try:  # a bad cron string or option fails this schedule only
            policy = SchedulePolicy.resolve(info.extras, self.policy_defaults)
            key = cron_key(info, policy)
            plan = plan_due(
                schedule_cron(info, policy.dst_policy),
                policy,
                now=now,
                offset=jitter_offset(origin, policy.jitter),
                started_at=effective_start(state),
                last_handled=state.extra.get(LAST_SCHEDULED),
                cron_changed=state.extra.get(CRON_KEY, key) != key,
            )
        except Exception as exc:
            report.location_errors[origin] = serializable_error_info_from_exc(exc)
            return None
        if plan is None:
            return None
        return location, info, state, plan, key

    def _run_plan(self, location, info, state: InstigatorState, plan: DuePlan, key: str, now):
        """Tick once per time the plan runs, oldest first; the first tick carries what the
        pass does not run. A plan that runs nothing leaves one SKIPPED tick saying why."""
        state = replace(state, extra={**state.extra, CRON_KEY: key})
        if not plan.run:
            return [self._record_not_run(info, state, plan, now)]
        outcomes = []
        for index, scheduled in enumerate(plan.run):
            if index:
                state = self.instance.ticks.get_instigator_state(state.origin_id) or state
                if PAUSE_NOTE in state.extra and state.status == InstigatorStatus.STOPPED:
                    break  # paused by the previous tick: the other times are not run
            not_run = plan.not_run if index == 0 else ()
            try:
                outcome = self._tick_one(location, info, state, scheduled, now, not_run=not_run)
            except _ClaimLost as lost:
                outcomes.append(lost.outcome)
                break  # the daemon now holding the claim runs the other times
            outcomes.append(outcome)
        return outcomes

    def _record_not_run(self, info, state: InstigatorState, plan: DuePlan, now) -> TickOutcome:
        skip = plan.skip_message()
        tick = Tick(
            instigator_origin_id=state.origin_id,
            instigator_name=info.name,
            instigator_type=InstigatorType.SCHEDULE,
            timestamp=now,
            status=TickStatus.SKIPPED,
            skip_reason=skip,
            end_timestamp=now,
            scheduled_execution_time=plan.newest,
        )
        tick = self.instance.ticks.create_tick(with_not_run(tick, plan.not_run))
        new_state = handled(state, plan.newest, TickStatus.SKIPPED, now)
        try:
            self._write_tick(tick, [], None, new_state, now)
        except TickClaimLostError as lost:
            reason = record_claim_lost(self.instance, tick, lost)
            return TickOutcome(state.origin_id, TickStatus.SKIPPED, tick.tick_id, (), reason)
        return TickOutcome(state.origin_id, TickStatus.SKIPPED, tick.tick_id, (), skip, None)

    def _write_tick(self, tick: Tick, runs, cursor: str | None, state, now: datetime):
        """``write_tick`` fenced by the tick's claim when daemons share the instance."""
        fence = self.claims.fence(tick.instigator_origin_id, now) if self.claims.shared else None
        enqueue = enqueued_with_tick(self.coordinator, runs)
        return write_fenced_tick(self.instance, fence, tick, runs, cursor, state, enqueue=enqueue)

    def _tick_one(
        self,
        location,
        info,
        state: InstigatorState,
        scheduled: datetime,
        now,
        not_run: Sequence[NotRun] = (),
    ):
        tick = Tick(
            instigator_origin_id=state.origin_id,
            instigator_name=info.name,
            instigator_type=InstigatorType.SCHEDULE,
            timestamp=now,
            scheduled_execution_time=scheduled,
        )
        tick = self.instance.ticks.create_tick(with_not_run(tick, not_run))
        evaluation = location.evaluate_schedule(
            info.name,
            scheduled_time=scheduled,
            instance_ref=instance_ref_for(self.instance, location),
            timeout=self.evaluation_timeout,
        )
        if self._abandoned.is_set():
            raise TickAbandoned(state.origin_id)
        try:
            return self._record(location, info, state, tick, evaluation, scheduled, now)
        except TickClaimLostError as lost:
            reason = record_claim_lost(self.instance, tick.with_changes(end_timestamp=now), lost)
            outcome = TickOutcome(state.origin_id, TickStatus.SKIPPED, tick.tick_id, (), reason)
            raise _ClaimLost(outcome) from lost

    def _record(self, location, info, state, tick, evaluation: Evaluation, scheduled, now):
        policy = policy_for(info, self.policy_defaults)
        state = cleared_if_resumed(self.instance, state)
        note = failed_runs_note(self.instance, state, policy.pause_after_failures)
        if note is not None:
            return self._record_paused(state, tick, evaluation, scheduled, note, now)
        runs, problems = build_runs(
            evaluation.run_requests,
            origin_id=state.origin_id,
            location=location,
            tick_id=tick.tick_id,
            system_tags={
                SCHEDULE_NAME_TAG: info.name,
                # In UTC whatever the schedule's zone, as the reference writes it.
                SCHEDULED_EXECUTION_TIME_TAG: scheduled.astimezone(UTC).isoformat(),
            },
        )
        error = evaluation.error
        if error is None and problems:
            from tocsin.model.errors_info import SerializableErrorInfo

            error = SerializableErrorInfo("; ".join(problems), [], "DagsterInvalidDefinitionError")
        if error is not None:
            runs = []
        runs, used = drop_used_keys(self.instance, state.origin_id, runs)
        plan = plan_overlap(
            self.instance, policy.overlap, state.origin_id, runs, scheduled_time=scheduled
        )
        runs = plan.runs
        if error is not None:
            status = TickStatus.FAILURE
        else:
            status = TickStatus.SUCCESS if runs else TickStatus.SKIPPED
        skip = evaluation.skip_message if status == TickStatus.SKIPPED else None
        if status == TickStatus.SKIPPED and plan.not_run:
            skip = plan.not_run[0].detail
        tick = tick.with_status(
            status, skip_reason=skip, error=error, log_lines=evaluation.log_lines, end_timestamp=now
        )
        not_run = [replace(n, scheduled_time=scheduled) for n in duplicate_keys(used)]
        if evaluation.is_timeout and error is not None:
            not_run.append(NotRun(EVALUATION_TIMEOUT, error.message, scheduled_time=scheduled))
        tick = with_not_run(tick, not_run + plan.not_run)
        # The handled time moves on even after a FAILURE: that time is over; the next one
        # is evaluated when it comes (the FAILURE tick records what went wrong).
        new_state = handled(state, scheduled, status, now)
        new_state, note = count_tick(new_state, status, policy.pause_after_failures, now)
        if note is not None:
            tick = noted(tick, note)
        new_runs = self._write_tick(tick, runs, None, new_state, now)
        if plan.cancel:
            cancel_runs(self.instance, plan.cancel, [r.run_id for r in new_runs])
        to_submit = submittable(new_runs)
        if to_submit:
            self.coordinator.submit(to_submit)
        run_ids = tuple(r.run_id for r in new_runs)
        return TickOutcome(state.origin_id, status, tick.tick_id, run_ids, skip, error)

    def _record_paused(self, state, tick, evaluation: Evaluation, scheduled, note: str, now):
        """Its own runs failed ``pause_after_failures`` times in a row: the scheduled time is
        handled without a run, and the schedule is stopped with the note."""
        tick = tick.with_status(
            TickStatus.SKIPPED, skip_reason=note, log_lines=evaluation.log_lines, end_timestamp=now
        )
        tick = noted(with_not_run(tick, [NotRun(PAUSED, note, scheduled_time=scheduled)]), note)
        new_state = handled(state, scheduled, TickStatus.SKIPPED, now)
        self._write_tick(tick, (), None, paused(new_state, note, now), now)
        return TickOutcome(state.origin_id, TickStatus.SKIPPED, tick.tick_id, skip_reason=note)
