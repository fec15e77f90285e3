from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from tocsin.storage.base import RunStore, run_instigator_id
from tocsin.storage.postgres import normalize_url, postgres_url
from tocsin.storage.schema import UtcDateTime
from tocsin.storage.sqlite import sqlite_engine


def test_utc_datetime_round_trips_any_zone_to_utc(tmp_path):
    engine = sqlite_engine(tmp_path / "t.db")
    table = sa.Table("t", sa.MetaData(), sa.Column("at", UtcDateTime))
    table.create(engine)
    plus_two = timezone(timedelta(hours=2))
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"at": datetime(2024, 1, 1, 12, tzinfo=plus_two)}])
        conn.execute(table.insert(), [{"at": datetime(2024, 1, 1, 9)}])  # naive means UTC
    with engine.connect() as conn:
        values = sorted(conn.execute(sa.select(table.c.at)).scalars())
    assert values == [
        datetime(2024, 1, 1, 9, tzinfo=UTC),
        datetime(2024, 1, 1, 10, tzinfo=UTC),
    ]
    engine.dispose()


def test_sqlite_engine_is_tuned(tmp_path):
    engine = sqlite_engine(tmp_path / "sub" / "t.db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_run_instigator_id_from_tags():
    assert run_instigator_id({}) is None
    assert run_instigator_id({"tocsin/instigator": "x"}) == "x"
    assert run_instigator_id({"dagster/run_key": "k", "tocsin/instigator": "loc:s"}) == "loc:s"
    assert run_instigator_id({"dagster/run_key": "k", "dagster/sensor_name": "s"}) == "sensor:s"
    assert run_instigator_id({"dagster/run_key": "k", "dagster/schedule_name": "n"}) == "schedule:n"
    assert run_instigator_id({"dagster/run_key": "k"}) == ""


def test_postgres_urls():
    url = postgres_url(
        hostname="h", username="u@x", password="p/w", db_name="d", port=5433, params={"a": "b"}
    )
    assert url == "postgresql+psycopg://u%40x:p%2Fw@h:5433/d?a=b"
    assert normalize_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalize_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"


def test_a_store_missing_a_method_fails_when_constructed():
    class Partial(RunStore):
        def add_run(self, run):
            return run

    with pytest.raises(TypeError, match="abstract"):
        Partial()  # type: ignore[abstract]


def test_unknown_dialect_is_refused():
    from tocsin.errors import StorageError
    from tocsin.storage.sql import SqlStorage

    engine = SimpleNamespace(dialect=SimpleNamespace(name="mysql"), url="mysql://u@h/d")
    with pytest.raises(StorageError, match="sqlite or postgresql, not 'mysql'"):
        SqlStorage(engine, check_schema=False)  # type: ignore[arg-type]
