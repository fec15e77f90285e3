"""Daylight-saving behaviour of tocsin.cron: the default rules and each DstPolicy value.

The default cases are the rows of the project's DST reference table (the column tocsin's
default must reproduce); each runs forwards, and backwards from the end of the day.
"""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest

from tocsin.cron import CronParseError, CronSchedule, DstPolicy

NY = "America/New_York"


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def ticks_between(schedule: CronSchedule, start: dt.datetime, end: dt.datetime) -> list[str]:
    out = []
    for tick in schedule.iter_after(start):
        if tick >= end:
            break
        out.append(tick.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ"))
    return out


def ticks_between_backwards(schedule: CronSchedule, start: dt.datetime, end: dt.datetime):
    out = []
    for tick in schedule.iter_before(end):
        if tick <= start:
            break
        out.append(tick.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ"))
    return out[::-1]


# (cron, zone, local day, expected UTC ticks that day)
GOLDEN = [
    # New York spring forward, 2024-03-10: 02:00 EST -> 03:00 EDT
    ("30 2 * * *", NY, "2024-03-10", ["07:00"]),
    ("0 2 * * *", NY, "2024-03-10", ["07:00"]),
    ("*/15 2 * * *", NY, "2024-03-10", ["07:00"]),
    ("0 */2 * * *", NY, "2024-03-10", ["05:00", "07:00", "08:00", "10:00"]),  # 00, 03, 04, 06
    ("0 * * * *", NY, "2024-03-10", ["05:00", "06:00", "07:00", "08:00"]),  # 00, 01 EST, 03, 04
    # Sao Paulo 2018-11-04: midnight does not exist (00:00 -> 01:00)
    ("0 0 * * *", "America/Sao_Paulo", "2018-11-04", ["03:00"]),
    # Berlin 2024-03-31: 02:00 CET -> 03:00 CEST
    ("30 2 * * 0", "Europe/Berlin", "2024-03-31", ["01:00"]),
    # Lord Howe 2024-10-06: 02:00 -> 02:30, a 30-minute change
    ("0 2 * * *", "Australia/Lord_Howe", "2024-10-06", ["15:30"]),
    # New York fall back, 2024-11-03: 02:00 EDT -> 01:00 EST
    ("0 1 * * *", NY, "2024-11-03", ["06:00"]),
    ("30 1 * * *", NY, "2024-11-03", ["06:30"]),
    ("15,45 1 * * *", NY, "2024-11-03", ["06:15", "06:45"]),
    ("0 1,13 * * *", NY, "2024-11-03", ["06:00", "18:00"]),
    ("0 */2 * * *", NY, "2024-11-03", ["04:00", "07:00", "09:00", "11:00"]),  # 00 EDT, 02, 04, 06
]


def _day_bounds(zone: str, day: str) -> tuple[dt.datetime, dt.datetime]:
    tz = ZoneInfo(zone)
    start = dt.datetime.fromisoformat(day).replace(tzinfo=tz) - dt.timedelta(minutes=1)
    end = dt.datetime.fromisoformat(day).replace(tzinfo=tz) + dt.timedelta(days=1)
    return start, end


@pytest.mark.parametrize(("cron", "zone", "day", "expected"), GOLDEN)
def test_default_rules_match_the_reference_table(cron, zone, day, expected):
    schedule = CronSchedule.parse(cron, timezone=zone)
    start, _ = _day_bounds(zone, day)
    # The first ticks of that local day, compared as UTC clock times.
    got = [
        t.astimezone(dt.UTC) for t in itertools.islice(schedule.iter_after(start), len(expected))
    ]
    assert [t.strftime("%H:%M") for t in got] == expected
    # The same ticks backwards, ending just after the last one.
    back = list(itertools.islice(schedule.iter_before(got[-1] + dt.timedelta(seconds=1)), len(got)))
    assert [t.astimezone(dt.UTC) for t in reversed(back)] == got


def test_gap_time_reads_as_the_first_instant_after_the_gap():
    schedule = CronSchedule.parse("30 2 * * *", timezone=NY)
    tick = schedule.next_after(utc("2024-03-10T00:00"))
    assert tick.isoformat() == "2024-03-10T03:00:00-04:00"
    assert schedule.next_after(tick).isoformat() == "2024-03-11T02:30:00-04:00"


def test_hourly_runs_once_per_elapsed_hour_on_fall_back_day():
    schedule = CronSchedule.parse("0 * * * *", timezone=NY)
    got = ticks_between(schedule, utc("2024-11-03T04:30"), utc("2024-11-03T08:30"))
    # 01:00 EDT, 01:00 EST, 02:00 EST, 03:00 EST
    assert got == [
        "2024-11-03T05:00Z",
        "2024-11-03T06:00Z",
        "2024-11-03T07:00Z",
        "2024-11-03T08:00Z",
    ]
    assert (
        ticks_between_backwards(schedule, utc("2024-11-03T04:30"), utc("2024-11-03T08:30")) == got
    )


def test_every_half_hour_between_0045_and_0245_fires_six_times_on_fall_back_day():
    schedule = CronSchedule.parse("*/30 * * * *", timezone=NY)
    start = dt.datetime(2024, 11, 3, 0, 45, tzinfo=ZoneInfo(NY))
    end = dt.datetime(2024, 11, 3, 2, 45, tzinfo=ZoneInfo(NY))
    assert len(ticks_between(schedule, start, end)) == 6


def test_hour_range_covering_the_day_counts_as_hourly():
    a = CronSchedule.parse("0 0-23 * * *", timezone=NY)
    b = CronSchedule.parse("0 * * * *", timezone=NY)
    start, end = utc("2024-11-03T00:00"), utc("2024-11-04T00:00")
    assert ticks_between(a, start, end) == ticks_between(b, start, end)


def test_repeated_hour_second_occurrence_carries_fold():
    tick = CronSchedule.parse("30 1 * * *", timezone=NY).next_after(utc("2024-11-03T00:00"))
    assert tick.fold == 1
    assert tick.utcoffset() == dt.timedelta(hours=-5)


# ------------------------------------------------------------------ explicit policies

SPRING = (utc("2024-03-10T04:00"), utc("2024-03-11T04:00"))  # local day 2024-03-10
FALL = (utc("2024-11-03T04:00"), utc("2024-11-04T05:00"))  # local day 2024-11-03


@pytest.mark.parametrize(
    ("gap", "expected"),
    [
        ("transition", ["2024-03-10T07:00Z"]),  # 03:00 EDT
        ("shift", ["2024-03-10T07:30Z"]),  # 03:30 EDT
        ("skip", []),
    ],
)
def test_gap_policies_on_spring_forward_day(gap, expected):
    schedule = CronSchedule.parse("30 2 * * *", timezone=NY, dst_policy=DstPolicy(gap=gap))
    assert ticks_between(schedule, *SPRING) == expected
    assert ticks_between_backwards(schedule, *SPRING) == expected


@pytest.mark.parametrize("gap", ["transition", "shift", "skip"])
def test_gap_policies_leave_fall_back_day_alone(gap):
    schedule = CronSchedule.parse("30 2 * * *", timezone=NY, dst_policy=DstPolicy(gap=gap))
    assert ticks_between(schedule, *FALL) == ["2024-11-03T07:30Z"]


@pytest.mark.parametrize(
    ("fold", "expected"),
    [
        ("second", ["2024-11-03T06:30Z"]),  # 01:30 EST
        ("first", ["2024-11-03T05:30Z"]),  # 01:30 EDT
        ("both", ["2024-11-03T05:30Z", "2024-11-03T06:30Z"]),
    ],
)
def test_fold_policies_on_fall_back_day(fold, expected):
    schedule = CronSchedule.parse("30 1 * * *", timezone=NY, dst_policy=DstPolicy(fold=fold))
    assert ticks_between(schedule, *FALL) == expected
    assert ticks_between_backwards(schedule, *FALL) == expected


@pytest.mark.parametrize("fold", ["second", "first", "both"])
def test_fold_policies_leave_spring_forward_day_alone(fold):
    schedule = CronSchedule.parse("30 1 * * *", timezone=NY, dst_policy=DstPolicy(fold=fold))
    assert ticks_between(schedule, *SPRING) == ["2024-03-10T06:30Z"]


def test_explicit_fold_policy_applies_to_hourly_crons_too():
    schedule = CronSchedule.parse("0 * * * *", timezone=NY, dst_policy="fold=second")
    got = ticks_between(schedule, utc("2024-11-03T03:30"), utc("2024-11-03T07:30"))
    assert got == ["2024-11-03T04:00Z", "2024-11-03T06:00Z", "2024-11-03T07:00Z"]


def test_shift_policy_orders_shifted_ticks_among_real_ones():
    schedule = CronSchedule.parse("*/20 2,3 * * *", timezone=NY, dst_policy="gap=shift")
    got = ticks_between(schedule, utc("2024-03-10T06:30"), utc("2024-03-10T08:30"))
    # 02:00/02:20/02:40 EST shift to 03:00/03:20/03:40 EDT, the same instants as the real ones
    assert got == ["2024-03-10T07:00Z", "2024-03-10T07:20Z", "2024-03-10T07:40Z"]
    assert (
        ticks_between_backwards(schedule, utc("2024-03-10T06:30"), utc("2024-03-10T08:30")) == got
    )


def test_policy_string_forms():
    assert DstPolicy.coerce("gap=skip,fold=both") == DstPolicy(gap="skip", fold="both")
    assert DstPolicy.coerce(" fold = first ") == DstPolicy(fold="first")
    assert DstPolicy.coerce(None) is None
    assert str(DstPolicy()) == "gap=transition,fold=second"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("gap=later", "dst_policy gap 'later' is not one of transition, shift, skip"),
        ("fold=third", "dst_policy fold 'third' is not one of second, first, both"),
        ("when=now", "cannot read 'when=now'"),
        ("gap=skip,gap=shift", "each key at most once"),
        ("skip", "cannot read 'skip'"),
    ],
)
def test_bad_policy_strings_say_what_is_wrong(value, message):
    with pytest.raises(CronParseError, match=message):
        CronSchedule.parse("0 1 * * *", dst_policy=value)


