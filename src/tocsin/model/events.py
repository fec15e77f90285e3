"""Events: what a run (or the system around it) records in the event log.

``EventLogEntry`` is one row of the log. Structured events carry a ``DagsterEvent`` whose
``event_type_value`` is the reference's string (``"PIPELINE_SUCCESS"`` for a run success).
Plain log lines are entries without a ``dagster_event``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from typing import Any

from tocsin.model.asset_key import AssetKey
from tocsin.model.errors_info import SerializableErrorInfo
from tocsin.model.metadata import (
    MetadataEntry,
    MetadataValue,
    metadata_from_dict,
    metadata_to_dict,
    normalize_metadata,
)


class DagsterEventType(Enum):
    """Kinds of structured event; the values are the reference's stored names."""

    STEP_OUTPUT = "STEP_OUTPUT"
    STEP_INPUT = "STEP_INPUT"
    STEP_FAILURE = "STEP_FAILURE"
    STEP_START = "STEP_START"
    STEP_SUCCESS = "STEP_SUCCESS"
    STEP_SKIPPED = "STEP_SKIPPED"
    STEP_UP_FOR_RETRY = "STEP_UP_FOR_RETRY"
    STEP_RESTARTED = "STEP_RESTARTED"
    ASSET_MATERIALIZATION = "ASSET_MATERIALIZATION"
    ASSET_MATERIALIZATION_PLANNED = "ASSET_MATERIALIZATION_PLANNED"
    ASSET_OBSERVATION = "ASSET_OBSERVATION"
    RUN_ENQUEUED = "PIPELINE_ENQUEUED"
    RUN_DEQUEUED = "PIPELINE_DEQUEUED"
    RUN_STARTING = "PIPELINE_STARTING"
    RUN_START = "PIPELINE_START"
    RUN_SUCCESS = "PIPELINE_SUCCESS"
    RUN_FAILURE = "PIPELINE_FAILURE"
    RUN_CANCELING = "PIPELINE_CANCELING"
    RUN_CANCELED = "PIPELINE_CANCELED"
    ENGINE_EVENT = "ENGINE_EVENT"
    HANDLED_OUTPUT = "HANDLED_OUTPUT"
    LOADED_INPUT = "LOADED_INPUT"
    LOGS_CAPTURED = "LOGS_CAPTURED"
    RESOURCE_INIT_STARTED = "RESOURCE_INIT_STARTED"
    RESOURCE_INIT_SUCCESS = "RESOURCE_INIT_SUCCESS"
    RESOURCE_INIT_FAILURE = "RESOURCE_INIT_FAILURE"
    ALERT_START = "ALERT_START"
    ALERT_SUCCESS = "ALERT_SUCCESS"
    ALERT_FAILURE = "ALERT_FAILURE"

    # Seed-era aliases
    PIPELINE_SUCCESS = "PIPELINE_SUCCESS"
    PIPELINE_FAILURE = "PIPELINE_FAILURE"
    PIPELINE_START = "PIPELINE_START"
    PIPELINE_ENQUEUED = "PIPELINE_ENQUEUED"
    PIPELINE_CANCELED = "PIPELINE_CANCELED"


RUN_LIFECYCLE_EVENTS = frozenset(
    {
        DagsterEventType.RUN_ENQUEUED,
        DagsterEventType.RUN_DEQUEUED,
        DagsterEventType.RUN_STARTING,
        DagsterEventType.RUN_START,
        DagsterEventType.RUN_SUCCESS,
        DagsterEventType.RUN_FAILURE,
        DagsterEventType.RUN_CANCELING,
        DagsterEventType.RUN_CANCELED,
    }
)


