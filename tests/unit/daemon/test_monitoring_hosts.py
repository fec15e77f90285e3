"""Run monitoring judges a worker pid only on the host that recorded it; with daemons on
several hosts each host's runs are monitored by a daemon on that host."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from tocsin.daemon.monitoring import (
    MonitorScope,
    MonitorSettings,
    RunMonitorLoop,
    SharedMonitorScope,
    cancel_run,
    host_monitor_lease,
)
from tocsin.instance.instance import DagsterInstance
from tocsin.launchers.processes import (
    WORKER_HOST_TAG,
    WORKER_PID_TAG,
    pid_is_alive,
    this_host,
    worker_host,
)
from tocsin.launchers.subprocess import SubprocessLauncher
from tocsin.model.events import DagsterEvent, DagsterEventType, EventLogEntry
from tocsin.model.run import DagsterRunStatus
from tocsin.model.tags import MAX_RUNTIME_SECONDS_TAG

T0 = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
EVERY_PASS = MonitorSettings(poll_interval=timedelta())
LEASE = timedelta(seconds=15)


@pytest.fixture
def real():
    instance = DagsterInstance.ephemeral()
    yield instance
    instance.dispose()


class Pids:
    """Fake processes: the live pids (none by default), and the pids asked to stop."""

    def __init__(self, *alive: int):
        self.alive = set(alive)
        self.stopped: list[int] = []

    def is_alive(self, pid: int) -> bool:
        return pid in self.alive

    def stop(self, pid: int) -> bool:
        self.stopped.append(pid)
        return True


def started(instance, pid: int, host: str | None, tags=None):
    run_tags = {WORKER_PID_TAG: str(pid), **(tags or {})}
    if host is not None:
        run_tags[WORKER_HOST_TAG] = host
    run = instance.create_run(job_name="the_job", tags=run_tags)
    event = DagsterEvent(event_type_value=DagsterEventType.RUN_START.value, job_name="the_job")
    entry = EventLogEntry(
        run_id=run.run_id, job_name="the_job", dagster_event=event, timestamp=T0.timestamp()
    )
    instance.handle_new_event(entry)
    return instance.get_run_by_id(run.run_id)


def loop_on(instance, pids: Pids, scope: MonitorScope) -> RunMonitorLoop:
    return RunMonitorLoop(
        instance, None, EVERY_PASS, is_alive=pids.is_alive, stop_pid=pids.stop, scope=scope
    )


def status(instance, run) -> DagsterRunStatus:
    return instance.get_run_by_id(run.run_id).status


def test_a_run_on_another_host_is_not_failed_by_its_pid_here(real):
    here = started(real, 111, "here")
    elsewhere = started(real, 222, "elsewhere")
    unplaced = started(real, 333, None)  # recorded before hosts were
    report = loop_on(real, Pids(), MonitorScope("here")).tick(T0)
    assert sorted(report.failed_dead_worker) == sorted([here.run_id, unplaced.run_id])
    assert status(real, elsewhere) == DagsterRunStatus.STARTED
    assert status(real, here) == DagsterRunStatus.FAILURE


def test_a_run_on_another_host_is_neither_stopped_nor_canceled_here(real):
    canceling = started(real, 222, "elsewhere")
    cancel_run(real, canceling.run_id)
    too_long = started(real, 223, "elsewhere", {MAX_RUNTIME_SECONDS_TAG: "1"})
    pids = Pids(222, 223)  # alive on their host
    report = loop_on(real, pids, MonitorScope("here")).tick(T0 + timedelta(hours=1))
    assert (report.canceled, report.timed_out, pids.stopped) == ([], [], [])
    assert status(real, canceling) == DagsterRunStatus.CANCELING
    assert status(real, too_long) == DagsterRunStatus.STARTED
    # The daemon on that host does both.
    report = loop_on(real, pids, MonitorScope("elsewhere")).tick(T0 + timedelta(hours=1))
    assert (report.canceled, report.timed_out) == ([canceling.run_id], [too_long.run_id])
    assert sorted(pids.stopped) == [222, 223]


def test_daemons_on_several_hosts_each_monitor_their_own_host(real):
    on_h1, on_h2, unplaced = started(real, 1, "h1"), started(real, 2, "h2"), started(real, 3, None)

    def daemon(owner: str, host: str) -> RunMonitorLoop:
        scope = SharedMonitorScope(real.leases, owner, LEASE, host=host)
        return loop_on(real, Pids(), scope)

    a, b, c = daemon("a", "h1"), daemon("b", "h2"), daemon("c", "h1")
    assert sorted(a.tick(T0).failed_dead_worker) == sorted([on_h1.run_id, unplaced.run_id])
    assert b.tick(T0).failed_dead_worker == [on_h2.run_id]
    leases = {lease.name: lease.owner for lease in real.leases.get_leases()}
    assert leases == {
        "loop/MONITORING": "a",
        host_monitor_lease("h1"): "a",
        host_monitor_lease("h2"): "b",
    }
    # A second daemon on h1 leaves h1's runs (and the unplaced ones) to a, which holds them.
    later = [started(real, 4, "h1"), started(real, 5, None)]
    assert c.tick(T0 + timedelta(seconds=5)).failed_dead_worker == []
    assert b.tick(T0 + timedelta(seconds=5)).failed_dead_worker == []
    assert sorted(a.tick(T0 + timedelta(seconds=5)).failed_dead_worker) == sorted(
        r.run_id for r in later
    )


class _Instance:
    """The little a launcher needs: a ref for the worker and the tags it records."""

    compute_log_manager = None

    def __init__(self, run):
        self.run = run
        self.tags: dict[str, str] = {}

    def get_ref(self):
        return None

    def add_run_tags(self, run_id, tags):
        self.tags.update(tags)

    def get_run_by_id(self, run_id):
        return self.run


def test_the_launcher_records_the_host_with_the_pid():
    instance = _Instance(SimpleNamespace(run_id="r1", tags={}))
    launcher = SubprocessLauncher(instance)
    launcher.launch_run(SimpleNamespace(run_id="r1"))
    launcher.terminate("r1")
    assert instance.tags[WORKER_HOST_TAG] == this_host()
    assert int(instance.tags[WORKER_PID_TAG]) > 0
    assert worker_host(instance.tags) == this_host()


def test_the_launcher_never_stops_a_pid_recorded_on_another_host():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        run = SimpleNamespace(
            run_id="r1", tags={WORKER_PID_TAG: str(proc.pid), WORKER_HOST_TAG: "elsewhere"}
        )
        launcher = SubprocessLauncher(_Instance(run))
        assert launcher.terminate("r1") is False
        assert pid_is_alive(proc.pid)
        run.tags[WORKER_HOST_TAG] = this_host()
        assert launcher.terminate("r1") is True
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
