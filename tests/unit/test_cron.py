"""Parsing and iteration of tocsin.cron in UTC and fixed zones (DST cases: test_cron_dst.py)."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest

from tocsin.cron import CronParseError, CronSchedule, get_timezone, is_valid_cron
from tocsin.errors import DagsterInvalidDefinitionError


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def take(cron: str | list[str], start: str, n: int, tz: str = "UTC") -> list[str]:
    schedule = CronSchedule.parse(cron, timezone=tz)
    ticks = itertools.islice(schedule.iter_after(utc(start)), n)
    return [t.strftime("%Y-%m-%d %H:%M %a") for t in ticks]


def take_back(cron: str, start: str, n: int) -> list[str]:
    ticks = itertools.islice(CronSchedule.parse(cron).iter_before(utc(start)), n)
    return [t.strftime("%Y-%m-%d %H:%M %a") for t in ticks]


# ------------------------------------------------------------------ syntax


def test_lists_ranges_and_steps():
    assert take("5,10-12,*/20 0 1 1 *", "2024-01-01T00:00", 6) == [
        f"2024-01-01 00:{m:02d} Mon" for m in (5, 10, 11, 12, 20, 40)
    ]


def test_step_from_a_start_value_runs_to_the_end_of_the_range():
    assert take("50/5 0 * * *", "2024-01-01T00:00", 3) == [
        "2024-01-01 00:50 Mon",
        "2024-01-01 00:55 Mon",
        "2024-01-02 00:50 Tue",
    ]


def test_stepped_range():
    assert take("0 1-10/4 * * *", "2024-01-01T00:00", 3)[-1] == "2024-01-01 09:00 Mon"


def test_month_and_day_names_case_insensitive():
    assert take("0 0 1 jan,Jul *", "2024-01-02T00:00", 2) == [
        "2024-07-01 00:00 Mon",
        "2025-01-01 00:00 Wed",
    ]
    assert take("0 9 * * MON-fri", "2024-01-05T12:00", 2) == [
        "2024-01-08 09:00 Mon",
        "2024-01-09 09:00 Tue",
    ]


def test_day_of_week_seven_is_sunday():
    assert take("0 0 * * 7", "2024-01-01T00:00", 1) == take("0 0 * * 0", "2024-01-01T00:00", 1)
    assert take("0 0 * * 5-7", "2024-01-01T00:00", 3) == [
        "2024-01-05 00:00 Fri",
        "2024-01-06 00:00 Sat",
        "2024-01-07 00:00 Sun",
    ]


def test_wrapping_range():
    assert take("0 0 * * FRI-MON", "2024-01-02T00:00", 4) == [
        "2024-01-05 00:00 Fri",
        "2024-01-06 00:00 Sat",
        "2024-01-07 00:00 Sun",
        "2024-01-08 00:00 Mon",
    ]


def test_day_of_month_or_day_of_week_when_both_are_restricted():
    # the 1st of the month, or any Monday
    assert take("0 0 1 * 1", "2024-01-25T00:00", 3) == [
        "2024-01-29 00:00 Mon",
        "2024-02-01 00:00 Thu",
        "2024-02-05 00:00 Mon",
    ]


def test_only_day_of_week_restricted_means_only_those_days():
    assert take("0 0 * * 3", "2024-01-01T00:00", 1) == ["2024-01-03 00:00 Wed"]


def test_last_day_of_month():
    assert take("0 0 L * *", "2024-01-15T00:00", 3) == [
        "2024-01-31 00:00 Wed",
        "2024-02-29 00:00 Thu",
        "2024-03-31 00:00 Sun",
    ]


def test_nth_weekday_of_month():
    assert take("0 0 * * 5#3", "2024-01-01T00:00", 2) == [
        "2024-01-19 00:00 Fri",
        "2024-02-16 00:00 Fri",
    ]


def test_last_weekday_of_month():
    assert take("0 0 * * L5", "2024-01-01T00:00", 2) == [
        "2024-01-26 00:00 Fri",
        "2024-02-23 00:00 Fri",
    ]


def test_leap_day():
    assert take("0 0 29 2 *", "2024-03-01T00:00", 2) == [
        "2028-02-29 00:00 Tue",
        "2032-02-29 00:00 Sun",
    ]


@pytest.mark.parametrize(
    ("alias", "same_as"),
    [
        ("@hourly", "0 * * * *"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@weekly", "0 0 * * 0"),
        ("@monthly", "0 0 1 * *"),
        ("@yearly", "0 0 1 1 *"),
        ("@ANNUALLY", "0 0 1 1 *"),
    ],
)
def test_aliases(alias, same_as):
    assert take(alias, "2024-05-05T05:05", 3) == take(same_as, "2024-05-05T05:05", 3)


def test_a_list_of_crons_fires_at_the_union_without_duplicates():
    got = take(["0 9 * * *", "0 9,17 * * 1", "0 9 * * *"], "2024-01-07T00:00", 4)
    assert got == [
        "2024-01-07 09:00 Sun",
        "2024-01-08 09:00 Mon",
        "2024-01-08 17:00 Mon",
        "2024-01-09 09:00 Tue",
    ]
    schedule = CronSchedule.parse(["0 9 * * *", "0 17 * * *"])
    assert schedule.prev_before(utc("2024-01-08T12:00")) == utc("2024-01-08T09:00")


def test_question_mark_means_any():
    assert take("0 0 ? * *", "2024-01-01T00:00", 1) == ["2024-01-02 00:00 Tue"]


# ------------------------------------------------------------------ errors

BAD = [
    ("61 2 * * *", re.escape("cron_schedule '61 2 * * *' has minute 61; minutes run 0-59.")),
    ("0 24 * * *", "has hour 24; hours run 0-23."),
    ("0 0 0 * *", "has day of month 0; days of month run 1-31."),
    ("0 0 1 13 *", "has month 13; months run 1-12 or JAN-DEC."),
    ("0 0 * * 8", "has day of week 8; days of week run 0-7 \\(0 and 7 are Sunday\\) or SUN-SAT."),
    ("0 0 * FOO *", "has month 'FOO'; months run 1-12"),
    ("0 0 * * 1-9", "has day of week 9"),
    ("0 0 * * * *", "has 6 fields \\(seconds are not supported\\); a cron has 5"),
    ("0 0 * *", "has 4 fields; a cron has 5"),
    ("", "has 0 fields"),
    ("@reboot", "'@reboot' is not supported; .*no @reboot"),
    ("@often", "'@often' is not supported"),
    ("H * * * *", "uses 'H' in the minute field; hashed values are not supported"),
    ("0 0 15W * *", "'W' \\(nearest weekday\\) is not supported"),
    ("0 0 LW * *", "'W' \\(nearest weekday\\) is not supported"),
    ("0 0 30 2 *", "can never fire: day of month 30 does not occur in February."),
    ("0 0 31 4,6 *", "can never fire: day of month 31 does not occur in April, June."),
    ("*/0 * * * *", "has step '0' in the minute field"),
    ("*/x * * * *", "has step 'x' in the minute field"),
    ("1,,2 * * * *", "has an empty item in the minute field"),
    ("0 0 * * 5#6", "after '#' comes which week of the month, 1-5"),
    ("0 0 * * 5L", "write 'L5' for the last Friday"),
    ("0 0 * * L", "write 'L5' for the last Friday"),
    ("0 0 L-2 * *", "has day of month 'L'"),
    ("1-2-3 * * * *", "has minute '1-2-3'"),
    ("*-5 * * * *", "has minute '\\*-5'"),
    ("-1 * * * *", "has minute"),
]


@pytest.mark.parametrize(("expr", "message"), BAD)
def test_invalid_crons_are_rejected_with_a_message_naming_the_problem(expr, message):
    with pytest.raises(CronParseError, match=message):
        CronSchedule.parse(expr)
    assert not is_valid_cron(expr)


def test_parse_error_is_a_value_error_and_a_definition_error():
    with pytest.raises(ValueError):
        CronSchedule.parse("61 * * * *")
    with pytest.raises(DagsterInvalidDefinitionError):
        CronSchedule.parse("61 * * * *")


@pytest.mark.parametrize("value", [[], None, 5, ("0 * * * *", 3)])
def test_schedule_of_the_wrong_type_is_rejected(value):
    with pytest.raises(CronParseError, match="cron_schedule must be"):
        CronSchedule.parse(value)  # type: ignore[arg-type]


def test_unknown_timezone_is_rejected():
    with pytest.raises(CronParseError, match="timezone 'Mars/Olympus' is not a known IANA"):
        CronSchedule.parse("0 0 * * *", timezone="Mars/Olympus")
    with pytest.raises(CronParseError, match="timezone must be an IANA zone name"):
        get_timezone("")


def test_is_valid_cron():
    assert is_valid_cron("0 0 * * *")
    assert is_valid_cron(["0 0 * * *", "@hourly"])
    assert not is_valid_cron(["0 0 * * *", "bad"])
    assert is_valid_cron("0 0 29 2 *")


def test_a_non_datetime_is_rejected():
    with pytest.raises(CronParseError, match="expected a datetime, got '2024-01-01'"):
        CronSchedule.parse("0 0 * * *").next_after("2024-01-01")  # type: ignore[arg-type]


# ------------------------------------------------------------------ iteration


def test_next_after_is_strict_and_at_or_after_is_not():
    schedule = CronSchedule.parse("0 * * * *")
    assert schedule.next_after(utc("2024-01-01T05:00")) == utc("2024-01-01T06:00")
    assert schedule.next_at_or_after(utc("2024-01-01T05:00")) == utc("2024-01-01T05:00")
    assert schedule.prev_before(utc("2024-01-01T05:00")) == utc("2024-01-01T04:00")
    assert schedule.prev_at_or_before(utc("2024-01-01T05:00")) == utc("2024-01-01T05:00")
    assert schedule.is_tick(utc("2024-01-01T05:00"))
    assert not schedule.is_tick(utc("2024-01-01T05:00:01"))


def test_fractional_seconds():
    schedule = CronSchedule.parse("* * * * *")
    at = utc("2024-01-01T05:00:00.500000")
    assert schedule.next_after(at) == utc("2024-01-01T05:01")
    assert schedule.prev_before(at) == utc("2024-01-01T05:00")


def test_backwards_iteration():
    assert take_back("0 0 L * *", "2024-03-15T00:00", 3) == [
        "2024-02-29 00:00 Thu",
        "2024-01-31 00:00 Wed",
        "2023-12-31 00:00 Sun",
    ]
    assert take_back("*/20 9-10 * * 1-5", "2024-01-08T09:10", 3) == [
        "2024-01-08 09:00 Mon",
        "2024-01-05 10:40 Fri",
        "2024-01-05 10:20 Fri",
    ]


def test_results_are_in_the_schedule_zone_and_input_zone_does_not_matter():
    schedule = CronSchedule.parse("0 9 * * *", timezone="Asia/Tokyo")
    tick = schedule.next_after(utc("2023-12-31T23:00"))
    assert tick.isoformat() == "2024-01-01T09:00:00+09:00"
    assert tick.tzinfo is get_timezone("Asia/Tokyo")
    berlin = dt.datetime(2024, 1, 1, 0, 0, tzinfo=get_timezone("Europe/Berlin"))
    assert schedule.next_after(berlin) == tick


def test_naive_datetimes_are_read_in_the_schedule_zone():
    schedule = CronSchedule.parse("0 9 * * *", timezone="Asia/Tokyo")
    tick = schedule.next_after(dt.datetime(2024, 1, 1, 8, 0))
    assert tick.isoformat() == "2024-01-01T09:00:00+09:00"


def test_half_hour_zone():
    assert take("0 * * * *", "2024-01-01T00:00", 2, tz="Asia/Kolkata") == [
        "2024-01-01 06:00 Mon",
        "2024-01-01 07:00 Mon",
    ]


def test_forward_and_backward_agree_over_a_long_span():
    schedule = CronSchedule.parse("7 */5 3,L * 2", timezone="Europe/London")
    start, end = utc("2023-01-01T00:00"), utc("2025-01-01T00:00")
    forward = list(itertools.takewhile(lambda t: t < end, schedule.iter_after(start)))
    backward = list(itertools.takewhile(lambda t: t > start, schedule.iter_before(end)))
    assert forward == backward[::-1]
    assert len(forward) > 100


def test_schedules_are_values():
    a = CronSchedule.parse("0 0 * * *", timezone="UTC")
    assert a == CronSchedule.parse("0 0 * * *")
    assert hash(a) == hash(CronSchedule.parse("0 0 * * *"))
    assert a != CronSchedule.parse("0 0 * * *", dst_policy="gap=skip")
    assert repr(a) == "CronSchedule('0 0 * * *', timezone='UTC')"
    assert a.expressions == ("0 0 * * *",)
    assert CronSchedule.parse("0 0 * * *", timezone=None).timezone == "UTC"
