"""Ticks and instigator state: what the daemon records each time a sensor or schedule runs.

A ``Tick`` is one evaluation of an instigator (a sensor or a schedule): its status, the runs it
made, the run keys it skipped (and which earlier run holds each), its cursor, log lines and error.
An ``InstigatorState`` is the stored, per-instigator row: whether it is running, its cursor and
what its last tick did.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from tocsin.model.errors_info import SerializableErrorInfo


class TickStatus(Enum):
    """Where a tick stands: STARTED while evaluating, then SUCCESS, SKIPPED or FAILURE."""

    STARTED = "STARTED"
    SUCCESS = "SUCCESS"
    SKIPPED = "SKIPPED"
    FAILURE = "FAILURE"


class InstigatorType(Enum):
    """What kind of thing makes runs: a sensor or a schedule."""

    SENSOR = "SENSOR"
    SCHEDULE = "SCHEDULE"


class InstigatorStatus(Enum):
    """Whether an instigator ticks: RUNNING, STOPPED, or as its definition declares."""

    RUNNING = "RUNNING"
    STOPPED = "STOPPED"
    DECLARED_IN_CODE = "DECLARED_IN_CODE"


def _ts(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _dt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, tz=UTC)


@dataclass(frozen=True)
class InstigatorState:
    """The stored state of one sensor or schedule.

    ``origin_id`` identifies the instigator across reloads (for example
    ``"<location>:sensor:<name>"``); ``extra`` holds anything else the daemon keeps.
    """

    origin_id: str
    name: str
    instigator_type: InstigatorType
    status: InstigatorStatus = InstigatorStatus.STOPPED
    cursor: str | None = None
    last_tick_timestamp: datetime | None = None
    last_tick_status: TickStatus | None = None
    last_run_key: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_running(self) -> bool:
        return self.status == InstigatorStatus.RUNNING

    @property
    def instigator_name(self) -> str:
        return self.name

    def with_status(self, status: InstigatorStatus) -> InstigatorState:
        return replace(self, status=status)

    def with_cursor(self, cursor: str | None) -> InstigatorState:
        return replace(self, cursor=cursor)

    def to_dict(self) -> dict[str, Any]:
        return {
            "origin_id": self.origin_id,
            "name": self.name,
            "instigator_type": self.instigator_type.value,
            "status": self.status.value,
            "cursor": self.cursor,
            "last_tick_timestamp": _ts(self.last_tick_timestamp),
            "last_tick_status": None
            if self.last_tick_status is None
            else self.last_tick_status.value,
            "last_run_key": self.last_run_key,
            "extra": dict(self.extra),
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> InstigatorState:
        last_status = data.get("last_tick_status")
        return InstigatorState(
            origin_id=data["origin_id"],
            name=data["name"],
            instigator_type=InstigatorType(data["instigator_type"]),
            status=InstigatorStatus(data.get("status", "STOPPED")),
            cursor=data.get("cursor"),
            last_tick_timestamp=_dt(data.get("last_tick_timestamp")),
            last_tick_status=None if last_status is None else TickStatus(last_status),
            last_run_key=data.get("last_run_key"),
            extra=data.get("extra") or {},
        )


@dataclass(frozen=True)
class Tick:
    """One evaluation of a sensor or schedule.

    ``tick_id`` is None until the tick is stored. ``skipped_run_keys`` maps each run key the
    tick asked for but that already had a run to the id of the run holding it.
    ``origin_run_ids`` are the runs a run status sensor tick acted on (it makes no run of its
    own for them).
    """

    instigator_origin_id: str
    instigator_name: str
    instigator_type: InstigatorType
    timestamp: datetime
    status: TickStatus = TickStatus.STARTED
    tick_id: int | None = None
    run_ids: Sequence[str] = ()
    run_keys: Sequence[str] = ()
    skipped_run_keys: Mapping[str, str] = field(default_factory=dict)
    skip_reason: str | None = None
    error: SerializableErrorInfo | None = None
    cursor: str | None = None
    log_lines: Sequence[str] = ()
    end_timestamp: datetime | None = None
    scheduled_execution_time: datetime | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    origin_run_ids: Sequence[str] = ()

    @property
    def is_finished(self) -> bool:
        return self.status != TickStatus.STARTED

    def with_status(self, status: TickStatus, **changes: Any) -> Tick:
        return replace(self, status=status, **changes)

    def with_changes(self, **changes: Any) -> Tick:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "instigator_origin_id": self.instigator_origin_id,
            "instigator_name": self.instigator_name,
            "instigator_type": self.instigator_type.value,
            "timestamp": self.timestamp.timestamp(),
            "status": self.status.value,
            "run_ids": list(self.run_ids),
            "run_keys": list(self.run_keys),
            "skipped_run_keys": dict(self.skipped_run_keys),
            "skip_reason": self.skip_reason,
            "error": None if self.error is None else self.error.to_dict(),
            "cursor": self.cursor,
            "log_lines": list(self.log_lines),
            "end_timestamp": _ts(self.end_timestamp),
            "scheduled_execution_time": _ts(self.scheduled_execution_time),
            "extra": dict(self.extra),
            "origin_run_ids": list(self.origin_run_ids),
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any], tick_id: int | None = None) -> Tick:
        return Tick(
            instigator_origin_id=data["instigator_origin_id"],
            instigator_name=data["instigator_name"],
            instigator_type=InstigatorType(data["instigator_type"]),
            timestamp=datetime.fromtimestamp(data["timestamp"], tz=UTC),
            status=TickStatus(data.get("status", "STARTED")),
            tick_id=tick_id,
            run_ids=tuple(data.get("run_ids") or ()),
            run_keys=tuple(data.get("run_keys") or ()),
            skipped_run_keys=dict(data.get("skipped_run_keys") or {}),
            skip_reason=data.get("skip_reason"),
            error=SerializableErrorInfo.from_dict(data.get("error")),
            cursor=data.get("cursor"),
            log_lines=tuple(data.get("log_lines") or ()),
            end_timestamp=_dt(data.get("end_timestamp")),
            scheduled_execution_time=_dt(data.get("scheduled_execution_time")),
            extra=data.get("extra") or {},
            origin_run_ids=tuple(data.get("origin_run_ids") or ()),
        )
