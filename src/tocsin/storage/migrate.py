"""Schema revisions: check a database on open, create a fresh one at head, migrate an old one.

Alembic runs programmatically from the tree in ``storage/migrations/`` (shipped as package
data); no ``alembic.ini`` is needed.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from tocsin.errors import SchemaVersionError
from tocsin.storage.schema import HEAD_REVISION, metadata

_MIGRATIONS = Path(__file__).parent / "migrations"
_VERSION_TABLE = "alembic_version"


def current_revision(conn: sa.Connection) -> str | None:
    """The revision the database is at, or None if it has no tocsin schema at all."""
    if not sa.inspect(conn).has_table(_VERSION_TABLE):
        return None
    return conn.execute(sa.text(f"SELECT version_num FROM {_VERSION_TABLE}")).scalar()


def _known_revisions() -> list[str]:
    return sorted(p.name.split("_", 1)[0] for p in (_MIGRATIONS / "versions").glob("[0-9]*.py"))


def check_revision(revision: str | None) -> None:
    """Raise ``SchemaVersionError`` unless ``revision`` is this tocsin's head."""
    if revision == HEAD_REVISION:
        return
    if revision is None:
        raise SchemaVersionError(
            f"database has tables but no schema revision, this tocsin needs {HEAD_REVISION}: "
            "point tocsin at an empty database or one made by tocsin"
        )
    if revision in _known_revisions():
        raise SchemaVersionError(
            f"database is at revision {revision}, this tocsin needs {HEAD_REVISION}: "
            "run 'tocsin instance migrate'"
        )
    raise SchemaVersionError(
        f"database is at revision {revision}, this tocsin needs {HEAD_REVISION}: the database "
        "was written by a newer tocsin; upgrade tocsin (pip install -U tocsin)"
    )


def ensure_schema(engine: sa.Engine) -> None:
    """Create the schema at head in an empty database; check the revision of any other.

    Raises:
        SchemaVersionError: the database is at another revision.
    """
    with engine.begin() as conn:
        revision = current_revision(conn)
        if revision is None and not sa.inspect(conn).get_table_names():
            create_at_head(conn)
            return
    check_revision(revision)


def create_at_head(conn: sa.Connection) -> None:
    """Create every table and stamp the database at head (an empty database only)."""
    metadata.create_all(conn)
    conn.execute(
        sa.text(
            f"CREATE TABLE {_VERSION_TABLE} (version_num VARCHAR(32) NOT NULL, "
            "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
        )
    )
    conn.execute(
        sa.text(f"INSERT INTO {_VERSION_TABLE} (version_num) VALUES (:v)"), {"v": HEAD_REVISION}
    )


def _alembic_config(conn: sa.Connection):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def upgrade(engine: sa.Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Migrate the database to ``revision``; return (revision before, revision after)."""
    from alembic import command

    with engine.begin() as conn:
        before = current_revision(conn)
        command.upgrade(_alembic_config(conn), revision)
        after = current_revision(conn)
    return before, after


def downgrade(engine: sa.Engine, revision: str) -> None:
    """Migrate the database back to ``revision`` (``"base"`` drops every table)."""
    from alembic import command

    with engine.begin() as conn:
        command.downgrade(_alembic_config(conn), revision)
