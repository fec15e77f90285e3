"""Catch-up, catch-up window, restart, cron change, DST gap and jitter in the schedule loop,
driven by a fake clock across a 10-hour outage (13:00:30 to 23:05)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tocsin.daemon.catchup import SchedulePolicy, jitter_offset, normalize_catchup, plan_due
from tocsin.daemon.schedules import LAST_SCHEDULED, ScheduleLoop, schedule_cron
from tocsin.daemon.why import (
    CATCHUP_LATEST,
    CATCHUP_LIMIT,
    CATCHUP_NONE,
    DST_GAP,
    OUTSIDE_CATCHUP_WINDOW,
    not_run_of,
)
from tocsin.model.tags import SCHEDULED_EXECUTION_TIME_TAG
from tocsin.model.ticks import InstigatorStatus, TickStatus
from tocsin.workspace.messages import RUNNING, Evaluation, InstigatorInfo, RunRequestData

ORIGIN = "loc:schedule:hourly"


def utc(hour: int, minute: int = 0, second: int = 0, day: int = 1) -> datetime:
    return datetime(2024, 1, day, hour, minute, second, tzinfo=UTC)


def hourly(cron: str = "0 * * * *", tz: str = "UTC", name: str = "hourly", **extras):
    return InstigatorInfo(
        name=name,
        kind="schedule",
        job_names=("the_job",),
        default_status=RUNNING,
        cron_schedule=cron,
        execution_timezone=tz,
        extras=extras,
    )


def one_run(**_):
    return Evaluation(run_requests=(RunRequestData(job_name="the_job"),))


def scheduled_hours(instance) -> list[int]:
    """The cron hour of each run, in the order the runs were made."""
    times = [datetime.fromisoformat(r.tags[SCHEDULED_EXECUTION_TIME_TAG]) for r in _runs(instance)]
    return [t.hour for t in times]


def _runs(instance):
    runs = instance.all_runs
    # the fake instance keeps insertion order; the real one lists newest first, reversed
    return runs


def not_run(instance, origin=ORIGIN):
    found = []
    for tick in instance.ticks.get_ticks(origin):
        found += [(item.reason, item.scheduled_time) for item in not_run_of(tick)]
    return sorted(found, key=lambda pair: (pair[1] is None, pair[1] or utc(0)))


def outage(instance, location, coordinator, **extras) -> ScheduleLoop:
    """Start at 12:30, tick on time at 13:00:30, the daemon is down until 23:05, then tick."""
    location.add(hourly(**extras), one_run)
    loop = ScheduleLoop(instance, [location], coordinator)
    loop.tick(utc(12, 30))
    loop.tick(utc(13, 0, 30))
    loop = ScheduleLoop(instance, [location], coordinator)  # the daemon restarts
    loop.tick(utc(23, 5))
    return loop


def missed(first: int, last: int, reason: str):
    return [(reason, utc(h)) for h in range(first, last + 1)]


def test_latest_runs_only_the_newest_missed_time_and_records_the_others(
    instance, location, coordinator
):
    loop = outage(instance, location, coordinator)
    assert scheduled_hours(instance) == [13, 23]
    assert not_run(instance) == missed(14, 22, CATCHUP_LATEST)
    assert loop.tick(utc(23, 10)).outcomes == []


def test_all_runs_every_missed_time_oldest_first(instance, location, coordinator):
    outage(instance, location, coordinator, catchup="all", max_catchup_runs=20)
    assert scheduled_hours(instance) == [13, *range(14, 24)]
    assert not_run(instance) == []


def test_all_honours_max_catchup_runs_and_records_the_excess(instance, location, coordinator):
    loop = outage(instance, location, coordinator, catchup="all", max_catchup_runs=3)
    assert scheduled_hours(instance) == [13, 21, 22, 23]
    assert not_run(instance) == missed(14, 20, CATCHUP_LIMIT)
    report = loop.tick(utc(23, 10))
    assert report.outcomes == []


def test_all_without_a_limit_runs_the_newest_five(instance, location, coordinator):
    outage(instance, location, coordinator, catchup="all")
    assert scheduled_hours(instance) == [13, 19, 20, 21, 22, 23]
    assert not_run(instance) == missed(14, 18, CATCHUP_LIMIT)


def test_none_skips_missed_times_and_resumes_at_the_next(instance, location, coordinator):
    loop = outage(instance, location, coordinator, catchup="none")
    assert scheduled_hours(instance) == [13]
    ticks = instance.ticks.get_ticks(ORIGIN)
    assert ticks[0].status == TickStatus.SKIPPED and "catchup='none'" in ticks[0].skip_reason
    assert not_run(instance) == missed(14, 23, CATCHUP_NONE)
    assert loop.tick(utc(23, 30)).outcomes == []
    loop.tick(utc(0, 0, 20, day=2))
    assert scheduled_hours(instance) == [13, 0]


def test_catchup_window_drops_older_missed_times(instance, location, coordinator):
    outage(
        instance,
        location,
        coordinator,
        catchup="all",
        max_catchup_runs=20,
        catchup_window_seconds=3 * 3600,
    )
    assert scheduled_hours(instance) == [13, 21, 22, 23]
    assert not_run(instance) == missed(14, 20, OUTSIDE_CATCHUP_WINDOW)


def test_a_window_shorter_than_the_delay_drops_even_the_latest(instance, location, coordinator):
    outage(instance, location, coordinator, catchup_window_seconds=60)
    assert scheduled_hours(instance) == [13]
    assert not_run(instance) == missed(14, 23, OUTSIDE_CATCHUP_WINDOW)
    (skipped, _) = instance.ticks.get_ticks(ORIGIN)[:2]
    assert skipped.status == TickStatus.SKIPPED
    assert skipped.scheduled_execution_time.astimezone(UTC) == utc(23)


def test_instance_settings_apply_unless_the_schedule_sets_its_own(instance, location, coordinator):
    location.add(hourly(), one_run)
    location.add(hourly(name="own", catchup="latest"), one_run)
    defaults = {"catchup": "all", "max_catchup_runs": 2}
    loop = ScheduleLoop(instance, [location], coordinator, policy_defaults=defaults)
    loop.tick(utc(12, 30))
    loop.tick(utc(23, 5))
    by_name: dict[str, list[int]] = {}
    for run in _runs(instance):
        when = datetime.fromisoformat(run.tags[SCHEDULED_EXECUTION_TIME_TAG])
        by_name.setdefault(run.tags["dagster/schedule_name"], []).append(when.hour)
    assert by_name == {"hourly": [22, 23], "own": [23]}


def test_starting_again_does_not_catch_up_the_stopped_time(instance, location, coordinator):
    location.add(hourly(catchup="all", max_catchup_runs=20), one_run)
    loop = ScheduleLoop(instance, [location], coordinator)
    loop.tick(utc(12, 30))
    loop.tick(utc(13, 5))
    state = instance.ticks.get_instigator_state(ORIGIN)
    stopped = replace(state, status=InstigatorStatus.STOPPED)
    instance.ticks.add_instigator_state(stopped)
    assert loop.tick(utc(16, 5)).outcomes == []
    restarted = replace(
        stopped,
        status=InstigatorStatus.RUNNING,
        extra={**stopped.extra, "status_changed_at": utc(20, 30).timestamp()},
    )
    instance.ticks.add_instigator_state(restarted)
    loop.tick(utc(23, 5))
    assert scheduled_hours(instance) == [13, 21, 22, 23]
    assert not_run(instance) == []


def test_a_changed_cron_does_not_backfill(instance, location, coordinator):
    location.add(hourly(catchup="all", max_catchup_runs=50), one_run)
    loop = ScheduleLoop(instance, [location], coordinator)
    loop.tick(utc(12, 30))
    loop.tick(utc(13, 5))
    location.infos[0] = hourly("*/30 * * * *", catchup="all", max_catchup_runs=50)
    loop.tick(utc(16, 40))
    assert scheduled_hours(instance) == [13, 16]
    loop.tick(utc(17, 40))  # the new cron is now the known one: its missed times run
    times = [r.tags[SCHEDULED_EXECUTION_TIME_TAG][11:16] for r in _runs(instance)]
    assert times == ["13:00", "16:30", "17:00", "17:30"]


def test_dst_policy_gap_skip_records_the_nonexistent_time(instance, location, coordinator):
    location.add(
        hourly("30 2 * * *", "America/New_York", dst_policy="gap=skip,fold=second"), one_run
    )
    loop = ScheduleLoop(instance, [location], coordinator)
    day = timedelta(days=1)
    start = datetime(2024, 3, 8, 12, 0, tzinfo=UTC)
    for step in range(5):  # noon UTC on 03-08 .. 03-12
        loop.tick(start + step * day)
    # 02:30 local on 03-09, 03-11, 03-12 ran; 03-10 02:30 does not exist
    days = [r.tags[SCHEDULED_EXECUTION_TIME_TAG][:10] for r in _runs(instance)]
    assert days == ["2024-03-09", "2024-03-11", "2024-03-12"]
    ((reason, when),) = not_run(instance, "loc:schedule:hourly")
    assert reason == DST_GAP and when == datetime(2024, 3, 10, 7, 0, tzinfo=UTC)


def test_the_default_dst_rules_run_the_gap_time_at_the_end_of_the_gap(
    instance, location, coordinator
):
    location.add(hourly("30 2 * * *", "America/New_York"), one_run)
    loop = ScheduleLoop(instance, [location], coordinator)
    loop.tick(datetime(2024, 3, 9, 12, 0, tzinfo=UTC))
    loop.tick(datetime(2024, 3, 10, 12, 0, tzinfo=UTC))
    (run,) = _runs(instance)
    # 03:00 EDT, the end of the gap; the tag is in UTC as the reference writes it
    assert run.tags[SCHEDULED_EXECUTION_TIME_TAG] == "2024-03-10T07:00:00+00:00"
    assert not_run(instance) == []


# -- jitter ----------------------------------------------------------------------------------


@pytest.mark.parametrize("bound", [1.0, 30.0, 600.0, 3600.0])
def test_jitter_offset_is_within_its_bound_and_the_same_every_time(bound):
    offsets = [jitter_offset(f"loc:schedule:s{i}", bound) for i in range(200)]
    assert all(0 <= o < bound for o in offsets)
    assert offsets == [jitter_offset(f"loc:schedule:s{i}", bound) for i in range(200)]
    assert len(set(offsets)) > 190  # schedules spread over the bound
    assert min(offsets) < bound / 4 and max(offsets) > 3 * bound / 4


def test_no_jitter_means_no_offset():
    assert jitter_offset(ORIGIN, None) == jitter_offset(ORIGIN, 0) == 0.0


def test_jitter_delays_the_evaluation_but_not_the_scheduled_time(instance, location, coordinator):
    bound = 600.0
    offset = jitter_offset(ORIGIN, bound)
    assert offset > 1
    location.add(hourly(jitter_seconds=bound), one_run)
    loop = ScheduleLoop(instance, [location], coordinator)
    loop.tick(utc(12, 30))
    at = utc(13) + timedelta(seconds=offset)
    assert loop.tick(at - timedelta(seconds=1)).outcomes == []
    (outcome,) = loop.tick(at).outcomes
    assert outcome.status == TickStatus.SUCCESS
    (run,) = _runs(instance)
    assert run.tags[SCHEDULED_EXECUTION_TIME_TAG] == "2024-01-01T13:00:00+00:00"
    assert loop.tick(at + timedelta(minutes=30)).outcomes == []
    next_at = utc(14) + timedelta(seconds=offset)
    assert loop.tick(next_at - timedelta(seconds=1)).outcomes == []
    assert len(loop.tick(next_at).outcomes) == 1


def test_plan_has_no_due_time_before_the_start():
    info = hourly()
    cron = schedule_cron(info)
    plan = plan_due(
        cron,
        SchedulePolicy(),
        now=utc(13, 30),
        offset=0,
        started_at=utc(13, 10).timestamp(),
        last_handled=None,
    )
    assert plan is None


def test_a_long_outage_lists_at_most_the_limit_and_summarises_the_rest():
    cron = schedule_cron(hourly("* * * * *"))
    plan = plan_due(
        cron,
        SchedulePolicy(),
        now=utc(23, 0, day=3),
        offset=0,
        started_at=utc(0).timestamp(),
        last_handled=None,
    )
    assert plan is not None and plan.run == (utc(23, 0, day=3),)
    assert len(plan.not_run) == 500
    assert plan.not_run[0].scheduled_time is None and "earlier" in plan.not_run[0].detail


def test_catchup_names_and_booleans():
    assert [normalize_catchup(v) for v in (None, True, False, "all", "none", "latest")] == [
        "latest",
        "all",
        "none",
        "all",
        "none",
        "latest",
    ]
    with pytest.raises(ValueError, match="catchup must be one of"):
        normalize_catchup("sometimes")


def test_last_handled_time_is_the_newest_due_time(instance, location, coordinator):
    outage(instance, location, coordinator, catchup="none")
    state = instance.ticks.get_instigator_state(ORIGIN)
    assert state.extra[LAST_SCHEDULED] == utc(23).timestamp()


def test_gap_times_lists_each_nonexistent_matching_wall_time():
    from tocsin.cron import CronSchedule

    cron = CronSchedule.parse("*/30 2 * * *", timezone="America/New_York")
    jump = datetime(2024, 3, 10, 7, 0, tzinfo=UTC)
    found = cron.gap_times(datetime(2024, 3, 9, tzinfo=UTC), datetime(2024, 3, 12, tzinfo=UTC))
    assert found == [("2024-03-10 02:00", jump), ("2024-03-10 02:30", jump)]
    assert cron.gap_times(jump, jump + timedelta(days=30)) == []
