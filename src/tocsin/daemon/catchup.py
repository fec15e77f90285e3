"""Which scheduled times a schedule pass runs, and why it does not run the others.

A schedule's *due* times are its cron times after the last time it handled (or at or after the
moment it was started) up to now. Normally there is one. After downtime there are several, and
the schedule's ``catchup`` option decides:

* ``"latest"`` (the default, the reference's behaviour): only the newest due time runs;
* ``"all"``: every due time runs, oldest first, at most ``max_catchup_runs`` of them (the
  newest ones; 5 when unset, like the reference scheduler's setting);
* ``"none"``: a due time runs only when it is on time (at most ``ON_TIME_SECONDS`` late);
  missed times are skipped and the schedule resumes at its next time.

``catchup_window`` (seconds) drops due times older than the window whatever the mode. ``jitter``
delays every time of a schedule by the same offset in ``[0, jitter)``, derived from a hash of the
schedule's origin id, so the schedule's evaluation for cron time ``t`` happens at ``t + offset``
while the run's scheduled time stays ``t``. Each due time that does not run is returned as a
``NotRun`` with its reason (``tocsin.daemon.why``), as is each nonexistent local time a
``dst_policy`` with ``gap=skip`` dropped, so ``tocsin schedule why`` answers from storage.

A schedule stopped and started again handles only the times from its new start; a changed cron
never backfills (only its newest due time runs, as by default).

Every option can also be set for all schedules in tocsin.yaml (``schedules: {catchup: all,
max_catchup_runs: 10, catchup_window_seconds: 3600, jitter_seconds: 30, dst_policy: ...}``); a
schedule's own value wins.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tocsin.automation.policies import seconds_of
from tocsin.daemon.why import (
    CATCHUP_LATEST,
    CATCHUP_LIMIT,
    CATCHUP_NONE,
    DST_GAP,
    OUTSIDE_CATCHUP_WINDOW,
    REASONS,
    NotRun,
)

CATCHUP_LATEST_MODE = "latest"
CATCHUP_ALL = "all"
CATCHUP_NONE_MODE = "none"
CATCHUP_CHOICES = (CATCHUP_LATEST_MODE, CATCHUP_ALL, CATCHUP_NONE_MODE)
DEFAULT_MAX_CATCHUP_RUNS = 5
# With catchup="none" a due time still runs when the pass comes at most this late after it.
ON_TIME_SECONDS = 60.0
# At most this many missed times are listed one by one per pass; older ones are summarised.
MAX_LISTED = 500

# Keys of InstigatorInfo.extras and of the ``schedules:`` settings in tocsin.yaml.
POLICY_KEYS = ("catchup", "max_catchup_runs", "catchup_window_seconds", "jitter_seconds")
DST_POLICY_KEY = "dst_policy"


def normalize_catchup(value: Any) -> str:
    """``"latest"``, ``"all"`` or ``"none"``; True means ``"all"``, False ``"none"``, None the
    default ``"latest"``.

    Raises:
        ValueError: any other value (the message lists the choices).
    """
    if value is None:
        return CATCHUP_LATEST_MODE
    if value is True:
        return CATCHUP_ALL
    if value is False:
        return CATCHUP_NONE_MODE
    if isinstance(value, str) and value in CATCHUP_CHOICES:
        return value
    raise ValueError(
        f"catchup must be one of {', '.join(repr(c) for c in CATCHUP_CHOICES)} "
        f"(or True for 'all', False for 'none'), got {value!r}."
    )


@dataclass(frozen=True)
class SchedulePolicy:
    """A schedule's catch-up, jitter and DST options after defaults are applied."""

    catchup: str = CATCHUP_LATEST_MODE
    max_catchup_runs: int | None = None
    catchup_window: float | None = None  # seconds
    jitter: float | None = None  # seconds
    dst_policy: str | None = None

    @classmethod
    def resolve(
        cls, extras: Mapping[str, Any] | None, defaults: Mapping[str, Any] | None = None
    ) -> SchedulePolicy:
        """The schedule's own values (``InstigatorInfo.extras``) over the instance's
        ``schedules:`` settings."""
        own, base = dict(extras or {}), dict(defaults or {})

        def pick(key: str) -> Any:
            value = own.get(key)
            return base.get(key) if value is None else value

        max_runs = pick("max_catchup_runs")
        return cls(
            catchup=normalize_catchup(pick("catchup")),
            max_catchup_runs=None if max_runs is None else int(max_runs),
            catchup_window=seconds_of(pick("catchup_window_seconds")),
            jitter=seconds_of(pick("jitter_seconds")),
            dst_policy=None if pick(DST_POLICY_KEY) is None else str(pick(DST_POLICY_KEY)),
        )

    @property
    def run_limit(self) -> int:
        """How many due times one pass runs with ``catchup="all"`` (never fewer than 1)."""
        limit = DEFAULT_MAX_CATCHUP_RUNS if self.max_catchup_runs is None else self.max_catchup_runs
        return max(1, limit)

    @property
    def skips_gap(self) -> bool:
        return self.dst_policy is not None and "gap=skip" in self.dst_policy.replace(" ", "")


def jitter_offset(origin_id: str, bound: float | None) -> float:
    """The schedule's fixed delay in ``[0, bound)`` seconds (0 without jitter): the same origin
    id always gets the same offset, and different schedules spread over the bound."""
    if not bound or bound <= 0:
        return 0.0
    digest = hashlib.sha256(origin_id.encode("utf-8")).digest()
    fraction = int.from_bytes(digest[:8], "big") / 2.0**64
    return fraction * bound


