"""daemon.md C1, C3, C6 and C9 on the real ``tocsin daemon run`` process and its code server.

The instance's tocsin.yaml sets a ``QueuedRunCoordinator`` with ``max_concurrent_runs: 0``,
so the runs the sensors make wait QUEUED (nothing executes) and the tests read the ticks and
runs the daemon wrote, as a user would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

TOCSIN_YAML = """
run_coordinator:
  module: tocsin.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 0
"""

DEFS = """
import os
from tocsin import (
    DefaultSensorStatus, RunRequest, job, op, run_failure_sensor, sensor,
)

KEYS = os.path.join(os.environ["TOCSIN_E2E_DIR"], "keys.txt")
RUNNING = DefaultSensorStatus.RUNNING


@op
def nothing():
    pass


@job
def the_job():
    nothing()


@sensor(job=the_job, minimum_interval_seconds=1, default_status=RUNNING)
def from_list(context):
    with open(KEYS) as handle:
        for key in handle.read().split():
            yield RunRequest(run_key=key)


@sensor(job=the_job, minimum_interval_seconds=1, default_status=RUNNING)
def same_twice(context):
    return [RunRequest(run_key="same"), RunRequest(run_key="same")]


@sensor(job=the_job, minimum_interval_seconds=1, default_status=RUNNING)
def counter(context):
    n = int(context.cursor or 0)
    context.update_cursor(str(n + 1))
    return RunRequest(run_key=f"c{n}")


@sensor(job=the_job, minimum_interval_seconds=1, default_status=RUNNING)
def blows_up(context):
    raise Exception("sensor blew up")


@sensor(job=the_job, minimum_interval_seconds=1, default_status=RUNNING)
def cursor_then_raise(context):
    context.update_cursor("advanced")
    raise Exception("after cursor")


@sensor(job=the_job, minimum_interval_seconds=1, default_status=RUNNING)
def yields_then_raises(context):
    yield RunRequest(run_key="before-error")
    raise Exception("after a request")


@run_failure_sensor(request_job=the_job, minimum_interval_seconds=1, default_status=RUNNING)
def failure_requests(context):
    return RunRequest(run_key=context.dagster_run.run_id)
"""


def wait_until(predicate: Callable[[], object], timeout: float, interval: float = 0.2):
    """Poll ``predicate`` until it returns something truthy, or fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


class Daemon:
    """A ``tocsin daemon run`` subprocess on a temporary home, and the instance it writes."""

    def __init__(self, tmp_path: Path):
        self.home = tmp_path / "home"
        self.home.mkdir()
        (self.home / "tocsin.yaml").write_text(TOCSIN_YAML)
        (tmp_path / "keys.txt").write_text("a b\n")
        (tmp_path / "defs.py").write_text(DEFS)
        self.tmp_path = tmp_path
        self.env = {**os.environ, "TOCSIN_HOME": str(self.home), "TOCSIN_E2E_DIR": str(tmp_path)}
        self.log = tmp_path / "daemon.log"
        self.proc: subprocess.Popen[bytes] | None = None
        from tocsin.instance.instance import DagsterInstance

        self.start()
        self.instance = DagsterInstance.from_config(str(self.home))

    def start(self) -> None:
        command = [sys.executable, "-m", "tocsin.cli.main", "daemon", "run"]
        command += ["-f", str(self.tmp_path / "defs.py"), "--interval", "0.3"]
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                command, env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=self.tmp_path
            )

    def stop(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        assert self.proc.returncode == 0, self.output()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-5000:]

    def ticks(self, sensor: str) -> list:
        """Finished ticks of a sensor, oldest first."""
        ticks = self.instance.ticks.get_ticks(f"defs:sensor:{sensor}")
        return [t for t in reversed(ticks) if t.is_finished]

    def wait_ticks(self, sensor: str, count: int, timeout: float = 20) -> list:
        try:
            wait_until(lambda: len(self.ticks(sensor)) >= count, timeout)
        except AssertionError as exc:
            raise AssertionError(f"{sensor}: fewer than {count} ticks\n{self.output()}") from exc
        return self.ticks(sensor)

    def run_keys(self, sensor: str) -> list[str]:
        runs = reversed(self.instance.get_runs())
        return [r.run_key for r in runs if r.tags.get("dagster/sensor_name") == sensor]


@pytest.fixture
def daemon(tmp_path: Path):
    running = Daemon(tmp_path)
    yield running
    if running.proc is not None and running.proc.poll() is None:
        running.stop()
    running.instance.dispose()


