"""A sensor that runs past its time limit on the real ``tocsin daemon run``: its tick fails
with the timeout message, its worker process is stopped and replaced, and the other sensors of
its code location keep ticking on time all the while (they use the location's other worker).
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

LIMIT = 6  # seconds; the slow sensor sleeps far longer
MAX_GAP = 4.5  # seconds between two ticks of a quick sensor; the old daemon waited LIMIT

DEFS = f"""
import os
import time
from tocsin import DefaultSensorStatus, SkipReason, job, op, sensor

DIR = os.environ["TOCSIN_E2E_DIR"]
RUNNING = DefaultSensorStatus.RUNNING


def note_pid(name):
    with open(os.path.join(DIR, name + ".pids"), "a") as handle:
        handle.write(f"{{os.getpid()}}\\n")


@op
def nothing():
    pass


@job
def the_job():
    nothing()


@sensor(
    job=the_job, minimum_interval_seconds=1, default_status=RUNNING, evaluation_timeout={LIMIT}
)
def slow(context):
    note_pid("slow")
    time.sleep(60)


@sensor(job=the_job, minimum_interval_seconds=1, default_status=RUNNING)
def quick_a(context):
    note_pid("quick_a")
    return SkipReason("nothing new")


@sensor(job=the_job, minimum_interval_seconds=1, default_status=RUNNING)
def quick_b(context):
    note_pid("quick_b")
    return SkipReason("nothing new")
"""


def wait_until(predicate: Callable[[], object], timeout: float, what: str, log: Path):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            output = log.read_text(errors="replace")[-5000:] if log.exists() else ""
            raise AssertionError(f"{what}: not within {timeout} s\n{output}")
        time.sleep(0.2)


def pids(tmp_path: Path, sensor: str) -> list[int]:
    path = tmp_path / f"{sensor}.pids"
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def daemon(tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "defs.py").write_text(DEFS)
    env = {**os.environ, "TOCSIN_HOME": str(home), "TOCSIN_E2E_DIR": str(tmp_path)}
    command = [sys.executable, "-m", "tocsin.cli.main", "daemon", "run"]
    command += ["-f", str(tmp_path / "defs.py"), "--interval", "0.3"]
    log = tmp_path / "daemon.log"
    from tocsin.instance.instance import DagsterInstance

    instance = DagsterInstance.from_config(str(home))  # creates the storage before the daemon
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path
        )
    yield proc, instance, log
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    instance.dispose()


def finished_ticks(instance, sensor: str) -> list:
    ticks = instance.ticks.get_ticks(f"defs:sensor:{sensor}")
    return [t for t in reversed(ticks) if t.is_finished]


def test_a_sensor_past_its_limit_fails_alone_and_its_worker_is_replaced(daemon, tmp_path):
    proc, instance, log = daemon
    slow_ticks = wait_until(
        lambda: len(finished_ticks(instance, "slow")) >= 2, 90, "two ticks of the slow sensor", log
    )
    slow_ticks = finished_ticks(instance, "slow")[:2]
    for tick in slow_ticks:
        assert tick.status.value == "FAILURE"
        message = tick.error.message
        assert f"time limit of {LIMIT} s" in message
        assert "evaluation_timeout" in message and "context.update_cursor()" in message

    # The worker that ran the first slow tick is gone; the second tick ran in another one.
    first_pid, second_pid = pids(tmp_path, "slow")[:2]
    assert first_pid != second_pid
    wait_until(lambda: not process_exists(first_pid), 10, "the timed-out worker to exit", log)

    # While the slow sensor was in flight, the quick ones kept ticking about once a second.
    start = slow_ticks[0].timestamp
    end = slow_ticks[1].timestamp
    assert (end - start).total_seconds() >= LIMIT
    for name in ("quick_a", "quick_b"):
        ticks = finished_ticks(instance, name)
        assert all(t.status.value == "SKIPPED" for t in ticks)
        times = [start] + [t.timestamp for t in ticks if start < t.timestamp < end] + [end]
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
        assert max(gaps) <= MAX_GAP, (name, gaps)

    # SIGTERM waits for the slow tick in flight (at most its limit), then stops cleanly.
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=LIMIT + 20)
    assert proc.returncode == 0, log.read_text(errors="replace")[-5000:]
    assert all(t.is_finished for t in instance.ticks.get_ticks("defs:sensor:slow"))
