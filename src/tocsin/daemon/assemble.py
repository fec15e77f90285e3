"""Build a daemon (locations, launcher, loops, runner) from an instance and location specs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from tocsin.daemon.monitoring import RunMonitorLoop
from tocsin.daemon.retention import RetentionLoop
from tocsin.daemon.run_queue import QueuedCoordinator, RunQueueLoop, is_queued_coordinator
from tocsin.daemon.runner import DaemonRunner, utc_now
from tocsin.daemon.schedules import ScheduleLoop
from tocsin.daemon.sensors import SensorLoop
from tocsin.launchers.base import ImmediateCoordinator, RunLauncher


def sensor_settings(instance: Any) -> dict[str, Any]:
    """``sensors:`` settings of tocsin.yaml, when the instance exposes them."""
    settings = getattr(instance, "get_settings", None)
    try:
        return dict((settings("sensors") if settings else None) or {})
    except Exception:  # an instance without settings support: defaults apply
        return {}


def build_daemon(
    instance: Any,
    locations: Sequence[Any],
    *,
    launcher: RunLauncher | None = None,
    interval: float = 1.0,
    on_report: Any = None,
    clock: Callable[[], datetime] | None = None,
) -> DaemonRunner:
    """The daemon over ``locations``; ``clock`` (default: the system's UTC time) says "now"."""
    if launcher is None:
        from tocsin.launchers.subprocess import SubprocessLauncher

        launcher = SubprocessLauncher(instance)
    settings = sensor_settings(instance)
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
        ),
        "SCHEDULER": ScheduleLoop(instance, locations, coordinator, evaluation_timeout=timeout),
    }
    if queued:
        loops["QUEUED_RUN_COORDINATOR"] = RunQueueLoop(instance, launcher)
    loops["MONITORING"] = RunMonitorLoop(instance, launcher)
    loops["RETENTION"] = RetentionLoop(instance)
    return DaemonRunner(
        instance, loops, interval=interval, on_report=on_report, clock=clock or utc_now
    )
