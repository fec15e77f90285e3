"""Drive the reference's sensor daemon one iteration at a time, in process, on a temporary
SQLite instance. The clock is pinned with the reference's test clock; runs go to its queued
run coordinator (they wait QUEUED; nothing executes)."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import warnings
from datetime import datetime
from typing import Any

warnings.simplefilter("ignore")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")

from dagster import DagsterInstance  # noqa: E402
from dagster._core.remote_origin import InProcessCodeLocationOrigin  # noqa: E402
from dagster._core.test_utils import (  # noqa: E402
    create_test_daemon_workspace_context,
    freeze_time,
    instance_for_test,
)
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin  # noqa: E402
from dagster._core.workspace.load_target import InProcessWorkspaceLoadTarget  # noqa: E402
from dagster._daemon.sensor import execute_sensor_iteration  # noqa: E402

DAEMON_COMMAND = ["dagster-daemon", "run"]
HOME_VAR = "DAGSTER_HOME"
QUEUED = {
    "run_coordinator": {"module": "dagster._core.run_coordinator", "class": "QueuedRunCoordinator"}
}


class SensorDaemon:
    """``with SensorDaemon(defs_file) as d: d.tick(now)`` — one sensor iteration at ``now``."""

    def __init__(self, defs_file: str):
        self.home = tempfile.mkdtemp(prefix="bench-ref-")
        self._instance_cm = instance_for_test(temp_dir=self.home, overrides=QUEUED)
        self.instance: Any = self._instance_cm.__enter__()
        origin = InProcessCodeLocationOrigin(
            LoadableTargetOrigin(
                python_file=defs_file, working_directory=os.path.dirname(defs_file)
            ),
            location_name="bench",
        )
        self._ctx_cm = create_test_daemon_workspace_context(
            InProcessWorkspaceLoadTarget(origin), self.instance
        )
        self.context = self._ctx_cm.__enter__()
        self.logger = logging.getLogger("bench")
        self.logger.setLevel(logging.ERROR)

    def tick(self, now: datetime) -> int:
        before = self.run_count()
        with freeze_time(now):
            list(execute_sensor_iteration(self.context, self.logger, None, None))
        ticks = [
            t
            for s in self.instance.all_instigator_state()
            for t in self.instance.get_ticks(s.instigator_origin_id, s.selector_id, limit=1)
        ]
        for tick in ticks:
            if tick.error is not None:
                raise RuntimeError(tick.error.message)
        return self.run_count() - before

    def run_count(self) -> int:
        return self.instance.get_runs_count()

    def add_finished_run(self, job_name: str) -> None:
        from dagster import DagsterEvent, DagsterEventType
        from dagster._core.test_utils import create_run_for_test

        run = create_run_for_test(self.instance, job_name=job_name)
        for kind in (DagsterEventType.RUN_START, DagsterEventType.RUN_SUCCESS):
            self.instance.report_dagster_event(
                DagsterEvent(kind.value, job_name=job_name), run_id=run.run_id
            )

    def close(self) -> None:
        self._ctx_cm.__exit__(None, None, None)
        self._instance_cm.__exit__(None, None, None)
        shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> SensorDaemon:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_home(home: str) -> Any:
    """The instance whose home directory is ``home`` (for polling a daemon's runs)."""
    return DagsterInstance.from_config(home)


def finished_runs(instance: Any) -> dict[str, str]:
    """Run id to status name, for the runs that have finished (SUCCESS, FAILURE, CANCELED)."""
    from dagster import DagsterRunStatus, RunsFilter

    done = [DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED]
    return {r.run_id: r.status.value for r in instance.get_runs(RunsFilter(statuses=done))}
