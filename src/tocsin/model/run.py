"""Runs: ``DagsterRun``, its status, the filter used to find runs, and ``RunRecord``."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from tocsin.model.asset_key import AssetKey
from tocsin.model.tags import INSTIGATOR_TAG, PARTITION_NAME_TAG, RUN_KEY_TAG


class DagsterRunStatus(Enum):
    """The life of a run: QUEUED → NOT_STARTED → STARTING → STARTED → SUCCESS/FAILURE/CANCELED."""

    QUEUED = "QUEUED"
    NOT_STARTED = "NOT_STARTED"
    MANAGED = "MANAGED"
    STARTING = "STARTING"
    STARTED = "STARTED"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    CANCELING = "CANCELING"
    CANCELED = "CANCELED"

    @property
    def is_finished(self) -> bool:
        return self in FINISHED_STATUSES


FINISHED_STATUSES = frozenset(
    {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}
)
IN_PROGRESS_STATUSES = frozenset(
    {
        DagsterRunStatus.QUEUED,
        DagsterRunStatus.NOT_STARTED,
        DagsterRunStatus.STARTING,
        DagsterRunStatus.STARTED,
        DagsterRunStatus.CANCELING,
    }
)


def new_run_id() -> str:
    return str(uuid.uuid4())


def utc_from_timestamp(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz=UTC)


@dataclass(frozen=True)
class DagsterRun:
    """One run of a job.

    ``start_time`` and ``end_time`` are tz-aware UTC datetimes (or None), so
    ``run.end_time - run.start_time`` is a ``timedelta``.
    """

    job_name: str
    run_id: str = field(default_factory=new_run_id)
    run_config: Mapping[str, Any] = field(default_factory=dict)
    status: DagsterRunStatus = DagsterRunStatus.NOT_STARTED
    tags: Mapping[str, str] = field(default_factory=dict)
    asset_selection: frozenset[AssetKey] | None = None
    op_selection: Sequence[str] | None = None
    root_run_id: str | None = None
    parent_run_id: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    code_location: str | None = None

    # Seed-era names
    @property
    def pipeline_name(self) -> str:
        return self.job_name

    @property
    def run_key(self) -> str | None:
        return self.tags.get(RUN_KEY_TAG)

    @property
    def instigator_id(self) -> str | None:
        return self.tags.get(INSTIGATOR_TAG)

    @property
    def partition_key(self) -> str | None:
        return self.tags.get(PARTITION_NAME_TAG)

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def is_success(self) -> bool:
        return self.status == DagsterRunStatus.SUCCESS

    @property
    def is_failure(self) -> bool:
        return self.status == DagsterRunStatus.FAILURE

    def with_status(self, status: DagsterRunStatus) -> DagsterRun:
        return replace(self, status=status)

    def with_tags(self, tags: Mapping[str, str]) -> DagsterRun:
        return replace(self, tags={**self.tags, **tags})

    def to_dict(self) -> dict[str, Any]:
        return {
            "job_name": self.job_name,
            "run_id": self.run_id,
            "run_config": dict(self.run_config),
            "status": self.status.value,
            "tags": dict(self.tags),
            "asset_selection": (
                None
                if self.asset_selection is None
                else sorted(list(k.path) for k in self.asset_selection)
            ),
            "op_selection": None if self.op_selection is None else list(self.op_selection),
            "root_run_id": self.root_run_id,
            "parent_run_id": self.parent_run_id,
            "start_time": None if self.start_time is None else self.start_time.timestamp(),
            "end_time": None if self.end_time is None else self.end_time.timestamp(),
            "code_location": self.code_location,
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> DagsterRun:
        selection = data.get("asset_selection")
        return DagsterRun(
            job_name=data["job_name"],
            run_id=data["run_id"],
            run_config=data.get("run_config") or {},
            status=DagsterRunStatus(data.get("status", "NOT_STARTED")),
            tags=data.get("tags") or {},
            asset_selection=None
            if selection is None
            else frozenset(AssetKey(p) for p in selection),
            op_selection=data.get("op_selection"),
            root_run_id=data.get("root_run_id"),
            parent_run_id=data.get("parent_run_id"),
            start_time=utc_from_timestamp(data.get("start_time")),
            end_time=utc_from_timestamp(data.get("end_time")),
            code_location=data.get("code_location"),
        )


@dataclass(frozen=True)
class RunsFilter:
    """Which runs to find. Every field that is set must match (AND)."""

    run_ids: Sequence[str] | None = None
    job_name: str | None = None
    statuses: Sequence[DagsterRunStatus] | None = None
    tags: Mapping[str, str | Sequence[str]] | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    snapshot_id: str | None = None

    @property
    def pipeline_name(self) -> str | None:
        return self.job_name


@dataclass(frozen=True)
class RunRecord:
    """A run as stored, with its storage id and timestamps (floats, seconds since epoch)."""

    storage_id: int
    dagster_run: DagsterRun
    create_timestamp: datetime
    update_timestamp: datetime
    start_time: float | None = None
    end_time: float | None = None
