"""The headline guarantee: SIGKILL the daemon anywhere in a tick, restart it, and every run
key still has exactly one run, every run is submitted, and no cursor is ahead of its runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

TICKS = 200

DEFS = """
from tocsin import DefaultSensorStatus, RunRequest, SkipReason, job, op, sensor


@op
def nothing():
    pass


@job
def noop():
    nothing()


@sensor(job=noop, minimum_interval_seconds=1, default_status=DefaultSensorStatus.RUNNING)
def keyed(context):
    n = int(context.cursor or 0)
    if n >= TICKS:
        return SkipReason("done")
    context.update_cursor(str(n + 1))
    # The previous key again as well: it must not make a second run.
    keys = [f"k{n}"] + ([f"k{n - 1}"] if n else [])
    return [RunRequest(run_key=key) for key in keys]
"""

# (point, n): the n-th time the restarted daemon reaches the point, it is killed.
CRASHES = [
    ("after_commit", 1),
    ("after_commit", 17),
    ("before_evaluate", 3),
    ("after_evaluate", 1),
    ("after_evaluate", 9),
    ("after_commit", 5),
    ("before_evaluate", 1),
    ("after_evaluate", 23),
    ("after_commit", 2),
    ("before_evaluate", 11),
    ("after_commit", 30),
    ("after_evaluate", 4),
]


def check_invariants(home: Path, *, finished: bool):
    from tocsin.instance.instance import DagsterInstance

    instance = DagsterInstance.from_config(str(home))
    try:
        runs = instance.get_runs()
        keys = [r.run_key for r in runs]
        assert len(keys) == len(set(keys)), "a run key has two runs"
        state = instance.ticks.get_instigator_state("defs:sensor:keyed")
        cursor = int(state.cursor or 0) if state is not None else 0
        # The cursor and the runs are written together: no more, no fewer.
        assert set(keys) == {f"k{i}" for i in range(cursor)}
        if finished:
            assert cursor == TICKS
            assert [r for r in runs if r.status.value == "NOT_STARTED"] == []
        return cursor
    finally:
        instance.dispose()


def test_sigkill_at_every_tick_stage_loses_and_doubles_nothing(tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir()
    defs = tmp_path / "defs.py"
    defs.write_text(f"TICKS = {TICKS}\n" + DEFS)
    driver = Path(__file__).with_name("crash_driver.py")
    command = [sys.executable, str(driver), str(home), str(defs), str(TICKS)]
    base_env = {k: v for k, v in os.environ.items() if k != "TOCSIN_CRASH_AT"}
    cursors = []
    for point, n in CRASHES:
        env = {**base_env, "TOCSIN_CRASH_AT": f"{point}:{n}"}
        proc = subprocess.run(command, env=env, capture_output=True, timeout=30)
        assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-3000:]
        cursors.append(check_invariants(home, finished=False))
    assert cursors == sorted(cursors) and cursors[-1] < TICKS
    proc = subprocess.run(command, env=base_env, capture_output=True, timeout=30)
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    check_invariants(home, finished=True)
