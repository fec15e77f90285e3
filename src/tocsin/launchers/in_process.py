"""``InProcessLauncher``: executes each run in this process, at once (for tests)."""

from __future__ import annotations

from typing import Any

from tocsin.launchers.base import RunLauncher
from tocsin.model.run import DagsterRun


class InProcessLauncher(RunLauncher):
    """Runs the job in the calling thread; ``resolve_job(run)`` may supply the job."""

    def __init__(self, instance: Any, resolve_job: Any = None):
        self.instance = instance
        self.resolve_job = resolve_job
        self.launched: list[str] = []

    def launch_run(self, run: DagsterRun) -> None:
        from tocsin.launchers.run_worker import execute_run_by_id

        self.launched.append(run.run_id)
        job = None if self.resolve_job is None else self.resolve_job(run)
        execute_run_by_id(self.instance, run.run_id, job)

    def terminate(self, run_id: str) -> bool:
        return False
