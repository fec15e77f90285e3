from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from tocsin import DagsterInstance, Definitions, RunRequest, job, op, sensor
from tocsin.web.app import create_app
from tocsin.workspace.location import InProcessLocation

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _admin(sql: str) -> None:
    engine = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        conn.exec_driver_sql(sql)
    engine.dispose()


@op
def pg_step() -> int:
    return 1


@job
def pg_job() -> None:
    pg_step()


@sensor(job=pg_job)
def pg_sensor(context: Any) -> Any:
    return [RunRequest(run_key="only")]


@pytest.fixture
def pg_instance(tmp_path: Any) -> Iterator[DagsterInstance]:
    name = f"tocsin_web_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}"')
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    instance = DagsterInstance.local_temp(
        str(tmp_path), overrides={"storage": {"postgres": {"postgres_url": url}}}
    )
    try:
        yield instance
    finally:
        instance.dispose()
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
def test_api_on_postgres(pg_instance: DagsterInstance) -> None:
    location = InProcessLocation("pg", Definitions(jobs=[pg_job], sensors=[pg_sensor]))
    with TestClient(create_app(pg_instance, [location])) as client:
        json_headers = {"content-type": "application/json"}
        tick = client.post("/api/v1/sensors/pg_sensor/tick", headers=json_headers).json()["tick"]
        assert tick["status"] == "SUCCESS" and len(tick["run_ids"]) == 1
        again = client.post("/api/v1/sensors/pg_sensor/tick", headers=json_headers).json()
        assert again["tick"]["status"] == "SKIPPED"
        for _ in range(4):
            pg_instance.create_run(job_name="pg_job")
        page = client.get("/api/v1/runs?limit=2").json()
        second = client.get(f"/api/v1/runs?limit=2&cursor={page['next_cursor']}").json()
        third = client.get(f"/api/v1/runs?limit=2&cursor={second['next_cursor']}").json()
        ids = [r["run_id"] for p in (page, second, third) for r in p["items"]]
        assert len(ids) == len(set(ids)) == 5 and third["next_cursor"] is None
        body = {"type": "asset_materialization", "asset_key": "pg/a", "idempotency_key": "k"}
        first = client.post("/api/v1/events", json=body).json()
        assert client.post("/api/v1/events", json=body).json()["duplicate"] is True
        assert client.get(f"/api/v1/events/{first['storage_id']}").json()["asset_key"] == "pg/a"
        assert client.get("/sensors/pg_sensor").status_code == 200
        assert client.get("/runs").status_code == 200
