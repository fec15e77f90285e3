"""The sensor loop: one pass per ``SensorLoop.tick(now)``.

Each running sensor whose ``minimum_interval_seconds`` has passed since its previous tick is
evaluated in its code location (a worker process, with a time limit), then the tick, the new
runs and the cursor are written in one transaction (``instance.ticks.write_tick``), then the
new runs are submitted. Runs left NOT_STARTED by a crash between commit and submit are
submitted at the start of the next pass.

A sensor is also due, before its interval is over, when a wake request newer than its last
tick is stored (``tocsin/wake/<origin id>`` -> POSIX time in the instance's key-value store,
written when an event its ``wake_on`` lists arrives); each pass reads them in one query.

With several daemons on one database (``claims``, see ``daemon/leases.py``) a pass ticks only
the sensors this daemon holds, each under its tick lease, and gives a tick up when the
sensor's state changed since it was read (another daemon ticked it). Its commit is fenced by
that lease: a daemon that lost it while evaluating (stalled past ``daemon.lease_seconds``)
commits nothing, and its tick ends SKIPPED, "Tick abandoned: claim lost to daemon X".

The long-running daemon does not wait for a pass's ticks (``tick(now, wait=False)``): each
due sensor's tick runs on the loop's threads, one in flight per sensor, and later passes
collect them, so a sensor that runs up to its time limit delays no other sensor.

Settings read: ``max_workers`` (sensors evaluated in parallel, default 4),
``evaluation_timeout`` (seconds; a sensor's own ``evaluation_timeout`` wins; default 60) and
``policy_defaults`` (``overlap`` and ``pause_after_failures`` for sensors that set none; see
``daemon/overlap.py`` and ``daemon/pause.py``).

Every tick records what it did not turn into a run and why (``daemon/why.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from tocsin.daemon.common import (
    WAKE_KEY_PREFIX,
    TickOutcome,
    TickReport,
    build_runs,
    drop_used_requests,
    fresh_state,
    instigator_id,
    instigators_of,
    is_running,
    state_after_tick,
)
from tocsin.daemon.crash import crash_point
from tocsin.daemon.gcpause import collector_paused
from tocsin.daemon.inflight import BackgroundTicks
from tocsin.daemon.leases import (
    NO_CLAIMS,
    record_claim_lost,
    submit_leftovers,
    write_fenced_tick,
)
from tocsin.daemon.overlap import cancel_runs, plan_overlap, release_held, submittable
from tocsin.daemon.pause import (
    cleared_if_resumed,
    count_tick,
    failed_runs_note,
    noted,
    paused,
)
from tocsin.daemon.policy import RunPolicy, policy_for
from tocsin.daemon.policy import policy_defaults as read_policy_defaults
from tocsin.daemon.run_queue import enqueued_with_tick
from tocsin.daemon.why import EVALUATION_TIMEOUT, PAUSED, NotRun, duplicate_keys, with_not_run
from tocsin.errors import TickClaimLostError
from tocsin.model.errors_info import SerializableErrorInfo
from tocsin.model.tags import SENSOR_NAME_TAG
from tocsin.model.ticks import InstigatorState, InstigatorType, Tick, TickStatus
from tocsin.workspace.location import CodeLocation
from tocsin.workspace.messages import SENSOR, Evaluation, InstigatorInfo, RunRequestData

EMPTY_RESULT = "Sensor function returned an empty result"


class SensorLoop(BackgroundTicks):
    """Ticks the running sensors of some code locations.

    ``tick(now, wait=False)`` leaves slow ticks running in the background (see the module
    docstring); ``drain`` waits for them and ``abandon`` lets them end unrecorded.

    Args:
        instance: the instance that stores ticks, state and runs.
        locations: the code locations whose sensors to tick.
        coordinator: has ``submit(runs)``; takes the runs a tick made.
        max_workers: how many sensors to evaluate at once.
        evaluation_timeout: default time limit of one evaluation, in seconds.
        policy_defaults: ``overlap`` / ``pause_after_failures`` for sensors that set none
            (default: the instance's ``sensors:`` settings).
        claims: which sensors and ticks this daemon holds (``daemon/leases.py``); all of
            them by default.
    """

    def __init__(
        self,
        instance: Any,
        locations: Sequence[CodeLocation],
        coordinator: Any,
        *,
        max_workers: int = 4,
        evaluation_timeout: float | None = None,
        policy_defaults: Mapping[str, Any] | None = None,
        claims: Any = None,
    ):
        self.instance = instance
        self.locations = list(locations)
        self.coordinator = coordinator
        self.max_workers = max(1, max_workers)
        self.evaluation_timeout = evaluation_timeout
        if policy_defaults is None:
            policy_defaults = read_policy_defaults(instance, "sensors")
        self.policy_defaults = dict(policy_defaults)
        self.claims = NO_CLAIMS if claims is None else claims
        self._init_background(self.max_workers, "sensor")

    def tick(self, now: datetime, *, wait: bool = True) -> TickReport:
        """One pass: tick the due sensors and report what finished.

        With ``wait`` (the default: ``tocsin daemon tick``, ``DaemonRunner.run_once``) the
        pass first waits for the ticks earlier passes left in flight, then for every tick it
        starts, so its report is complete and the same sensors are due whatever the timing.
        Without it (the long-running daemon) the due sensors start on the loop's threads and
        the pass returns at once; their outcomes are on the report of the pass that sees them
        finished. A sensor whose tick is still in flight is not due.
        """
        report = TickReport(now=now)
        self._collect(report, wait=wait)  # a waiting pass first lets earlier ticks finish
        busy = self._in_flight.busy()
        due = [item for item in self._due_sensors(now, report) if item[2].origin_id not in busy]
        self._submit_leftovers(report, now, busy)
        if wait and (self.max_workers == 1 or len(due) <= 1):
            for location, info, state in due:
                self._add(report, self._tick_claimed(location, info, state, now))
        else:
            for location, info, state in due:
                self._in_flight.start(
                    state.origin_id, self._tick_claimed, location, info, state, now
                )
        if wait:
            self._collect(report, wait=True)
        return report

    def _add(self, report: TickReport, result: tuple[TickOutcome, list[str]] | None) -> None:
        if result is None:  # abandoned at shutdown, or another daemon has the sensor
            return
        outcome, submitted = result
        report.outcomes.append(outcome)
        report.submitted_run_ids.extend(submitted)

    # -- choosing what to tick -------------------------------------------------------------

    def _due_sensors(self, now: datetime, report: TickReport):
        running: list[tuple[CodeLocation, InstigatorInfo, InstigatorState]] = []
        self._known_ids: list[str] = []
        for location in self.locations:
            infos = instigators_of(location, SENSOR, report)
            for info in infos:
                origin = instigator_id(location.name, SENSOR, info.name)
                self._known_ids.append(origin)
                state = self.instance.ticks.get_instigator_state(origin)
                if is_running(info, state):
                    running.append((location, info, state or fresh_state(location.name, info)))
        held = self.claims.select(SENSOR, [state.origin_id for _, _, state in running], now)
        running = [item for item in running if item[2].origin_id in held]
        if self.claims.shared:
            self._known_ids = [origin for origin in self._known_ids if origin in held]
        woken = read_wake_times(self.instance, [state.origin_id for _, _, state in running])
        return [
            item for item in running if _is_due(item[1], item[2], now) or _is_woken(item[2], woken)
        ]

    def _submit_leftovers(self, report: TickReport, now: datetime, busy: set[str]) -> None:
        # A sensor in flight may be between its commit and its submit: its runs are not
        # leftovers, and submitting (or releasing) them here too could launch them twice.
        idle = [origin for origin in self._known_ids if origin not in busy]
        report.submitted_run_ids.extend(
            submit_leftovers(self.instance, self.coordinator, self.claims, idle, now)
        )
        released = release_held(self.instance, self.coordinator, idle)
        report.submitted_run_ids.extend(released)

    # -- one sensor ------------------------------------------------------------------------

    def _tick_claimed(
        self, location: CodeLocation, info: InstigatorInfo, state: InstigatorState, now: datetime
    ) -> tuple[TickOutcome, list[str]] | None:
        """``_tick_one`` under the sensor's tick lease; None when another daemon has it."""
        with self.claims.tick(state.origin_id, now) as held:
            if not held:
                return None
            if self.claims.shared:
                current = self.instance.ticks.get_instigator_state(state.origin_id)
                last = None if current is None else current.last_tick_timestamp
                if last != state.last_tick_timestamp:
                    return None  # another daemon ticked it since this pass read its state
            return self._tick_one(location, info, state, now)

    def _tick_one(
        self, location: CodeLocation, info: InstigatorInfo, state: InstigatorState, now: datetime
    ) -> tuple[TickOutcome, list[str]] | None:
        if self._abandoned.is_set():
            return None
        ticks = self.instance.ticks
        tick = ticks.create_tick(
            Tick(
                instigator_origin_id=state.origin_id,
                instigator_name=info.name,
                instigator_type=InstigatorType.SENSOR,
                timestamp=now,
            )
        )
        crash_point("before_evaluate")
        evaluation = location.evaluate_sensor(
            info.name,
            cursor=state.cursor,
            last_tick_time=state.last_tick_timestamp,
            last_run_key=state.last_run_key,
            instance_ref=instance_ref_for(self.instance, location),
            timeout=info.evaluation_timeout_seconds or self.evaluation_timeout,
        )
        if self._abandoned.is_set():
            return None
        # Recording is tocsin's own bounded burst of allocation (daemon/gcpause.py); the
        # evaluation is not paused, since user code may run long.
        with collector_paused():
            try:
                return self._record(location, info, state, tick, evaluation, now)
            except TickClaimLostError as lost:
                reason = record_claim_lost(
                    self.instance, tick.with_changes(end_timestamp=now), lost
                )
                outcome = TickOutcome(
                    state.origin_id, TickStatus.SKIPPED, tick.tick_id, skip_reason=reason
                )
                return outcome, []

    def _write_tick(self, tick: Tick, runs, cursor: str | None, state, now: datetime):
        """``write_tick`` fenced by the tick's claim when daemons share the instance."""
        fence = self.claims.fence(tick.instigator_origin_id, now) if self.claims.shared else None
        enqueue = enqueued_with_tick(self.coordinator, runs)
        return write_fenced_tick(self.instance, fence, tick, runs, cursor, state, enqueue=enqueue)

    def _record(self, location, info, state, tick: Tick, evaluation: Evaluation, now: datetime):
        policy = policy_for(info, self.policy_defaults)
        state = cleared_if_resumed(self.instance, state)
        note = failed_runs_note(self.instance, state, policy.pause_after_failures)
        if note is not None:
            return self._record_paused(state, tick, evaluation, note, now)
        requests: Sequence[RunRequestData] = evaluation.run_requests
        used: dict[str, str] = {}
        if evaluation.error is None:
            requests, used = drop_used_requests(self.instance, state.origin_id, requests)
        runs, problems = build_runs(
            requests,
            origin_id=state.origin_id,
            location=location,
            tick_id=tick.tick_id,
            system_tags={SENSOR_NAME_TAG: info.name},
        )
        error = evaluation.error or _problems_error(info.name, problems)
        if error is not None:
            return self._record_failure(info, state, tick, evaluation, error, now, policy)
        reaction_error = _reaction_error(evaluation)
        if reaction_error is not None:
            return self._record_failure(
                info, state, tick, evaluation, reaction_error, now, policy, cursor_survives=True
            )
        plan = plan_overlap(self.instance, policy.overlap, state.origin_id, runs)
        runs = plan.runs
        reacted = _reacted_run_ids(evaluation)
        status = TickStatus.SUCCESS if runs or reacted else TickStatus.SKIPPED
        skip = None
        if status != TickStatus.SUCCESS:
            skip = plan.not_run[0].detail if plan.not_run else _skip_reason(evaluation)
        tick = tick.with_status(
            status,
            skip_reason=skip,
            cursor=evaluation.cursor,
            log_lines=evaluation.log_lines,
            end_timestamp=now,
            origin_run_ids=reacted,
        )
        tick = with_not_run(tick, duplicate_keys(used) + plan.not_run)
        last_key = next((r.run_key for r in reversed(runs) if r.run_key), None)
        new_state = state_after_tick(
            state, now=now, status=status, cursor=evaluation.cursor, last_run_key=last_key
        )
        new_state, _ = count_tick(new_state, status, policy.pause_after_failures, now)
        crash_point("after_evaluate")
        new_runs = self._write_tick(tick, runs, evaluation.cursor, new_state, now)
        crash_point("after_commit")
        report_reactions(self.instance, info.name, evaluation)
        if plan.cancel:
            cancel_runs(self.instance, plan.cancel, [r.run_id for r in new_runs])
        to_submit = submittable(new_runs)
        if to_submit:
            self.coordinator.submit(to_submit)
        run_ids = tuple(r.run_id for r in new_runs)
        outcome = TickOutcome(
            state.origin_id,
            status,
            tick.tick_id,
            run_ids,
            skip_reason=skip,
            origin_run_ids=reacted,
        )
        return outcome, [r.run_id for r in to_submit]

    def _record_paused(
        self, state: InstigatorState, tick: Tick, evaluation: Evaluation, note: str, now: datetime
    ):
        """Its own runs failed ``pause_after_failures`` times in a row: a SKIPPED tick that
        runs nothing and keeps the cursor, and the sensor stopped with the note."""
        not_run = [NotRun(PAUSED, note, run_key=r.run_key) for r in evaluation.run_requests]
        tick = tick.with_status(
            TickStatus.SKIPPED,
            skip_reason=note,
            cursor=state.cursor,
            log_lines=evaluation.log_lines,
            end_timestamp=now,
        )
        tick = noted(with_not_run(tick, not_run or [NotRun(PAUSED, note)]), note)
        new_state = state_after_tick(
            state, now=now, status=TickStatus.SKIPPED, cursor=state.cursor, last_run_key=None
        )
        self._write_tick(tick, (), None, paused(new_state, note, now), now)
        outcome = TickOutcome(state.origin_id, TickStatus.SKIPPED, tick.tick_id, skip_reason=note)
        return outcome, []

    def _record_failure(
        self,
        info: InstigatorInfo,
        state: InstigatorState,
        tick: Tick,
        evaluation: Evaluation,
        error: SerializableErrorInfo,
        now: datetime,
        policy: RunPolicy,
        *,
        cursor_survives: bool = False,
    ):
        """A FAILURE tick and no run; the cursor moves only when the evaluation says it may.

        A run status sensor whose function raised for some runs still moves past them (they
        are never retried); the runs it did act on are recorded and get their engine event.
        """
        survives = cursor_survives or evaluation.cursor_survives_error
        cursor = evaluation.cursor if survives else state.cursor
        reacted = _reacted_run_ids(evaluation) if survives else ()
        tick = tick.with_status(
            TickStatus.FAILURE,
            error=error,
            cursor=cursor,
            log_lines=evaluation.log_lines,
            end_timestamp=now,
            origin_run_ids=reacted,
        )
        if evaluation.is_timeout:
            tick = with_not_run(tick, [NotRun(EVALUATION_TIMEOUT, error.message)])
        new_state = state_after_tick(
            state, now=now, status=TickStatus.FAILURE, cursor=cursor, last_run_key=None
        )
        new_state, note = count_tick(
            new_state, TickStatus.FAILURE, policy.pause_after_failures, now
        )
        if note is not None:
            tick = noted(tick, note)
        self._write_tick(tick, (), cursor, new_state, now)
        if survives:
            report_reactions(self.instance, info.name, evaluation)
        outcome = TickOutcome(
            state.origin_id, TickStatus.FAILURE, tick.tick_id, error=error, origin_run_ids=reacted
        )
        return outcome, []


def _is_due(info: InstigatorInfo, state: InstigatorState, now: datetime) -> bool:
    last = state.last_tick_timestamp
    if last is None:
        return True
    interval = info.minimum_interval_seconds or 30
    return (now - last).total_seconds() >= interval


def _is_woken(state: InstigatorState, woken: dict[str, datetime]) -> bool:
    """A wake request newer than the sensor's last tick makes it due before its interval."""
    wake = woken.get(state.origin_id)
    last = state.last_tick_timestamp
    return wake is not None and (last is None or wake > last)


def read_wake_times(instance: Any, origin_ids: Sequence[str]) -> dict[str, datetime]:
    """The wake request times of these sensors (one key-value read), by origin id.

    A wake request is ``tocsin/wake/<origin id>`` -> POSIX time in the instance's key-value
    store, written when an event a sensor's ``wake_on`` lists arrives. A value that is not a
    number is ignored (it cannot say when the wake was asked for).
    """
    misc = getattr(instance, "misc", None)
    if misc is None or not origin_ids:
        return {}
    found = misc.get_kv([WAKE_KEY_PREFIX + origin for origin in origin_ids])
    times: dict[str, datetime] = {}
    for key, value in found.items():
        try:
            stamp = float(value)
        except (TypeError, ValueError):
            continue
        times[key[len(WAKE_KEY_PREFIX) :]] = datetime.fromtimestamp(stamp, tz=UTC)
    return times


def _skip_reason(evaluation: Evaluation) -> str | None:
    if evaluation.skip_message:
        return evaluation.skip_message
    if not evaluation.run_requests:
        return EMPTY_RESULT
    return "Every run key this tick asked for already has a run."


def _reaction_error(evaluation: Evaluation) -> SerializableErrorInfo | None:
    """The first error a run status sensor hit while acting on a run, if any."""
    return next((r.error for r in evaluation.run_reactions if r.error is not None), None)


def _reacted_run_ids(evaluation: Evaluation) -> tuple[str, ...]:
    """The runs the sensor acted on without error, each once, in order."""
    seen: dict[str, None] = {}
    for reaction in evaluation.run_reactions:
        if reaction.error is None and reaction.run_id:
            seen.setdefault(reaction.run_id)
    return tuple(seen)


def _problems_error(name: str, problems: list[str]) -> SerializableErrorInfo | None:
    if not problems:
        return None
    message = f"Sensor {name!r} asked for runs the daemon cannot make: " + "; ".join(problems)
    return SerializableErrorInfo(
        message=message, stack=[], cls_name="DagsterInvalidDefinitionError"
    )


def instance_ref_for(instance: Any, location: CodeLocation) -> Any:
    """What a location needs to open the instance: a ref for a worker, else the instance."""
    from tocsin.workspace.location import InProcessLocation

    if isinstance(location, InProcessLocation):
        return instance
    get_ref = getattr(instance, "get_ref", None)
    return None if get_ref is None else get_ref()


def report_reactions(instance: Any, sensor_name: str, evaluation: Evaluation) -> None:
    """Write ``Sensor "<name>" acted on run status <STATUS> of run <id>.`` to each run.

    A reaction that carries an error did not act on its run, so it gets no event.
    """
    for reaction in evaluation.run_reactions:
        if reaction.error is not None:
            continue
        run = instance.get_run_by_id(reaction.run_id)
        if run is None:
            continue
        message = (
            f'Sensor "{sensor_name}" acted on run status {reaction.status} of run {run.run_id}.'
        )
        instance.report_engine_event(message, run)
