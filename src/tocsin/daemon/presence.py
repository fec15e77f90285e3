"""A daemon's presence on its instance: its id, registration, lease renewal and status.

A daemon is ``<host>:<pid>:<random>``. When it starts it takes the lease ``daemon/<id>`` and
stores what it is (host, pid, start time, its loops' last heartbeats) in the instance's
key-value store under ``tocsin/daemon/<id>``. A background thread renews every lease the
daemon owns (registration, instigators, ticks in flight) every third of
``daemon.lease_seconds``, so a daemon that dies loses all its claims one lease time after
its last renewal, however long one of its passes takes.

On SQLite the instance allows one daemon: a daemon also takes ``daemon-home`` and a second one
refuses to start (``DaemonAlreadyRunningError``, naming the holder and how to stop it) until
the holder stops or its lease expires. A daemon that finds it has lost ``daemon-home`` (it
stalled longer than its lease and another daemon took over) stops.

``read_daemons`` is what ``tocsin daemon status`` and the web Daemon page show.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tocsin.daemon.leases import (
    DEFAULT_LEASE,
    HOME_LEASE,
    TICK_PREFIX,
    daemon_lease,
    live_daemon_ids,
)
from tocsin.errors import ConfigError, TocsinError
from tocsin.storage.base import Lease

log = logging.getLogger("tocsin.daemon")

INFO_KEY_PREFIX = "tocsin/daemon/"


class DaemonAlreadyRunningError(TocsinError):
    """Another daemon holds this SQLite instance."""


class DaemonLeaseLostError(TocsinError):
    """This daemon's hold on its SQLite instance expired and another daemon took it."""


def new_daemon_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def split_daemon_id(daemon_id: str) -> tuple[str, int | None]:
    """The host and pid in a ``<host>:<pid>:<random>`` daemon id (``"?"``/None if absent)."""
    parts = daemon_id.rsplit(":", 2)
    if len(parts) != 3:
        return "?", None
    return parts[0], int(parts[1]) if parts[1].isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a process of another user has that pid
        return True
    return True


def utc_now() -> datetime:
    return datetime.now(UTC)


def lease_setting(instance: Any) -> timedelta:
    """``daemon.lease_seconds`` of tocsin.yaml (default 15).

    Raises:
        ConfigError: the value is not a number of seconds of at least 1.
    """
    settings = getattr(instance, "get_settings", None)
    raw = dict((settings("daemon") if settings else None) or {}).get("lease_seconds")
    if raw is None:
        return DEFAULT_LEASE
    return timedelta(seconds=check_lease_seconds(raw))


def check_lease_seconds(raw: Any) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw < 1:
        raise ConfigError(
            f"daemon.lease_seconds must be a number of seconds >= 1, got {raw!r}. "
            "Example: daemon: {lease_seconds: 15}."
        )
    return float(raw)


def is_sqlite(instance: Any) -> bool:
    store = getattr(instance, "leases", None)
    return getattr(store, "dialect", None) == "sqlite"


@dataclass
class DaemonInfo:
    """One daemon as ``tocsin daemon status`` shows it."""

    daemon_id: str
    host: str = "?"
    pid: int | None = None
    started_at: str | None = None
    expires_at: datetime | None = None
    loops: dict[str, dict[str, Any]] = field(default_factory=dict)
    sensors: list[str] = field(default_factory=list)
    schedules: list[str] = field(default_factory=list)
    ticks: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.daemon_id,
            "host": self.host,
            "pid": self.pid,
            "started_at": self.started_at,
            "lease_expires_at": None if self.expires_at is None else self.expires_at.isoformat(),
            "loops": self.loops,
            "holds": {
                "sensors": self.sensors,
                "schedules": self.schedules,
                "ticks": self.ticks,
                "other": self.other,
            },
            "counts": {
                "sensors": len(self.sensors),
                "schedules": len(self.schedules),
                "ticks": len(self.ticks),
            },
        }


def read_daemons(instance: Any, now: datetime) -> list[DaemonInfo]:
    """The live daemons of the instance (unexpired registration), by id, with what they hold."""
    store = getattr(instance, "leases", None)
    if store is None or not hasattr(store, "get_leases"):
        return []
    leases = store.get_leases()
    live = sorted(live_daemon_ids(leases, now))
    infos = {daemon_id: DaemonInfo(daemon_id) for daemon_id in live}
    misc = getattr(instance, "misc", None)
    stored = {} if misc is None or not live else misc.get_kv([INFO_KEY_PREFIX + d for d in live])
    for daemon_id, info in infos.items():
        _fill(info, stored.get(INFO_KEY_PREFIX + daemon_id))
    for lease in leases:
        owner = infos.get(lease.owner)
        if owner is not None and lease.expires_at > now:
            _add_lease(owner, lease)
    return list(infos.values())


