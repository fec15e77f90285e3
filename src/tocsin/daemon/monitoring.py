"""Run monitoring: one pass per ``RunMonitorLoop.tick(now)`` over the runs in progress.

- A CANCELING run has its worker stopped (by the launcher, else by the pid on the run) and
  ends CANCELED. ``cancel_run`` asks for that; a run that has not started yet is canceled at
  once.
- A STARTING or STARTED run whose worker process (the pid the launcher recorded on the run)
  is gone, and which did not finish, is marked FAILURE with the reason.
- A STARTED run whose ``dagster/max_runtime`` tag (seconds; or the instance-wide
  ``max_runtime_seconds``) has passed is stopped and marked FAILURE
  ("Exceeded maximum runtime of N seconds.").

A worker pid means something only on the host that started it, so the launcher records the
host too (``.tocsin/worker_host``) and monitoring judges, stops and cancels only the runs whose
worker is on its own host, or that record no host (runs launched before hosts were recorded, or
by a launcher that records no pid). With several daemons on one database (``MonitorScope``):
the daemon holding ``loop/MONITORING`` handles the runs that record no host, and on each host
the daemon holding ``loop/MONITORING/host/<host>`` handles that host's runs. A host's runs are
thus left to a daemon on that host: tocsin's run workers send no heartbeat that another host
could judge them by, and a run's last event says nothing of a long step.

Settings read (``run_monitoring`` in tocsin.yaml): ``enabled`` (default true),
``poll_interval_seconds`` (default 30), ``max_runtime_seconds`` (default: no limit).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tocsin.daemon.common import TickReport
from tocsin.errors import ConfigError
from tocsin.launchers.processes import (
    pid_is_alive,
    terminate_pid,
    this_host,
    worker_host,
    worker_pid,
)
from tocsin.model.run import DagsterRun, DagsterRunStatus, RunsFilter
from tocsin.model.tags import MAX_RUNTIME_SECONDS_TAG

log = logging.getLogger("tocsin.daemon")


@dataclass(frozen=True)
class MonitorSettings:
    is_enabled: bool = True
    poll_interval: timedelta = timedelta(seconds=30)
    max_runtime: float | None = None


@dataclass
class MonitorReport(TickReport):
    """What a monitoring pass did to which runs."""

    canceled: list[str] = field(default_factory=list)
    failed_dead_worker: list[str] = field(default_factory=list)
    timed_out: list[str] = field(default_factory=list)


def monitor_settings(raw: Mapping[str, Any] | None) -> MonitorSettings:
    """``run_monitoring:`` of tocsin.yaml as ``MonitorSettings``.

    Raises:
        ConfigError: a setting has the wrong type or an unknown name.
    """
    raw = dict(raw or {})
    known = {"enabled", "poll_interval_seconds", "max_runtime_seconds"}
    ignored = {"start_timeout_seconds", "cancel_timeout_seconds", "max_resume_run_attempts"}
    unknown = set(raw) - known - ignored
    if unknown:
        raise ConfigError(
            f"tocsin.yaml run_monitoring: unknown settings {sorted(unknown)}; "
            f"the settings are {sorted(known | ignored)}."
        )
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"run_monitoring.enabled must be true or false, got {enabled!r}.")
    interval = _seconds(raw, "poll_interval_seconds", 30.0)
    most = _seconds(raw, "max_runtime_seconds", None)
    return MonitorSettings(enabled, timedelta(seconds=interval or 0), most or None)


def _seconds(raw: Mapping[str, Any], name: str, default: float | None) -> float | None:
    value = raw.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"run_monitoring.{name} must be a number of seconds >= 0, got {value!r}.")
    return float(value)


def max_runtime_of(run: DagsterRun, default: float | None) -> float | None:
    """The run's ``dagster/max_runtime`` in seconds (> 0), else ``default``."""
    text = run.tags.get(MAX_RUNTIME_SECONDS_TAG)
    if text is None:
        return default
    try:
        seconds = float(text)
    except ValueError:
        log.warning(
            "Run %s has %s=%r, which is not a number of seconds; it has no time limit.",
            run.run_id,
            MAX_RUNTIME_SECONDS_TAG,
            text,
        )
        return default
    return seconds if seconds > 0 else default


def cancel_run(instance: Any, run_id: str) -> DagsterRun:
    """Ask for a run to be canceled.

    A run that has not started (NOT_STARTED, QUEUED) ends CANCELED at once; a run in
    progress becomes CANCELING and the monitoring loop stops its worker and ends it
    CANCELED. A finished run is left as it is.
    """
    run = instance.get_run(run_id)
    if run.status in (DagsterRunStatus.NOT_STARTED, DagsterRunStatus.QUEUED):
        instance.report_run_canceled(run, "This run was canceled before it started.")
    elif not run.status.is_finished and run.status != DagsterRunStatus.CANCELING:
        instance.report_run_canceling(run)
    return instance.get_run(run_id)


class MonitorScope:
    """Which runs one daemon's monitoring handles: alone, those on its host and those that
    record no host.

    Args:
        host: this host's name (default ``socket.gethostname()``).
    """

    def __init__(self, host: str | None = None):
        self.host = host or this_host()

    def holds(self, now: datetime) -> tuple[bool, bool]:
        """(handles the runs that record no host, handles the runs on this host)."""
        return True, True

    def judges(self, now: datetime) -> Callable[[DagsterRun], bool]:
        """Whether this pass handles a run (its worker by pid, cancellation, max runtime)."""
        unplaced, local = self.holds(now)

        def judged(run: DagsterRun) -> bool:
            host = worker_host(run.tags)
            return unplaced if host is None else local and host == self.host

        return judged


