"""The server-rendered pages (Jinja2). Forms post here with a CSRF token, then redirect."""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from tocsin.model.events import DagsterEventType
from tocsin.model.run import DagsterRunStatus
from tocsin.web.api import asset_key_of, int_param, runs_filter, time_param
from tocsin.web.app import (
    AUTH_COOKIE,
    CSRF_COOKIE,
    CSRF_FIELD,
    error_page,
    new_csrf_token,
    read_form,
    token_matches,
)
from tocsin.web.serialize import (
    evaluation_json,
    event_json,
    iso,
    log_line_text,
    metadata_json,
)
from tocsin.web.service import SCHEDULE, SENSOR, Service, WebError, utcnow
from tocsin.web.timeline import timeline_svg

_TEMPLATES = os.path.join(os.path.dirname(__file__), "templates")
_env = Environment(
    loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["html"]), cache_size=64
)
STATUS_CLASS = {
    "SUCCESS": "ok",
    "SKIPPED": "skip",
    "FAILURE": "bad",
    "STARTED": "busy",
    "CANCELED": "bad",
    "CANCELING": "busy",
    "QUEUED": "wait",
    "NOT_STARTED": "wait",
    "STARTING": "busy",
}


def _when(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, (int, float)):
        return iso(value) or "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    return str(value)


_env.filters["when"] = _when
_env.filters["log_text"] = lambda lines: "\n".join(log_line_text(x) for x in lines)
_env.filters["status_class"] = lambda s: STATUS_CLASS.get(str(s), "")
_env.filters["tojson_pretty"] = lambda v: json.dumps(v, indent=2, sort_keys=True, default=str)


def service_of(request: Request) -> Service:
    return request.app.state.service


def render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    csrf = request.cookies.get(CSRF_COOKIE) or new_csrf_token()
    context.update(
        request=request,
        csrf_field=CSRF_FIELD,
        csrf_token=csrf,
        needs_login=request.app.state.token is not None
        and not token_matches(request.cookies.get(AUTH_COOKIE), request.app.state.token),
        path=request.url.path,
    )
    html = _env.get_template(template).render(**context)
    response = HTMLResponse(html, status_code=status)
    if request.cookies.get(CSRF_COOKIE) != csrf:
        response.set_cookie(CSRF_COOKIE, csrf, httponly=False, samesite="strict")
    return response


def back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# -- overview and instigators ----------------------------------------------------------------


def _row(service: Service, item: Any, now: datetime, run: Any = False) -> dict[str, Any]:
    return {
        "item": item,
        "tick": service.last_tick(item),
        "run": service.last_run(item) if run is False else run,
        "next_tick": service.next_tick(item, now),
    }


async def overview(request: Request) -> Response:
    service, now = service_of(request), utcnow()
    tab = request.query_params.get("tab", "sensors")
    kind = SCHEDULE if tab == "schedules" else SENSOR
    items = service.instigators(kind)
    last_runs = service.last_runs(items)
    rows = [_row(service, item, now, last_runs.get(item.origin_id)) for item in items]
    return render(request, "overview.html", tab=kind, rows=rows)


def _item(request: Request, kind: str) -> Any:
    return service_of(request).instigator(
        kind, request.path_params["name"], request.query_params.get("location")
    )


def _item_url(item: Any, suffix: str = "") -> str:
    base = f"/{item.kind}s/{item.name}{suffix}"
    return base if item.location is None else f"{base}?{urlencode({'location': item.location})}"


async def _instigator_page(request: Request, kind: str, preview: Any = None) -> Response:
    service, now = service_of(request), utcnow()
    item = _item(request, kind)
    limit = int_param(request, "limit", 50, 1, 500)
    before = time_param(request, "before")
    ticks = service.ticks(item, limit=limit, before=before)
    timeline = service.ticks(item, limit=120)
    return render(
        request,
        "instigator.html",
        item=item,
        row=_row(service, item, now),
        ticks=ticks,
        timeline=Markup(timeline_svg(list(reversed(timeline)), item_url=_item_url(item))),
        next_ticks=service.next_ticks(item, now, 12) if kind == SCHEDULE else [],
        preview=preview,
        next_before=iso(ticks[-1].timestamp) if len(ticks) == limit else None,
        item_url=_item_url(item),
        limit=limit,
    )


async def sensor_page(request: Request) -> Response:
    return await _instigator_page(request, SENSOR)


async def schedule_page(request: Request) -> Response:
    return await _instigator_page(request, SCHEDULE)


async def instigator_action(request: Request) -> Response:
    kind = request.path_params["kind"].rstrip("s")
    action = request.path_params["action"]
    service, now = service_of(request), utcnow()
    item = _item(request, kind)
    form = await read_form(request)
    if action == "start":
        service.set_running(item, True, now)
    elif action == "stop":
        service.set_running(item, False, now)
    elif action == "cursor":
        service.set_cursor(item, form.get("cursor") or None)
    elif action == "clear-cursor":
        service.set_cursor(item, None)
    elif action == "tick":
        service.tick_now(item, now)
    elif action == "preview":
        evaluation = service.preview(item, form.get("cursor") or None, now)
        return await _instigator_page(request, kind, preview=evaluation_json(evaluation))
    else:
        raise WebError(404, f"Unknown action {action!r}.")
    target = form.get("next")
    return back(
        target
        if target and target.startswith("/") and not target.startswith("//")
        else _item_url(item)
    )


# -- runs ------------------------------------------------------------------------------------


