"""The JSON API under ``/api/v1``; its OpenAPI document is built from the same route table.

Bad input is a 4xx ``{"error": "...", "detail": ...}``; nothing a client sends makes a 5xx.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tocsin.model.run import DagsterRunStatus, RunsFilter
from tocsin.web.serialize import (
    evaluation_json,
    event_json,
    instigator_json,
    iso,
    run_json,
    tick_json,
)
from tocsin.web.service import KINDS, SENSOR, Service, WebError, utcnow
from tocsin.web.text import bad_text

PREFIX = "/api/v1"


class KindConvertor(Convertor[str]):
    """``sensors`` or ``schedules`` in a path."""

    regex = "sensors|schedules"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


MAX_LIMIT = 1000
MAX_ID = 2**62


class IdConvertor(Convertor[int]):
    """A storage or tick id in a path: digits, read as an int without Python's digit limit.

    Starlette's ``int`` convertor calls ``int()``, which raises ValueError past 4300 digits;
    any id longer than ``MAX_ID`` reads as ``MAX_ID + 1`` and is answered 404 by ``id_param``.
    """

    regex = "[0-9]+"

    def convert(self, value: str) -> int:
        digits = value.lstrip("0") or "0"
        return MAX_ID + 1 if len(digits) > len(str(MAX_ID)) else int(digits)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("kind", KindConvertor())
register_url_convertor("id", IdConvertor())
Handler = Callable[[Request], Awaitable[JSONResponse]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    query: dict[str, dict[str, Any]] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    mutating: bool = False


def service_of(request: Request) -> Service:
    return request.app.state.service


# -- input ---------------------------------------------------------------------------------------


def int_param(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise WebError(400, f"{name} must be an integer, got {raw!r}.", {name: raw}) from None
    if not lo <= value <= hi:
        raise WebError(400, f"{name} must be between {lo} and {hi}, got {value}.", {name: value})
    return value


def id_param(request: Request, name: str) -> int:
    value = int(request.path_params[name])
    if value > MAX_ID:
        raise WebError(404, f"No {name.replace('_', ' ')} that large: ids stop at {MAX_ID}.")
    return value


def time_param(request: Request, name: str) -> datetime | None:
    raw = request.query_params.get(name)
    return None if raw is None or raw == "" else parse_time(raw, name)


def parse_time(raw: str, name: str) -> datetime:
    """An ISO 8601 time (UTC when it has no zone) or seconds since the epoch."""
    try:
        seconds = float(raw)
    except ValueError:
        seconds = None
    try:
        if seconds is not None:
            if not math.isfinite(seconds):
                raise ValueError(raw)
            return datetime.fromtimestamp(seconds, tz=UTC)
        value = datetime.fromisoformat(raw)
    except (ValueError, OverflowError, OSError):
        raise WebError(
            400,
            f"{name} must be an ISO 8601 time (2024-05-01T12:00:00Z) or seconds since the "
            f"epoch, got {raw!r}.",
            {name: raw},
        ) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


async def json_body(request: Request, *, required: bool = True) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        if required:
            raise WebError(400, "This endpoint needs a JSON object as its body.")
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WebError(400, f"The body is not valid JSON: {exc}.") from None
    if not isinstance(data, dict):
        raise WebError(400, f"The body must be a JSON object, got {type(data).__name__}.")
    problem = bad_text(data)
    if problem is not None:
        raise WebError(400, f"{problem[0].upper()}{problem[1:]}; send text without it.")
    return data


def field_of(data: dict[str, Any], name: str, types: tuple[type, ...], *, required: bool) -> Any:
    if name not in data or data[name] is None:
        if required:
            raise WebError(422, f"The body needs {name!r}.", {"missing": name})
        return None
    value = data[name]
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        names = " or ".join(t.__name__ for t in types)
        raise WebError(
            422, f"{name!r} must be {names}, got {type(value).__name__} {value!r}.", {name: value}
        )
    return value


def kind_of(request: Request) -> str:
    kind = request.path_params["kind"].rstrip("s")
    if kind not in KINDS:  # the route only matches sensors|schedules
        raise WebError(404, f"Unknown kind {kind!r}; use sensors or schedules.")
    return kind


def instigator_of(request: Request) -> Any:
    return service_of(request).instigator(
        kind_of(request), request.path_params["name"], request.query_params.get("location")
    )


def runs_filter(request: Request) -> RunsFilter | None:
    params = request.query_params
    statuses = None
    if params.getlist("status"):
        statuses = []
        for raw in params.getlist("status"):
            try:
                statuses.append(DagsterRunStatus(raw.upper()))
            except ValueError:
                known = [s.value for s in DagsterRunStatus]
                raise WebError(
                    400, f"Unknown run status {raw!r}; use one of {known}.", {"status": raw}
                ) from None
    tags: dict[str, str] = {}
    for raw in params.getlist("tag"):
        key, sep, value = raw.partition("=")
        if not sep or not key:
            raise WebError(400, f"tag must look like key=value, got {raw!r}.", {"tag": raw})
        tags[key] = value
    runs_filter = RunsFilter(
        statuses=statuses,
        job_name=params.get("job") or None,
        tags=tags or None,
        created_after=time_param(request, "created_after"),
        created_before=time_param(request, "created_before"),
    )
    return None if runs_filter == RunsFilter() else runs_filter


def ok(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)


# -- instigators -----------------------------------------------------------------------------


async def list_instigators(request: Request) -> JSONResponse:
    service, now = service_of(request), utcnow()
    items = service.instigators(kind_of(request))
    return ok({"items": [instigator_json(service, i, now) for i in items]})


async def get_instigator(request: Request) -> JSONResponse:
    service, now = service_of(request), utcnow()
    item = instigator_of(request)
    data = instigator_json(service, item, now)
    if item.kind != SENSOR:
        data["next_ticks"] = [
            {"time": iso(t["time"]), "dst_change": t["dst_change"], "offset": t["offset"]}
            for t in service.next_ticks(item, now, 10)
        ]
    return ok(data)


async def start_instigator(request: Request) -> JSONResponse:
    item = instigator_of(request)
    state = service_of(request).set_running(item, True, utcnow())
    return ok({"origin_id": item.origin_id, "status": state.status.value})


async def stop_instigator(request: Request) -> JSONResponse:
    item = instigator_of(request)
    state = service_of(request).set_running(item, False, utcnow())
    return ok({"origin_id": item.origin_id, "status": state.status.value})


async def preview_instigator(request: Request) -> JSONResponse:
    item = instigator_of(request)
    body = await json_body(request, required=False)
    cursor = field_of(body, "cursor", (str,), required=False)
    evaluation = service_of(request).preview(item, cursor, utcnow())
    return ok(evaluation_json(evaluation))


async def tick_instigator(request: Request) -> JSONResponse:
    item = instigator_of(request)
    outcome = service_of(request).tick_now(item, utcnow())
    tick = None if outcome.tick_id is None else service_of(request).tick(item, outcome.tick_id)
    return ok({"tick": None if tick is None else tick_json(tick)}, 201)


async def set_cursor(request: Request) -> JSONResponse:
    item = instigator_of(request)
    body = await json_body(request)
    if "cursor" not in body:
        raise WebError(422, "The body needs 'cursor' (a string, or null to clear it).")
    cursor = field_of(body, "cursor", (str,), required=False)
    state = service_of(request).set_cursor(item, cursor)
    return ok({"origin_id": item.origin_id, "cursor": state.cursor})


async def clear_cursor(request: Request) -> JSONResponse:
    item = instigator_of(request)
    service_of(request).set_cursor(item, None)
    return ok({"origin_id": item.origin_id, "cursor": None})


async def list_ticks(request: Request) -> JSONResponse:
    item = instigator_of(request)
    limit = int_param(request, "limit", 50, 1, MAX_LIMIT)
    before = time_param(request, "before")
    ticks = service_of(request).ticks(item, limit=limit, before=before)
    next_before = iso(ticks[-1].timestamp) if len(ticks) == limit else None
    return ok({"items": [tick_json(t) for t in ticks], "next_before": next_before})


async def get_tick(request: Request) -> JSONResponse:
    item = instigator_of(request)
    tick_id = id_param(request, "tick_id")
    return ok(tick_json(service_of(request).tick(item, tick_id)))


# -- runs ------------------------------------------------------------------------------------


async def list_runs(request: Request) -> JSONResponse:
    limit = int_param(request, "limit", 50, 1, MAX_LIMIT)
    cursor = request.query_params.get("cursor") or None
    records, next_cursor = service_of(request).runs_page(runs_filter(request), limit, cursor)
    return ok({"items": [run_json(r.dagster_run, r) for r in records], "next_cursor": next_cursor})


async def get_run(request: Request) -> JSONResponse:
    service = service_of(request)
    run = service.run(request.path_params["run_id"])
    record = service.instance.get_run_record_by_id(run.run_id)
    return ok(run_json(run, record))


async def launch_run(request: Request) -> JSONResponse:
    body = await json_body(request)
    job_name = field_of(body, "job_name", (str,), required=True)
    run_config = field_of(body, "run_config", (dict,), required=False) or {}
    tags = field_of(body, "tags", (dict,), required=False) or {}
    bad = {k: v for k, v in tags.items() if not isinstance(v, str)}
    if bad:
        raise WebError(422, f"Tag values must be strings, got {bad!r}.", {"tags": bad})
    run = service_of(request).launch_run(job_name, run_config, tags, None)
    return ok(run_json(run), 201)


async def cancel_run(request: Request) -> JSONResponse:
    run = service_of(request).cancel_run(request.path_params["run_id"])
    return ok(run_json(run))


async def run_events(request: Request) -> JSONResponse:
    service = service_of(request)
    run = service.run(request.path_params["run_id"])
    after = int_param(request, "after", -1, -1, MAX_ID)
    limit = int_param(request, "limit", 500, 1, 10000)
    entries = service.instance.events.get_logs_for_run(run.run_id, after=after)[:limit]
    next_after = entries[-1].storage_id if len(entries) == limit else None
    return ok({"items": [event_json(e) for e in entries], "next_after": next_after})


async def queue(request: Request) -> JSONResponse:
    rows = service_of(request).queue()
    return ok(
        {
            "items": [
                {**run_json(r["run"]), "priority": r["priority"], "held_by": r["held_by"]}
                for r in rows
            ]
        }
    )


# -- assets, events, daemon ------------------------------------------------------------------


async def list_assets(request: Request) -> JSONResponse:
    instance = service_of(request).instance
    items = []
    for key in instance.get_asset_keys():
        latest = instance.get_latest_materialization_event(key)
        items.append(
            {
                "asset_key": key.to_user_string(),
                "path": list(key.path),
                "last_materialization": None if latest is None else event_json(latest),
            }
        )
    return ok({"items": items})


def asset_key_of(request: Request) -> Any:
    from tocsin.model.asset_key import AssetKey

    raw = request.path_params["key"]
    parts = [p for p in raw.split("/") if p]
    if not parts:
        raise WebError(400, f"Asset key {raw!r} is empty; use a/b for the key ['a', 'b'].")
    return AssetKey(parts)


async def asset_materializations(request: Request) -> JSONResponse:
    instance = service_of(request).instance
    key = asset_key_of(request)
    limit = int_param(request, "limit", 50, 1, MAX_LIMIT)
    raw_cursor = request.query_params.get("cursor") or None
    if raw_cursor is not None and not raw_cursor.isdigit():
        raise WebError(400, f"cursor must be a storage id (digits), got {raw_cursor!r}.")
    result = instance.fetch_materializations(key, limit, cursor=raw_cursor)
    return ok(
        {
            "asset_key": key.to_user_string(),
            "items": [event_json(r.event_log_entry) for r in result.records],
            "next_cursor": result.cursor if result.has_more else None,
        }
    )


async def push_event(request: Request) -> JSONResponse:
    from tocsin.web.push import push

    body = await json_body(request)
    result = push(request.app, body)
    return ok(result, 200 if result["duplicate"] else 201)


async def get_event(request: Request) -> JSONResponse:
    from tocsin.model.events import DagsterEventType, EventRecordsFilter

    instance = service_of(request).instance
    storage_id = id_param(request, "storage_id")
    for kind in (DagsterEventType.ENGINE_EVENT, DagsterEventType.ASSET_MATERIALIZATION):
        found = instance.get_event_records(EventRecordsFilter(kind, storage_ids=[storage_id]), 1)
        if found:
            return ok(event_json(found[0].event_log_entry.with_storage_id(storage_id)))
    raise WebError(404, f"No pushed event with storage id {storage_id}.")


async def heartbeats(request: Request) -> JSONResponse:
    beats = service_of(request).instance.get_daemon_heartbeats()
    now = utcnow()
    items = [
        {
            "daemon_type": kind,
            "daemon_id": beat.daemon_id,
            "timestamp": iso(beat.timestamp),
            "age_seconds": (now - beat.timestamp).total_seconds(),
            "errors": [str(e) for e in beat.errors],
        }
        for kind, beat in sorted(beats.items())
    ]
    return ok({"items": items})


async def daemons(request: Request) -> JSONResponse:
    """The live daemons: id, host, pid, loops' heartbeats and what each holds."""
    from tocsin.daemon.presence import read_daemons

    found = read_daemons(service_of(request).instance, utcnow())
    return ok({"items": [info.to_dict() for info in found]})


