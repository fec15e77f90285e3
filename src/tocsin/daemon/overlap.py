"""The overlap policy: what a tick does with new runs while the instigator's own runs are busy.

An instigator's runs are those tagged ``tocsin/instigator`` = its origin id. One of them is
*active* while it is NOT_STARTED, QUEUED, STARTING, STARTED or CANCELING. With any policy but
``allow`` an instigator runs one run at a time (a tick asking for several runs is treated as
several requests in a row):

* ``skip`` -- a run is made only when nothing is active; the others are not made, and the
  tick records each as not run (``why.OVERLAP``);
* ``buffer_one`` -- as ``skip``, but one run may wait: it is written *held*; later ones are
  not made while one is held;
* ``buffer_all`` -- every run is made; those that must wait are written held;
* ``cancel_other`` -- the active runs (and held ones) are canceled, then the tick's newest run
  starts; its earlier requests are not made.

A held run is an ordinary NOT_STARTED run written in the tick's transaction, tagged
``tocsin/overlap=held``. Nothing submits it early: ``find_unsubmitted`` and both
coordinators leave held runs alone. At the start of each pass the loop releases, for each of
its instigators with held runs and nothing active, the oldest held run: it re-tags it
``tocsin/overlap=released`` (from then on it is an ordinary unsubmitted run, submitted at once
or after a crash by ``find_unsubmitted``) and submits it. Held runs therefore survive a
daemon restart and start in the order they were made, one at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tocsin.automation.policies import ALLOW, BUFFER_ALL, BUFFER_ONE, CANCEL_OTHER, SKIP
from tocsin.daemon.why import OVERLAP, NotRun
from tocsin.model.run import DagsterRun, DagsterRunStatus, RunsFilter
from tocsin.model.tags import INSTIGATOR_TAG

HELD_TAG = "tocsin/overlap"
HELD = "held"
RELEASED = "released"

ACTIVE_STATUSES = (
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
    DagsterRunStatus.CANCELING,
)


def is_held(run: DagsterRun) -> bool:
    """True for a run the overlap policy keeps waiting (it must not be submitted yet)."""
    return run.tags.get(HELD_TAG) == HELD and run.status == DagsterRunStatus.NOT_STARTED


def busy_runs(instance: Any, origin_id: str) -> tuple[list[DagsterRun], list[DagsterRun]]:
    """(active runs, newest first; held runs, oldest first) of one instigator."""
    runs = instance.get_runs(RunsFilter(tags={INSTIGATOR_TAG: origin_id}, statuses=ACTIVE_STATUSES))
    runs = [r for r in runs if r.tags.get(INSTIGATOR_TAG) == origin_id]
    active = [r for r in runs if not is_held(r)]
    held = [r for r in reversed(runs) if is_held(r)]
    return active, held


@dataclass
class OverlapPlan:
    """What a tick writes under its overlap policy.

    ``runs``: the runs to write (held ones tagged); ``not_run``: the requests it drops;
    ``cancel``: the runs to cancel once the tick is written.
    """

    runs: list[DagsterRun]
    not_run: list[NotRun] = field(default_factory=list)
    cancel: list[DagsterRun] = field(default_factory=list)


def plan_overlap(
    instance: Any,
    overlap: str,
    origin_id: str,
    runs: Sequence[DagsterRun],
    *,
    scheduled_time: datetime | None = None,
) -> OverlapPlan:
    """Apply ``overlap`` to the runs a tick is about to write (see the module docstring)."""
    if overlap == ALLOW or not runs:
        return OverlapPlan(list(runs))
    active, held = busy_runs(instance, origin_id)

    def dropped(run: DagsterRun, detail: str, blocker: DagsterRun | None) -> NotRun:
        return NotRun(
            OVERLAP,
            f"overlap={overlap}: {detail}",
            run_key=run.run_key,
            scheduled_time=scheduled_time,
            run_id=None if blocker is None else blocker.run_id,
        )

    if overlap == CANCEL_OTHER:
        newest = runs[-1]
        cancel = [r for r in active if r.status != DagsterRunStatus.CANCELING] + held
        replaced = [
            dropped(r, f"a later request of the same tick ({_label(newest)}) replaced it", None)
            for r in runs[:-1]
        ]
        return OverlapPlan([newest], replaced, cancel)

    made: list[DagsterRun] = []
    not_run: list[NotRun] = []
    running = active[0] if active else None
    waiting = list(held)
    for run in runs:
        if running is None and not waiting:
            made.append(run)
            running = run
        elif overlap == BUFFER_ALL or (overlap == BUFFER_ONE and not waiting):
            held_run = run.with_tags({HELD_TAG: HELD})
            made.append(held_run)
            waiting.append(held_run)
        elif overlap in (SKIP, BUFFER_ONE):
            blocker = waiting[0] if waiting and overlap == BUFFER_ONE else running or waiting[0]
            not_run.append(dropped(run, _busy_detail(blocker, overlap), blocker))
        else:
            raise ValueError(f"Unknown overlap policy {overlap!r}.")
    return OverlapPlan(made, not_run)


def _label(run: DagsterRun) -> str:
    return f"run key {run.run_key!r}" if run.run_key else "its run request"


def _busy_detail(blocker: DagsterRun | None, overlap: str) -> str:
    if blocker is None:
        return "another run of this instigator is active"
    if overlap == BUFFER_ONE and is_held(blocker):
        return f"run {blocker.run_id} already waits for its turn"
    status = blocker.status.value
    if blocker.status == DagsterRunStatus.NOT_STARTED:
        status = "made by this tick" if blocker.tags.get(HELD_TAG) is None else status
    return f"run {blocker.run_id} of this instigator is still {status}"


def cancel_runs(instance: Any, runs: Iterable[DagsterRun], replaced_by: Sequence[str]) -> None:
    """Cancel runs that ``cancel_other`` replaces: one not yet started ends CANCELED at once;
    one in progress becomes CANCELING (the monitoring loop stops its worker)."""
    newer = ", ".join(replaced_by) or "a newer run"
    for run in runs:
        current = instance.get_run_by_id(run.run_id)
        if current is None or current.status.is_finished:
            continue
        message = f"Canceled by the overlap policy cancel_other: {newer} replaces it."
        if current.status in (DagsterRunStatus.NOT_STARTED, DagsterRunStatus.QUEUED):
            instance.report_run_canceled(current, message)
        elif current.status != DagsterRunStatus.CANCELING:
            instance.report_run_canceling(current, message)


def submittable(runs: Iterable[DagsterRun]) -> list[DagsterRun]:
    """The runs that may be submitted now (held ones wait for ``release_held``)."""
    return [r for r in runs if r.tags.get(HELD_TAG) != HELD]


def release_held(instance: Any, coordinator: Any, origin_ids: Iterable[str]) -> list[str]:
    """Submit the oldest held run of each of these instigators that has nothing active.

    Returns the ids of the runs released.
    """
    wanted = set(origin_ids)
    if not wanted:
        return []
    waiting = instance.get_runs(
        RunsFilter(statuses=[DagsterRunStatus.NOT_STARTED], tags={HELD_TAG: HELD})
    )
    owners = {r.tags.get(INSTIGATOR_TAG) for r in waiting if is_held(r)} & wanted
    released: list[str] = []
    for origin_id in sorted(o for o in owners if o is not None):
        active, held = busy_runs(instance, origin_id)
        if active or not held:
            continue
        run = instance.add_run_tags(held[0].run_id, {HELD_TAG: RELEASED})
        coordinator.submit([run])
        released.append(run.run_id)
    return released
