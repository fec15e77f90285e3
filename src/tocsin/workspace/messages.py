"""Plain data that crosses the pipe between the daemon and a user-code worker.

Nothing here holds a user object: a worker turns definitions and evaluation results into
these, so the daemon never needs (or imports) user code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tocsin.model.errors_info import SerializableErrorInfo

SENSOR = "sensor"
SCHEDULE = "schedule"
RUNNING = "RUNNING"
STOPPED = "STOPPED"


@dataclass(frozen=True)
class InstigatorInfo:
    """What the daemon needs to know about one sensor or schedule."""

    name: str
    kind: str  # SENSOR or SCHEDULE
    job_names: tuple[str, ...] = ()
    default_status: str = STOPPED
    minimum_interval_seconds: int | None = None
    cron_schedule: str | tuple[str, ...] | None = None
    execution_timezone: str | None = None
    evaluation_timeout_seconds: float | None = None
    sensor_type: str | None = None
    description: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunRequestData:
    """A run request as plain data."""

    run_key: str | None = None
    job_name: str | None = None
    run_config: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    partition_key: str | None = None
    asset_selection: list[list[str]] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The fields users read in a preview."""
        return {
            "run_key": self.run_key,
            "job_name": self.job_name,
            "run_config": self.run_config,
            "tags": self.tags,
            "partition_key": self.partition_key,
        }


@dataclass(frozen=True)
class RunReaction:
    """A run status sensor acted on ``run_id`` having reached ``status``."""

    run_id: str
    status: str
    error: SerializableErrorInfo | None = None


@dataclass(frozen=True)
class Evaluation:
    """The outcome of evaluating a sensor or schedule once.

    ``cursor`` is the cursor to persist when the tick is not a failure;
    ``cursor_survives_error`` says that it is persisted even then (run status sensors move
    past the runs they saw even when the user function raised).
    """

    run_requests: tuple[RunRequestData, ...] = ()
    skip_message: str | None = None
    cursor: str | None = None
    cursor_survives_error: bool = False
    log_lines: tuple[str, ...] = ()
    error: SerializableErrorInfo | None = None
    run_reactions: tuple[RunReaction, ...] = ()
    is_timeout: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A preview as JSON: what the CLI's ``--json`` and the HTTP API return."""
        return {
            "run_requests": [r.to_dict() for r in self.run_requests],
            "skip_message": self.skip_message,
            "cursor": self.cursor,
            "log_lines": list(self.log_lines),
            "error": None if self.error is None else self.error.to_dict(),
        }

    @staticmethod
    def failure(message: str, *, cls_name: str = "Error", is_timeout: bool = False) -> Evaluation:
        info = SerializableErrorInfo(message=message, stack=[], cls_name=cls_name)
        return Evaluation(error=info, is_timeout=is_timeout)


@dataclass(frozen=True)
class LocationLoadError:
    """A code location whose code could not be imported."""

    location_name: str
    error: SerializableErrorInfo