class AssetMaterialization:
    """A record that an asset (or one partition of it) was materialized.

    Args:
        asset_key: the asset's key (str, list or AssetKey).
        description: free text.
        metadata: raw values or MetadataValues.
        partition: the partition key, if the asset is partitioned.
        tags: string tags.
    """

    def __init__(
        self,
        asset_key: Any,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        partition: str | None = None,
        tags: Mapping[str, str] | None = None,
    ):
        self.asset_key = AssetKey.from_coercible(asset_key)
        self.description = description
        self.metadata: dict[str, MetadataValue] = normalize_metadata(metadata)
        self.partition = partition
        self.tags = dict(tags or {})

    @property
    def label(self) -> str:
        return self.asset_key.to_user_string()

    @property
    def metadata_entries(self) -> list[MetadataEntry]:
        return [MetadataEntry(k, v) for k, v in self.metadata.items()]

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and other.asset_key == self.asset_key  # type: ignore[attr-defined]
            and other.partition == self.partition  # type: ignore[attr-defined]
            and other.metadata == self.metadata  # type: ignore[attr-defined]
            and other.description == self.description  # type: ignore[attr-defined]
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.asset_key, self.partition))

    def __repr__(self) -> str:
        part = f", partition={self.partition!r}" if self.partition else ""
        return f"{type(self).__name__}({self.asset_key.to_user_string()!r}{part})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "asset_key": list(self.asset_key.path),
            "description": self.description,
            "metadata": metadata_to_dict(self.metadata),
            "partition": self.partition,
            "tags": self.tags,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Any:
        obj = cls(AssetKey(data["asset_key"]), data.get("description"), None, data.get("partition"))
        obj.metadata = metadata_from_dict(data.get("metadata"))
        obj.tags = dict(data.get("tags") or {})
        return obj


class AssetObservation(AssetMaterialization):
    """A record that an asset was observed (not changed)."""


@dataclass(frozen=True)
class StepMaterializationData:
    materialization: AssetMaterialization


@dataclass(frozen=True)
class AssetObservationData:
    asset_observation: AssetObservation


@dataclass(frozen=True)
class EngineEventData:
    metadata: Mapping[str, MetadataValue] = field(default_factory=dict)
    error: SerializableErrorInfo | None = None

    @property
    def metadata_entries(self) -> list[MetadataEntry]:
        return [MetadataEntry(k, v) for k, v in self.metadata.items()]


@dataclass(frozen=True)
class StepFailureData:
    error: SerializableErrorInfo | None
    user_failure_data: Mapping[str, Any] | None = None
    error_source: str | None = None


@dataclass(frozen=True)
class StepSuccessData:
    duration_ms: float


@dataclass(frozen=True)
class StepRetryData:
    error: SerializableErrorInfo | None
    seconds_to_wait: float | None = None


@dataclass(frozen=True)
class JobFailureData:
    error: SerializableErrorInfo | None


@dataclass(frozen=True)
class StepOutputData:
    output_name: str
    mapping_key: str | None = None


EventSpecificData = Any

_DATA_CLASSES: dict[str, Any] = {
    c.__name__: c
    for c in (
        StepMaterializationData,
        AssetObservationData,
        EngineEventData,
        StepFailureData,
        StepSuccessData,
        StepRetryData,
        JobFailureData,
        StepOutputData,
    )
}


def _data_to_dict(data: Any) -> dict[str, Any] | None:
    if data is None:
        return None
    kind = type(data).__name__
    if isinstance(data, StepMaterializationData):
        return {"kind": kind, "materialization": data.materialization.to_dict()}
    if isinstance(data, AssetObservationData):
        return {"kind": kind, "asset_observation": data.asset_observation.to_dict()}
    if isinstance(data, EngineEventData):
        return {
            "kind": kind,
            "metadata": metadata_to_dict(data.metadata),
            "error": None if data.error is None else data.error.to_dict(),
        }
    if isinstance(data, (StepFailureData, StepRetryData, JobFailureData)):
        out = {k: v for k, v in data.__dict__.items() if k != "error"}
        out["kind"] = kind
        out["error"] = None if data.error is None else data.error.to_dict()
        return out
    if isinstance(data, (StepSuccessData, StepOutputData)):
        return {"kind": kind, **data.__dict__}
    return {"kind": "raw", "value": data}


def _data_from_dict(data: Mapping[str, Any] | None) -> Any:
    if data is None:
        return None
    kind = data.get("kind")
    body = {k: v for k, v in data.items() if k != "kind"}
    if kind == "StepMaterializationData":
        return StepMaterializationData(AssetMaterialization.from_dict(body["materialization"]))
    if kind == "AssetObservationData":
        return AssetObservationData(AssetObservation.from_dict(body["asset_observation"]))
    if kind == "EngineEventData":
        return EngineEventData(
            metadata=metadata_from_dict(body.get("metadata")),
            error=SerializableErrorInfo.from_dict(body.get("error")),
        )
    if kind in ("StepFailureData", "StepRetryData", "JobFailureData"):
        body["error"] = SerializableErrorInfo.from_dict(body.get("error"))
        return _DATA_CLASSES[kind](**body)
    if kind in _DATA_CLASSES:
        return _DATA_CLASSES[kind](**body)
    return body.get("value")


