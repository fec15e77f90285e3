"""Which daemon ticks which instigator, when several daemons share one database.

Every lease lives in the instance's lease store (``instance.leases``), keyed by name:

* ``sensor/<origin id>`` and ``schedule/<origin id>``: sticky ownership. Each pass a daemon
  keeps the instigators it holds and takes free or expired ones until it holds its share
  (the running instigators divided by the live daemons, rounded up); a daemon holding more
  than its share gives the surplus back so a newcomer can take it. A daemon only ticks what
  it holds, so the work spreads over the daemons.
* ``tick/<origin id>``: held from the start of one tick until its runs are submitted. A tick
  that cannot take it is not made, and one that takes it first re-reads the instigator's
  state and gives up if another daemon ticked it meanwhile, so two ticks of one instigator
  never overlap, even while ownership moves between daemons. The tick's commit is fenced by
  it: ``write_tick(..., lease=claims.fence(...))`` checks in its transaction that the daemon
  still holds it, so a daemon that stalled past its lease while another took the tick over
  commits nothing (``TickClaimLostError``; the loop records the tick as abandoned).

Leases are renewed by the daemon's heartbeat (``daemon/presence.py``); a daemon that dies
stops renewing, its leases expire after ``daemon.lease_seconds`` and the other daemons take
its instigators on their next pass.

``NO_CLAIMS`` is what a loop uses when it runs alone (tests, a single daemon on SQLite that
holds the instance's home lease): it holds everything and every tick claim succeeds.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from tocsin.errors import TickClaimLostError
from tocsin.model.ticks import TickStatus
from tocsin.storage.base import Lease, LeaseFence

log = logging.getLogger("tocsin.daemon")

DAEMON_PREFIX = "daemon/"
TICK_PREFIX = "tick/"
# On SQLite one daemon holds the instance: this lease names it.
HOME_LEASE = "daemon-home"
DEFAULT_LEASE = timedelta(seconds=15)


def ownership_lease(kind: str, origin_id: str) -> str:
    """``sensor/<origin id>`` or ``schedule/<origin id>``."""
    return f"{kind}/{origin_id}"


def tick_lease(origin_id: str) -> str:
    return TICK_PREFIX + origin_id


def daemon_lease(daemon_id: str) -> str:
    return DAEMON_PREFIX + daemon_id


def live_daemon_ids(leases: Sequence[Lease], now: datetime) -> set[str]:
    """The daemons whose registration lease has not expired."""
    return {
        lease.name[len(DAEMON_PREFIX) :]
        for lease in leases
        if lease.name.startswith(DAEMON_PREFIX) and lease.expires_at > now
    }


def fair_share(count: int, daemons: int) -> int:
    """How many of ``count`` instigators one of ``daemons`` daemons holds at most."""
    return math.ceil(count / max(1, daemons))


class NoClaims:
    """A daemon alone on its instance: it holds every instigator and every tick."""

    shared = False

    def select(self, kind: str, origin_ids: Sequence[str], now: datetime) -> set[str]:
        return set(origin_ids)

    @contextmanager
    def tick(self, origin_id: str, now: datetime) -> Iterator[bool]:
        yield True

    def fence(self, origin_id: str, now: datetime) -> LeaseFence | None:
        """No fence: nobody else ticks."""
        return None


NO_CLAIMS = NoClaims()


class InstigatorClaims:
    """Claims of one daemon (``daemon_id``) in a lease store shared with other daemons.

    Args:
        leases: the instance's lease store (``claim_lease``, ``release_lease``,
            ``get_leases``).
        daemon_id: this daemon's id; its registration lease is ``daemon/<id>``.
        lease: how long a claim lasts without renewal.
        clock: the time leases are taken at; without one, the ``now`` of each call (the
            daemon passes the system's time, so a pass replayed at another time, ``daemon tick
            --now``, claims like any other).
    """

    shared = True

    def __init__(
        self,
        leases: Any,
        daemon_id: str,
        lease: timedelta = DEFAULT_LEASE,
        *,
        clock: Callable[[], datetime] | None = None,
    ):
        self.leases = leases
        self.daemon_id = daemon_id
        self.lease = lease
        self.clock = clock

    def _now(self, now: datetime) -> datetime:
        return now if self.clock is None else self.clock()

    def select(self, kind: str, origin_ids: Sequence[str], now: datetime) -> set[str]:
        """The instigators among ``origin_ids`` this daemon holds after this pass's claims.

        ``origin_ids`` are all the running instigators of ``kind`` (``sensor`` or
        ``schedule``) that this daemon knows; ownership leases of this kind that it holds for
        instigators no longer listed (stopped, removed) are given back.
        """
        now = self._now(now)
        rows = self.leases.get_leases()
        live = live_daemon_ids(rows, now) | {self.daemon_id}
        share = fair_share(len(origin_ids), len(live))
        prefix = f"{kind}/"
        by_name = {row.name: row for row in rows if row.name.startswith(prefix)}
        wanted = {ownership_lease(kind, origin): origin for origin in origin_ids}
        mine: list[str] = []
        free: list[str] = []
        for name, origin in wanted.items():
            row = by_name.get(name)
            if row is None or row.expires_at <= now:
                free.append(origin)
            elif row.owner == self.daemon_id:
                mine.append(origin)
        for name, row in by_name.items():
            if name not in wanted and row.owner == self.daemon_id:
                self.leases.release_lease(name, self.daemon_id)
        mine.sort()
        for origin in mine[share:]:
            self.leases.release_lease(ownership_lease(kind, origin), self.daemon_id)
        held = set(mine[:share])
        random.shuffle(free)  # daemons starting together reach for different instigators
        for origin in free:
            if len(held) >= share:
                break
            if self.leases.claim_lease(
                ownership_lease(kind, origin), self.daemon_id, self.lease, now
            ):
                held.add(origin)
        return held

    @contextmanager
    def tick(self, origin_id: str, now: datetime) -> Iterator[bool]:
        """Hold ``tick/<origin id>`` for the body; yields False when another daemon has it."""
        name = tick_lease(origin_id)
        now = self._now(now)
        if not self.leases.claim_lease(name, self.daemon_id, self.lease, now):
            yield False
            return
        try:
            yield True
        finally:
            self.leases.release_lease(name, self.daemon_id)

    def fence(self, origin_id: str, now: datetime) -> LeaseFence | None:
        """What a tick's commit checks: this daemon still holds ``tick/<origin id>``.

        Taken at commit time (the clock's time when there is one), so a daemon that stalled
        past its lease finds it expired or taken over.
        """
        return LeaseFence(tick_lease(origin_id), self.daemon_id, self._now(now))


def write_fenced_tick(
    instance: Any,
    fence: LeaseFence | None,
    tick: Any,
    new_runs: Sequence[Any] = (),
    cursor: str | None = None,
    state: Any = None,
    *,
    enqueue: Sequence[str] = (),
) -> list[Any]:
    """``instance.ticks.write_tick`` fenced by ``fence`` (unfenced when it is None), inserting
    the runs in ``enqueue`` QUEUED (see ``run_queue.enqueued_with_tick``).

    Raises:
        TickClaimLostError: another daemon took the tick's claim over; nothing was written.
    """
    options: dict[str, Any] = {}
    if fence is not None:
        options["lease"] = fence
    if enqueue:
        options["enqueue"] = enqueue
    return list(instance.ticks.write_tick(tick, new_runs, cursor, state, **options))


def record_claim_lost(instance: Any, tick: Any, error: TickClaimLostError) -> str:
    """Log a tick abandoned because its claim was lost, and mark its STARTED row so.

    Only the abandoned tick's own row is written (nothing of the instigator's state, no run):
    it ends SKIPPED with the reason, and the daemon now holding the claim ticks on.

    Returns:
        The reason recorded.
    """
    if error.holder is not None:
        lost = f"claim lost to daemon {error.holder}"
    else:
        lost = "claim expired or passed to another daemon"
    reason = f"Tick abandoned: {lost}; nothing of it was committed."
    log.warning("%s: %s (%s)", tick.instigator_origin_id, reason, error)
    if tick.tick_id is not None:
        try:
            stored = instance.ticks.get_tick(tick.tick_id)
            abandoned = stored.with_status(
                TickStatus.SKIPPED, skip_reason=reason, end_timestamp=tick.end_timestamp
            )
            instance.ticks.update_tick(abandoned)
        except Exception:  # the record is a courtesy: the tick is abandoned either way
            log.exception("Could not record abandoned tick %s", tick.tick_id)
    return reason


def submit_leftovers(
    instance: Any, coordinator: Any, claims: Any, origin_ids: Sequence[str], now: datetime
) -> list[str]:
    """Submit the runs a tick committed but never submitted (a crash between the two).

    With shared claims each instigator's leftovers are submitted under its tick lease, so a
    daemon never submits runs that the daemon which made them is still submitting.
    """
    from tocsin.daemon.common import find_unsubmitted
    from tocsin.model.tags import INSTIGATOR_TAG

    leftovers = find_unsubmitted(instance, origin_ids)
    if not leftovers:
        return []
    if not claims.shared:
        coordinator.submit(leftovers)
        return [r.run_id for r in leftovers]
    submitted: list[str] = []
    by_origin: dict[str, list[Any]] = {}
    for run in leftovers:
        by_origin.setdefault(str(run.tags.get(INSTIGATOR_TAG)), []).append(run)
    for origin, runs in by_origin.items():
        with claims.tick(origin, now) as held:
            if held:
                coordinator.submit(runs)
                submitted.extend(r.run_id for r in runs)
    return submitted


class ExclusiveLoop:
    """Runs ``loop`` only in the daemon holding the lease ``loop/<name>`` (sticky: the heartbeat
    renews it), so instance-wide chores (tick retention) are done by one daemon at a time; when
    it dies another takes the lease after it expires. Run monitoring has leases of its own, one
    per host (``daemon/monitoring.py``)."""

    def __init__(
        self,
        loop: Any,
        name: str,
        leases: Any,
        owner: str,
        lease: timedelta = DEFAULT_LEASE,
        *,
        clock: Callable[[], datetime] | None = None,
    ):
        self.loop = loop
        self.lease_name = f"loop/{name}"
        self.leases = leases
        self.owner = owner
        self.lease = lease
        self.clock = clock

    def tick(self, now: datetime) -> Any:
        from tocsin.daemon.common import TickReport

        at = now if self.clock is None else self.clock()
        if not self.leases.claim_lease(self.lease_name, self.owner, self.lease, at):
            return TickReport(now=now)
        return self.loop.tick(now)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loop, name)
