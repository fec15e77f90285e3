from __future__ import annotations

import pytest
import sqlalchemy as sa

from tocsin.errors import SchemaVersionError
from tocsin.instance.instance import DagsterInstance
from tocsin.storage import migrate
from tocsin.storage.postgres import postgres_engine
from tocsin.storage.schema import HEAD_REVISION, metadata
from tocsin.storage.sql import SqlStorage
from tocsin.storage.sqlite import sqlite_engine


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_engine(request, tmp_path):
    """An engine on an empty database."""
    if request.param == "sqlite":
        engine = sqlite_engine(tmp_path / "empty.db")
    else:
        engine = postgres_engine(request.getfixturevalue("postgres_url"))
    yield engine
    engine.dispose()


def _tables(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        return set(sa.inspect(conn).get_table_names())


def _stamp(engine: sa.Engine, revision: str) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": revision})


def test_migrating_an_empty_database_reaches_head(empty_engine):
    before, after = migrate.upgrade(empty_engine)
    assert (before, after) == (None, HEAD_REVISION)
    assert _tables(empty_engine) == set(metadata.tables) | {"alembic_version"}
    SqlStorage(empty_engine).add_dynamic_partitions("p", ["a"])  # opens without complaint
    assert migrate.upgrade(empty_engine) == (HEAD_REVISION, HEAD_REVISION)


def test_migration_builds_every_column_index_and_constraint_of_the_schema(empty_engine):
    migrate.upgrade(empty_engine)
    with empty_engine.connect() as conn:
        inspector = sa.inspect(conn)
        for name, table in metadata.tables.items():
            assert [c["name"] for c in inspector.get_columns(name)] == list(table.columns.keys())
            indexes = {i["name"] for i in inspector.get_indexes(name)}
            assert {i.name for i in table.indexes} <= indexes, name
            uniques = {u["name"] for u in inspector.get_unique_constraints(name)}
            declared = {c.name for c in table.constraints if isinstance(c, sa.UniqueConstraint)}
            assert {d for d in declared if d} <= uniques, name


def test_downgrade_to_base_drops_everything(empty_engine):
    migrate.upgrade(empty_engine)
    migrate.downgrade(empty_engine, "base")
    assert _tables(empty_engine) <= {"alembic_version"}


def test_opening_a_newer_database_says_to_upgrade_tocsin(empty_engine):
    SqlStorage(empty_engine)
    _stamp(empty_engine, "9999")
    with pytest.raises(
        SchemaVersionError, match=r"revision 9999, this tocsin needs .*upgrade tocsin"
    ):
        SqlStorage(empty_engine)


def test_opening_an_older_database_says_to_migrate(empty_engine, monkeypatch):
    SqlStorage(empty_engine)
    monkeypatch.setattr(migrate, "HEAD_REVISION", "0002")
    expected = "database is at revision 0001, this tocsin needs 0002: run 'tocsin instance migrate'"
    with pytest.raises(SchemaVersionError, match=expected):
        SqlStorage(empty_engine)


def test_a_database_of_someone_else_is_refused(empty_engine):
    with empty_engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE unrelated (x INTEGER)"))
    with pytest.raises(SchemaVersionError, match="no schema revision"):
        SqlStorage(empty_engine)


@pytest.mark.postgres
def test_instance_migrate_brings_a_home_to_head(tmp_path, postgres_url):
    (tmp_path / "tocsin.yaml").write_text(
        f"storage:\n  postgres:\n    postgres_url: {postgres_url}\n"
    )
    [result] = DagsterInstance.migrate(tmp_path)
    assert (result.before, result.after) == (None, HEAD_REVISION)
    assert "postgres" in result.url
    with DagsterInstance.from_config(tmp_path) as instance:
        assert instance.get_runs() == []
    sqlite_home = tmp_path / "lite"
    sqlite_home.mkdir()
    [lite] = DagsterInstance.migrate(sqlite_home)
    assert lite.after == HEAD_REVISION and lite.url.endswith("tocsin.db")
