"""``schedules:`` catch-up, jitter and DST options in tocsin.yaml: read, checked, and used by
the schedule loop as defaults a schedule's own values override."""

from __future__ import annotations

import textwrap

import pytest

from tocsin.daemon.catchup import SchedulePolicy
from tocsin.errors import ConfigError
from tocsin.instance.config import ScheduleSettings, load_instance_config


def write(tmp_path, text: str) -> str:
    path = tmp_path / "tocsin.yaml"
    path.write_text(textwrap.dedent(text).lstrip())
    return str(path)


def test_schedule_policies_are_read_and_reach_the_settings(tmp_path):
    config = load_instance_config(
        write(
            tmp_path,
            """
            schedules:
              catchup: all
              max_catchup_runs: 5
              catchup_window_seconds: 7200
              jitter_seconds: 30
              dst_policy: gap=skip,fold=both
            """,
        )
    )
    assert config.schedules == ScheduleSettings(
        catchup="all",
        max_catchup_runs=5,
        catchup_window_seconds=7200,
        jitter_seconds=30,
        dst_policy="gap=skip,fold=both",
    )
    settings = config.settings()["schedules"]
    policy = SchedulePolicy.resolve({"jitter_seconds": 5.0}, settings)
    assert policy == SchedulePolicy("all", 5, 7200.0, 5.0, "gap=skip,fold=both")


def test_unset_policies_keep_the_reference_defaults(tmp_path):
    config = load_instance_config(write(tmp_path, "schedules:\n  num_workers: 2\n"))
    assert SchedulePolicy.resolve({}, config.settings()["schedules"]) == SchedulePolicy()


@pytest.mark.parametrize(("value", "stored"), [("true", "all"), ("false", "none")])
def test_catchup_booleans_mean_all_and_none(tmp_path, value, stored):
    config = load_instance_config(write(tmp_path, f"schedules:\n  catchup: {value}\n"))
    assert config.schedules.catchup == stored


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "schedules:\n  catchup: sometimes\n",
            "tocsin.yaml, line 2: 'schedules.catchup' must be one of latest, all, none, "
            "got 'sometimes'.",
        ),
        (
            "schedules:\n  max_catchup_runs: 0\n",
            "line 2: 'schedules.max_catchup_runs' must be at least 1, got 0.",
        ),
        (
            "schedules:\n  max_catchup_runs: 2.5\n",
            "line 2: 'schedules.max_catchup_runs' must be int or null, got float 2.5.",
        ),
        (
            "schedules:\n  use_threads: false\n  catchup_window_seconds: -5\n",
            "line 3: 'schedules.catchup_window_seconds' must not be negative, got -5",
        ),
        (
            "schedules:\n  jitter_seconds: 10s\n",
            "line 2: 'schedules.jitter_seconds' must be int or float or null, got str '10s'.",
        ),
        (
            "schedules:\n  dst_policy: gap=never\n",
            "line 2: 'schedules.dst_policy' is not a DST policy: dst_policy gap 'never'",
        ),
        (
            "schedules:\n  catchup_windw_seconds: 5\n",
            "unknown key 'catchup_windw_seconds' under 'schedules'. Did you mean "
            "'catchup_window_seconds'?",
        ),
        (
            "sensors:\n  catchup: all\n",
            "line 2: unknown key 'catchup' under 'sensors'.",
        ),
    ],
)
def test_bad_schedule_policies_name_file_line_and_key(tmp_path, text, message):
    with pytest.raises(ConfigError) as info:
        load_instance_config(write(tmp_path, text))
    assert message in str(info.value)
