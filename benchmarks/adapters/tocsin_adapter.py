"""Drive tocsin's sensor loop one pass at a time, in process, on a fresh SQLite home.

Runs a tick makes are submitted to the queued coordinator (they wait QUEUED; nothing executes),
so a pass measures evaluation, the tick transaction and submission.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime
from typing import Any

from tocsin.daemon.run_queue import QueuedCoordinator
from tocsin.daemon.sensors import SensorLoop
from tocsin.instance.instance import DagsterInstance
from tocsin.workspace.location import InProcessLocation
from tocsin.workspace.workspace import spec_for_file

DAEMON_COMMAND = ["tocsin", "daemon", "run"]
HOME_VAR = "TOCSIN_HOME"


class SensorDaemon:
    """``with SensorDaemon(defs_file) as d: d.tick(now)`` — one sensor pass at ``now``."""

    def __init__(self, defs_file: str):
        self.home = tempfile.mkdtemp(prefix="bench-tocsin-")
        self.instance: Any = DagsterInstance.local_temp(self.home)
        location = InProcessLocation("bench", spec=spec_for_file(defs_file, name="bench"))
        self.loop = SensorLoop(self.instance, [location], QueuedCoordinator(self.instance))

    def tick(self, now: datetime) -> int:
        """One pass; returns how many runs it made."""
        report = self.loop.tick(now)
        for outcome in report.outcomes:
            if outcome.error is not None:
                raise RuntimeError(outcome.error.message)
        return sum(len(o.run_ids) for o in report.outcomes)

    def run_count(self) -> int:
        return self.instance.get_runs_count()

    def add_finished_run(self, job_name: str) -> None:
        """A run of ``job_name`` that has finished successfully."""
        from tocsin.model.events import DagsterEvent, DagsterEventType, EventLogEntry

        run = self.instance.create_run(job_name=job_name)
        for kind in (DagsterEventType.RUN_START, DagsterEventType.RUN_SUCCESS):
            event = DagsterEvent(kind.value, job_name, message=kind.value)
            self.instance.handle_new_event(
                EventLogEntry(run_id=run.run_id, job_name=job_name, dagster_event=event)
            )

    def close(self) -> None:
        self.instance.dispose()
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
    from tocsin.model.run import DagsterRunStatus, RunsFilter

    done = [DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED]
    return {r.run_id: r.status.value for r in instance.get_runs(RunsFilter(statuses=done))}
