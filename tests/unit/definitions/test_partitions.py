"""Partitions definitions: keys, windows, ranges and errors, including across DST changes."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from tocsin.definitions.partitions import (
    DailyPartitionsDefinition,
    DynamicPartitionsDefinition,
    HourlyPartitionsDefinition,
    MonthlyPartitionsDefinition,
    PartitionKeyRange,
    ScheduleType,
    StaticPartitionsDefinition,
    TimeWindow,
    TimeWindowPartitionsDefinition,
    WeeklyPartitionsDefinition,
)
from tocsin.errors import (
    DagsterInvalidDefinitionError,
    DagsterInvalidInvocationError,
    DagsterInvariantViolationError,
    DagsterUnknownPartitionError,
)

NY = ZoneInfo("America/New_York")
NOW = dt.datetime(2024, 1, 5, 12, 30, tzinfo=dt.UTC)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def ny(*args: int, fold: int = 0) -> dt.datetime:
    return dt.datetime(*args, tzinfo=NY, fold=fold)


# ------------------------------------------------------------------ static


def test_static_keys_in_order():
    parts = StaticPartitionsDefinition(["b", "a", "c"])
    assert parts.get_partition_keys() == ["b", "a", "c"]
    assert parts.has_partition_key("a")
    assert not parts.has_partition_key("z")
    assert parts.get_partition_keys_in_range(PartitionKeyRange("a", "c")) == ["a", "c"]
    assert parts.get_first_partition_key() == "b"
    assert parts.get_last_partition_key() == "c"
    assert parts.get_num_partitions() == 3


def test_static_duplicate_keys_are_rejected():
    with pytest.raises(DagsterInvalidDefinitionError, match=re.escape("keys: ['a', 'b']")):
        StaticPartitionsDefinition(["a", "b", "a", "b", "c"])


@pytest.mark.parametrize("keys", ["abc", [1, 2], None])
def test_static_keys_must_be_a_list_of_strings(keys):
    with pytest.raises(
        DagsterInvalidDefinitionError, match=r"StaticPartitionsDefinition takes|must be strings"
    ):
        StaticPartitionsDefinition(keys)


def test_static_unknown_key_message_lists_the_keys():
    parts = StaticPartitionsDefinition(["a", "b"])
    with pytest.raises(DagsterUnknownPartitionError, match=r"key `z`.*Its keys are 'a', 'b'"):
        parts.validate_partition_key("z")
    parts.validate_partition_key("a")


def test_static_bad_ranges():
    parts = StaticPartitionsDefinition(["a", "b"])
    with pytest.raises(DagsterInvalidInvocationError, match=re.escape("keys: ['c']")):
        parts.get_partition_keys_in_range(PartitionKeyRange("b", "c"))
    with pytest.raises(DagsterInvalidInvocationError, match="ends before it starts"):
        parts.get_partition_keys_in_range(PartitionKeyRange("b", "a"))


def test_static_equality():
    assert StaticPartitionsDefinition(["a"]) == StaticPartitionsDefinition(["a"])
    assert hash(StaticPartitionsDefinition(["a"])) == hash(StaticPartitionsDefinition(["a"]))
    assert StaticPartitionsDefinition(["a"]) != StaticPartitionsDefinition(["b"])


# ------------------------------------------------------------------ dynamic


class Store:
    def __init__(self, keys):
        self.keys = {"fruits": list(keys)}

    def get_dynamic_partitions(self, name):
        return self.keys.get(name, [])


def test_dynamic_keys_come_from_the_store():
    parts = DynamicPartitionsDefinition(name="fruits")
    store = Store(["apple", "pear"])
    assert parts.get_partition_keys(dynamic_partitions_store=store) == ["apple", "pear"]
    assert parts.has_partition_key("pear", dynamic_partitions_store=store)
    assert not parts.has_partition_key("fig", dynamic_partitions_store=store)
    with pytest.raises(DagsterUnknownPartitionError, match="key `fig`"):
        parts.validate_partition_key("fig", dynamic_partitions_store=store)
    assert parts == DynamicPartitionsDefinition(name="fruits")


def test_dynamic_needs_a_name_and_a_store():
    with pytest.raises(DagsterInvalidDefinitionError, match="needs name="):
        DynamicPartitionsDefinition()
    with pytest.raises(
        DagsterInvalidDefinitionError, match=re.escape("(partition_fn=...) is not supported")
    ):
        DynamicPartitionsDefinition(lambda _: ["a"], name="x")
    with pytest.raises(DagsterInvariantViolationError, match="pass dynamic_partitions_store="):
        DynamicPartitionsDefinition(name="x").get_partition_keys()


# ------------------------------------------------------------------ time windows, UTC


def test_daily_keys_are_closed_windows_only():
    parts = DailyPartitionsDefinition(start_date="2024-01-01")
    assert parts.get_partition_keys(current_time=NOW) == [
        "2024-01-01",
        "2024-01-02",
        "2024-01-03",
        "2024-01-04",
    ]
    assert parts.cron_schedule == "0 0 * * *"
    assert parts.timezone == "UTC"
    assert parts.fmt == "%Y-%m-%d"
    assert parts.start == utc(2024, 1, 1)
    assert parts.end is None


@pytest.mark.parametrize(("end_offset", "last"), [(1, "2024-01-05"), (-1, "2024-01-03")])
def test_end_offset_shifts_the_last_partition(end_offset, last):
    parts = DailyPartitionsDefinition(start_date="2024-01-01", end_offset=end_offset)
    assert parts.get_partition_keys(current_time=NOW)[-1] == last
    assert parts.get_last_partition_key(current_time=NOW) == last


def test_end_date_limits_the_keys():
    parts = DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-03")
    assert parts.get_partition_keys(current_time=NOW) == ["2024-01-01", "2024-01-02"]


def test_no_partitions_before_the_first_window_closes():
    parts = DailyPartitionsDefinition(start_date="2024-01-05")
    assert parts.get_partition_keys(current_time=NOW) == []
    assert parts.get_last_partition_key(current_time=NOW) is None
    assert parts.get_first_partition_window(current_time=NOW) is None
    with pytest.raises(DagsterUnknownPartitionError, match="it has no partitions yet"):
        parts.validate_partition_key("2024-01-05", current_time=NOW)


def test_key_to_window_and_back():
    parts = DailyPartitionsDefinition(start_date="2024-01-01", hour_offset=6, minute_offset=30)
    window = parts.time_window_for_partition_key("2024-01-02")
    assert window == TimeWindow(utc(2024, 1, 2, 6, 30), utc(2024, 1, 3, 6, 30))
    assert parts.get_partition_key_for_timestamp(utc(2024, 1, 3, 6, 29).timestamp()) == "2024-01-02"
    assert parts.get_partition_key_for_timestamp(utc(2024, 1, 3, 6, 30).timestamp()) == "2024-01-03"
    on_boundary = utc(2024, 1, 3, 6, 30).timestamp()
    assert parts.get_partition_key_for_timestamp(on_boundary, end_closed=True) == "2024-01-02"
    assert parts.start_time_for_partition_key("2024-01-02") == window.start
    assert parts.end_time_for_partition_key("2024-01-02") == window.end
    assert parts.get_next_partition_key("2024-01-02") == "2024-01-03"
    assert parts.get_prev_partition_key("2024-01-02") == "2024-01-01"
    assert parts.get_prev_partition_key("2024-01-01") is None


def test_has_and_validate_respect_current_time():
    parts = DailyPartitionsDefinition(start_date="2024-01-01")
    assert parts.has_partition_key("2024-01-04", current_time=NOW)
    assert not parts.has_partition_key("2024-01-05", current_time=NOW)
    assert not parts.has_partition_key("2023-12-31", current_time=NOW)
    assert not parts.has_partition_key("nonsense", current_time=NOW)
    with pytest.raises(
        DagsterUnknownPartitionError,
        match=r"key `2023-12-31` in Daily.*keys run from '2024-01-01' to '2024-01-04'",
    ):
        parts.validate_partition_key("2023-12-31", current_time=NOW)


def test_malformed_key_says_the_expected_format():
    parts = DailyPartitionsDefinition(start_date="2024-01-01")
    with pytest.raises(
        DagsterUnknownPartitionError,
        match=r"key `01/02/2024`: it does not match the key format '%Y-%m-%d'.*'2024-01-01'",
    ):
        parts.time_window_for_partition_key("01/02/2024")


def test_key_that_is_not_a_window_start():
    parts = WeeklyPartitionsDefinition(start_date="2024-01-01", day_offset=1)
    with pytest.raises(DagsterUnknownPartitionError, match="the nearest is '2024-01-08'"):
        parts.time_window_for_partition_key("2024-01-03")


def test_keys_in_range_and_range_for_window():
    parts = DailyPartitionsDefinition(start_date="2024-01-01")
    assert parts.get_partition_keys_in_range(PartitionKeyRange("2024-01-02", "2024-01-04")) == [
        "2024-01-02",
        "2024-01-03",
        "2024-01-04",
    ]
    with pytest.raises(DagsterInvalidInvocationError, match="ends before it starts"):
        parts.get_partition_keys_in_range(PartitionKeyRange("2024-01-04", "2024-01-02"))
    window = TimeWindow(utc(2024, 1, 2), utc(2024, 1, 4))
    assert parts.get_partition_key_range_for_time_window(window) == PartitionKeyRange(
        "2024-01-02", "2024-01-03"
    )
    assert parts.get_partition_keys_in_time_window(window) == ["2024-01-02", "2024-01-03"]


def test_hourly_weekly_monthly_shorthands():
    hourly = HourlyPartitionsDefinition(start_date="2024-01-01-00:00", minute_offset=15)
    assert hourly.cron_schedule == "15 * * * *"
    assert hourly.get_partition_keys(current_time=utc(2024, 1, 1, 2, 20)) == [
        "2024-01-01-00:15",
        "2024-01-01-01:15",
    ]
    weekly = WeeklyPartitionsDefinition(start_date="2024-01-01", day_offset=1)
    assert weekly.cron_schedule == "0 0 * * 1"
    assert weekly.get_partition_keys(current_time=utc(2024, 1, 25)) == [
        "2024-01-01",
        "2024-01-08",
        "2024-01-15",
    ]
    monthly = MonthlyPartitionsDefinition(start_date="2024-01-15", day_offset=15)
    assert monthly.cron_schedule == "0 0 15 * *"
    assert monthly.get_partition_keys(current_time=utc(2024, 3, 16)) == ["2024-01-15", "2024-02-15"]
    # a start between ticks begins at the next tick
    late = MonthlyPartitionsDefinition(start_date="2024-01-03")
    assert late.get_partition_keys(current_time=utc(2024, 3, 16)) == ["2024-02-01"]


def test_time_window_definition_with_a_cron():
    parts = TimeWindowPartitionsDefinition(
        start="2024-01-01", fmt="%Y-%m-%d", cron_schedule="0 0 * * 1-5"
    )
    assert parts.get_partition_keys(current_time=utc(2024, 1, 10)) == [
        "2024-01-01",
        "2024-01-02",
        "2024-01-03",
        "2024-01-04",
        "2024-01-05",
        "2024-01-08",
        "2024-01-09",
    ]
    assert parts.time_window_for_partition_key("2024-01-05") == TimeWindow(
        utc(2024, 1, 5), utc(2024, 1, 8)
    )
    assert parts.schedule_type is None


def test_start_as_datetime_and_date():
    a = DailyPartitionsDefinition(start_date=dt.datetime(2024, 1, 1))
    b = DailyPartitionsDefinition(start_date=dt.date(2024, 1, 1))
    c = DailyPartitionsDefinition(start_date="2024-01-01")
    assert a == b == c
    assert hash(a) == hash(c)
    assert a != DailyPartitionsDefinition(start_date="2024-01-02")
    assert a == TimeWindowPartitionsDefinition(
        start="2024-01-01", fmt="%Y-%m-%d", schedule_type=ScheduleType.DAILY
    )


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: DailyPartitionsDefinition("2024-01-01", minute_offset=70), "minute_offset must"),
        (lambda: DailyPartitionsDefinition("2024-01-01", hour_offset=24), "hour_offset must"),
        (lambda: WeeklyPartitionsDefinition("2024-01-01", day_offset=7), "day_offset must"),
        (lambda: MonthlyPartitionsDefinition("2024-01-01", day_offset=0), "day_offset must"),
        (lambda: DailyPartitionsDefinition("01/01/2024"), "start '01/01/2024' is neither"),
        (lambda: DailyPartitionsDefinition("2024-01-01", end_date=5), "end 5 is neither"),
        (lambda: DailyPartitionsDefinition("2024-01-01", timezone="Nowhere/City"), "Nowhere"),
        (lambda: DailyPartitionsDefinition("2024-01-01", end_offset=1.5), "end_offset must"),
        (lambda: DailyPartitionsDefinition("2024-01-01", fmt=""), "fmt must be a strftime"),
        (
            lambda: TimeWindowPartitionsDefinition(start="2024-01-01", fmt="%Y-%m-%d"),
            "exactly one of schedule_type and cron_schedule",
        ),
        (
            lambda: TimeWindowPartitionsDefinition(
                start="2024-01-01", fmt="%Y-%m-%d", cron_schedule="61 * * * *"
            ),
            "invalid cron schedule '61 \\* \\* \\* \\*'.*minutes run 0-59",
        ),
        (
            lambda: TimeWindowPartitionsDefinition(
                start="2024-01-01", fmt="%Y-%m-%d", schedule_type="DAILY"
            ),
            "schedule_type must be a ScheduleType",
        ),
    ],
)
def test_bad_definitions_are_rejected(build, message):
    with pytest.raises(DagsterInvalidDefinitionError, match=message):
        build()


# ------------------------------------------------------------------ DST


def test_hourly_keys_on_fall_back_day_tell_the_repeated_hour_apart():
    parts = HourlyPartitionsDefinition(start_date="2024-11-03-00:00", timezone="America/New_York")
    keys = parts.get_partition_keys(current_time=utc(2024, 11, 3, 9, 30))
    assert keys == [
        "2024-11-03-00:00",
        "2024-11-03-01:00",
        "2024-11-03-01:00-0500",
        "2024-11-03-02:00",
        "2024-11-03-03:00",
    ]
    assert parts.time_window_for_partition_key("2024-11-03-01:00") == TimeWindow(
        ny(2024, 11, 3, 1), ny(2024, 11, 3, 1, fold=1)
    )
    window = parts.time_window_for_partition_key("2024-11-03-01:00-0500")
    assert window.start.astimezone(dt.UTC) == utc(2024, 11, 3, 6)
    assert window.end.astimezone(dt.UTC) == utc(2024, 11, 3, 7)
    assert parts.get_partition_key_for_timestamp(utc(2024, 11, 3, 6, 30).timestamp()) == (
        "2024-11-03-01:00-0500"
    )


def test_hourly_keys_on_spring_forward_day_skip_the_missing_hour():
    parts = HourlyPartitionsDefinition(start_date="2024-03-10-00:00", timezone="America/New_York")
    keys = parts.get_partition_keys(current_time=utc(2024, 3, 10, 9, 30))
    assert keys == ["2024-03-10-00:00", "2024-03-10-01:00", "2024-03-10-03:00", "2024-03-10-04:00"]
    assert not parts.has_partition_key("2024-03-10-02:00", current_time=utc(2024, 3, 10, 9, 30))


def test_daily_windows_are_23_and_25_hours_long_on_change_days():
    parts = DailyPartitionsDefinition(start_date="2024-03-09", timezone="America/New_York")
    spring = parts.time_window_for_partition_key("2024-03-10")
    fall = parts.time_window_for_partition_key("2024-11-03")
    assert spring.end.timestamp() - spring.start.timestamp() == 23 * 3600
    assert fall.end.timestamp() - fall.start.timestamp() == 25 * 3600
    assert fall.start == ny(2024, 11, 3)


def test_daily_window_with_a_start_inside_the_gap():
    parts = DailyPartitionsDefinition(
        start_date="2024-03-09", timezone="America/New_York", hour_offset=2, minute_offset=30
    )
    assert parts.get_partition_keys(current_time=utc(2024, 3, 13)) == [
        "2024-03-09",
        "2024-03-10",
        "2024-03-11",
    ]
    assert parts.time_window_for_partition_key("2024-03-09") == TimeWindow(
        ny(2024, 3, 9, 2, 30), ny(2024, 3, 10, 3)
    )
    assert parts.time_window_for_partition_key("2024-03-10") == TimeWindow(
        ny(2024, 3, 10, 3), ny(2024, 3, 11, 2, 30)
    )


def test_range_for_window_in_a_dst_zone():
    parts = DailyPartitionsDefinition(start_date="2024-11-02", timezone="America/New_York")
    window = TimeWindow(utc(2024, 11, 2, 5), utc(2024, 11, 3, 12))
    assert parts.get_partition_key_range_for_time_window(window) == PartitionKeyRange(
        "2024-11-02", "2024-11-02"
    )
    assert parts.get_partition_key_for_timestamp(utc(2024, 11, 3, 5, 30).timestamp()) == (
        "2024-11-03"
    )


def test_str_and_repr():
    parts = DailyPartitionsDefinition(start_date="2024-01-01", end_offset=1)
    assert str(parts) == "Daily partitions ('0 0 * * *'), starting 2024-01-01 UTC, end_offset 1"
    assert repr(parts).startswith("DailyPartitionsDefinition(start='2024-01-01T00:00:00+00:00'")
