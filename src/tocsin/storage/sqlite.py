"""SQLite engines: WAL, a busy timeout, foreign keys, and ``BEGIN IMMEDIATE`` for writers.

Also the per-process template database that makes an ephemeral instance cheap: the schema is
built once, and each new database is a file copy of it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

#: The file a SQLite-backed instance keeps everything in, under its storage base dir.
DB_FILENAME = "tocsin.db"
BUSY_TIMEOUT_MS = 30_000

_template_lock = threading.Lock()
_template: Path | None = None


def _on_connect(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" hook below emit BEGIN, so writers can ask for IMMEDIATE.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _on_begin(conn: sa.Connection) -> None:
    # A writer takes the write lock up front: a deferred transaction that later upgrades to
    # writing fails at once under WAL instead of waiting for the busy timeout.
    write = conn.get_execution_options().get("tocsin_write")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def sqlite_url(path: str | os.PathLike[str]) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def sqlite_engine(url_or_path: str | os.PathLike[str]) -> sa.Engine:
    """An engine on a SQLite file (a path or a ``sqlite:///`` URL), tuned for tocsin."""
    url = str(url_or_path)
    if not url.startswith("sqlite:"):
        Path(url).parent.mkdir(parents=True, exist_ok=True)
        url = sqlite_url(url)
    engine = sa.create_engine(
        url, connect_args={"check_same_thread": False}, insertmanyvalues_page_size=2000
    )
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    return engine


def template_database() -> Path:
    """A SQLite file holding the empty schema at head, built once per process."""
    global _template
    with _template_lock:
        if _template is None or not _template.exists():
            from tocsin.storage.migrate import ensure_schema

            directory = Path(tempfile.mkdtemp(prefix="tocsin-template-"))
            path = directory / DB_FILENAME
            engine = sqlite_engine(path)
            ensure_schema(engine)
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            engine.dispose()
            _template = path
        return _template


def copy_template(path: str | os.PathLike[str]) -> None:
    """Put an empty tocsin database at ``path`` by copying the template."""
    shutil.copyfile(template_database(), path)