def test_c1_run_keys_are_deduplicated_across_and_within_ticks(daemon: Daemon):
    first = daemon.wait_ticks("from_list", 1)[0]
    assert first.status.value == "SUCCESS" and len(first.run_ids) == 2
    (daemon.tmp_path / "keys.txt").write_text("a b c\n")
    wait_until(lambda: "c" in daemon.run_keys("from_list"), 20)
    count = len(daemon.ticks("from_list"))
    later = daemon.wait_ticks("from_list", count + 2)[count:]
    assert [t.status.value for t in later[:2]] == ["SKIPPED", "SKIPPED"]
    assert daemon.run_keys("from_list") == ["a", "b", "c"]
    with_c = [t for t in daemon.ticks("from_list") if t.run_ids and t.tick_id != first.tick_id]
    assert len(with_c) == 1 and len(with_c[0].run_ids) == 1
    for run in daemon.instance.get_runs():
        if run.tags.get("dagster/sensor_name") == "from_list":
            assert run.tags["dagster/tick"] in {str(first.tick_id), str(with_c[0].tick_id)}
            assert run.status.value == "QUEUED"
    twice = daemon.wait_ticks("same_twice", 2)
    assert [t.status.value for t in twice[:2]] == ["SUCCESS", "SKIPPED"]
    assert daemon.run_keys("same_twice") == ["same"]


def test_c3_the_cursor_survives_a_daemon_restart(daemon: Daemon):
    daemon.wait_ticks("counter", 3)
    daemon.stop()
    before = daemon.ticks("counter")
    daemon.start()
    after = daemon.wait_ticks("counter", len(before) + 1)
    cursors = [t.cursor for t in after]
    assert cursors == [str(i + 1) for i in range(len(after))]
    keys = daemon.run_keys("counter")
    assert keys[: len(after)] == [f"c{i}" for i in range(len(after))]
    state = daemon.instance.ticks.get_instigator_state("defs:sensor:counter")
    assert int(state.cursor) >= int(after[-1].cursor)


def test_c6_a_failing_sensor_records_failure_and_others_tick(daemon: Daemon):
    for name in ("blows_up", "cursor_then_raise", "yields_then_raises"):
        ticks = daemon.wait_ticks(name, 2)
        for tick in ticks[:2]:
            assert tick.status.value == "FAILURE"
            prefix = (
                "SensorExecutionError: Error occurred during the execution of "
                f"evaluation_fn for sensor {name}"
            )
            assert tick.error.message.startswith(prefix), tick.error.message
        state = daemon.instance.ticks.get_instigator_state(f"defs:sensor:{name}")
        assert state.cursor is None
        assert daemon.run_keys(name) == []
    assert daemon.wait_ticks("from_list", 2)[0].status.value == "SUCCESS"


def test_c9_run_failure_sensor_reacts_to_each_failed_run_once(daemon: Daemon):
    from tocsin.model.events import DagsterEvent, DagsterEventType, EventLogEntry

    instance = daemon.instance
    origin = "defs:sensor:failure_requests"

    def finished_run(kind: DagsterEventType):
        run = instance.create_run(job_name="the_job", tags={"tocsin/code_location": "defs"})
        for step in (DagsterEventType.RUN_START, kind):
            event = DagsterEvent(event_type_value=step.value, job_name="the_job")
            instance.handle_new_event(
                EventLogEntry(run_id=run.run_id, job_name="the_job", dagster_event=event)
            )
        return run

    before = finished_run(DagsterEventType.RUN_FAILURE)  # finished before the sensor started
    daemon.wait_ticks("failure_requests", 1)
    r1 = finished_run(DagsterEventType.RUN_SUCCESS)
    f1 = finished_run(DagsterEventType.RUN_FAILURE)
    r2 = finished_run(DagsterEventType.RUN_SUCCESS)
    f2 = finished_run(DagsterEventType.RUN_FAILURE)

    def requested():
        return [r.run_key for r in reversed(instance.get_runs()) if r.instigator_id == origin]

    wait_until(lambda: len(requested()) >= 2, 20)
    count = len(daemon.ticks("failure_requests"))
    daemon.wait_ticks("failure_requests", count + 3)
    assert sorted(requested()) == sorted([f1.run_id, f2.run_id])
    assert before.run_id not in requested() and r1.run_id not in requested()
    assert r2.run_id not in requested()
