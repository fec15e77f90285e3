"""``POST /api/v1/events``: events pushed in from outside.

An asset materialization is stored as an ordinary ``ASSET_MATERIALIZATION`` event of a
synthetic run (``push-<uuid>``), so asset sensors see it like any other. An external event is
stored as an ``ENGINE_EVENT`` of the synthetic run ``__external__`` whose entry carries
``extra["external"] = {"name": ..., "payload": ...}``; both are readable by storage id.

An ``idempotency_key`` already seen returns the first push's storage id and stores nothing. The
key lives in the instance's key-value store as ``tocsin/push/<key>``: a push first claims it
with a unique insert (value ``pending <POSIX time> <token>``), then stores the event and replaces
the claim with the event's storage id. Of concurrent pushes with one key exactly one stores its
event; the others wait briefly for its storage id (answering 409 if it does not come). A claim
whose push failed is given back; one left by a process that died mid-push is taken over once it
is ``STALE_CLAIM_SECONDS`` old.

Sensors whose ``wake_on`` lists the event (the asset key as ``a/b``, or the external event's
name) are woken: a wake request is written to the key-value store as
``tocsin/wake/<origin id>`` -> POSIX time (the daemon polls it) and ``app.state.on_wake(names)``
is called with the event names, for a daemon running in the same process.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from tocsin.errors import DagsterError
from tocsin.model.asset_key import AssetKey
from tocsin.model.events import (
    AssetMaterialization,
    DagsterEvent,
    DagsterEventType,
    EngineEventData,
    EventLogEntry,
    StepMaterializationData,
)
from tocsin.web.service import WebError, utcnow

PUSH_JOB = "__tocsin_push__"
EXTERNAL_RUN_ID = "__external__"
MAX_KEY_LENGTH = 400
MAX_PAYLOAD_BYTES = 1_000_000
PENDING = "pending"
WAIT_FOR_CLAIM_SECONDS = 3.0
STALE_CLAIM_SECONDS = 60.0


def _asset_key(raw: Any) -> AssetKey:
    if isinstance(raw, str):
        parts = [p for p in raw.split("/") if p]
    elif isinstance(raw, list) and all(isinstance(p, str) and p for p in raw):
        parts = list(raw)
    else:
        parts = []
    if not parts:
        raise WebError(
            422,
            f"asset_key must be a non-empty string like 'a/b' or a list of non-empty strings "
            f"like ['a', 'b'], got {raw!r}.",
            {"asset_key": raw},
        )
    return AssetKey(parts)


def _optional(body: dict[str, Any], name: str, kind: type, example: str) -> Any:
    value = body.get(name)
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
        raise WebError(
            422,
            f"{name} must be a {kind.__name__} (for example {example}), got {value!r}.",
            {name: value},
        )
    return value


def _check_size(body: dict[str, Any]) -> None:
    try:
        size = len(json.dumps(body))
    except (TypeError, ValueError):
        size = 0
    if size > MAX_PAYLOAD_BYTES:
        raise WebError(413, f"The event is {size} bytes; at most {MAX_PAYLOAD_BYTES} are taken.")


def materialization_entry(body: dict[str, Any]) -> tuple[EventLogEntry, str]:
    key = _asset_key(body.get("asset_key"))
    partition = _optional(body, "partition", str, '"2024-05-01"')
    metadata = _optional(body, "metadata", dict, '{"rows": 10}') or {}
    try:
        materialization = AssetMaterialization(key, metadata=metadata, partition=partition)
    except (DagsterError, TypeError, ValueError) as exc:
        raise WebError(422, f"metadata is not valid: {exc}", {"metadata": metadata}) from None
    event = DagsterEvent(
        event_type_value=DagsterEventType.ASSET_MATERIALIZATION.value,
        job_name=PUSH_JOB,
        message=f"Materialization of {key.to_user_string()} pushed over HTTP.",
        event_specific_data=StepMaterializationData(materialization),
    )
    entry = EventLogEntry(run_id=f"push-{uuid.uuid4()}", job_name=PUSH_JOB, dagster_event=event)
    return entry, key.to_user_string()


def external_entry(body: dict[str, Any]) -> tuple[EventLogEntry, str]:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise WebError(
            422, f"An external event needs a non-empty string 'name', got {name!r}.", {"name": name}
        )
    payload = _optional(body, "payload", dict, '{"path": "/data/x.csv"}') or {}
    event = DagsterEvent(
        event_type_value=DagsterEventType.ENGINE_EVENT.value,
        job_name=PUSH_JOB,
        message=f"External event {name!r} pushed over HTTP.",
        event_specific_data=EngineEventData(),
    )
    entry = EventLogEntry(
        run_id=EXTERNAL_RUN_ID,
        job_name=PUSH_JOB,
        dagster_event=event,
        extra={"external": {"name": name, "payload": payload}},
    )
    return entry, name


_BUILDERS = {"asset_materialization": materialization_entry, "external": external_entry}


def push(app: Any, body: dict[str, Any]) -> dict[str, Any]:
    """Store one pushed event (or recognise a repeat); wake the sensors waiting for it."""
    kind = body.get("type")
    builder = _BUILDERS.get(kind) if isinstance(kind, str) else None
    if builder is None:
        raise WebError(
            422,
            f"type must be 'asset_materialization' or 'external', got {kind!r}.",
            {"type": kind},
        )
    key = _optional(body, "idempotency_key", str, '"upload-2024-05-01"')
    if key is not None and not 0 < len(key) <= MAX_KEY_LENGTH:
        raise WebError(
            422,
            f"idempotency_key must be 1 to {MAX_KEY_LENGTH} characters long.",
            {"length": len(key)},
        )
    _check_size(body)
    entry, name = builder(body)
    service = app.state.service
    claim = None
    if key is not None:
        claim, seen = _claim(service, key)
        if seen is not None:
            return {"storage_id": seen, "duplicate": True, "woken": []}
    try:
        stored = service.instance.handle_new_event(entry)
    except BaseException:
        if claim is not None:
            service.release_idempotency_key(key, claim)
        raise
    if key is not None:
        service.remember_idempotency_key(key, stored.storage_id)
    woken = service.wake([name], utcnow())
    app.state.on_wake([name])
    return {"storage_id": stored.storage_id, "duplicate": False, "woken": woken}


def _claim(service: Any, key: str) -> tuple[str | None, int | None]:
    """Claim ``key`` for this push: (the claim, None), or (None, the first push's storage id)."""
    claim = f"{PENDING} {time.time()!r} {uuid.uuid4().hex}"
    waited_since = time.monotonic()
    while True:
        held = service.claim_idempotency_key(key, claim)
        if held is None:
            return claim, None
        if not held.startswith(PENDING):
            return None, int(held)
        age = _claim_age(held)
        if age > STALE_CLAIM_SECONDS:
            # Its push died between claiming and storing: take the key over (the loop claims).
            service.release_idempotency_key(key, held)
            continue
        if age > WAIT_FOR_CLAIM_SECONDS or time.monotonic() - waited_since > WAIT_FOR_CLAIM_SECONDS:
            raise WebError(
                409,
                f"A push with idempotency_key {key!r} is being stored right now (or its process "
                f"stopped mid-push {age:.0f} s ago; the key is freed {STALE_CLAIM_SECONDS:.0f} s "
                "after the claim). Retry later with the same key to get its storage id.",
                {"idempotency_key": key},
            )
        time.sleep(0.02)


def _claim_age(held: str) -> float:
    try:
        return max(time.time() - float(held.split()[1]), 0.0)
    except (IndexError, ValueError):
        return STALE_CLAIM_SECONDS + 1.0