def test_policy_of_the_wrong_type_is_rejected():
    with pytest.raises(CronParseError, match="dst_policy must be a DstPolicy"):
        CronSchedule.parse("0 1 * * *", dst_policy=3)  # type: ignore[arg-type]


def test_backwards_iteration_mirrors_forwards_across_a_year_of_changes():
    for cron in ["0 * * * *", "30 1 * * *", "*/30 1-3 * * *", "0 2 * * 0", "15 0 L * *"]:
        for zone in [NY, "Europe/Berlin", "Australia/Lord_Howe", "America/Santiago"]:
            schedule = CronSchedule.parse(cron, timezone=zone)
            start, end = utc("2024-03-01T00:00"), utc("2024-04-15T00:00")
            forward = ticks_between(schedule, start, end)
            assert ticks_between_backwards(schedule, start, end) == forward, (cron, zone)
            assert len(forward) == len(set(forward))


# ------------------------------------------------------------------ brute-force oracle


def _oracle(cron: str, zone: str, policy: DstPolicy, start: dt.datetime, end: dt.datetime):
    """Every tick in [start, end) found by trying each wall-clock minute: slow and obvious."""
    tz = ZoneInfo(zone)
    fields = CronSchedule.parse(cron)._crons[0]
    found = set()
    wall = start.astimezone(tz).replace(tzinfo=None, second=0) - dt.timedelta(hours=3)
    last = end.astimezone(tz).replace(tzinfo=None) + dt.timedelta(hours=3)

    def exists(naive):
        aware = naive.replace(tzinfo=tz)
        return aware.astimezone(dt.UTC).astimezone(tz).replace(tzinfo=None) == naive

    while wall < last:
        if (
            wall.minute in fields.minutes
            and wall.hour in fields.hours
            and wall.day in fields.month_days(wall.year, wall.month)
        ):
            first = wall.replace(tzinfo=tz, fold=0)
            second = wall.replace(tzinfo=tz, fold=1)
            if not exists(wall):
                if policy.gap == "shift":
                    found.add(first.timestamp())
                elif policy.gap == "transition":
                    after = wall
                    while not exists(after):
                        after += dt.timedelta(minutes=1)
                    found.add(after.replace(tzinfo=tz).timestamp())
            elif first.utcoffset() != second.utcoffset():
                if policy.fold in ("first", "both"):
                    found.add(first.timestamp())
                if policy.fold in ("second", "both"):
                    found.add(second.timestamp())
            else:
                found.add(first.timestamp())
        wall += dt.timedelta(minutes=1)
    return sorted(t for t in found if start.timestamp() < t < end.timestamp())