@dataclass(frozen=True)
class DagsterEvent:
    """A structured event: what happened (``event_type_value``) and its details."""

    event_type_value: str
    job_name: str
    step_key: str | None = None
    message: str | None = None
    event_specific_data: EventSpecificData = None
    logging_tags: Mapping[str, str] = field(default_factory=dict)
    pid: int | None = None
    node_name: str | None = None

    @property
    def event_type(self) -> DagsterEventType:
        return DagsterEventType(self.event_type_value)

    @property
    def pipeline_name(self) -> str:
        return self.job_name

    @property
    def is_run_success(self) -> bool:
        return self.event_type_value == DagsterEventType.RUN_SUCCESS.value

    @property
    def is_run_failure(self) -> bool:
        return self.event_type_value == DagsterEventType.RUN_FAILURE.value

    is_pipeline_success = is_run_success
    is_pipeline_failure = is_run_failure
    is_job_success = is_run_success
    is_job_failure = is_run_failure

    @property
    def is_step_failure(self) -> bool:
        return self.event_type_value == DagsterEventType.STEP_FAILURE.value

    @property
    def is_step_success(self) -> bool:
        return self.event_type_value == DagsterEventType.STEP_SUCCESS.value

    @property
    def is_failure(self) -> bool:
        return self.is_step_failure or self.is_run_failure

    @property
    def is_step_materialization(self) -> bool:
        return self.event_type_value == DagsterEventType.ASSET_MATERIALIZATION.value

    @property
    def step_materialization_data(self) -> StepMaterializationData | None:
        data = self.event_specific_data
        return data if isinstance(data, StepMaterializationData) else None

    @property
    def materialization(self) -> AssetMaterialization | None:
        data = self.step_materialization_data
        return None if data is None else data.materialization

    @property
    def asset_key(self) -> AssetKey | None:
        data = self.event_specific_data
        if isinstance(data, StepMaterializationData):
            return data.materialization.asset_key
        if isinstance(data, AssetObservationData):
            return data.asset_observation.asset_key
        return None

    @property
    def partition(self) -> str | None:
        data = self.event_specific_data
        if isinstance(data, StepMaterializationData):
            return data.materialization.partition
        if isinstance(data, AssetObservationData):
            return data.asset_observation.partition
        return None

    @property
    def engine_event_data(self) -> EngineEventData | None:
        data = self.event_specific_data
        return data if isinstance(data, EngineEventData) else None

    @property
    def step_failure_data(self) -> StepFailureData | None:
        data = self.event_specific_data
        return data if isinstance(data, StepFailureData) else None

    @property
    def job_failure_data(self) -> JobFailureData | None:
        data = self.event_specific_data
        return data if isinstance(data, JobFailureData) else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_type_value": self.event_type_value,
            "job_name": self.job_name,
            "step_key": self.step_key,
            "message": self.message,
            "event_specific_data": _data_to_dict(self.event_specific_data),
            "logging_tags": dict(self.logging_tags),
            "pid": self.pid,
            "node_name": self.node_name,
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> DagsterEvent:
        return DagsterEvent(
            event_type_value=data["event_type_value"],
            job_name=data["job_name"],
            step_key=data.get("step_key"),
            message=data.get("message"),
            event_specific_data=_data_from_dict(data.get("event_specific_data")),
            logging_tags=data.get("logging_tags") or {},
            pid=data.get("pid"),
            node_name=data.get("node_name"),
        )


