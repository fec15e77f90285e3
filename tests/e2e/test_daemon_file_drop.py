"""The real ``tocsin daemon run`` on a temporary home: a dropped file becomes one SUCCESS run."""

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

DEFS = """
import os
from tocsin import Definitions, RunRequest, job, op, sensor, DefaultSensorStatus

WATCH = os.environ["TOCSIN_E2E_WATCH"]


@op(config_schema={"path": str})
def read_file(context):
    with open(context.op_config["path"]) as handle:
        return handle.read()


@job
def ingest():
    read_file()


@sensor(job=ingest, minimum_interval_seconds=1, default_status=DefaultSensorStatus.RUNNING)
def file_drop(context):
    for name in sorted(os.listdir(WATCH)):
        path = os.path.join(WATCH, name)
        config = {"ops": {"read_file": {"config": {"path": path}}}}
        yield RunRequest(run_key=name, run_config=config)


defs = Definitions(jobs=[ingest], sensors=[file_drop])
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


def test_a_dropped_file_makes_exactly_one_successful_run(tmp_path: Path):
    from tocsin.instance.instance import DagsterInstance
    from tocsin.model.run import DagsterRunStatus
    from tocsin.model.ticks import TickStatus

    home, watch = tmp_path / "home", tmp_path / "watch"
    home.mkdir()
    watch.mkdir()
    (tmp_path / "defs.py").write_text(DEFS)
    env = {**os.environ, "TOCSIN_HOME": str(home), "TOCSIN_E2E_WATCH": str(watch)}
    # A file, not a pipe: run workers inherit the daemon's output, so a pipe would not reach
    # end-of-file while one of them lives.
    log = open(tmp_path / "daemon.log", "wb")  # noqa: SIM115 - closed in finally
    daemon = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tocsin.cli.main",
            "daemon",
            "run",
            "-f",
            str(tmp_path / "defs.py"),
            "--interval",
            "0.5",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    log.close()
    os.environ["TOCSIN_HOME"] = str(home)
    try:
        instance = DagsterInstance.get()
        origin = "defs:sensor:file_drop"
        wait_until(lambda: instance.ticks.get_ticks(origin, limit=1), timeout=20)
        (watch / "a.txt").write_text("hello")
        run = wait_until(lambda: _finished_run(instance, "a.txt"), timeout=30)
        assert run.status == DagsterRunStatus.SUCCESS, _output(tmp_path)
        # Later ticks see the same file and make nothing new.
        count = len(instance.ticks.get_ticks(origin))
        wait_until(lambda: len(instance.ticks.get_ticks(origin)) >= count + 2, timeout=15)
        assert [r.run_key for r in instance.get_runs()] == ["a.txt"]
        # The newest tick may still be in progress (STARTED); the newest finished one skipped.
        done = [TickStatus.SKIPPED, TickStatus.SUCCESS, TickStatus.FAILURE]
        latest = instance.ticks.get_ticks(origin, limit=1, statuses=done)[0]
        assert latest.status == TickStatus.SKIPPED
        instance.dispose()
    finally:
        os.environ.pop("TOCSIN_HOME", None)
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=20)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
    assert daemon.returncode == 0, _output(tmp_path)


def _finished_run(instance, run_key):
    for run in instance.get_runs():
        if run.run_key == run_key and run.is_finished:
            return run
    return None


def _output(tmp_path: Path) -> str:
    return (tmp_path / "daemon.log").read_text(errors="replace")[-5000:]
