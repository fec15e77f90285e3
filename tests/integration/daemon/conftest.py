"""Storage on both backends for the daemon's lease tests: a SQLite file, or a fresh PostgreSQL
database (created and dropped per test; no server means a failure, never a skip)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tocsin.storage.postgres import postgres_engine
from tocsin.storage.sql import SqlStorage
from tocsin.storage.sqlite import sqlite_engine

SERVER = "postgresql://postgres@127.0.0.1:5432"


def admin(sql: str) -> None:
    engine = sa.create_engine(
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        isolation_level="AUTOCOMMIT",
        poolclass=sa.pool.NullPool,
    )
    with engine.connect() as conn:
        conn.exec_driver_sql(sql)
    engine.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    name = f"tocsin_leases_{uuid.uuid4().hex[:12]}"
    admin(f'CREATE DATABASE "{name}"')
    yield f"{SERVER}/{name}"
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def storage(request: pytest.FixtureRequest, tmp_path) -> Iterator[SqlStorage]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        store = SqlStorage(sqlite_engine(tmp_path / "tocsin.db"))
    else:
        store = SqlStorage(postgres_engine(request.getfixturevalue("postgres_url")))
    yield store
    store.dispose()