@dataclass(frozen=True)
class EventLogEntry:
    """One row of the event log. ``storage_id`` is set once the entry has been stored."""

    run_id: str
    timestamp: float = field(default_factory=time.time)
    level: int = logging.INFO
    user_message: str = ""
    job_name: str | None = None
    step_key: str | None = None
    dagster_event: DagsterEvent | None = None
    error_info: SerializableErrorInfo | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    storage_id: int | None = None

    @property
    def message(self) -> str:
        if self.dagster_event is not None and self.dagster_event.message:
            return self.dagster_event.message
        return self.user_message

    @property
    def is_dagster_event(self) -> bool:
        return self.dagster_event is not None

    def __getattr__(self, name: str) -> Any:
        # A structured entry reads like its DagsterEvent (event_type_value, is_step_failure,
        # ...), so a run's entries can be filtered the same way as its events; on a plain log
        # line those event attributes are None.
        if name.startswith("__"):
            raise AttributeError(name)
        event = self.__dict__.get("dagster_event")
        if event is not None:
            return getattr(event, name)
        if hasattr(DagsterEvent, name):
            return None
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def dagster_event_type(self) -> DagsterEventType | None:
        return None if self.dagster_event is None else self.dagster_event.event_type

    @property
    def pipeline_name(self) -> str | None:
        return self.job_name

    @property
    def asset_materialization(self) -> AssetMaterialization | None:
        return None if self.dagster_event is None else self.dagster_event.materialization

    def with_storage_id(self, storage_id: int) -> EventLogEntry:
        return replace(self, storage_id=storage_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "timestamp": self.timestamp,
            "level": self.level,
            "user_message": self.user_message,
            "job_name": self.job_name,
            "step_key": self.step_key,
            "dagster_event": None if self.dagster_event is None else self.dagster_event.to_dict(),
            "error_info": None if self.error_info is None else self.error_info.to_dict(),
            "extra": dict(self.extra),
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any], storage_id: int | None = None) -> EventLogEntry:
        event = data.get("dagster_event")
        return EventLogEntry(
            run_id=data["run_id"],
            timestamp=data["timestamp"],
            level=data.get("level", logging.INFO),
            user_message=data.get("user_message", ""),
            job_name=data.get("job_name"),
            step_key=data.get("step_key"),
            dagster_event=None if event is None else DagsterEvent.from_dict(event),
            error_info=SerializableErrorInfo.from_dict(data.get("error_info")),
            extra=data.get("extra") or {},
            storage_id=storage_id,
        )


def run_enqueued_entry(run_id: str, job_name: str, pid: int | None = None) -> EventLogEntry:
    """The RUN_ENQUEUED event that marks a run QUEUED for the queued run coordinator."""
    return EventLogEntry(
        run_id=run_id,
        job_name=job_name,
        user_message="",
        dagster_event=DagsterEvent(
            event_type_value=DagsterEventType.RUN_ENQUEUED.value,
            job_name=job_name,
            message=f"Run {run_id} was enqueued.",
            pid=pid,
        ),
    )


@dataclass(frozen=True)
class EventLogRecord:
    """An event log entry with the storage id it was given."""

    storage_id: int
    event_log_entry: EventLogEntry

    @property
    def run_id(self) -> str:
        return self.event_log_entry.run_id

    @property
    def timestamp(self) -> float:
        return self.event_log_entry.timestamp

    @property
    def asset_key(self) -> AssetKey | None:
        ev = self.event_log_entry.dagster_event
        return None if ev is None else ev.asset_key

    @property
    def partition_key(self) -> str | None:
        ev = self.event_log_entry.dagster_event
        return None if ev is None else ev.partition

    @property
    def asset_materialization(self) -> AssetMaterialization | None:
        return self.event_log_entry.asset_materialization


@dataclass(frozen=True)
class EventRecordsFilter:
    """Which event records to read: one event type, optionally narrowed.

    ``after_cursor`` / ``before_cursor`` are storage ids (exclusive).
    """

    event_type: DagsterEventType
    asset_key: AssetKey | None = None
    asset_partitions: Sequence[str] | None = None
    after_cursor: int | None = None
    before_cursor: int | None = None
    after_timestamp: float | None = None
    before_timestamp: float | None = None
    storage_ids: Sequence[int] | None = None
    run_ids: Sequence[str] | None = None


@dataclass(frozen=True)
class EventLogCursor:
    """A position in the event log: the last storage id seen."""

    storage_id: int

    def to_string(self) -> str:
        return str(self.storage_id)


def datetime_to_ts(value: datetime | float | None) -> float | None:
    if value is None or isinstance(value, (int, float)):
        return value
    return value.timestamp()
