"""``tocsin schedule``: list, next (DST), preview --at, start/stop, ticks, logs."""

from __future__ import annotations

import json
from datetime import UTC, datetime


def test_list_shows_cron_zone_and_next_tick(invoke, defs_file):
    result = invoke("schedule", "list", "-f", defs_file)
    assert result.exit_code == 0, result.output
    assert "nightly" in result.output and "Europe/Amsterdam" in result.output
    data = json.loads(invoke("schedule", "list", "-f", defs_file, "--json").output)
    assert data[0]["cron_schedule"] == "0 2 * * *" and data[0]["status"] == "STOPPED"


def test_next_crosses_the_spring_dst_change(invoke, defs_file):
    # 2024-03-31 02:00 does not exist in Amsterdam; the tick moves to 03:00 CEST.
    result = invoke(
        "schedule",
        "next",
        "nightly",
        "-n",
        "3",
        "--after",
        "2024-03-29T12:00Z",
        "-f",
        defs_file,
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [
        "2024-03-30T02:00:00+01:00",
        "2024-03-31T03:00:00+02:00",
        "2024-04-01T02:00:00+02:00",
    ]


def test_next_human_output_names_the_zone(invoke, defs_file):
    result = invoke(
        "schedule", "next", "nightly", "-n", "1", "--after", "2024-06-30T12:00Z", "-f", defs_file
    )
    assert result.output.strip() == "2024-07-01T02:00:00+02:00  (CEST)"


def test_preview_at_a_time_stores_nothing(invoke, defs_file, instance):
    result = invoke(
        "schedule", "preview", "nightly", "--at", "2024-01-05T02:00+01:00", "-f", defs_file
    )
    assert result.exit_code == 0, result.output
    assert "RunRequest run_key='2024-01-05T02:00:00+01:00' job=compute" in result.output
    assert instance.get_runs() == []


def test_preview_defaults_to_the_next_tick(invoke, defs_file):
    result = invoke("schedule", "preview", "nightly", "-f", defs_file, "--json")
    assert result.exit_code == 0, result.output
    [request] = json.loads(result.output)["run_requests"]
    assert datetime.fromisoformat(request["run_key"]) > datetime.now(UTC)


def test_bad_time_is_a_usage_error(invoke, defs_file):
    result = invoke("schedule", "preview", "nightly", "--at", "tomorrow", "-f", defs_file)
    assert result.exit_code == 2
    assert "'tomorrow' is not an ISO 8601 time" in result.output


def test_start_stop(invoke, defs_file):
    assert "is now RUNNING" in invoke("schedule", "start", "nightly", "-f", defs_file).output
    data = json.loads(invoke("schedule", "list", "-f", defs_file, "--json").output)
    assert data[0]["status"] == "RUNNING"
    assert "is now STOPPED" in invoke("schedule", "stop", "nightly", "-f", defs_file).output


def test_starting_again_sets_a_new_start_time(invoke, defs_file, instance):
    # The daemon never runs a time before the start, so the stopped time is not caught up.
    invoke("schedule", "start", "nightly", "-f", defs_file)
    first = instance.ticks.get_instigator_state("defs:schedule:nightly").extra["started_at"]
    invoke("schedule", "stop", "nightly", "-f", defs_file)
    invoke("schedule", "start", "nightly", "-f", defs_file)
    state = instance.ticks.get_instigator_state("defs:schedule:nightly")
    assert state.extra["started_at"] >= first
    assert state.extra["started_at"] == state.extra["status_changed_at"]


def _add_tick(instance, **changes):
    from tocsin.model.ticks import InstigatorType, Tick, TickStatus

    tick = Tick(
        instigator_origin_id="defs:schedule:nightly",
        instigator_name="nightly",
        instigator_type=InstigatorType.SCHEDULE,
        timestamp=datetime(2024, 1, 1, 1, tzinfo=UTC),
        status=TickStatus.SUCCESS,
        run_ids=("abc",),
    )
    return instance.ticks.create_tick(tick.with_changes(**changes))


def test_ticks_and_logs(invoke, defs_file, instance):
    _add_tick(instance, log_lines=("nightly for 2024-01-01",))
    ticks = invoke("schedule", "ticks", "nightly", "-f", defs_file)
    assert "SUCCESS" in ticks.output and "abc" in ticks.output
    logs = invoke("schedule", "logs", "nightly", "-f", defs_file)
    assert "nightly for 2024-01-01" in logs.output


def test_logs_without_lines_says_so(invoke, defs_file):
    result = invoke("schedule", "logs", "nightly", "-f", defs_file)
    assert "No log lines" in result.output


def test_unknown_schedule_suggests(invoke, defs_file):
    result = invoke("schedule", "next", "nigthly", "-f", defs_file)
    assert result.exit_code == 1
    assert "Did you mean 'nightly'?" in result.output
