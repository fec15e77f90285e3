"""The Alembic migration tree shared by SQLite and PostgreSQL (see ``storage/migrate.py``)."""

from __future__ import annotations
