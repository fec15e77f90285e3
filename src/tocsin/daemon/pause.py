"""Pause on failure: ``pause_after_failures=N`` stops a sensor or schedule after N failures.

Two counts are kept, and reaching N with either pauses the instigator:

* consecutive FAILURE ticks, in the instigator state's ``extra`` (``failed_ticks``); any
  other tick sets it back to 0;
* consecutive failed runs of its own (tagged ``tocsin/instigator``), read from storage when a
  tick is due: its newest N finished runs (SUCCESS or FAILURE) all FAILURE. A canceled run
  counts neither way.

Pausing stores the state STOPPED with a note (``extra["paused"]``, and on the tick) saying why
and how to resume. Resuming is starting it again (``tocsin sensor start NAME``, ``tocsin
schedule start NAME`` or the web UI toggle); the next tick then clears the note and both
counts: runs made before the resume no longer count (``extra["failures_after_run"]`` is the
newest finished run at that moment).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from tocsin.model.run import DagsterRunStatus, RunsFilter
from tocsin.model.tags import INSTIGATOR_TAG
from tocsin.model.ticks import InstigatorState, InstigatorStatus, Tick, TickStatus

PAUSE_NOTE = "paused"
PAUSED_AT = "paused_at"
FAILED_TICKS = "failed_ticks"
FAILURES_AFTER_RUN = "failures_after_run"
FINISHED = (DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE)


def kind_of(state: InstigatorState) -> str:
    return state.instigator_type.value.lower()


def pause_note(state: InstigatorState, count: int, what: str) -> str:
    kind = kind_of(state)
    return (
        f"Paused after {count} consecutive failed {what} (pause_after_failures={count}). "
        f"Fix the cause, then resume with 'tocsin {kind} start {state.name}' or the "
        f"{kind}'s toggle in the web UI; resuming clears the count."
    )


def cleared_if_resumed(instance: Any, state: InstigatorState) -> InstigatorState:
    """A state that carries a pause note but is running again: the note and counts go.

    A stopped state keeps them (a tick made by hand, e.g. from the web UI, is no resume)."""
    if PAUSE_NOTE not in state.extra or state.status == InstigatorStatus.STOPPED:
        return state
    extra = {k: v for k, v in state.extra.items() if k not in (PAUSE_NOTE, PAUSED_AT, FAILED_TICKS)}
    newest = instance.get_runs(
        RunsFilter(tags={INSTIGATOR_TAG: state.origin_id}, statuses=list(FINISHED)), 1
    )
    extra[FAILURES_AFTER_RUN] = newest[0].run_id if newest else None
    return replace(state, extra=extra)


def failed_runs_note(instance: Any, state: InstigatorState, limit: int) -> str | None:
    """The pause note when the instigator's newest ``limit`` finished runs all failed."""
    if limit <= 0:
        return None
    runs = instance.get_runs(
        RunsFilter(tags={INSTIGATOR_TAG: state.origin_id}, statuses=list(FINISHED)), limit
    )
    after = state.extra.get(FAILURES_AFTER_RUN)
    failed = 0
    for run in runs[:limit]:
        if run.run_id == after or run.status != DagsterRunStatus.FAILURE:
            break
        failed += 1
    return pause_note(state, limit, "runs") if failed >= limit else None


def paused(state: InstigatorState, note: str, now: datetime) -> InstigatorState:
    """The state stopped, with the note saying why and how to resume."""
    return replace(
        state,
        status=InstigatorStatus.STOPPED,
        extra={**state.extra, PAUSE_NOTE: note, PAUSED_AT: now.timestamp()},
    )


def count_tick(
    state: InstigatorState, status: TickStatus, limit: int, now: datetime
) -> tuple[InstigatorState, str | None]:
    """The state after a tick of ``status``, paused (with the note) on the ``limit``-th
    consecutive FAILURE."""
    if limit <= 0:
        return state, None
    failed = int(state.extra.get(FAILED_TICKS) or 0) + 1 if status == TickStatus.FAILURE else 0
    state = replace(state, extra={**state.extra, FAILED_TICKS: failed})
    if failed < limit:
        return state, None
    note = pause_note(state, limit, "ticks")
    return paused(state, note, now), note


def noted(tick: Tick, note: str) -> Tick:
    """The tick carrying the pause note (``extra["paused"]``)."""
    return tick.with_changes(extra={**tick.extra, PAUSE_NOTE: note})
