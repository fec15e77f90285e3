"""Seed-era path of the run storage classes."""

from __future__ import annotations

from tocsin.instance.components import SqliteRunStorage as SqliteRunStorage
from tocsin.storage.base import RunStore as RunStorage
from tocsin.storage.sql import SqlStorage as SqlRunStorage

__all__ = ["RunStorage", "SqlRunStorage", "SqliteRunStorage"]
