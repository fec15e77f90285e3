"""Build a daemon (locations, launcher, loops, runner) from an instance and location specs.

A daemon on an instance with a lease store registers itself (``daemon/presence.py``). On
PostgreSQL several daemons share the instance and claim instigators and ticks through leases
(``daemon/leases.py``); on SQLite one daemon holds the instance and ticks everything.

Runs are launched by ``launcher``, else by the instance's ``run_launcher`` when that plugin
is a ``tocsin.launchers.base.RunLauncher``, else one process per run (``SubprocessLauncher``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from tocsin.daemon.leases import NO_CLAIMS, ExclusiveLoop, InstigatorClaims
from tocsin.daemon.monitoring import RunMonitorLoop, SharedMonitorScope
from tocsin.daemon.presence import DaemonPresence, is_sqlite, lease_setting
from tocsin.daemon.retention import RetentionLoop
from tocsin.daemon.run_queue import QueuedCoordinator, RunQueueLoop, is_queued_coordinator
from tocsin.daemon.runner import DaemonRunner, utc_now
from tocsin.daemon.schedules import ScheduleLoop
from tocsin.daemon.sensors import SensorLoop
from tocsin.launchers.base import ImmediateCoordinator, RunLauncher
from tocsin.workspace.pool import workers_per_location


def sensor_settings(instance: Any) -> dict[str, Any]:
    """``sensors:`` settings of tocsin.yaml, when the instance exposes them."""
    settings = getattr(instance, "get_settings", None)
    try:
        return dict((settings("sensors") if settings else None) or {})
    except Exception:  # an instance without settings support: defaults apply
        return {}


def location_workers(instance: Any) -> int:
    """How many user-code workers each code location may run at once: tocsin.yaml
    ``sensors: {workers_per_location: N}`` (default 2).

    Raises:
        ConfigError: the setting is not a whole number of at least 1.
    """
    return workers_per_location(sensor_settings(instance).get("workers_per_location"))


def build_daemon(
    instance: Any,
    locations: Sequence[Any],
    *,
    launcher: RunLauncher | None = None,
    interval: float = 1.0,
    on_report: Any = None,
    clock: Callable[[], datetime] | None = None,
    daemon_id: str | None = None,
) -> DaemonRunner:
    """The daemon over ``locations``; ``clock`` (default: the system's UTC time) says "now"
    to the loops. Nothing is registered until its first pass; leases always run on the
    system's time, so a pass at another "now" never bends another daemon's claims.

    Raises:
        ConfigError: a setting of tocsin.yaml (``sensors``, ``daemon``, the run coordinator)
            is wrong.
    """
    presence, claims = daemon_presence(instance, daemon_id)
    configured = getattr(instance, "run_launcher", None)
    if launcher is None and isinstance(configured, RunLauncher):
        # A run_launcher plugin written against the daemon's launcher interface.
        launcher = configured
    if launcher is None:
        from tocsin.launchers.subprocess import SubprocessLauncher

        launcher = SubprocessLauncher(instance)
    settings = sensor_settings(instance)
    location_workers(instance)  # a wrong setting stops the daemon before it starts
    timeout = settings.get("evaluation_timeout_seconds")
    queued = is_queued_coordinator(getattr(instance, "run_coordinator", None))
    coordinator = (
        QueuedCoordinator(instance) if queued else ImmediateCoordinator(instance, launcher)
    )
    loops: dict[str, Any] = {
        "SENSOR": SensorLoop(
            instance,
            locations,
            coordinator,
            max_workers=int(settings.get("num_workers") or 4),
            evaluation_timeout=timeout,
            claims=claims,
        ),
        "SCHEDULER": ScheduleLoop(
            instance, locations, coordinator, evaluation_timeout=timeout, claims=claims
        ),
    }
    if queued:
        owner = None if presence is None else presence.daemon_id
        loops["QUEUED_RUN_COORDINATOR"] = RunQueueLoop(instance, launcher, owner=owner)
    scope = None
    if claims.shared:
        scope = SharedMonitorScope(claims.leases, claims.daemon_id, claims.lease, clock=utc_now)
    loops["MONITORING"] = RunMonitorLoop(instance, launcher, scope=scope)
    loops["RETENTION"] = RetentionLoop(instance)
    if claims.shared:
        loops["RETENTION"] = ExclusiveLoop(
            loops["RETENTION"],
            "RETENTION",
            claims.leases,
            claims.daemon_id,
            claims.lease,
            clock=utc_now,
        )
    return DaemonRunner(
        instance,
        loops,
        interval=interval,
        on_report=on_report,
        clock=clock or utc_now,
        presence=presence,
    )


def daemon_presence(instance: Any, daemon_id: str | None = None) -> tuple[Any, Any]:
    """The daemon's presence and its claims (``NO_CLAIMS`` when it is alone on SQLite).

    An instance without a lease store (a test double) gets neither.
    """
    leases = getattr(instance, "leases", None)
    if leases is None or not hasattr(leases, "get_leases"):
        return None, NO_CLAIMS
    lease = lease_setting(instance)
    alone = is_sqlite(instance)
    presence = DaemonPresence(instance, daemon_id=daemon_id, lease=lease, exclusive=alone)
    if alone:
        return presence, NO_CLAIMS
    return presence, InstigatorClaims(leases, presence.daemon_id, lease, clock=utc_now)
