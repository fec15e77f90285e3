"""``RunLauncher``: starts a NOT_STARTED run somewhere, and can stop it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from tocsin.model.events import DagsterEvent, DagsterEventType, EventLogEntry
from tocsin.model.run import DagsterRun, DagsterRunStatus


class RunLauncher(ABC):
    """Starts runs. ``launch_run`` is called once per run, after the run is stored."""

    @abstractmethod
    def launch_run(self, run: DagsterRun) -> None:
        """Start executing ``run`` (already stored, NOT_STARTED)."""

    @abstractmethod
    def terminate(self, run_id: str) -> bool:
        """Stop a run this launcher started; True if it was running."""

    def dispose(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release what the launcher holds (processes, threads)."""


def mark_starting(instance: Any, run: DagsterRun) -> None:
    """Record RUN_STARTING so the run is never picked up as unsubmitted again."""
    event = DagsterEvent(
        event_type_value=DagsterEventType.RUN_STARTING.value,
        job_name=run.job_name,
        message="Starting run.",
    )
    instance.handle_new_event(
        EventLogEntry(run_id=run.run_id, job_name=run.job_name, dagster_event=event)
    )


class ImmediateCoordinator:
    """Submits each run to the launcher at once (the default run coordinator).

    Submission is idempotent: a run that is no longer NOT_STARTED is left alone, and so is a
    run the overlap policy holds (it is submitted when released).
    """

    def __init__(self, instance: Any, launcher: RunLauncher):
        self.instance = instance
        self.launcher = launcher

    def submit(self, runs: Sequence[DagsterRun]) -> list[str]:
        from tocsin.daemon.overlap import is_held

        launched = []
        for run in runs:
            current = self.instance.get_run_by_id(run.run_id)
            if current is None or current.status != DagsterRunStatus.NOT_STARTED:
                continue
            if is_held(current):
                continue
            mark_starting(self.instance, current)
            self.launcher.launch_run(current)
            launched.append(run.run_id)
        return launched
