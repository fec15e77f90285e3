"""Storage: one schema, one interface per store, SQLite and PostgreSQL backends."""

from __future__ import annotations
