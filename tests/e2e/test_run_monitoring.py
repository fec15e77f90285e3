"""Run monitoring on real processes: a killed run worker fails its run with the reason, and
cancelling a run stops its worker and ends it CANCELED."""

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
run_monitoring:
  poll_interval_seconds: 0.5
"""

DEFS = """
import time
from tocsin import DefaultSensorStatus, RunRequest, in_process_executor, job, op, sensor


@op
def slow():
    time.sleep(120)


@job(executor_def=in_process_executor)
def sleeper():
    slow()


@sensor(job=sleeper, minimum_interval_seconds=1, default_status=DefaultSensorStatus.RUNNING)
def two_runs(context):
    return [RunRequest(run_key="killed"), RunRequest(run_key="canceled")]
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


def test_a_killed_worker_fails_its_run_and_a_canceled_run_ends_canceled(tmp_path: Path):
    from tocsin.daemon.monitoring import cancel_run
    from tocsin.instance.instance import DagsterInstance
    from tocsin.launchers.processes import pid_is_alive, worker_pid
    from tocsin.model.events import DagsterEventType

    home = tmp_path / "home"
    home.mkdir()
    (home / "tocsin.yaml").write_text(TOCSIN_YAML)
    (tmp_path / "defs.py").write_text(DEFS)
    log = tmp_path / "daemon.log"
    env = {**os.environ, "TOCSIN_HOME": str(home)}
    command = [sys.executable, "-m", "tocsin.cli.main", "daemon", "run"]
    command += ["-f", str(tmp_path / "defs.py"), "--interval", "0.3"]
    with open(log, "ab") as out:
        daemon = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    instance = DagsterInstance.from_config(str(home))

    def started(key):
        for run in instance.get_runs():
            if run.run_key == key and run.status.value == "STARTED" and worker_pid(run.tags):
                return run
        return None

    try:
        killed = wait_until(lambda: started("killed"), 30)
        canceled = wait_until(lambda: started("canceled"), 30)
        os.kill(worker_pid(killed.tags), signal.SIGKILL)
        cancel_run(instance, canceled.run_id)

        def status(run):
            return instance.get_run_by_id(run.run_id).status.value

        wait_until(lambda: status(killed) == "FAILURE", 20)
        wait_until(lambda: status(canceled) == "CANCELED", 20)
        failure = instance.all_logs(killed.run_id, of_type=DagsterEventType.RUN_FAILURE)
        assert "is no longer running" in failure[-1].message
        wait_until(lambda: not pid_is_alive(worker_pid(canceled.tags)), 10)
    finally:
        instance.dispose()
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=20)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
    assert daemon.returncode == 0, log.read_text(errors="replace")[-5000:]
