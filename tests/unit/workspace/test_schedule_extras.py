"""A schedule's tocsin options reach the daemon as plain data on ``InstigatorInfo.extras``."""

from __future__ import annotations

from datetime import timedelta

from tocsin.automation.schedule import ScheduleDefinition
from tocsin.daemon.catchup import SchedulePolicy
from tocsin.workspace.handler import schedule_info


def test_options_become_plain_extras_the_policy_reads():
    definition = ScheduleDefinition(
        name="s",
        cron_schedule="0 * * * *",
        job_name="j",
        catchup=True,
        max_catchup_runs=4,
        catchup_window=timedelta(hours=2),
        jitter=timedelta(seconds=90),
        dst_policy="gap=skip,fold=both",
        overlap="skip",
        pause_after_failures=3,
    )
    extras = schedule_info(definition).extras
    assert extras == {
        "catchup": "all",
        "max_catchup_runs": 4,
        "catchup_window_seconds": 7200.0,
        "jitter_seconds": 90.0,
        "dst_policy": "gap=skip,fold=both",
        "overlap": "skip",
        "pause_after_failures": 3,
    }
    assert SchedulePolicy.resolve(extras) == SchedulePolicy(
        "all", 4, 7200.0, 90.0, extras["dst_policy"]
    )


def test_unset_options_are_left_out_so_instance_settings_apply():
    definition = ScheduleDefinition(name="s", cron_schedule="0 * * * *", job_name="j")
    assert schedule_info(definition).extras == {}
