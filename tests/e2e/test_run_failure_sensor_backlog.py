"""A run failure sensor on the real ``tocsin daemon run`` process reacts to each of 200 failed
runs exactly once: runs that fail in bursts while it ticks are all handled, none twice, none
dropped, each gets one "acted on" event, and successful runs never reach it.

The sensor returns nothing (it alerts as a side effect), so it handles every new failure in
one tick; a sensor that returns a value handles one run per tick, as the reference does
(daemon.md C9), which tests/integration/test_run_status_sensors_daemon.py covers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

FAILED_RUNS = 200

TOCSIN_YAML = """
run_coordinator:
  module: tocsin.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 0
"""

DEFS = """
import os
from tocsin import DefaultSensorStatus, job, op, run_failure_sensor

SEEN = os.path.join(os.environ["TOCSIN_E2E_DIR"], "seen.txt")


@op
def nothing():
    pass


@job
def the_job():
    nothing()


@run_failure_sensor(
    monitored_jobs=[the_job],
    minimum_interval_seconds=1,
    default_status=DefaultSensorStatus.RUNNING,
)
def on_failure(context):
    with open(SEEN, "a") as handle:
        handle.write(context.dagster_run.run_id + "\\n")
"""


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout} s")
        time.sleep(0.2)


def finish_runs(instance, kinds):
    """Runs of ``the_job`` that start and end with the given event types, in one batch."""
    from tocsin.model.events import DagsterEvent, DagsterEventType, EventLogEntry

    runs, entries = [], []
    for kind in kinds:
        run = instance.create_run(job_name="the_job", tags={"tocsin/code_location": "defs"})
        runs.append(run)
        for step in (DagsterEventType.RUN_START, kind):
            event = DagsterEvent(event_type_value=step.value, job_name="the_job")
            entries.append(
                EventLogEntry(run_id=run.run_id, job_name="the_job", dagster_event=event)
            )
    instance.handle_new_events(entries)
    return runs


def test_a_run_failure_sensor_reacts_to_each_of_200_failed_runs_exactly_once(tmp_path: Path):
    from tocsin.instance.instance import DagsterInstance
    from tocsin.model.events import DagsterEventType

    home = tmp_path / "home"
    home.mkdir()
    (home / "tocsin.yaml").write_text(TOCSIN_YAML)
    (tmp_path / "defs.py").write_text(DEFS)
    seen = tmp_path / "seen.txt"
    env = {**os.environ, "TOCSIN_HOME": str(home), "TOCSIN_E2E_DIR": str(tmp_path)}
    instance = DagsterInstance.from_config(str(home))
    origin = "defs:sensor:on_failure"
    log = tmp_path / "daemon.log"
    command = [sys.executable, "-m", "tocsin.cli.main", "daemon", "run", "-f", "defs.py"]
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [*command, "--interval", "0.3"], env=env, cwd=tmp_path, stdout=out, stderr=out
        )
    try:
        wait_until(
            lambda: any(t.is_finished for t in instance.ticks.get_ticks(origin)),
            30,
            "the sensor did not tick",
        )
        failed: list[str] = []
        successes: list[str] = []
        # Four bursts while the sensor ticks, failures mixed with successes.
        for _ in range(4):
            kinds = [DagsterEventType.RUN_FAILURE] * 50 + [DagsterEventType.RUN_SUCCESS] * 10
            runs = finish_runs(instance, kinds)
            failed += [r.run_id for r in runs[:50]]
            successes += [r.run_id for r in runs[50:]]
            time.sleep(1.0)

        wait_until(
            lambda: seen.exists() and len(seen.read_text().split()) >= FAILED_RUNS,
            60,
            f"fewer than {FAILED_RUNS} reactions",
        )
        # A few more ticks: nothing is handled again.
        ticks_now = len(instance.ticks.get_ticks(origin))
        wait_until(
            lambda: len(instance.ticks.get_ticks(origin)) >= ticks_now + 3,
            30,
            "the sensor stopped ticking",
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, log.read_text(errors="replace")[-3000:]
    calls = Counter(seen.read_text().split())
    assert set(calls) == set(failed), "every failed run, and only those, reached the sensor"
    assert max(calls.values()) == 1, [k for k, n in calls.items() if n > 1]
    acted = Counter(
        run_id
        for run_id in [*failed, *successes]
        for entry in instance.all_logs(run_id)
        if 'Sensor "on_failure" acted on run status' in (entry.message or "")
    )
    assert set(acted) == set(failed) and max(acted.values()) == 1
    ticks = [t for t in instance.ticks.get_ticks(origin) if t.is_finished]
    assert not [t for t in ticks if t.status.value == "FAILURE"]
    instance.dispose()