def _add_lease(info: DaemonInfo, lease: Lease) -> None:
    if lease.name == daemon_lease(lease.owner):
        info.expires_at = lease.expires_at
    elif lease.name.startswith("sensor/"):
        info.sensors.append(lease.name[len("sensor/") :])
    elif lease.name.startswith("schedule/"):
        info.schedules.append(lease.name[len("schedule/") :])
    elif lease.name.startswith(TICK_PREFIX):
        info.ticks.append(lease.name[len(TICK_PREFIX) :])
    else:
        info.other.append(lease.name)


def _fill(info: DaemonInfo, text: str | None) -> None:
    if not text:
        return
    try:
        data = json.loads(text)
    except ValueError:
        return
    info.host = str(data.get("host", info.host))
    info.pid = data.get("pid")
    info.started_at = data.get("started_at")
    info.loops = dict(data.get("loops") or {})


class DaemonPresence:
    """Registers one daemon and keeps its leases alive (see the module docstring).

    Args:
        instance: has ``leases`` (a lease store) and ``misc`` (key-value store).
        daemon_id: this daemon's id (a fresh one by default).
        lease: how long the leases last without renewal.
        exclusive: take ``daemon-home`` too (SQLite: one daemon per instance).
        clock: the current UTC time.
    """

    def __init__(
        self,
        instance: Any,
        *,
        daemon_id: str | None = None,
        lease: timedelta = DEFAULT_LEASE,
        exclusive: bool = False,
        clock: Callable[[], datetime] = utc_now,
    ):
        self.instance = instance
        self.leases = instance.leases
        self.daemon_id = daemon_id or new_daemon_id()
        self.lease = lease
        self.exclusive = exclusive
        self.clock = clock
        self.started_at: datetime | None = None
        self.lost = False
        self._loops: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- start and stop ---------------------------------------------------------------------

    def register(self) -> None:
        """Take the registration (and on SQLite the home) lease and start renewing.

        Raises:
            DaemonAlreadyRunningError: on SQLite, another live daemon holds the instance.
        """
        now = self.clock()
        if self.exclusive and not self._hold_home(now):
            raise DaemonAlreadyRunningError(self._refusal(now))
        self.leases.claim_lease(daemon_lease(self.daemon_id), self.daemon_id, self.lease, now)
        self.started_at = now
        self._prune_infos(now)
        self._write_info()
        self._thread = threading.Thread(
            target=self._renew_forever, name="tocsin-daemon-leases", daemon=True
        )
        self._thread.start()
        log.info("Daemon %s registered (leases last %ss).", self.daemon_id, self.lease.seconds)

    def close(self) -> None:
        """Stop renewing and give back every lease this daemon holds."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self.started_at is None:
            return
        self.started_at = None
        try:
            release_all(self.leases, self.daemon_id)
            delete_keys(getattr(self.instance, "misc", None), [INFO_KEY_PREFIX + self.daemon_id])
        except Exception as exc:  # the leases expire by themselves; stopping must not fail
            log.warning("Could not give back the leases of daemon %s: %s", self.daemon_id, exc)

    def _hold_home(self, now: datetime) -> bool:
        if self.leases.claim_lease(HOME_LEASE, self.daemon_id, self.lease, now):
            return True
        return self._take_over_dead_holder(now)

    def _take_over_dead_holder(self, now: datetime) -> bool:
        """Take the home lease from a daemon of this host whose process is gone (killed)."""
        holder = holder_of(self.leases.get_leases(), HOME_LEASE)
        if holder is None:
            return bool(self.leases.claim_lease(HOME_LEASE, self.daemon_id, self.lease, now))
        host, pid = split_daemon_id(holder.owner)
        if host != socket.gethostname() or pid is None or pid == os.getpid() or _alive(pid):
            return False
        log.warning("Daemon %s (pid %s) is gone; taking over its instance.", holder.owner, pid)
        release_all(self.leases, holder.owner)
        return bool(self.leases.claim_lease(HOME_LEASE, self.daemon_id, self.lease, now))

    def _refusal(self, now: datetime) -> str:
        holder = holder_of(self.leases.get_leases(), HOME_LEASE)
        if holder is None:  # it was released meanwhile: tell the user to try again
            return "Another tocsin daemon was starting on this instance; try again."
        info = DaemonInfo(holder.owner)
        misc = getattr(self.instance, "misc", None)
        if misc is not None:
            _fill(
                info,
                misc.get_kv([INFO_KEY_PREFIX + holder.owner]).get(INFO_KEY_PREFIX + holder.owner),
            )
        host, pid = split_daemon_id(holder.owner)
        since = info.started_at or "an unknown time"
        left = max(0, int((holder.expires_at - now).total_seconds()))
        stop = f"kill {pid}" if pid is not None else "stop its process"
        return (
            f"Another tocsin daemon is already running on this instance: daemon {holder.owner} "
            f"(host {host}, pid {pid}), running since {since}. An instance on SQLite storage "
            f"takes one daemon. Stop that one first (on host {host}: {stop}, or Ctrl-C in its "
            f"terminal), or use PostgreSQL storage to run several daemons. If it died without "
            f"stopping, its hold expires at {holder.expires_at.isoformat()} (in {left}s, "
            "daemon.lease_seconds) and a new daemon takes over then."
        )

    # -- heartbeats and renewal --------------------------------------------------------------

    def beat(self, loop: str, now: datetime, errors: Sequence[Any] = ()) -> None:
        """Record a loop's pass; the next renewal stores it."""
        with self._lock:
            self._loops[loop] = {"heartbeat": now.isoformat(), "errors": len(errors)}

    def renew(self) -> None:
        """Push the expiry of every lease this daemon owns; note a lost home lease."""
        now = self.clock()
        renew_all(self.leases, self.daemon_id, self.lease, now)
        if self.exclusive:
            holder = holder_of(self.leases.get_leases(), HOME_LEASE)
            if holder is None or holder.owner != self.daemon_id:
                self.lost = True
        self._write_info()

    def _renew_forever(self) -> None:
        period = max(0.2, self.lease.total_seconds() / 3)
        while not self._stop.wait(period):
            try:
                self.renew()
            except Exception as exc:  # the database may be away for a moment; retry next time
                log.warning("Could not renew the leases of daemon %s: %s", self.daemon_id, exc)

    def _write_info(self) -> None:
        misc = getattr(self.instance, "misc", None)
        if misc is None:
            return
        host, pid = split_daemon_id(self.daemon_id)
        with self._lock:
            loops = dict(self._loops)
        data = {
            "id": self.daemon_id,
            "host": host,
            "pid": pid,
            "started_at": None if self.started_at is None else self.started_at.isoformat(),
            "lease_seconds": self.lease.total_seconds(),
            "loops": loops,
        }
        misc.set_kv({INFO_KEY_PREFIX + self.daemon_id: json.dumps(data, sort_keys=True)})

    def _prune_infos(self, now: datetime) -> None:
        """Forget the stored descriptions of daemons whose registration is gone."""
        misc = getattr(self.instance, "misc", None)
        engine = getattr(misc, "engine", None)
        if engine is None:
            return
        import sqlalchemy as sa

        from tocsin.storage import schema

        live = live_daemon_ids(self.leases.get_leases(), now) | {self.daemon_id}
        c = schema.kvs.c
        stmt = sa.delete(schema.kvs).where(
            c.key.startswith(INFO_KEY_PREFIX, autoescape=True),
            c.key.not_in([INFO_KEY_PREFIX + d for d in live]),
        )
        with _writer(engine) as conn:
            conn.execute(stmt)


