"""``tocsin sensor why`` / ``tocsin schedule why``: answers from storage, after real loop
passes (at fixed times) on the CLI's instance."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tocsin.daemon.run_queue import HELD_BY_TAG
from tocsin.daemon.schedules import ScheduleLoop
from tocsin.daemon.sensors import SensorLoop
from tocsin.model.run import DagsterRunStatus

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


class Nothing:
    """A coordinator that submits nothing: runs stay NOT_STARTED (busy) until a test ends them."""

    def submit(self, runs):
        return []


@pytest.fixture
def location(defs_file):
    from tocsin.cli.common import load_in_process, specs

    (spec,) = specs((defs_file,), (), None)
    return load_in_process(spec)


def test_sensor_why_names_the_duplicate_key_and_the_queue_limit(invoke, instance, location):
    loop = SensorLoop(instance, [location], Nothing(), max_workers=1, policy_defaults={})
    loop.tick(T0)
    loop.tick(T0 + timedelta(seconds=31))
    (run,) = instance.get_runs()
    instance.update_run_status(run.run_id, DagsterRunStatus.QUEUED)
    instance.add_run_tags(run.run_id, {HELD_BY_TAG: "max_concurrent_runs: 1 of 1 runs in progress"})

    result = invoke("sensor", "why", "watch")
    assert result.exit_code == 0, result.output
    assert "Sensor watch has its definition's default status" in result.output
    assert "last tick 2024-03-01 12:00:31 UTC" in result.output
    assert (
        f"run key 'k1': the run key already has a run (run key 'k1' already has run {run.run_id})"
        in result.output
    )
    assert (
        f"run {run.run_id} (QUEUED): queued: max_concurrent_runs: 1 of 1 runs in progress"
        in result.output
    )
    data = json.loads(invoke("sensor", "why", "watch", "--json").output)
    (tick,) = data["ticks"]
    assert [(n["reason"], n["run_id"]) for n in tick["not_run"]] == [
        ("duplicate_run_key", run.run_id)
    ]
    assert data["held_runs"][0]["reason"] == "concurrency_limit"


def test_sensor_why_shows_the_pause_and_how_to_resume(invoke, instance, location, defs_file):
    loop = SensorLoop(
        instance, [location], Nothing(), max_workers=1, policy_defaults={"pause_after_failures": 1}
    )
    loop.tick(T0)
    (run,) = instance.get_runs()
    instance.update_run_status(run.run_id, DagsterRunStatus.FAILURE)
    loop.tick(T0 + timedelta(seconds=31))

    output = invoke("sensor", "why", "watch").output
    assert "Sensor watch is STOPPED (paused). Paused after 1 consecutive failed runs" in output
    assert "'tocsin sensor start watch'" in output
    assert "run key 'k1': the instigator was paused" in output
    assert "is now RUNNING" in invoke("sensor", "start", "watch", "-f", defs_file).output
    assert "(paused)" not in invoke("sensor", "why", "watch").output


def test_schedule_why_at_a_time_explains_that_scheduled_time(invoke, instance, location):
    from tocsin.model.ticks import InstigatorState, InstigatorStatus, InstigatorType

    instance.ticks.add_instigator_state(
        InstigatorState(
            "defs:schedule:nightly",
            "nightly",
            InstigatorType.SCHEDULE,
            status=InstigatorStatus.RUNNING,
        )
    )
    loop = ScheduleLoop(instance, [location], Nothing(), policy_defaults={"overlap": "buffer_one"})
    day = timedelta(days=1)
    start = datetime(2024, 3, 1, 1, 30, tzinfo=UTC)  # 02:30 in Amsterdam
    for n in range(4):
        loop.tick(start + n * day)
    first, held = sorted(instance.get_runs(), key=lambda r: r.tags["dagster/run_key"])

    at = "2024-03-04T02:59+01:00"
    result = invoke("schedule", "why", "nightly", "--at", at)
    assert result.exit_code == 0, result.output
    assert "Scheduled time at or before 2024-03-04T02:59:00+01:00: 2024-03-04 01:00:00" in (
        result.output
    )
    assert "the overlap policy held or dropped it" in result.output
    assert f"run {held.run_id} already waits for its turn" in result.output
    assert (
        f"run {held.run_id} (NOT_STARTED): overlap policy: waits until run {first.run_id} "
        "(NOT_STARTED) of this schedule finishes"
    ) in result.output

    ran = invoke("schedule", "why", "nightly", "--at", "2024-03-02T03:00+01:00", "--json")
    (tick,) = json.loads(ran.output)["ticks"]
    assert tick["run_ids"] == [first.run_id] and tick["not_run"] == []
    before = invoke("schedule", "why", "nightly", "--at", "2024-02-01T00:00")
    assert "No tick handled a scheduled time at or before 2024-02-01T00:00:00+00:00" in (
        before.output
    )


def test_unknown_names_and_bad_times_are_clear_errors(invoke, instance, location):
    SensorLoop(instance, [location], Nothing(), max_workers=1, policy_defaults={}).tick(T0)
    result = invoke("sensor", "why", "wach")
    assert result.exit_code == 1
    assert "No sensor named 'wach'. Did you mean 'watch'?" in result.output
    assert "pass -f, -m or -w" in result.output
    bad = invoke("schedule", "why", "nightly", "--at", "tomorrow")
    assert bad.exit_code == 2 and "not an ISO 8601 time" in bad.output


def test_why_finds_the_instigator_in_code_with_a_location_option(invoke, defs_file):
    result = invoke("schedule", "why", "nightly", "-f", defs_file)
    assert result.exit_code == 0, result.output
    assert "Schedule nightly: no state stored yet (it has never ticked)." in result.output
    missing = invoke("schedule", "why", "nighty", "-f", defs_file)
    assert missing.exit_code == 1 and "Did you mean 'nightly'?" in missing.output
