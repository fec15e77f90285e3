"""Why a tick did not turn something into a run.

Every tick records, for each run request or scheduled time it did not turn into a run, one
``NotRun``: a reason code from ``REASONS``, a sentence for people, and what it concerns (the
run key, the scheduled time, the run that holds the key or that the tick waited for). They
are stored in the tick's ``extra`` under ``"not_run"`` as plain dicts, so ``tocsin sensor
why`` / ``tocsin schedule why`` and the web UI answer from storage alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tocsin.model.ticks import Tick

NOT_RUN_KEY = "not_run"

DUPLICATE_RUN_KEY = "duplicate_run_key"
OVERLAP = "overlap"
PAUSED = "paused"
OUTSIDE_CATCHUP_WINDOW = "outside_catchup_window"
CATCHUP_LIMIT = "max_catchup_runs"
CATCHUP_NONE = "catchup_none"
CATCHUP_LATEST = "catchup_latest"
DST_GAP = "dst_gap"
EVALUATION_TIMEOUT = "evaluation_timeout"
CONCURRENCY_LIMIT = "concurrency_limit"

REASONS: dict[str, str] = {
    DUPLICATE_RUN_KEY: "the run key already has a run",
    OVERLAP: "the overlap policy held or dropped it",
    PAUSED: "the instigator was paused",
    OUTSIDE_CATCHUP_WINDOW: "the scheduled time was older than the catch-up window",
    CATCHUP_LIMIT: "more times were missed than max_catchup_runs allows",
    CATCHUP_NONE: "missed times are not caught up (catchup='none')",
    CATCHUP_LATEST: "only the latest missed time is caught up (catchup='latest')",
    DST_GAP: "the time does not exist on a daylight-saving day and the policy skips it",
    EVALUATION_TIMEOUT: "the evaluation ran over its time limit",
    CONCURRENCY_LIMIT: "a concurrency limit holds the run in the queue",
}


@dataclass(frozen=True)
class NotRun:
    """One request or scheduled time a tick did not turn into a run, and why."""

    reason: str
    detail: str
    run_key: str | None = None
    scheduled_time: datetime | None = None
    run_id: str | None = None

    def __post_init__(self) -> None:
        if self.reason not in REASONS:
            raise ValueError(f"Unknown reason {self.reason!r}; expected one of {sorted(REASONS)}.")

    def to_dict(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "detail": self.detail,
            "run_key": self.run_key,
            "scheduled_time": None
            if self.scheduled_time is None
            else self.scheduled_time.timestamp(),
            "run_id": self.run_id,
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> NotRun:
        stamp = data.get("scheduled_time")
        return NotRun(
            reason=data["reason"],
            detail=data.get("detail") or "",
            run_key=data.get("run_key"),
            scheduled_time=None if stamp is None else datetime.fromtimestamp(stamp, tz=UTC),
            run_id=data.get("run_id"),
        )


def with_not_run(tick: Tick, items: Iterable[NotRun]) -> Tick:
    """The tick with ``items`` added to what it did not run."""
    added = [item.to_dict() for item in items]
    if not added:
        return tick
    existing = list(tick.extra.get(NOT_RUN_KEY) or ())
    return tick.with_changes(extra={**tick.extra, NOT_RUN_KEY: existing + added})


def not_run_of(tick: Tick) -> list[NotRun]:
    """What the tick did not run, and why (empty for a tick that ran everything)."""
    return [NotRun.from_dict(item) for item in tick.extra.get(NOT_RUN_KEY) or ()]


def duplicate_keys(used: Mapping[str, str]) -> list[NotRun]:
    """One ``NotRun`` per run key that already had a run (``used``: key -> run id)."""
    return [
        NotRun(
            DUPLICATE_RUN_KEY,
            f"run key {key!r} already has run {run_id}",
            run_key=key,
            run_id=run_id,
        )
        for key, run_id in used.items()
    ]