@pytest.mark.parametrize("gap", ["transition", "shift", "skip"])
@pytest.mark.parametrize("fold", ["second", "first", "both"])
@pytest.mark.parametrize(
    ("zone", "change"),
    [
        (NY, "2024-03-10T07:00"),
        (NY, "2024-11-03T06:00"),
        ("Australia/Lord_Howe", "2024-10-05T15:30"),
        ("Australia/Lord_Howe", "2024-04-06T15:00"),
        ("America/Santiago", "2024-09-08T04:00"),
    ],
)
def test_every_policy_agrees_with_a_minute_by_minute_oracle(gap, fold, zone, change):
    policy = DstPolicy(gap=gap, fold=fold)
    centre = utc(change)
    start, end = centre - dt.timedelta(hours=5), centre + dt.timedelta(hours=5)
    for cron in ["*/20 * * * *", "15,45 0-3 * * *", "0 1 * * *", "30 2 * * *", "0 0 * * *"]:
        schedule = CronSchedule.parse(cron, timezone=zone, dst_policy=policy)
        got = [
            t.timestamp()
            for t in itertools.takewhile(lambda t: t < end, schedule.iter_after(start))
        ]
        assert got == _oracle(cron, zone, policy, start, end), cron
        back = [
            t.timestamp()
            for t in itertools.takewhile(lambda t: t > start, schedule.iter_before(end))
        ]
        assert back[::-1] == got, cron


def test_far_future_and_back_again():
    schedule = CronSchedule.parse("30 2 * * *", timezone=NY)
    march = list(itertools.islice(schedule.iter_after(utc("2500-03-01T00:00")), 31))
    moved = [t for t in march if (t.hour, t.minute) == (3, 0)]
    assert len(moved) == 1 and moved[0].weekday() == 6  # the second Sunday of March
    # back to a year already seen, then to the first century
    assert schedule.next_after(utc("2024-03-10T00:00")).isoformat() == "2024-03-10T03:00:00-04:00"
    assert schedule.next_after(utc("0100-06-01T00:00")).hour == 2