def renew_all(leases: Any, owner: str, duration: timedelta, now: datetime) -> None:
    """Every lease ``owner`` holds now lasts until ``now + duration``.

    On SQL storage this is one UPDATE (a lease another daemon took meanwhile is not touched);
    other stores get one ``claim_lease`` per lease.
    """
    engine = getattr(leases, "engine", None)
    if engine is not None:
        import sqlalchemy as sa

        from tocsin.storage import schema

        c = schema.leases.c
        stmt = sa.update(schema.leases).where(c.owner == owner).values(expires_at=now + duration)
        with _writer(engine) as conn:
            conn.execute(stmt)
        return
    for lease in leases.get_leases():
        if lease.owner == owner:
            leases.claim_lease(lease.name, owner, duration, now)


def release_all(leases: Any, owner: str) -> None:
    """Give back every lease ``owner`` holds."""
    engine = getattr(leases, "engine", None)
    if engine is not None:
        import sqlalchemy as sa

        from tocsin.storage import schema

        with _writer(engine) as conn:
            conn.execute(sa.delete(schema.leases).where(schema.leases.c.owner == owner))
        return
    for lease in leases.get_leases():
        if lease.owner == owner:
            leases.release_lease(lease.name, owner)


def delete_keys(misc: Any, keys: Sequence[str]) -> None:
    engine = getattr(misc, "engine", None)
    if engine is None or not keys:
        return
    import sqlalchemy as sa

    from tocsin.storage import schema

    with _writer(engine) as conn:
        conn.execute(sa.delete(schema.kvs).where(schema.kvs.c.key.in_(list(keys))))


def _writer(engine: Any) -> Any:
    """A write transaction (on SQLite it takes the write lock up front)."""
    return engine.execution_options(tocsin_write=True).begin()


def holder_of(leases: Sequence[Lease], name: str) -> Lease | None:
    return next((x for x in leases if x.name == name), None)
