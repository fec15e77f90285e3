"""Three ``tocsin daemon run`` processes on one PostgreSQL database share 50 sensors and 10
schedules for two minutes; one is SIGKILLed halfway and the others take its sensors over.

What must hold: no two evaluations of one sensor overlap in time, every committed tick of a
sensor starts from the cursor of the one before (no tick was made twice from one state), no
run key has two runs, no scheduled time two ticks, and no run is launched twice (the daemons
launch through a launcher that appends each launch to a file). The database is created fresh
for the test and dropped after it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

pytestmark = [pytest.mark.postgres, pytest.mark.e2e]

SENSORS = 50
SCHEDULES = 10
RUN_SECONDS = 120
LEASE_SECONDS = 6

DEFS = f"""
import os
import time

from tocsin import (
    DefaultScheduleStatus,
    DefaultSensorStatus,
    Definitions,
    RunRequest,
    SkipReason,
    job,
    op,
    schedule,
    sensor,
)


@op
def noop():
    return None


@job
def work():
    noop()


def _sensor(index):
    name = f"s{{index:02d}}"

    @sensor(name=name, job=work, minimum_interval_seconds=1,
            default_status=DefaultSensorStatus.RUNNING)
    def _fn(context):
        start = time.monotonic()
        count = int(context.cursor or 0) + 1
        time.sleep(0.02)
        context.update_cursor(str(count))
        line = f"{{name}} {{os.getpid()}} {{start!r}} {{time.monotonic()!r}} {{count}}\\n"
        with open(os.environ["EVAL_LOG"], "a") as log:
            log.write(line)
        if count % 10:
            return SkipReason("not this time")
        return RunRequest(run_key=f"{{name}}-{{count}}")

    return _fn


def _schedule(index):
    @schedule(
        name=f"c{{index:02d}}",
        job=work,
        cron_schedule="* * * * *",
        default_status=DefaultScheduleStatus.RUNNING,
    )
    def _fn(context):
        return RunRequest(run_key=context.scheduled_execution_time.isoformat())

    return _fn


defs = Definitions(
    jobs=[work],
    sensors=[_sensor(i) for i in range({SENSORS})],
    schedules=[_schedule(i) for i in range({SCHEDULES})],
)
"""

LAUNCHER = """
import os

from tocsin.instance.plugins import ConfigurableClass
from tocsin.launchers.base import RunLauncher


class CountingLauncher(RunLauncher, ConfigurableClass):
    '''Starts nothing: appends '<run id> <pid>' to a file for every launch.'''

    def __init__(self, path, inst_data=None):
        self.path = path
        self._inst_data = inst_data

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls(config_value["path"], inst_data)

    def launch_run(self, run):
        with open(self.path, "a") as out:
            out.write(f"{run.run_id} {os.getpid()}\\n")

    def terminate(self, run_id):
        return False
"""

YAML = """
storage:
  postgres:
    postgres_url: {url}
run_coordinator:
  module: tocsin.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    dequeue_interval_seconds: 1
run_launcher:
  module: counting_launcher
  class: CountingLauncher
  config:
    path: {launches}
daemon:
  lease_seconds: {lease}
"""


def _admin(sql: str) -> None:
    engine = sa.create_engine(
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        isolation_level="AUTOCOMMIT",
        poolclass=sa.pool.NullPool,
    )
    with engine.connect() as conn:
        conn.exec_driver_sql(sql)
    engine.dispose()


@pytest.fixture
def database() -> Iterator[str]:
    name = f"tocsin_daemons_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}"')
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Cluster:
    def __init__(self, tmp_path: Path, url: str):
        self.tmp_path = tmp_path
        self.home = tmp_path / "home"
        self.home.mkdir()
        self.launches = tmp_path / "launches.txt"
        self.eval_log = tmp_path / "evaluations.txt"
        (tmp_path / "counting_launcher.py").write_text(LAUNCHER)
        self.defs = tmp_path / "defs.py"
        self.defs.write_text(DEFS)
        (self.home / "tocsin.yaml").write_text(
            YAML.format(url=url, launches=self.launches, lease=LEASE_SECONDS)
        )
        self.env = {
            **os.environ,
            "TOCSIN_HOME": str(self.home),
            "EVAL_LOG": str(self.eval_log),
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(tmp_path), os.environ.get("PYTHONPATH")) if p
            ),
        }
        self.env.pop("DAGSTER_HOME", None)
        self.procs: list[subprocess.Popen[str]] = []
        from tocsin.instance.instance import DagsterInstance

        sys.path.insert(0, str(tmp_path))  # the launcher plugin, for this process's instance
        self.instance = DagsterInstance.from_config(str(self.home))

    def start(self) -> subprocess.Popen[str]:
        command = [sys.executable, "-m", "tocsin.cli.main", "daemon", "run", "-f", str(self.defs)]
        log = open(self.tmp_path / f"daemon{len(self.procs)}.log", "w")  # noqa: SIM115
        proc = subprocess.Popen(
            command, env=self.env, cwd=self.tmp_path, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        self.procs.append(proc)
        return proc

    def status(self) -> dict[str, Any]:
        done = subprocess.run(
            [sys.executable, "-m", "tocsin.cli.main", "daemon", "status", "--json"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return dict(json.loads(done.stdout))

    def daemons_by_pid(self) -> dict[int, dict[str, Any]]:
        """What ``tocsin daemon status`` shows, read in this process (polling is quicker)."""
        from datetime import UTC, datetime

        from tocsin.daemon.presence import read_daemons

        found = read_daemons(self.instance, datetime.now(UTC))
        return {d.pid: d.to_dict() for d in found if d.pid is not None}

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text()[-3000:]}"
            for path in sorted(self.tmp_path.glob("daemon*.log"))
        )

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.instance.dispose()


def wait_for(condition, timeout: float, what: str, cluster: Cluster) -> float:
    """Poll ``condition`` until true; return how long it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}\n{cluster.logs()}")


