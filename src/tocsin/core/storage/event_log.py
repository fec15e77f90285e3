"""Seed-era path of the event log storage classes."""

from __future__ import annotations

from tocsin.instance.components import (
    ConsolidatedSqliteEventLogStorage as ConsolidatedSqliteEventLogStorage,
)
from tocsin.instance.components import SqliteEventLogStorage as SqliteEventLogStorage
from tocsin.storage.base import EventLog as EventLogStorage
from tocsin.storage.sql import SqlStorage as SqlEventLogStorage

__all__ = [
    "ConsolidatedSqliteEventLogStorage",
    "EventLogStorage",
    "SqlEventLogStorage",
    "SqliteEventLogStorage",
]