class SharedMonitorScope(MonitorScope):
    """Monitoring of daemons sharing one database: ``loop/MONITORING`` (one daemon) handles
    the runs that record no host, ``loop/MONITORING/host/<host>`` (one daemon per host) the
    runs on that host. Both leases are sticky (the daemon's heartbeat renews them).

    Args:
        leases: the instance's lease store.
        owner: this daemon's id.
        lease: how long a lease lasts without renewal.
        host: this host's name (default ``socket.gethostname()``).
        clock: the time leases are taken at (default: each pass's ``now``).
    """

    def __init__(
        self,
        leases: Any,
        owner: str,
        lease: timedelta,
        *,
        host: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ):
        super().__init__(host)
        self.leases = leases
        self.owner = owner
        self.lease = lease
        self.clock = clock

    def holds(self, now: datetime) -> tuple[bool, bool]:
        at = now if self.clock is None else self.clock()
        unplaced = self.leases.claim_lease(MONITOR_LEASE, self.owner, self.lease, at)
        local = self.leases.claim_lease(host_monitor_lease(self.host), self.owner, self.lease, at)
        return bool(unplaced), bool(local)


MONITOR_LEASE = "loop/MONITORING"


def host_monitor_lease(host: str) -> str:
    """The lease of the daemon that monitors the runs on ``host``."""
    return f"{MONITOR_LEASE}/host/{host}"


class RunMonitorLoop:
    """Watches the runs in progress.

    Args:
        instance: the instance holding the runs.
        launcher: stops runs it started (``terminate(run_id)``); may be None.
        settings: read from the instance's ``run_monitoring`` settings when omitted.
        is_alive: tells whether a pid is a live process (tests pass a fake).
        stop_pid: stops a process by pid (tests pass a fake).
        scope: which runs this daemon handles (default: those on this host and those that
            record no host).
    """

    def __init__(
        self,
        instance: Any,
        launcher: Any = None,
        settings: MonitorSettings | None = None,
        *,
        is_alive: Callable[[int], bool] = pid_is_alive,
        stop_pid: Callable[[int], bool] = terminate_pid,
        scope: MonitorScope | None = None,
    ):
        self.instance = instance
        self.scope = MonitorScope() if scope is None else scope
        self.launcher = launcher
        if settings is None:
            settings = monitor_settings(_instance_settings(instance, "run_monitoring"))
        self.settings = settings
        self.is_alive = is_alive
        self.stop_pid = stop_pid
        self.last_pass: datetime | None = None

    def tick(self, now: datetime) -> MonitorReport:
        report = MonitorReport(now=now)
        if not self.settings.is_enabled:
            return report
        if self.last_pass is not None and now - self.last_pass < self.settings.poll_interval:
            return report
        self.last_pass = now
        judged = self.scope.judges(now)
        for run in self._runs(DagsterRunStatus.CANCELING):
            if not judged(run):
                continue  # its worker is on another host: a daemon there stops it
            self._stop(run)
            self.instance.report_run_canceled(self._current(run))
            report.canceled.append(run.run_id)
        for run in self._runs(DagsterRunStatus.STARTING, DagsterRunStatus.STARTED):
            if not judged(run):
                continue  # its pid means something on its own host only
            if self._check_worker(run):
                report.failed_dead_worker.append(run.run_id)
            elif self._check_runtime(run, now):
                report.timed_out.append(run.run_id)
        return report

    def _runs(self, *statuses: DagsterRunStatus) -> list[DagsterRun]:
        return list(reversed(self.instance.get_runs(RunsFilter(statuses=list(statuses)))))

    def _current(self, run: DagsterRun) -> DagsterRun:
        return self.instance.get_run_by_id(run.run_id) or run

    def _stop(self, run: DagsterRun) -> None:
        if self.launcher is not None and self.launcher.terminate(run.run_id):
            return
        pid = worker_pid(run.tags)
        if pid is not None:
            self.stop_pid(pid)

    def _check_worker(self, run: DagsterRun) -> bool:
        pid = worker_pid(run.tags)
        if pid is None or self.is_alive(pid):
            return False
        current = self._current(run)
        if current.status.is_finished or current.status == DagsterRunStatus.CANCELING:
            return False  # it finished between the two reads
        message = (
            f"The worker process of run {run.run_id} (pid {pid}) is no longer running, and the "
            f"run had not finished (it was {current.status.value}). It may have been killed or "
            "run out of memory; see the run's compute logs."
        )
        self.instance.report_run_failed(current, message)
        return True

    def _check_runtime(self, run: DagsterRun, now: datetime) -> bool:
        if run.status != DagsterRunStatus.STARTED or run.start_time is None:
            return False
        most = max_runtime_of(run, self.settings.max_runtime)
        if most is None or (now - run.start_time).total_seconds() <= most:
            return False
        self._stop(run)
        current = self._current(run)
        if current.status.is_finished:
            return False
        seconds = int(most) if float(most).is_integer() else most
        self.instance.report_run_failed(current, f"Exceeded maximum runtime of {seconds} seconds.")
        return True


def _instance_settings(instance: Any, key: str) -> Mapping[str, Any]:
    get = getattr(instance, "get_settings", None)
    return dict((get(key) if get is not None else None) or {})