@pytest.mark.timeout(600)
def test_three_daemons_share_sensors_and_schedules_and_survive_a_kill(tmp_path, database):
    cluster = Cluster(tmp_path, database)
    try:
        _run(cluster)
    finally:
        cluster.stop()
    _check(cluster)


def _run(cluster: Cluster) -> None:
    for _ in range(3):
        cluster.start()
    pids = [p.pid for p in cluster.procs]
    began = time.monotonic()

    def spread() -> bool:
        daemons = cluster.daemons_by_pid()
        held = [daemons.get(pid, {}).get("counts", {}).get("sensors", 0) for pid in pids]
        return all(count > 0 for count in held) and sum(held) == SENSORS

    wait_for(spread, 90, "three daemons holding all sensors between them", cluster)
    shown = {d["pid"]: d for d in cluster.status()["daemons"]}  # the CLI says the same
    assert set(shown) == set(pids), shown
    assert sum(d["counts"]["sensors"] for d in shown.values()) == SENSORS
    assert sum(d["counts"]["schedules"] for d in shown.values()) == SCHEDULES
    time.sleep(max(0.0, RUN_SECONDS / 2 - (time.monotonic() - began)))

    victim = cluster.procs[0]
    before = cluster.daemons_by_pid()
    lost = set(before[victim.pid]["holds"]["sensors"])
    assert lost, before
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    killed_at = time.monotonic()
    cluster.killed = (victim.pid, lost, killed_at)  # type: ignore[attr-defined]

    def taken_over() -> bool:
        daemons = cluster.daemons_by_pid()
        if victim.pid in daemons:
            return False
        held = {s for pid in pids[1:] for s in daemons.get(pid, {}).get("holds", {})["sensors"]}
        return lost <= held

    took = wait_for(taken_over, LEASE_SECONDS + 30, "the survivors to take over", cluster)
    cluster.takeover_seconds = took  # type: ignore[attr-defined]
    print(f"takeover of {len(lost)} sensors took {took:.1f}s (lease {LEASE_SECONDS}s)")
    time.sleep(max(0.0, RUN_SECONDS - (time.monotonic() - began)))
    for proc in cluster.procs[1:]:
        assert proc.poll() is None, cluster.logs()


def _check(cluster: Cluster) -> None:
    victim_pid, lost, killed_at = cluster.killed  # type: ignore[attr-defined]
    assert cluster.takeover_seconds <= LEASE_SECONDS + 5  # type: ignore[attr-defined]

    # Evaluations of one sensor never overlap in time (all processes share one monotonic clock).
    spans: dict[str, list[tuple[float, float, int]]] = defaultdict(list)
    for line in cluster.eval_log.read_text().splitlines():
        name, pid, start, end, _count = line.split()
        spans[name].append((float(start), float(end), int(pid)))
    assert len(spans) == SENSORS
    for name, items in spans.items():
        items.sort()
        for (_, end, _), (start, _, _) in pairwise(items):
            assert start >= end, f"{name}: two evaluations overlap"

    # The sensors the killed daemon held were evaluated again after the kill, by survivors.
    resumed = []
    for name in lost:
        after = [start for start, _, pid in spans[name.rsplit(":", 1)[1]] if start > killed_at]
        assert after, name
        resumed.append(min(after) - killed_at)
    print(f"the moved sensors were evaluated again {max(resumed):.1f}s after the kill at most")

    from tocsin.instance.instance import DagsterInstance

    instance = DagsterInstance.from_config(str(cluster.home))
    try:
        total = 0
        for i in range(SENSORS):
            ticks = [t for t in instance.ticks.get_ticks(f"defs:sensor:s{i:02d}") if t.is_finished]
            cursors = sorted(int(t.cursor) for t in ticks)
            total += len(cursors)
            assert len(cursors) >= 3, f"s{i:02d} hardly ticked: {cursors}"
            assert cursors == list(range(1, len(cursors) + 1)), f"s{i:02d}: {cursors}"

        runs = instance.get_runs()
        keys = Counter(
            (
                r.tags.get("dagster/sensor_name") or r.tags.get("dagster/schedule_name"),
                r.tags.get("dagster/run_key"),
            )
            for r in runs
        )
        assert keys and max(keys.values()) == 1
        for i in range(SCHEDULES):
            ticks = [
                t for t in instance.ticks.get_ticks(f"defs:schedule:c{i:02d}") if t.is_finished
            ]
            times = [t.scheduled_execution_time for t in ticks if t.status.value == "SUCCESS"]
            assert times and len(times) == len(set(times)), f"c{i:02d}: {times}"

        launched = Counter(line.split()[0] for line in cluster.launches.read_text().splitlines())
        assert launched and max(launched.values()) == 1
        assert set(launched) <= {r.run_id for r in runs}
        print(
            f"{total} sensor ticks, {len(runs)} runs, {len(launched)} launches, "
            f"{len(lost)} sensors moved from pid {victim_pid}"
        )
    finally:
        instance.dispose()
