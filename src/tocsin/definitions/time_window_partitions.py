"""Time-window partitions: one key per window between consecutive ticks of a cron schedule.

``TimeWindowPartitionsDefinition`` and its ``Hourly``/``Daily``/``Weekly``/``Monthly``
shorthands. Only closed windows (whose end has passed) are partitions, shifted by
``end_offset``; window boundaries follow ``tocsin.cron``'s daylight-saving rules.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from tocsin.cron import CronParseError, CronSchedule, get_timezone
from tocsin.definitions.partitions_definition import (
    DynamicPartitionsStore,
    PartitionKeyRange,
    PartitionsDefinition,
    ScheduleType,
    TimeWindow,
    _now,
)
from tocsin.errors import (
    DagsterInvalidDefinitionError,
    DagsterInvalidInvocationError,
    DagsterUnknownPartitionError,
)

_DEFAULT_FMT = {
    ScheduleType.HOURLY: "%Y-%m-%d-%H:%M",
    ScheduleType.DAILY: "%Y-%m-%d",
    ScheduleType.WEEKLY: "%Y-%m-%d",
    ScheduleType.MONTHLY: "%Y-%m-%d",
}


def _check_offset(name: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise DagsterInvalidDefinitionError(
            f"{name} must be a whole number from {lo} to {hi}, got {value!r}."
        )
    return value


def _cron_for(
    schedule_type: ScheduleType, minute: int | None, hour: int | None, day: int | None
) -> str:
    minute = _check_offset("minute_offset", minute or 0, 0, 59)
    if schedule_type is ScheduleType.HOURLY:
        return f"{minute} * * * *"
    hour = _check_offset("hour_offset", hour or 0, 0, 23)
    if schedule_type is ScheduleType.DAILY:
        return f"{minute} {hour} * * *"
    if schedule_type is ScheduleType.WEEKLY:
        return f"{minute} {hour} * * {_check_offset('day_offset', day or 0, 0, 6)}"
    day = 1 if day is None else day
    return f"{minute} {hour} {_check_offset('day_offset', day, 1, 31)} * *"


class TimeWindowPartitionsDefinition(PartitionsDefinition):
    """One partition per window between consecutive ticks of a cron schedule.

    Args:
        start: the first window starts at the first tick at or after this (a datetime, or a
            string in ``fmt``; naive values are read in ``timezone``).
        fmt: the ``strftime`` format of keys (the window's start, in ``timezone``).
        end: if given, only windows that end at or before this are partitions.
        schedule_type: ``ScheduleType`` cadence; give this or ``cron_schedule``.
        timezone: IANA zone of the windows and keys (default UTC).
        end_offset: extra windows past the last closed one (negative: fewer).
        minute_offset, hour_offset, day_offset: where windows start, with ``schedule_type``.
        cron_schedule: the window boundaries, instead of ``schedule_type``.

    Raises:
        DagsterInvalidDefinitionError: a bad cron, zone, offset, start or end.
    """

    _label = "TimeWindowPartitionsDefinition"

    def __init__(
        self,
        start: _dt.datetime | _dt.date | str,
        fmt: str,
        end: _dt.datetime | _dt.date | str | None = None,
        schedule_type: ScheduleType | None = None,
        cron_schedule: str | None = None,
        timezone: str | None = None,
        end_offset: int = 0,
        minute_offset: int | None = None,
        hour_offset: int | None = None,
        day_offset: int | None = None,
    ):
        if not isinstance(fmt, str) or not fmt:
            raise DagsterInvalidDefinitionError(
                f"fmt must be a strftime format such as '%Y-%m-%d', got {fmt!r}."
            )
        if (schedule_type is None) == (cron_schedule is None):
            raise DagsterInvalidDefinitionError(
                f"{self._label} needs exactly one of schedule_type and cron_schedule, got "
                f"schedule_type={schedule_type!r}, cron_schedule={cron_schedule!r}."
            )
        if isinstance(end_offset, bool) or not isinstance(end_offset, int):
            raise DagsterInvalidDefinitionError(
                f"end_offset must be a whole number, got {end_offset!r}."
            )
        if cron_schedule is None:  # then schedule_type is set (checked above)
            if not isinstance(schedule_type, ScheduleType):
                raise DagsterInvalidDefinitionError(
                    f"schedule_type must be a ScheduleType, got {schedule_type!r}."
                )
            cron_schedule = _cron_for(schedule_type, minute_offset, hour_offset, day_offset)
        self.timezone = timezone or "UTC"
        try:
            self.schedule = CronSchedule.parse(cron_schedule, timezone=self.timezone)
        except CronParseError as exc:
            raise DagsterInvalidDefinitionError(
                f"Found invalid cron schedule {cron_schedule!r} for a {self._label}: {exc}"
            ) from None
        self.cron_schedule: str = cron_schedule
        self.schedule_type = schedule_type
        self.fmt = fmt
        self.end_offset = end_offset
        self.start = self._to_datetime(start, "start")
        self.end = None if end is None else self._to_datetime(end, "end")
        fields = self.cron_schedule.split()
        self.minute_offset = int(fields[0]) if fields[0].isdigit() else None
        self.hour_offset = int(fields[1]) if fields[1].isdigit() else None
        day_field = fields[4] if fields[2] == "*" else fields[2]
        self.day_offset = int(day_field) if day_field.isdigit() else None
        self._first = self.schedule.next_at_or_after(self.start)

    def _to_datetime(self, value: Any, what: str) -> _dt.datetime:
        tz = get_timezone(self.timezone)
        if isinstance(value, _dt.datetime):
            return value.replace(tzinfo=tz) if value.tzinfo is None else value.astimezone(tz)
        if isinstance(value, _dt.date):
            return _dt.datetime(value.year, value.month, value.day, tzinfo=tz)
        if isinstance(value, str):
            for parse in (lambda s: _dt.datetime.strptime(s, self.fmt), _dt.datetime.fromisoformat):
                try:
                    return self._to_datetime(parse(value), what)
                except ValueError:
                    continue
        raise DagsterInvalidDefinitionError(
            f"{self._label} {what} {value!r} is neither a datetime nor a string in the format "
            f"{self.fmt!r} (for example {_dt.datetime(2024, 1, 1).strftime(self.fmt)!r})."
        )

    # ---- keys and windows

    def _key(self, start: _dt.datetime) -> str:
        key = start.strftime(self.fmt)
        # The second pass through a repeated hour: if the window before has the same label
        # (an hourly key in the fold), add the UTC offset to tell the two apart.
        if (
            start.fold
            and start.utcoffset() != start.replace(fold=0).utcoffset()
            and self.schedule.prev_before(start).strftime(self.fmt) == key
        ):
            key += start.strftime("%z")
        return key

    def _parse_key(self, key: str) -> _dt.datetime:
        """The start of the window whose key is ``key``, or ``DagsterUnknownPartitionError``."""
        tz = get_timezone(self.timezone)
        parsed: _dt.datetime | None = None
        if isinstance(key, str):
            for fmt in (self.fmt, self.fmt + "%z"):
                try:
                    parsed = _dt.datetime.strptime(key, fmt)
                    break
                except ValueError:
                    continue
        if parsed is None:
            example = self._key(self._first)
            raise DagsterUnknownPartitionError(
                f"Could not find a partition with key `{key}`: it does not match the key "
                f"format {self.fmt!r} of {self} (for example {example!r})."
            )
        at = parsed.astimezone(tz) if parsed.tzinfo else parsed.replace(tzinfo=tz)
        start = self.schedule.next_at_or_after(at)
        if self._key(start) != key:
            raise DagsterUnknownPartitionError(
                f"Could not find a partition with key `{key}`: no window of {self} starts "
                f"then (the nearest is {self._key(start)!r})."
            )
        return start

    def _last_start(self, current_time: _dt.datetime | None) -> _dt.datetime | None:
        now = current_time if current_time is not None else _now()
        schedule = self.schedule
        start = schedule.prev_before(schedule.prev_at_or_before(now))
        for _ in range(self.end_offset):
            start = schedule.next_after(start)
        for _ in range(-self.end_offset):
            start = schedule.prev_before(start)
        if self.end is not None:
            start = min(start, schedule.prev_before(schedule.prev_at_or_before(self.end)))
        return start if start >= self._first else None

    def _starts(self, first: _dt.datetime, last: _dt.datetime) -> list[_dt.datetime]:
        starts = []
        at = first
        while at <= last:
            starts.append(at)
            at = self.schedule.next_after(at)
        return starts

    def get_partition_keys(
        self,
        current_time: _dt.datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        last = self._last_start(current_time)
        return [] if last is None else [self._key(s) for s in self._starts(self._first, last)]

    def has_partition_key(
        self,
        partition_key: str,
        current_time: _dt.datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> bool:
        try:
            start = self._parse_key(partition_key)
        except DagsterUnknownPartitionError:
            return False
        last = self._last_start(current_time)
        return last is not None and self._first <= start <= last

    def validate_partition_key(
        self,
        partition_key: str,
        current_time: _dt.datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> None:
        start = self._parse_key(partition_key)  # raises for a malformed key
        last = self._last_start(current_time)
        if last is None or not self._first <= start <= last:
            first_key = self._key(self._first)
            span = (
                "it has no partitions yet"
                if last is None
                else f"its keys run from {first_key!r} to {self._key(last)!r}"
            )
            raise DagsterUnknownPartitionError(
                f"Could not find a partition with key `{partition_key}` in {self}: {span}."
            )

    def time_window_for_partition_key(self, partition_key: str) -> TimeWindow:
        """The ``[start, end)`` window of a key (whether or not it has closed yet)."""
        start = self._parse_key(partition_key)
        return TimeWindow(start, self.schedule.next_after(start))

    def start_time_for_partition_key(self, partition_key: str) -> _dt.datetime:
        return self._parse_key(partition_key)

    def end_time_for_partition_key(self, partition_key: str) -> _dt.datetime:
        return self.time_window_for_partition_key(partition_key).end

    def get_partition_key_for_timestamp(self, timestamp: float, end_closed: bool = False) -> str:
        """The key of the window containing ``timestamp`` (epoch seconds).

        With ``end_closed``, a timestamp exactly on a boundary belongs to the window it ends.
        """
        at = _dt.datetime.fromtimestamp(timestamp, _dt.UTC)
        schedule = self.schedule
        start = schedule.prev_before(at) if end_closed else schedule.prev_at_or_before(at)
        return self._key(start)

    def get_partition_keys_in_range(
        self,
        partition_key_range: PartitionKeyRange,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> list[str]:
        first = self._parse_key(partition_key_range.start)
        last = self._parse_key(partition_key_range.end)
        if last < first:
            raise DagsterInvalidInvocationError(
                f"Partition range {partition_key_range.start} to {partition_key_range.end} "
                "ends before it starts; swap the two keys."
            )
        return [self._key(s) for s in self._starts(first, last)]

    def get_partition_key_range_for_time_window(
        self, time_window: TimeWindow, respect_bounds: bool = True
    ) -> PartitionKeyRange:
        """Keys from the window containing ``time_window.start`` to the last window that ends
        by ``time_window.end``; with ``respect_bounds``, never before the first partition."""
        schedule = self.schedule
        first = schedule.prev_at_or_before(time_window.start)
        last = schedule.prev_before(schedule.prev_at_or_before(time_window.end))
        if respect_bounds:
            first = max(first, self._first)
        return PartitionKeyRange(self._key(first), self._key(max(first, last)))

    def get_partition_keys_in_time_window(self, time_window: TimeWindow) -> list[str]:
        key_range = self.get_partition_key_range_for_time_window(time_window)
        return self.get_partition_keys_in_range(key_range)

    def get_first_partition_window(
        self, current_time: _dt.datetime | None = None
    ) -> TimeWindow | None:
        if self._last_start(current_time) is None:
            return None
        return TimeWindow(self._first, self.schedule.next_after(self._first))

    def get_last_partition_window(
        self, current_time: _dt.datetime | None = None
    ) -> TimeWindow | None:
        last = self._last_start(current_time)
        return None if last is None else TimeWindow(last, self.schedule.next_after(last))

    def get_first_partition_key(
        self,
        current_time: _dt.datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> str | None:
        window = self.get_first_partition_window(current_time)
        return None if window is None else self._key(window.start)

    def get_last_partition_key(
        self,
        current_time: _dt.datetime | None = None,
        dynamic_partitions_store: DynamicPartitionsStore | None = None,
    ) -> str | None:
        last = self._last_start(current_time)
        return None if last is None else self._key(last)

    def get_next_partition_key(self, partition_key: str) -> str:
        return self._key(self.schedule.next_after(self._parse_key(partition_key)))

    def get_prev_partition_key(self, partition_key: str) -> str | None:
        start = self._parse_key(partition_key)
        return None if start <= self._first else self._key(self.schedule.prev_before(start))

    # ---- values

    def _identity(self) -> tuple[Any, ...]:
        end = None if self.end is None else self.end.timestamp()
        return (
            self.start.timestamp(),
            end,
            self.timezone,
            self.fmt,
            self.end_offset,
            self.cron_schedule,
        )

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TimeWindowPartitionsDefinition)
            and self._identity() == other._identity()
        )

    def __hash__(self) -> int:
        return hash(("time_window", *self._identity()))

    def __str__(self) -> str:
        cadence = self.schedule_type.value.title() if self.schedule_type else "Time window"
        text = f"{cadence} partitions ({self.cron_schedule!r}), starting "
        text += f"{self.start.strftime(self.fmt)} {self.timezone}"
        if self.end is not None:
            text += f", ending {self.end.strftime(self.fmt)}"
        if self.end_offset:
            text += f", end_offset {self.end_offset}"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(start={self.start.isoformat()!r}, "
            f"end={None if self.end is None else self.end.isoformat()!r}, "
            f"timezone={self.timezone!r}, fmt={self.fmt!r}, end_offset={self.end_offset}, "
            f"cron_schedule={self.cron_schedule!r})"
        )


class HourlyPartitionsDefinition(TimeWindowPartitionsDefinition):
    """One partition per hour, keys like ``2024-01-01-00:00``.

    Args:
        start_date: first hour (a datetime or a ``fmt`` string).
        end_date: optional end; windows ending after it are not partitions.
        minute_offset: minute of the hour at which windows start.
        timezone: IANA zone (default UTC).
        fmt: key format (default ``%Y-%m-%d-%H:%M``).
        end_offset: extra (or, negative, fewer) windows past the last closed one.
    """

    _label = "HourlyPartitionsDefinition"

    def __init__(
        self,
        start_date: _dt.datetime | _dt.date | str,
        end_date: _dt.datetime | _dt.date | str | None = None,
        minute_offset: int = 0,
        timezone: str | None = None,
        fmt: str | None = None,
        end_offset: int = 0,
    ):
        super().__init__(
            start=start_date,
            fmt=_DEFAULT_FMT[ScheduleType.HOURLY] if fmt is None else fmt,
            end=end_date,
            schedule_type=ScheduleType.HOURLY,
            timezone=timezone,
            end_offset=end_offset,
            minute_offset=minute_offset,
        )


class DailyPartitionsDefinition(TimeWindowPartitionsDefinition):
    """One partition per day, keys like ``2024-01-01``.

    Args:
        start_date: first day (a datetime or a ``fmt`` string).
        end_date: optional end; windows ending after it are not partitions.
        minute_offset, hour_offset: time of day at which windows start.
        timezone: IANA zone (default UTC).
        fmt: key format (default ``%Y-%m-%d``).
        end_offset: extra (or, negative, fewer) windows past the last closed one.
    """

    _label = "DailyPartitionsDefinition"

    def __init__(
        self,
        start_date: _dt.datetime | _dt.date | str,
        end_date: _dt.datetime | _dt.date | str | None = None,
        minute_offset: int = 0,
        hour_offset: int = 0,
        timezone: str | None = None,
        fmt: str | None = None,
        end_offset: int = 0,
    ):
        super().__init__(
            start=start_date,
            fmt=_DEFAULT_FMT[ScheduleType.DAILY] if fmt is None else fmt,
            end=end_date,
            schedule_type=ScheduleType.DAILY,
            timezone=timezone,
            end_offset=end_offset,
            minute_offset=minute_offset,
            hour_offset=hour_offset,
        )


class WeeklyPartitionsDefinition(TimeWindowPartitionsDefinition):
    """One partition per week, starting on ``day_offset`` (0 = Sunday), keys like ``2024-01-07``.

    Args:
        start_date: first week (a datetime or a ``fmt`` string).
        end_date: optional end; windows ending after it are not partitions.
        minute_offset, hour_offset: time of day at which windows start.
        day_offset: day of the week at which windows start, 0-6 (Sunday-Saturday).
        timezone: IANA zone (default UTC).
        fmt: key format (default ``%Y-%m-%d``).
        end_offset: extra (or, negative, fewer) windows past the last closed one.
    """

    _label = "WeeklyPartitionsDefinition"

    def __init__(
        self,
        start_date: _dt.datetime | _dt.date | str,
        end_date: _dt.datetime | _dt.date | str | None = None,
        minute_offset: int = 0,
        hour_offset: int = 0,
        day_offset: int = 0,
        timezone: str | None = None,
        fmt: str | None = None,
        end_offset: int = 0,
    ):
        super().__init__(
            start=start_date,
            fmt=_DEFAULT_FMT[ScheduleType.WEEKLY] if fmt is None else fmt,
            end=end_date,
            schedule_type=ScheduleType.WEEKLY,
            timezone=timezone,
            end_offset=end_offset,
            minute_offset=minute_offset,
            hour_offset=hour_offset,
            day_offset=day_offset,
        )


class MonthlyPartitionsDefinition(TimeWindowPartitionsDefinition):
    """One partition per month, starting on day ``day_offset`` (default 1).

    Args:
        start_date: first month (a datetime or a ``fmt`` string).
        end_date: optional end; windows ending after it are not partitions.
        minute_offset, hour_offset: time of day at which windows start.
        day_offset: day of the month at which windows start, 1-31 (months without that day
            are skipped).
        timezone: IANA zone (default UTC).
        fmt: key format (default ``%Y-%m-%d``).
        end_offset: extra (or, negative, fewer) windows past the last closed one.
    """

    _label = "MonthlyPartitionsDefinition"

    def __init__(
        self,
        start_date: _dt.datetime | _dt.date | str,
        end_date: _dt.datetime | _dt.date | str | None = None,
        minute_offset: int = 0,
        hour_offset: int = 0,
        day_offset: int = 1,
        timezone: str | None = None,
        fmt: str | None = None,
        end_offset: int = 0,
    ):
        super().__init__(
            start=start_date,
            fmt=_DEFAULT_FMT[ScheduleType.MONTHLY] if fmt is None else fmt,
            end=end_date,
            schedule_type=ScheduleType.MONTHLY,
            timezone=timezone,
            end_offset=end_offset,
            minute_offset=minute_offset,
            hour_offset=hour_offset,
            day_offset=day_offset,
        )
