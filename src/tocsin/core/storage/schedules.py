"""Seed-era path of the schedule (tick) storage classes."""

from __future__ import annotations

from tocsin.instance.components import SqliteScheduleStorage as SqliteScheduleStorage
from tocsin.storage.base import TickStore as ScheduleStorage
from tocsin.storage.sql import SqlStorage as SqlScheduleStorage

__all__ = ["ScheduleStorage", "SqlScheduleStorage", "SqliteScheduleStorage"]
