"""Plain JSON shapes of ticks, runs, events and instigators, shared by the API and the pages."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from tocsin.model.events import EventLogEntry
from tocsin.model.run import DagsterRun
from tocsin.model.ticks import Tick
from tocsin.web.service import Instigator, Service


def iso(value: datetime | float | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            return None
        value = datetime.fromtimestamp(value, tz=UTC)
    return value.isoformat()


def log_line_text(line: Any) -> str:
    """One tick or preview log line as text: ``LEVEL message`` when it has a level."""
    if isinstance(line, dict) and "message" in line:
        return f"{line.get('level', '')} {line['message']}".strip()
    message = getattr(line, "message", None)
    if message is not None:
        return f"{getattr(line, 'level', '')} {message}".strip()
    return str(line)


def tick_json(tick: Tick) -> dict[str, Any]:
    duration = None
    if tick.end_timestamp is not None:
        duration = (tick.end_timestamp - tick.timestamp).total_seconds()
    return {
        "tick_id": tick.tick_id,
        "origin_id": tick.instigator_origin_id,
        "name": tick.instigator_name,
        "type": tick.instigator_type.value.lower(),
        "status": tick.status.value,
        "timestamp": iso(tick.timestamp),
        "end_timestamp": iso(tick.end_timestamp),
        "duration_seconds": duration,
        "scheduled_execution_time": iso(tick.scheduled_execution_time),
        "run_ids": list(tick.run_ids),
        "run_keys": list(tick.run_keys),
        "skipped_run_keys": dict(tick.skipped_run_keys),
        "skip_reason": tick.skip_reason,
        "error": None if tick.error is None else tick.error.to_dict(),
        "cursor": tick.cursor,
        "log_lines": [log_line_text(line) for line in tick.log_lines],
    }


def run_json(run: DagsterRun, record: Any = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "run_id": run.run_id,
        "job_name": run.job_name,
        "status": run.status.value,
        "tags": dict(run.tags),
        "run_config": run.run_config,
        "asset_selection": None
        if run.asset_selection is None
        else sorted(k.to_user_string() for k in run.asset_selection),
    }
    if record is not None:
        data.update(
            storage_id=record.storage_id,
            created_at=iso(record.create_timestamp),
            updated_at=iso(record.update_timestamp),
            start_time=iso(record.start_time),
            end_time=iso(record.end_time),
        )
    return data


def event_json(entry: EventLogEntry) -> dict[str, Any]:
    event = entry.dagster_event
    data: dict[str, Any] = {
        "storage_id": entry.storage_id,
        "run_id": entry.run_id,
        "timestamp": iso(entry.timestamp),
        "level": entry.level,
        "message": entry.message,
        "step_key": entry.step_key,
        "event_type": None if event is None else event.event_type_value,
    }
    materialization = entry.asset_materialization
    if materialization is not None:
        data["asset_key"] = materialization.asset_key.to_user_string()
        data["partition"] = materialization.partition
        data["metadata"] = metadata_json(materialization.metadata)
    if entry.extra.get("external") is not None:
        data["external"] = entry.extra["external"]
    if entry.error_info is not None:
        data["error"] = entry.error_info.to_dict()
    return data


def metadata_json(metadata: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in dict(metadata or {}).items():
        raw = getattr(value, "value", value)
        out[key] = (
            raw if isinstance(raw, (str, int, float, bool, type(None), list, dict)) else str(raw)
        )
    return out


def instigator_json(service: Service, item: Instigator, now: datetime) -> dict[str, Any]:
    tick = service.last_tick(item)
    run = service.last_run(item)
    return {
        "name": item.name,
        "type": item.kind,
        "code_location": item.location,
        "origin_id": item.origin_id,
        "status": "RUNNING" if item.is_running else "STOPPED",
        "loaded": item.info is not None,
        "minimum_interval_seconds": item.interval if item.kind == "sensor" else None,
        "cron_schedule": item.cron,
        "execution_timezone": item.timezone if item.kind == "schedule" else None,
        "job_names": [] if item.info is None else list(item.info.job_names),
        "wake_on": item.wake_on,
        "cursor": item.cursor,
        "last_tick": None if tick is None else tick_json(tick),
        "last_run": None if run is None else {"run_id": run.run_id, "status": run.status.value},
        "next_tick": iso(service.next_tick(item, now)),
    }


def evaluation_json(evaluation: Any) -> dict[str, Any]:
    """A preview as JSON (the workspace's ``Evaluation.to_dict``)."""
    return dict(evaluation.to_dict())
