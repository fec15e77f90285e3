"""Run monitoring: dead workers, max runtime, cancellation; on the real SQLite instance."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from tocsin.daemon.monitoring import (
    MonitorSettings,
    RunMonitorLoop,
    cancel_run,
    max_runtime_of,
    monitor_settings,
)
from tocsin.errors import ConfigError
from tocsin.instance.instance import DagsterInstance
from tocsin.launchers.processes import WORKER_PID_TAG, pid_is_alive, terminate_pid
from tocsin.model.events import DagsterEvent, DagsterEventType, EventLogEntry
from tocsin.model.run import DagsterRun, DagsterRunStatus
from tocsin.model.tags import MAX_RUNTIME_SECONDS_TAG

T0 = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
EVERY_PASS = MonitorSettings(poll_interval=timedelta())


@pytest.fixture
def real():
    instance = DagsterInstance.ephemeral()
    yield instance
    instance.dispose()


class Pids:
    """Fake processes: a set of live pids, and the pids asked to stop."""

    def __init__(self, *alive: int):
        self.alive = set(alive)
        self.stopped: list[int] = []

    def is_alive(self, pid: int) -> bool:
        return pid in self.alive

    def stop(self, pid: int) -> bool:
        self.stopped.append(pid)
        self.alive.discard(pid)
        return True


def started(instance, *, pid=None, tags=None, at=T0):
    run_tags = dict(tags or {})
    if pid is not None:
        run_tags[WORKER_PID_TAG] = str(pid)
    run = instance.create_run(job_name="the_job", tags=run_tags)
    event = DagsterEvent(event_type_value=DagsterEventType.RUN_START.value, job_name="the_job")
    entry = EventLogEntry(
        run_id=run.run_id, job_name="the_job", dagster_event=event, timestamp=at.timestamp()
    )
    instance.handle_new_event(entry)
    return instance.get_run_by_id(run.run_id)


def loop_for(instance, pids, settings=EVERY_PASS, launcher=None):
    return RunMonitorLoop(instance, launcher, settings, is_alive=pids.is_alive, stop_pid=pids.stop)


def messages(instance, run_id, kind):
    return [e.message for e in instance.all_logs(run_id, of_type=kind)]


def test_a_run_whose_worker_died_fails_with_the_reason(real):
    dead = started(real, pid=111)
    alive = started(real, pid=222)
    report = loop_for(real, Pids(222)).tick(T0)
    assert report.failed_dead_worker == [dead.run_id]
    assert real.get_run_by_id(dead.run_id).status == DagsterRunStatus.FAILURE
    assert real.get_run_by_id(alive.run_id).status == DagsterRunStatus.STARTED
    (message,) = messages(real, dead.run_id, DagsterEventType.RUN_FAILURE)
    assert "(pid 111) is no longer running" in message


def test_a_run_without_a_recorded_worker_is_left_alone(real):
    run = started(real)
    assert loop_for(real, Pids()).tick(T0).failed_dead_worker == []
    assert real.get_run_by_id(run.run_id).status == DagsterRunStatus.STARTED


def test_a_run_past_its_max_runtime_is_stopped_and_fails(real):
    run = started(real, pid=5, tags={MAX_RUNTIME_SECONDS_TAG: "60"})
    pids = Pids(5)
    loop = loop_for(real, pids)
    assert loop.tick(T0 + timedelta(seconds=60)).timed_out == []
    report = loop.tick(T0 + timedelta(seconds=61))
    assert report.timed_out == [run.run_id]
    assert pids.stopped == [5]
    assert real.get_run_by_id(run.run_id).status == DagsterRunStatus.FAILURE
    assert messages(real, run.run_id, DagsterEventType.RUN_FAILURE) == [
        "Exceeded maximum runtime of 60 seconds."
    ]
    # The dead worker is not reported a second time.
    assert loop.tick(T0 + timedelta(seconds=120)).failed_dead_worker == []


def test_the_instance_wide_max_runtime_applies_to_untagged_runs(real):
    run = started(real, pid=5)
    settings = MonitorSettings(poll_interval=timedelta(), max_runtime=10)
    loop_for(real, Pids(5), settings).tick(T0 + timedelta(seconds=11))
    assert real.get_run_by_id(run.run_id).status == DagsterRunStatus.FAILURE


def test_cancel_a_running_run_stops_its_worker_and_ends_canceled(real):
    run = started(real, pid=7)
    assert cancel_run(real, run.run_id).status == DagsterRunStatus.CANCELING
    pids = Pids(7)
    report = loop_for(real, pids).tick(T0)
    assert report.canceled == [run.run_id]
    assert pids.stopped == [7]
    assert real.get_run_by_id(run.run_id).status == DagsterRunStatus.CANCELED


def test_cancel_asks_the_launcher_first(real):
    run = started(real, pid=7)
    cancel_run(real, run.run_id)

    class Launcher:
        terminated: list[str] = []

        def terminate(self, run_id):
            self.terminated.append(run_id)
            return True

    pids = Pids(7)
    launcher = Launcher()
    loop_for(real, pids, launcher=launcher).tick(T0)
    assert launcher.terminated == [run.run_id]
    assert pids.stopped == []


def test_cancel_a_queued_run_ends_it_at_once(real):
    run = real.create_run(job_name="the_job", status=DagsterRunStatus.QUEUED)
    assert cancel_run(real, run.run_id).status == DagsterRunStatus.CANCELED


def test_cancel_a_finished_run_changes_nothing(real):
    run = real.create_run(job_name="the_job", status=DagsterRunStatus.SUCCESS)
    assert cancel_run(real, run.run_id).status == DagsterRunStatus.SUCCESS


def test_poll_interval_spaces_passes(real):
    settings = MonitorSettings(poll_interval=timedelta(seconds=30))
    loop = loop_for(real, Pids(), settings)
    loop.tick(T0)
    run = started(real, pid=9)
    assert loop.tick(T0 + timedelta(seconds=29)).failed_dead_worker == []
    assert loop.tick(T0 + timedelta(seconds=30)).failed_dead_worker == [run.run_id]


def test_disabled_monitoring_does_nothing(real):
    started(real, pid=9)
    settings = MonitorSettings(is_enabled=False, poll_interval=timedelta())
    assert loop_for(real, Pids(), settings).tick(T0).failed_dead_worker == []


def test_max_runtime_tag_that_is_not_a_number_means_no_limit(caplog):
    run = DagsterRun(job_name="j", tags={MAX_RUNTIME_SECONDS_TAG: "an hour"})
    assert max_runtime_of(run, None) is None
    assert "not a number of seconds" in caplog.text


def test_settings_from_tocsin_yaml():
    settings = monitor_settings({"poll_interval_seconds": 5, "max_runtime_seconds": 100})
    assert settings.poll_interval == timedelta(seconds=5)
    assert settings.max_runtime == 100


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"poll_intervall_seconds": 5}, "unknown settings ['poll_intervall_seconds']"),
        ({"enabled": "yes"}, "enabled must be true or false, got 'yes'"),
        ({"max_runtime_seconds": "1h"}, "max_runtime_seconds must be a number of seconds"),
    ],
)
def test_bad_settings_say_what_is_wrong(raw, message):
    with pytest.raises(ConfigError) as info:
        monitor_settings(raw)
    assert message in str(info.value)


def test_real_processes_alive_then_terminated():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert pid_is_alive(proc.pid)
        assert terminate_pid(proc.pid, timeout=5) is True
        proc.wait(timeout=5)
        assert not pid_is_alive(proc.pid)
        assert terminate_pid(proc.pid) is False
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_an_exited_child_not_yet_waited_for_counts_as_dead():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=10)
        while pid_is_alive(proc.pid):
            assert datetime.now(UTC) < deadline
        assert not pid_is_alive(proc.pid)
    finally:
        proc.wait(timeout=5)