@dataclass(frozen=True)
class DuePlan:
    """What one pass does for one schedule: the times to run (oldest first), the due times and
    DST-gap times it does not run, and the newest due time (handled once the pass is done)."""

    run: tuple[dt.datetime, ...]
    not_run: tuple[NotRun, ...]
    newest: dt.datetime

    def skip_message(self) -> str:
        """The skip reason of a tick that records missed times and runs nothing."""
        count = sum(1 for item in self.not_run if item.scheduled_time is not None)
        reasons = sorted({item.reason for item in self.not_run})
        said = "; ".join(REASONS[r] for r in reasons)
        return f"{count} scheduled time(s) not run: {said}."


def plan_due(
    cron: Any,
    policy: SchedulePolicy,
    *,
    now: dt.datetime,
    offset: float,
    started_at: float,
    last_handled: float | None,
    cron_changed: bool = False,
) -> DuePlan | None:
    """The plan for a pass at ``now``, or None when no time is due.

    Args:
        cron: the schedule's ``CronSchedule`` (with its DST policy).
        policy: the schedule's options.
        now: the pass's time.
        offset: the schedule's jitter offset in seconds (``jitter_offset``).
        started_at: POSIX time the schedule was (last) started; earlier times never run.
        last_handled: POSIX time of the newest scheduled time already handled, if any.
        cron_changed: the cron differs from the one that handled ``last_handled``: no backfill.
    """
    effective = now - dt.timedelta(seconds=offset)
    local = effective.astimezone(cron.tzinfo)
    latest = cron.prev_at_or_before(local)
    if latest is None or latest.timestamp() < started_at:
        return None
    if last_handled is not None and latest.timestamp() <= last_handled:
        return None
    floor = started_at if last_handled is None else max(started_at, last_handled + 1e-6)
    due, more_before = _due_times(cron, latest, floor)
    if cron_changed:
        due, more_before = [latest], False
    not_run: list[NotRun] = []
    remaining = due
    if policy.catchup_window is not None:
        cutoff = effective.timestamp() - policy.catchup_window
        old = [t for t in due if t.timestamp() < cutoff]
        remaining = [t for t in due if t.timestamp() >= cutoff]
        not_run += [_outside(t, effective, policy.catchup_window) for t in old]
        if old and more_before:
            not_run.insert(0, _earlier(OUTSIDE_CATCHUP_WINDOW, old[0], floor))
            more_before = False
    run, reason, detail = _choose(remaining, policy, effective)
    skipped = [t for t in remaining if t not in run]
    if more_before and skipped:
        not_run.append(_earlier(reason, skipped[0], floor))
    not_run += [NotRun(reason, detail(t), scheduled_time=t) for t in skipped]
    if policy.skips_gap:
        after = dt.datetime.fromtimestamp(floor, dt.UTC) - dt.timedelta(microseconds=1)
        not_run += [_gap(wall, jump, cron.timezone) for wall, jump in cron.gap_times(after, latest)]
    not_run.sort(key=lambda item: (item.scheduled_time is not None, item.scheduled_time or latest))
    return DuePlan(tuple(run), tuple(not_run), latest)


def _due_times(cron: Any, latest: dt.datetime, floor: float) -> tuple[list[dt.datetime], bool]:
    """Due times at or after ``floor`` up to ``latest``, oldest first (at most ``MAX_LISTED``),
    and whether older due times were left out."""
    times = [latest]
    for when in cron.iter_before(latest):
        if when.timestamp() < floor:
            return list(reversed(times)), False
        if len(times) >= MAX_LISTED:
            return list(reversed(times)), True
        times.append(when)
    return list(reversed(times)), False  # pragma: no cover - iter_before never ends


def _choose(remaining: list[dt.datetime], policy: SchedulePolicy, effective: dt.datetime):
    """The times to run among ``remaining``, the reason for the others and their detail."""
    if not remaining:
        return [], CATCHUP_LATEST, lambda t: ""
    newest = remaining[-1]
    if policy.catchup == CATCHUP_ALL:
        limit = policy.run_limit
        count = len(remaining)
        return (
            remaining[-limit:],
            CATCHUP_LIMIT,
            lambda t: (
                f"missed {_show(t)}; {count} times were due and max_catchup_runs={limit} runs "
                f"only the newest {limit}"
            ),
        )
    if policy.catchup == CATCHUP_NONE_MODE:
        late = (effective - newest).total_seconds()
        run = [newest] if late <= ON_TIME_SECONDS else []
        return (
            run,
            CATCHUP_NONE,
            lambda t: f"missed {_show(t)}; missed times are skipped (catchup='none')",
        )
    return (
        [newest],
        CATCHUP_LATEST,
        lambda t: (
            f"missed {_show(t)}; only the latest missed time ({_show(newest)}) runs "
            "(catchup='latest')"
        ),
    )


def _outside(when: dt.datetime, effective: dt.datetime, window: float) -> NotRun:
    age = (effective - when).total_seconds()
    return NotRun(
        OUTSIDE_CATCHUP_WINDOW,
        f"missed {_show(when)}, {age:.0f}s before the pass, older than catchup_window={window:g}s",
        scheduled_time=when,
    )


def _earlier(reason: str, oldest_listed: dt.datetime, floor: float) -> NotRun:
    since = dt.datetime.fromtimestamp(floor, oldest_listed.tzinfo)
    return NotRun(
        reason,
        f"and every earlier missed time since {_show(since)} (more than {MAX_LISTED} were "
        "missed; they are not listed one by one)",
    )


def _gap(wall: str, jump: dt.datetime, zone: str) -> NotRun:
    return NotRun(
        DST_GAP,
        f"{wall} does not exist in {zone} (clocks jumped forward at {_show(jump)}); "
        "dst_policy gap=skip drops it",
        scheduled_time=jump,
    )


def _show(when: dt.datetime) -> str:
    return when.isoformat()