async def runs_page(request: Request) -> Response:
    limit = int_param(request, "limit", 50, 1, 500)
    cursor = request.query_params.get("cursor") or None
    records, next_cursor = service_of(request).runs_page(runs_filter(request), limit, cursor)
    params = {k: v for k, v in request.query_params.multi_items() if k != "cursor"}
    next_url = None
    if next_cursor is not None:
        next_url = "/runs?" + urlencode([*params.items(), ("cursor", next_cursor)])
    return render(
        request,
        "runs.html",
        records=records,
        next_url=next_url,
        filters=dict(request.query_params),
        statuses=[s.value for s in DagsterRunStatus],
    )


def step_durations(entries: list[Any]) -> list[dict[str, Any]]:
    steps: dict[str, dict[str, Any]] = {}
    for entry in entries:
        event = entry.dagster_event
        if event is None or entry.step_key is None:
            continue
        row = steps.setdefault(entry.step_key, {"step": entry.step_key, "status": "STARTED"})
        kind = event.event_type_value
        if kind == DagsterEventType.STEP_START.value:
            row["start"] = entry.timestamp
        elif kind in (DagsterEventType.STEP_SUCCESS.value, DagsterEventType.STEP_FAILURE.value):
            row["end"] = entry.timestamp
            row["status"] = "SUCCESS" if kind == DagsterEventType.STEP_SUCCESS.value else "FAILURE"
    for row in steps.values():
        if "start" in row and "end" in row:
            row["duration"] = round(row["end"] - row["start"], 3)
    return list(steps.values())


def compute_logs(instance: Any, run_id: str, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    manager = getattr(instance, "compute_log_manager", None)
    read = getattr(manager, "read", None)
    logs = []
    for row in steps:
        for io_type in ("stdout", "stderr"):
            try:
                text, _ = read(run_id, row["step"], io_type) if read else ("", 0)
            except (OSError, ValueError):
                text = ""
            if text:
                logs.append({"step": row["step"], "io": io_type, "text": text[-20000:]})
    return logs


async def run_page(request: Request) -> Response:
    service = service_of(request)
    run = service.run(request.path_params["run_id"])
    record = service.instance.get_run_record_by_id(run.run_id)
    entries = service.instance.all_logs(run.run_id)
    steps = step_durations(entries)
    return render(
        request,
        "run.html",
        run=run,
        record=record,
        events=[event_json(e) for e in entries[-2000:]],
        steps=steps,
        logs=compute_logs(service.instance, run.run_id, steps),
    )


async def cancel_run(request: Request) -> Response:
    run = service_of(request).cancel_run(request.path_params["run_id"])
    return back(f"/runs/{run.run_id}")


async def queue_page(request: Request) -> Response:
    return render(request, "queue.html", rows=service_of(request).queue())


# -- assets, daemon, login -------------------------------------------------------------------


async def assets_page(request: Request) -> Response:
    instance = service_of(request).instance
    rows = [
        {"key": key, "latest": instance.get_latest_materialization_event(key)}
        for key in instance.get_asset_keys()
    ]
    return render(request, "assets.html", rows=rows)


async def asset_page(request: Request) -> Response:
    instance = service_of(request).instance
    key = asset_key_of(request)
    result = instance.fetch_materializations(key, 200)
    rows = [
        {
            "storage_id": r.storage_id,
            "run_id": r.run_id,
            "timestamp": r.timestamp,
            "partition": r.partition_key,
            "metadata": metadata_json(
                r.asset_materialization.metadata if r.asset_materialization else {}
            ),
        }
        for r in result.records
    ]
    return render(request, "asset.html", key=key, rows=rows, chart=Markup(_bars(rows)))


def _bars(rows: list[dict[str, Any]]) -> str:
    """Materializations over time: one tick mark per materialization on a time axis."""
    if not rows:
        return ""
    times = [r["timestamp"] for r in rows]
    lo, hi = min(times), max(times)
    span = (hi - lo) or 1.0
    marks = "".join(
        f'<rect x="{10 + 780 * (t - lo) / span:.1f}" y="8" width="3" height="24" class="ok">'
        f"<title>{iso(t)}</title></rect>"
        for t in times
    )
    return f'<svg class="chart" viewBox="0 0 800 40" role="img">{marks}</svg>'


async def daemon_page(request: Request) -> Response:
    now = utcnow()
    beats = service_of(request).instance.get_daemon_heartbeats()
    rows = [
        {"type": kind, "beat": beat, "age": (now - beat.timestamp).total_seconds()}
        for kind, beat in sorted(beats.items())
    ]
    from tocsin.daemon.presence import read_daemons

    daemons = read_daemons(service_of(request).instance, now)
    return render(request, "daemon.html", rows=rows, daemons=daemons, now=now)


async def login(request: Request) -> Response:
    token = request.app.state.token
    if request.method == "GET":
        return render(request, "login.html", error=None)
    form = await read_form(request)
    if token is None:
        return back("/")
    if not token_matches(form.get("token"), token):
        return render(request, "login.html", status=401, error="That token is not this server's.")
    response = back("/")
    response.set_cookie(AUTH_COOKIE, token, httponly=True, samesite="strict")
    return response


async def not_found_page(request: Request) -> Response:
    return error_page(404, f"Nothing at {request.url.path}.")


def routes() -> list[Route]:
    return [
        Route("/", overview),
        Route("/sensors/{name}", sensor_page),
        Route("/schedules/{name}", schedule_page),
        Route("/{kind:kind}/{name}/{action}", instigator_action, methods=["POST"]),
        Route("/runs", runs_page),
        Route("/runs/{run_id}", run_page),
        Route("/runs/{run_id}/cancel", cancel_run, methods=["POST"]),
        Route("/queue", queue_page),
        Route("/assets", assets_page),
        Route("/assets/{key:path}", asset_page),
        Route("/daemon", daemon_page),
        Route("/login", login, methods=["GET", "POST"]),
    ]
