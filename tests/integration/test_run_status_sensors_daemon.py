"""Run status sensors ticked by the real sensor loop (reference/daemon.md C9).

Jobs run in process on an ephemeral instance; the loop evaluates the sensors through an
in-process code location at fixed times.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tocsin import (
    DagsterInstance,
    DefaultSensorStatus,
    Definitions,
    RunRequest,
    SkipReason,
    job,
    op,
)
from tocsin.automation.run_status_sensor import run_failure_sensor, run_status_sensor
from tocsin.daemon.sensors import SensorLoop
from tocsin.model.events import DagsterEventType
from tocsin.model.run import DagsterRunStatus
from tocsin.model.tags import RUN_KEY_TAG
from tocsin.model.ticks import TickStatus
from tocsin.workspace.location import InProcessLocation

T = datetime(2024, 1, 1, 12, tzinfo=UTC)
RUNNING = DefaultSensorStatus.RUNNING
SUCCESS = DagsterRunStatus.SUCCESS


@op(config_schema={"fail": bool})
def maybe_fail(context):
    if context.op_config["fail"]:
        raise Exception("asked to fail")


@job
def the_job():
    maybe_fail()


@run_status_sensor(run_status=SUCCESS, monitored_jobs=[the_job], default_status=RUNNING)
def returns_none(context):
    return None


@run_status_sensor(run_status=SUCCESS, monitored_jobs=[the_job], default_status=RUNNING)
def returns_skip(context):
    return SkipReason(f"saw {context.dagster_run.run_id}")


@run_status_sensor(run_status=SUCCESS, default_status=RUNNING)
def raises_in_rss(context):
    raise Exception("sensor bug")


@run_failure_sensor(request_job=the_job, default_status=RUNNING)
def failure_requests(context):
    return RunRequest(run_key=context.dagster_run.run_id)


DEFS = Definitions(
    jobs=[the_job], sensors=[returns_none, returns_skip, raises_in_rss, failure_requests]
)


class Coordinator:
    def __init__(self):
        self.submitted = []

    def submit(self, runs):
        self.submitted.extend(runs)


@pytest.fixture
def world():
    with DagsterInstance.ephemeral() as instance:

        def run(fail=False):
            config = {"ops": {"maybe_fail": {"config": {"fail": fail}}}}
            result = the_job.execute_in_process(
                run_config=config, instance=instance, raise_on_error=False
            )
            return result.dagster_run.run_id

        run()  # finished before the sensors start: never reported
        loop = SensorLoop(instance, [InProcessLocation("loc", DEFS)], Coordinator(), max_workers=1)
        first = loop.tick(T)
        runs = (run(), run(), run(fail=True))
        later = [loop.tick(T + timedelta(seconds=31 * k)) for k in (1, 2, 3)]
        yield instance, first, runs, later


def outcome(report, name):
    return report.outcome(f"loc:sensor:{name}")


def test_first_tick_initiates_every_sensor(world):
    _, first, _, _ = world
    for name in ["returns_none", "returns_skip", "raises_in_rss", "failure_requests"]:
        result = outcome(first, name)
        assert result.status == TickStatus.SKIPPED
        assert result.skip_reason.startswith(
            f"Initiating {name}. Set cursor to RunStatusSensorCursor("
        )


def test_value_returning_sensor_handles_one_run_per_tick(world):
    _, _, (r1, r2, _), later = world
    assert [outcome(t, "returns_skip").skip_reason for t in later] == [
        f"saw {r1}",
        f"saw {r2}",
        "Sensor function returned an empty result",
    ]


def test_failure_sensor_requests_one_run_for_the_failed_run(world):
    instance, _, (_, _, f1), later = world
    first = outcome(later[0], "failure_requests")
    assert first.status == TickStatus.SUCCESS
    (run_id,) = first.run_ids
    assert instance.get_run_by_id(run_id).tags[RUN_KEY_TAG] == f1
    assert [outcome(t, "failure_requests").status for t in later[1:]] == [TickStatus.SKIPPED] * 2


def test_returning_none_writes_an_acted_on_event_to_each_run(world):
    instance, _, (r1, r2, _), _ = world
    for run_id in (r1, r2):
        messages = [
            e.message for e in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT)
        ]
        assert f'Sensor "returns_none" acted on run status SUCCESS of run {run_id}.' in messages


def test_reaction_ticks_are_success_and_errors_fail_the_tick(world):
    instance, _, (r1, r2, _), later = world
    reacting = outcome(later[0], "returns_none")
    assert reacting.status == TickStatus.SUCCESS
    assert list(instance.ticks.get_tick(reacting.tick_id).origin_run_ids) == [r1, r2]
    assert [outcome(t, "returns_none").skip_reason for t in later[1:]] == [
        "Sensor function returned an empty result"
    ] * 2
    raising = outcome(later[0], "raises_in_rss")
    assert raising.status == TickStatus.FAILURE
    assert "sensor bug" in raising.error.message
    assert instance.ticks.get_tick(raising.tick_id).status == TickStatus.FAILURE
    assert outcome(later[1], "raises_in_rss").status == TickStatus.SKIPPED
    messages = [e.message for e in instance.all_logs(r1, of_type=DagsterEventType.ENGINE_EVENT)]
    assert not any('Sensor "raises_in_rss" acted' in m for m in messages)
