"""How a pushed event's idempotency key is claimed: a failed push gives the key back, a claim
held by a push in flight answers 409 with what to do, and a claim left by a dead process is
taken over once stale."""

from __future__ import annotations

import time
from typing import Any

import pytest
from starlette.testclient import TestClient

from tocsin.model.asset_key import AssetKey
from tocsin.web import push as push_module
from tocsin.web.push import push
from tocsin.web.service import IDEMPOTENCY_KEY_PREFIX

BODY = {"type": "asset_materialization", "asset_key": "claims/a", "idempotency_key": "k1"}


def stored(instance: Any) -> list[int]:
    records = instance.fetch_materializations(AssetKey(["claims", "a"]), 10).records
    return [r.storage_id for r in records]


def test_a_push_that_fails_to_store_gives_its_key_back(app: Any, instance: Any) -> None:
    real = instance.handle_new_event

    def broken(entry: Any) -> Any:
        raise OSError("the disk is full")

    instance.handle_new_event = broken
    with pytest.raises(OSError, match="disk is full"):
        push(app, dict(BODY))
    assert instance.misc.get_kv([IDEMPOTENCY_KEY_PREFIX + "k1"]) == {}
    instance.handle_new_event = real
    first = push(app, dict(BODY))
    assert first["duplicate"] is False and stored(instance) == [first["storage_id"]]


def test_a_claim_in_flight_answers_409_and_stores_nothing(
    client: TestClient, instance: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(push_module, "WAIT_FOR_CLAIM_SECONDS", 0.2)
    claim = f"pending {time.time()!r} other-server"
    instance.misc.set_kv({IDEMPOTENCY_KEY_PREFIX + "k1": claim})
    response = client.post("/api/v1/events", json=BODY)
    assert response.status_code == 409, response.text
    assert "'k1' is being stored right now" in response.json()["error"]
    assert "Retry later with the same key" in response.json()["error"]
    assert stored(instance) == []
    assert instance.misc.get_kv([IDEMPOTENCY_KEY_PREFIX + "k1"]) == {
        IDEMPOTENCY_KEY_PREFIX + "k1": claim
    }
    # The other server finishes: the repeat now gets its storage id.
    instance.misc.set_kv({IDEMPOTENCY_KEY_PREFIX + "k1": "12345"})
    again = client.post("/api/v1/events", json=BODY).json()
    assert again == {"storage_id": 12345, "duplicate": True, "woken": []}


def test_a_stale_claim_is_taken_over(app: Any, instance: Any) -> None:
    old = time.time() - push_module.STALE_CLAIM_SECONDS - 5
    instance.misc.set_kv({IDEMPOTENCY_KEY_PREFIX + "k1": f"pending {old!r} dead-server"})
    first = push(app, dict(BODY))
    assert first["duplicate"] is False and stored(instance) == [first["storage_id"]]
    assert instance.misc.get_kv([IDEMPOTENCY_KEY_PREFIX + "k1"]) == {
        IDEMPOTENCY_KEY_PREFIX + "k1": str(first["storage_id"])
    }
    assert push(app, dict(BODY))["duplicate"] is True
    assert stored(instance) == [first["storage_id"]]
