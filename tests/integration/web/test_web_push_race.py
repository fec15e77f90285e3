"""Two web servers (two instances on one database) get the same pushed event at once, with one
idempotency key: exactly one event is stored and both answers carry its storage id."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from tocsin import DagsterInstance
from tocsin.model.asset_key import AssetKey
from tocsin.web.app import create_app
from tocsin.web.push import push

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _admin(sql: str) -> None:
    engine = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        conn.exec_driver_sql(sql)
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def two_instances(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[list[Any]]:
    """Two instances, each with its own engine, on one database."""
    overrides = None
    name = None
    if request.param == "postgres":
        name = f"tocsin_push_{uuid.uuid4().hex[:12]}"
        _admin(f'CREATE DATABASE "{name}"')
        url = f"postgresql://postgres@127.0.0.1:5432/{name}"
        overrides = {"storage": {"postgres": {"postgres_url": url}}}
    first = DagsterInstance.local_temp(str(tmp_path), overrides=overrides)
    second = DagsterInstance.from_config(str(tmp_path))
    try:
        yield [first, second]
    finally:
        first.dispose()
        second.dispose()
        if name is not None:
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _slow_store(instance: Any) -> None:
    """Widen the gap between the idempotency check and the stored event, as a busy server would."""
    store = instance.handle_new_event

    def slow(entry: Any) -> Any:
        time.sleep(0.3)
        return store(entry)

    instance.handle_new_event = slow


def test_concurrent_pushes_with_one_key_store_one_event(two_instances: list[Any]) -> None:
    apps = [create_app(instance) for instance in two_instances]
    for instance in two_instances:
        _slow_store(instance)
    body = {"type": "asset_materialization", "asset_key": "race/a", "idempotency_key": "once"}
    barrier = threading.Barrier(len(apps))
    answers: dict[int, dict[str, Any]] = {}
    errors: list[BaseException] = []

    def go(index: int) -> None:
        barrier.wait()
        try:
            answers[index] = push(apps[index], dict(body))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(apps))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(a["duplicate"] for a in answers.values()) == [False, True]
    assert answers[0]["storage_id"] == answers[1]["storage_id"]
    records = two_instances[0].fetch_materializations(AssetKey(["race", "a"]), 10).records
    assert [r.storage_id for r in records] == [answers[0]["storage_id"]]
    again = push(apps[1], dict(body))
    assert again == {"storage_id": answers[0]["storage_id"], "duplicate": True, "woken": []}
