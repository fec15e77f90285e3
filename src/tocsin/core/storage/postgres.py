"""PostgreSQL storage under its seed-era names (one class serves all three)."""

from __future__ import annotations

from tocsin.instance.components import PostgresEventLogStorage as PostgresEventLogStorage
from tocsin.instance.components import PostgresRunStorage as PostgresRunStorage
from tocsin.instance.components import PostgresScheduleStorage as PostgresScheduleStorage
from tocsin.instance.components import PostgresStorage as PostgresStorage

__all__ = [
    "PostgresEventLogStorage",
    "PostgresRunStorage",
    "PostgresScheduleStorage",
    "PostgresStorage",
]