async def openapi(request: Request) -> JSONResponse:
    from tocsin.web.openapi import document

    return ok(document(ENDPOINTS))


_NAME = "/{kind:kind}/{name}"
_PAGING: dict[str, dict[str, Any]] = {
    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}
}
_RUN_QUERY: dict[str, dict[str, Any]] = {
    **_PAGING,
    "cursor": {"type": "string"},
    "status": {"type": "string", "enum": [s.value for s in DagsterRunStatus]},
    "job": {"type": "string"},
    "tag": {"type": "string", "pattern": "^[^=]+=.*$"},
    "created_after": {"type": "string", "format": "date-time"},
    "created_before": {"type": "string", "format": "date-time"},
}
_CURSOR_BODY = {"type": "object", "properties": {"cursor": {"type": ["string", "null"]}}}

ENDPOINTS: list[Endpoint] = [
    Endpoint("GET", "/openapi.json", openapi, "This document"),
    Endpoint("GET", "/{kind:kind}", list_instigators, "List sensors or schedules"),
    Endpoint("GET", _NAME, get_instigator, "One sensor or schedule"),
    Endpoint("POST", _NAME + "/start", start_instigator, "Start it", mutating=True),
    Endpoint("POST", _NAME + "/stop", stop_instigator, "Stop it", mutating=True),
    Endpoint(
        "POST",
        _NAME + "/preview",
        preview_instigator,
        "Evaluate once, store nothing",
        body=_CURSOR_BODY,
        mutating=True,
    ),
    Endpoint("POST", _NAME + "/tick", tick_instigator, "Tick once now", mutating=True),
    Endpoint(
        "PUT", _NAME + "/cursor", set_cursor, "Set the cursor", body=_CURSOR_BODY, mutating=True
    ),
    Endpoint("DELETE", _NAME + "/cursor", clear_cursor, "Clear the cursor", mutating=True),
    Endpoint(
        "GET",
        _NAME + "/ticks",
        list_ticks,
        "Ticks, newest first",
        query={**_PAGING, "before": {"type": "string", "format": "date-time"}},
    ),
    Endpoint("GET", _NAME + "/ticks/{tick_id:id}", get_tick, "One tick"),
    Endpoint("GET", "/runs", list_runs, "Runs, newest first (keyset paging)", query=_RUN_QUERY),
    Endpoint(
        "POST",
        "/runs",
        launch_run,
        "Launch a run",
        mutating=True,
        body={
            "type": "object",
            "required": ["job_name"],
            "properties": {
                "job_name": {"type": "string"},
                "run_config": {"type": "object"},
                "tags": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
    ),
    Endpoint("GET", "/runs/{run_id}", get_run, "One run"),
    Endpoint("POST", "/runs/{run_id}/cancel", cancel_run, "Cancel a run", mutating=True),
    Endpoint(
        "GET",
        "/runs/{run_id}/events",
        run_events,
        "A run's event log",
        query={"after": {"type": "integer"}, "limit": {"type": "integer", "minimum": 1}},
    ),
    Endpoint("GET", "/queue", queue, "Queued runs and what holds each"),
    Endpoint("GET", "/assets", list_assets, "Assets"),
    Endpoint(
        "GET",
        "/assets/{key:path}/materializations",
        asset_materializations,
        "Materializations of an asset",
        query={**_PAGING, "cursor": {"type": "string"}},
    ),
    Endpoint(
        "POST",
        "/events",
        push_event,
        "Push an asset materialization or an external event",
        mutating=True,
        body={
            "type": "object",
            "required": ["type"],
            "properties": {
                "type": {"type": "string", "enum": ["asset_materialization", "external"]},
                "asset_key": {"oneOf": [{"type": "string"}, {"type": "array"}]},
                "partition": {"type": ["string", "null"]},
                "metadata": {"type": "object"},
                "name": {"type": "string"},
                "payload": {"type": "object"},
                "idempotency_key": {"type": "string"},
            },
        },
    ),
    Endpoint("GET", "/events/{storage_id:id}", get_event, "A pushed event by storage id"),
    Endpoint("GET", "/daemon/heartbeats", heartbeats, "Daemon heartbeats"),
    Endpoint("GET", "/daemon/daemons", daemons, "Live daemons and what they hold"),
]


def routes() -> list[Route]:
    by_path: dict[str, list[Endpoint]] = {}
    for endpoint in ENDPOINTS:
        by_path.setdefault(endpoint.path, []).append(endpoint)
    out = []
    for path, endpoints in by_path.items():
        handlers = {e.method: e.handler for e in endpoints}

        async def dispatch(request: Request, handlers: dict[str, Handler] = handlers) -> Any:
            method = "GET" if request.method == "HEAD" else request.method
            return await handlers[method](request)

        out.append(Route(PREFIX + path, dispatch, methods=list(handlers)))
    return out
