from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tocsin.storage.postgres import postgres_engine
from tocsin.storage.sql import SqlStorage
from tocsin.storage.sqlite import sqlite_engine

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _admin(sql: str) -> None:
    engine = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        conn.exec_driver_sql(sql)
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A database at head that each test's database copies (faster than building the schema)."""
    name = f"tocsin_tpl_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}"')
    engine = postgres_engine(f"postgresql://postgres@127.0.0.1:5432/{name}")
    SqlStorage(engine)
    engine.dispose()
    # No connections, so autovacuum never holds it while a test database is copied from it.
    _admin(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
    yield name
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards. No server means a failure."""
    name = f"tocsin_test_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}"')
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _postgres_storage(template: str) -> Iterator[SqlStorage]:
    name = f"tocsin_test_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    storage = SqlStorage(postgres_engine(f"postgresql://postgres@127.0.0.1:5432/{name}"))
    try:
        yield storage
    finally:
        storage.dispose()
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def storage(request: pytest.FixtureRequest, tmp_path) -> Iterator[SqlStorage]:  # type: ignore[no-untyped-def]
    """The storage under test, on both backends."""
    if request.param == "sqlite":
        store = SqlStorage(sqlite_engine(tmp_path / "tocsin.db"))
        yield store
        store.dispose()
    else:
        yield from _postgres_storage(request.getfixturevalue("postgres_template"))
