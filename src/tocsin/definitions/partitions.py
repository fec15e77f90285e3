"""Partitions: the keys a job or asset can run for.

* ``StaticPartitionsDefinition``: a fixed list of keys.
* ``TimeWindowPartitionsDefinition`` (and the ``Hourly``/``Daily``/``Weekly``/``Monthly``
  shorthands): one key per window between consecutive ticks of a cron schedule, in a time zone.
  Only *closed* windows (whose end has passed) are partitions, shifted by ``end_offset``.
  Window boundaries come from ``tocsin.cron``, so they follow its daylight-saving rules: a
  daily window may last 23 or 25 hours, and an hourly window repeated by a fall-back change
  gets the UTC offset appended to its key (``2024-11-03-01:00-0500``).
* ``DynamicPartitionsDefinition``: keys added at run time, read from a dynamic partitions store
  (usually the instance).

Every method that depends on the current time takes ``current_time``; without it the clock is
read, so tests always pass one.

The definitions live in ``partitions_definition`` (the base class, static and dynamic keys)
and ``time_window_partitions``; every name stays importable from here.
"""

from __future__ import annotations

from tocsin.definitions.partitions_definition import (
    DynamicPartitionsDefinition as DynamicPartitionsDefinition,
)
from tocsin.definitions.partitions_definition import (
    DynamicPartitionsStore as DynamicPartitionsStore,
)
from tocsin.definitions.partitions_definition import PartitionKeyRange as PartitionKeyRange
from tocsin.definitions.partitions_definition import PartitionsDefinition as PartitionsDefinition
from tocsin.definitions.partitions_definition import ScheduleType as ScheduleType
from tocsin.definitions.partitions_definition import (
    StaticPartitionsDefinition as StaticPartitionsDefinition,
)
from tocsin.definitions.partitions_definition import TimeWindow as TimeWindow
from tocsin.definitions.time_window_partitions import (
    DailyPartitionsDefinition as DailyPartitionsDefinition,
)
from tocsin.definitions.time_window_partitions import (
    HourlyPartitionsDefinition as HourlyPartitionsDefinition,
)
from tocsin.definitions.time_window_partitions import (
    MonthlyPartitionsDefinition as MonthlyPartitionsDefinition,
)
from tocsin.definitions.time_window_partitions import (
    TimeWindowPartitionsDefinition as TimeWindowPartitionsDefinition,
)
from tocsin.definitions.time_window_partitions import (
    WeeklyPartitionsDefinition as WeeklyPartitionsDefinition,
)

__all__ = [
    "DailyPartitionsDefinition",
    "DynamicPartitionsDefinition",
    "HourlyPartitionsDefinition",
    "MonthlyPartitionsDefinition",
    "PartitionKeyRange",
    "PartitionsDefinition",
    "ScheduleType",
    "StaticPartitionsDefinition",
    "TimeWindow",
    "TimeWindowPartitionsDefinition",
    "WeeklyPartitionsDefinition",
]
