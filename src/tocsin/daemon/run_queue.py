"""The run queue: ``QueuedCoordinator`` queues submitted runs, ``RunQueueLoop`` launches them.

A submitted run waits QUEUED (a RUN_ENQUEUED event). Each pass of ``RunQueueLoop.tick(now)``
launches queued runs, highest ``dagster/priority`` tag first and then oldest first, while the
limits allow: at most ``max_concurrent_runs`` runs in progress (STARTING, STARTED or
CANCELING; -1 means no limit) and, for each ``tag_concurrency_limits`` entry
``{key, value?, limit}``, at most ``limit`` in-progress runs carrying that tag (any value when
``value`` is absent, that value when it is a string, and per distinct value when it is
``{applyLimitPerUniqueValue: true}``). A run held back by a tag limit does not hold back the
runs behind it.

Each run a pass leaves QUEUED because of a limit carries, in its ``.tocsin/held_by`` tag, the
limit that holds it (``hold_reason``; rewritten only when it changes; a hidden tag, so
the tags users gave the run read as in the reference), so ``tocsin sensor why``
/ ``tocsin schedule why`` and the web UI's queue page can say so from storage alone.

Two daemons never launch the same run: a pass holds the ``run_queue`` lease (so the counts it
reads stay true while it launches), and each run is claimed by a conditional update
QUEUED -> STARTING that only one writer can win.

Settings read (``run_coordinator`` in tocsin.yaml, a ``QueuedRunCoordinator``):
``max_concurrent_runs``, ``tag_concurrency_limits``, ``dequeue_interval_seconds``.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tocsin.daemon.common import TickReport
from tocsin.errors import ConfigError
from tocsin.launchers.base import RunLauncher, mark_starting
from tocsin.model.run import DagsterRun, DagsterRunStatus, RunsFilter
from tocsin.model.tags import PRIORITY_TAG

IN_PROGRESS = (DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING)
QUEUE_LEASE = "run_queue"
HELD_BY_TAG = ".tocsin/held_by"  # hidden: the run's own tags stay the reference's
PER_VALUE = "applyLimitPerUniqueValue"


@dataclass(frozen=True)
class TagLimit:
    """At most ``limit`` in-progress runs with tag ``key`` (= ``value``, or per value)."""

    key: str
    limit: int
    value: str | None = None
    per_value: bool = False

    def bucket(self, tags: Mapping[str, str]) -> tuple[str, str | None] | None:
        """The counter this run falls in for this limit, or None if the limit ignores it."""
        if self.key not in tags:
            return None
        if self.per_value:
            return (self.key, tags[self.key])
        if self.value is not None and tags[self.key] != self.value:
            return None
        return (self.key, self.value)


@dataclass(frozen=True)
class QueueSettings:
    max_concurrent_runs: int = -1
    tag_limits: tuple[TagLimit, ...] = ()
    dequeue_interval: timedelta = timedelta(seconds=5)


@dataclass
class QueueReport(TickReport):
    """A run queue pass: the runs it launched (``submitted_run_ids``) and why it stopped."""

    skipped_reason: str | None = None
    held_back: list[str] = field(default_factory=list)


def parse_tag_limits(raw: Any) -> tuple[TagLimit, ...]:
    """Check ``tag_concurrency_limits`` and turn it into ``TagLimit`` values.

    Raises:
        ConfigError: the list or one entry has the wrong shape.
    """
    if raw is None:
        return ()
    if not isinstance(raw, list | tuple):
        raise ConfigError(
            f"run_coordinator.config.tag_concurrency_limits must be a list of "
            f"{{key, value, limit}} entries, got {raw!r}."
        )
    return tuple(_tag_limit(i, entry) for i, entry in enumerate(raw))


def _tag_limit(index: int, entry: Any) -> TagLimit:
    where = f"run_coordinator.config.tag_concurrency_limits[{index}]"
    if not isinstance(entry, Mapping) or "key" not in entry or "limit" not in entry:
        raise ConfigError(
            f"{where} must be a mapping with 'key' and 'limit' (and optionally 'value'), "
            f"got {entry!r}. Example: {{key: team, value: data, limit: 2}}."
        )
    unknown = set(entry) - {"key", "value", "limit"}
    if unknown:
        raise ConfigError(
            f"{where} has unknown keys {sorted(unknown)}; the keys are 'key', 'value', 'limit'."
        )
    key, limit, value = entry["key"], entry["limit"], entry.get("value")
    if not isinstance(key, str) or not key:
        raise ConfigError(f"{where}.key must be a non-empty tag name, got {key!r}.")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ConfigError(f"{where}.limit must be a whole number >= 0, got {limit!r}.")
    if isinstance(value, Mapping):
        if dict(value) != {PER_VALUE: True} and dict(value) != {PER_VALUE: False}:
            raise ConfigError(
                f"{where}.value must be a tag value or {{{PER_VALUE}: true}}, got {value!r}."
            )
        return TagLimit(key, limit, None, per_value=bool(value[PER_VALUE]))
    if value is not None and not isinstance(value, str):
        raise ConfigError(
            f"{where}.value must be a string tag value or {{{PER_VALUE}: true}}, got {value!r}."
        )
    return TagLimit(key, limit, value)


def queue_settings(coordinator: Any) -> QueueSettings:
    """The queue settings of a ``QueuedRunCoordinator`` (or anything with the same fields).

    Raises:
        ConfigError: a setting has the wrong type.
    """
    most = getattr(coordinator, "max_concurrent_runs", -1)
    most = -1 if most is None else most
    if isinstance(most, bool) or not isinstance(most, int) or most < -1:
        raise ConfigError(
            "run_coordinator.config.max_concurrent_runs must be a whole number "
            f"(-1 for no limit), got {most!r}."
        )
    interval = getattr(coordinator, "dequeue_interval_seconds", 5.0)
    interval = 5.0 if interval is None else interval
    if isinstance(interval, bool) or not isinstance(interval, int | float) or interval < 0:
        raise ConfigError(
            "run_coordinator.config.dequeue_interval_seconds must be a number of seconds "
            f">= 0, got {interval!r}."
        )
    limits = parse_tag_limits(getattr(coordinator, "tag_concurrency_limits", None))
    return QueueSettings(most, limits, timedelta(seconds=float(interval)))


def is_queued_coordinator(coordinator: Any) -> bool:
    from tocsin.instance.components import QueuedRunCoordinator

    return isinstance(coordinator, QueuedRunCoordinator)


class QueuedCoordinator:
    """Submission for the queued run coordinator: the run waits QUEUED for the queue loop.

    Submission is idempotent: a run that is no longer NOT_STARTED is left alone, and so is a
    run the overlap policy holds (it is submitted when released).
    """

    def __init__(self, instance: Any):
        self.instance = instance

    def submit(self, runs: Sequence[DagsterRun]) -> list[str]:
        from tocsin.daemon.overlap import is_held

        # A run its tick already inserted QUEUED (``enqueued_with_tick``) needs nothing more.
        runs = [r for r in runs if not is_held(r) and r.status == DagsterRunStatus.NOT_STARTED]
        batch = getattr(self.instance, "enqueue_runs", None)
        if batch is not None:
            return list(batch([run.run_id for run in runs]))
        queued = []
        for run in runs:
            current = self.instance.get_run_by_id(run.run_id)
            if current is None or current.status != DagsterRunStatus.NOT_STARTED:
                continue
            self.instance.enqueue_run(current)
            queued.append(run.run_id)
        return queued


def enqueued_with_tick(coordinator: Any, runs: Sequence[DagsterRun]) -> list[str]:
    """Ids of the runs a tick's own transaction should insert QUEUED.

    With the queued coordinator, submitting a run only marks it QUEUED with a RUN_ENQUEUED
    event, so the tick does that itself for every run no overlap policy holds: one
    transaction instead of two, and a crash after the commit leaves nothing to submit. Other
    coordinators launch runs, which happens after the commit.
    """
    if not isinstance(coordinator, QueuedCoordinator):
        return []
    from tocsin.daemon.overlap import is_held

    return [run.run_id for run in runs if not is_held(run)]


def priority_of(run: DagsterRun) -> int:
    """The ``dagster/priority`` tag as a number; a missing or non-numeric tag counts as 0."""
    text = run.tags.get(PRIORITY_TAG)
    if text is None:
        return 0
    try:
        return int(str(text).strip())
    except ValueError:
        return 0


def launch_order(queued_oldest_first: Iterable[DagsterRun]) -> list[DagsterRun]:
    """Highest priority first; among equal priorities, oldest first (the sort is stable)."""
    return sorted(queued_oldest_first, key=lambda run: -priority_of(run))


class RunQueueLoop:
    """Launches queued runs within the limits, one pass per ``tick(now)``.

    Args:
        instance: the instance holding the runs.
        launcher: starts each dequeued run.
        settings: the limits; read from ``instance.run_coordinator`` when omitted.
        owner: this daemon's name on the queue lease (a fresh id by default).
    """

    def __init__(
        self,
        instance: Any,
        launcher: RunLauncher,
        settings: QueueSettings | None = None,
        *,
        owner: str | None = None,
        lease: timedelta = timedelta(seconds=60),
    ):
        self.instance = instance
        self.launcher = launcher
        if settings is None:
            settings = queue_settings(getattr(instance, "run_coordinator", None))
        self.settings = settings
        self.owner = owner or f"run-queue-{uuid.uuid4().hex[:12]}"
        self.lease = lease
        self.last_pass: datetime | None = None

    def tick(self, now: datetime) -> QueueReport:
        report = QueueReport(now=now)
        if self.last_pass is not None and now - self.last_pass < self.settings.dequeue_interval:
            report.skipped_reason = "dequeue interval has not passed"
            return report
        self.last_pass = now
        leases = getattr(self.instance, "leases", None)
        if leases is not None and not leases.claim_lease(QUEUE_LEASE, self.owner, self.lease, now):
            report.skipped_reason = "another daemon holds the run queue"
            return report
        try:
            self._dequeue(report)
        finally:
            if leases is not None:
                leases.release_lease(QUEUE_LEASE, self.owner)
        return report

    def _dequeue(self, report: QueueReport) -> None:
        queued = self.instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.QUEUED]))
        if not queued:
            return
        active = self.instance.get_runs(RunsFilter(statuses=list(IN_PROGRESS)))
        budget = _Budget(self.settings, active)
        for run in launch_order(reversed(queued)):  # get_runs is newest first
            reason = budget.hold_reason(run)
            if reason is not None:
                note_hold(self.instance, run, reason)
                if not budget.is_full():
                    report.held_back.append(run.run_id)
                continue
            if not claim_run(self.instance, run.run_id):
                continue  # another daemon took it
            budget.take(run)
            mark_starting(self.instance, run)
            self.launcher.launch_run(run)
            report.submitted_run_ids.append(run.run_id)


class _Budget:
    """How many more runs the limits allow, given the runs in progress."""

    def __init__(self, settings: QueueSettings, active: Sequence[DagsterRun]):
        self.settings = settings
        self.count = 0
        self.buckets: Counter[tuple[int, tuple[str, str | None]]] = Counter()
        for run in active:
            self.take(run)

    def _buckets(self, run: DagsterRun) -> list[tuple[int, tuple[str, str | None]]]:
        found = []
        for index, limit in enumerate(self.settings.tag_limits):
            bucket = limit.bucket(run.tags)
            if bucket is not None:
                found.append((index, bucket))
        return found

    def is_full(self) -> bool:
        most = self.settings.max_concurrent_runs
        return most != -1 and self.count >= most

    def admits(self, run: DagsterRun) -> bool:
        limits = self.settings.tag_limits
        return all(self.buckets[b] < limits[b[0]].limit for b in self._buckets(run))

    def take(self, run: DagsterRun) -> None:
        self.count += 1
        for bucket in self._buckets(run):
            self.buckets[bucket] += 1

    def hold_reason(self, run: DagsterRun) -> str | None:
        """The limit that keeps ``run`` queued now, in words; None when it may launch."""
        if self.is_full():
            most = self.settings.max_concurrent_runs
            return f"max_concurrent_runs: {most} of {most} runs in progress"
        for index, bucket in self._buckets(run):
            limit = self.settings.tag_limits[index]
            if self.buckets[(index, bucket)] >= limit.limit:
                return (
                    f"tag_concurrency_limits: {limit.limit} of {limit.limit} runs with "
                    f"{limit.key}={run.tags[limit.key]} in progress"
                )
        return None


def hold_reason(
    run: DagsterRun, in_progress: Sequence[DagsterRun], settings: QueueSettings
) -> str | None:
    """The limit that keeps a queued run from launching, given the runs in progress."""
    return _Budget(settings, in_progress).hold_reason(run)


def note_hold(instance: Any, run: DagsterRun, reason: str) -> None:
    """Record on a queued run which limit holds it (only when that changed)."""
    if run.tags.get(HELD_BY_TAG) == reason:
        return
    add_tags = getattr(instance, "add_run_tags", None)
    if add_tags is not None:
        add_tags(run.run_id, {HELD_BY_TAG: reason})


def settings_from_mapping(raw: Mapping[str, Any]) -> QueueSettings:
    """Queue settings from a plain mapping (``max_concurrent_runs``,
    ``tag_concurrency_limits``), as the web UI reads them.

    Raises:
        ConfigError: a setting has the wrong shape.
    """

    class _Fields:
        max_concurrent_runs = raw.get("max_concurrent_runs", -1)
        tag_concurrency_limits = raw.get("tag_concurrency_limits")
        dequeue_interval_seconds = raw.get("dequeue_interval_seconds", 5.0)

    return queue_settings(_Fields())


def claim_run(instance: Any, run_id: str) -> bool:
    """Move one run QUEUED -> STARTING if it is still QUEUED; True if this caller won.

    On SQL storage this is one conditional UPDATE, so of several daemons exactly one wins.
    Other stores (test doubles) get a read-then-write, which is enough for one process.
    """
    store = getattr(instance, "runs", None)
    engine = getattr(store, "engine", None)
    if engine is not None:
        import sqlalchemy as sa

        from tocsin.storage import schema

        c = schema.runs.c
        stmt = (
            sa.update(schema.runs)
            .where(c.run_id == run_id, c.status == DagsterRunStatus.QUEUED.value)
            .values(status=DagsterRunStatus.STARTING.value)
        )
        with engine.begin() as conn:
            return conn.execute(stmt).rowcount == 1
    run = instance.get_run_by_id(run_id)
    if run is None or run.status != DagsterRunStatus.QUEUED:
        return False
    instance.update_run_status(run_id, DagsterRunStatus.STARTING)
    return True
