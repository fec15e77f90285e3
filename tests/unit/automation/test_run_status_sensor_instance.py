"""Run status sensors over a real ephemeral instance: runs executed in process, then ticks."""

from __future__ import annotations

import pytest

from tocsin import DagsterInstance, job, op
from tocsin.automation.context import build_sensor_context
from tocsin.automation.results import RunRequest, SkipReason
from tocsin.automation.run_status_sensor import (
    RunStatusSensorCursor,
    report_run_reactions,
    run_failure_sensor,
    run_status_sensor,
)
from tocsin.model.events import DagsterEventType
from tocsin.model.run import DagsterRunStatus

SUCCESS = DagsterRunStatus.SUCCESS


@op(config_schema={"fail": bool})
def maybe_fail(context):
    if context.op_config["fail"]:
        raise Exception("asked to fail")


@job
def the_job():
    maybe_fail()


def run(instance, fail=False):
    config = {"ops": {"maybe_fail": {"config": {"fail": fail}}}}
    result = the_job.execute_in_process(run_config=config, instance=instance, raise_on_error=False)
    return result.dagster_run.run_id


@run_status_sensor(run_status=SUCCESS, monitored_jobs=[the_job])
def returns_none(context):
    return None


@run_status_sensor(run_status=SUCCESS, monitored_jobs=[the_job])
def returns_skip(context):
    return SkipReason(f"saw {context.dagster_run.run_id}")


@run_status_sensor(run_status=SUCCESS)
def raises_in_rss(context):
    raise Exception("sensor bug")


@run_failure_sensor(request_job=the_job)
def failure_requests(context):
    return RunRequest(run_key=context.dagster_run.run_id)


SENSORS = [returns_none, returns_skip, raises_in_rss, failure_requests]


@pytest.fixture
def instance():
    with DagsterInstance.ephemeral() as inst:
        yield inst


def test_c9_cursor_semantics_over_real_runs(instance):
    before = run(instance)
    cursors, results = {}, {s.name: [] for s in SENSORS}
    for s in SENSORS:
        first = s.evaluate_tick(build_sensor_context(instance=instance, sensor_name=s.name))
        assert first.skip_message.startswith(
            f"Initiating {s.name}. Set cursor to RunStatusSensorCursor("
        )
        cursors[s.name] = first.cursor
    r1, r2, f1 = run(instance), run(instance), run(instance, fail=True)
    for _ in range(3):
        for s in SENSORS:
            context = build_sensor_context(instance=instance, cursor=cursors[s.name])
            result = s.evaluate_tick(context)
            cursors[s.name] = result.cursor
            results[s.name].append(result)

    none_ticks = results["returns_none"]
    assert [r.dagster_run.run_id for r in none_ticks[0].dagster_run_reactions] == [r1, r2]
    assert before not in {r.dagster_run.run_id for r in none_ticks[0].dagster_run_reactions}
    assert [t.skip_message for t in none_ticks[1:]] == [
        "Sensor function returned an empty result"
    ] * 2

    assert [t.skip_message for t in results["returns_skip"]] == [
        f"saw {r1}",
        f"saw {r2}",
        "Sensor function returned an empty result",
    ]

    raising = results["raises_in_rss"]
    assert [r.dagster_run.run_id for r in raising[0].dagster_run_reactions] == [r1, r2]
    assert all("sensor bug" in r.error.message for r in raising[0].dagster_run_reactions)
    assert raising[1].skip_message == "Sensor function returned an empty result"

    requests = [t.run_requests for t in results["failure_requests"]]
    assert [r.run_key for r in requests[0]] == [f1]
    assert requests[0][0].job_name is None or requests[0][0].job_name == "the_job"
    assert requests[1:] == [(), ()]


def test_reactions_become_engine_events_and_errors(instance):
    cursor = returns_none.evaluate_tick(build_sensor_context(instance=instance)).cursor
    r1 = run(instance)
    result = returns_none.evaluate_tick(build_sensor_context(instance=instance, cursor=cursor))
    errors = report_run_reactions(instance, "returns_none", result.dagster_run_reactions)
    assert errors == []
    messages = [e.message for e in instance.all_logs(r1, of_type=DagsterEventType.ENGINE_EVENT)]
    assert f'Sensor "returns_none" acted on run status SUCCESS of run {r1}.' in messages

    cursor = raises_in_rss.evaluate_tick(build_sensor_context(instance=instance)).cursor
    r2 = run(instance)
    failed = raises_in_rss.evaluate_tick(build_sensor_context(instance=instance, cursor=cursor))
    errors = report_run_reactions(instance, "raises_in_rss", failed.dagster_run_reactions)
    assert len(errors) == 1 and "sensor bug" in errors[0].message
    messages = [e.message for e in instance.all_logs(r2, of_type=DagsterEventType.ENGINE_EVENT)]
    assert not any("acted on run status" in m for m in messages)


def test_two_hundred_failures_each_seen_exactly_once(instance):
    seen: list[str] = []

    @run_failure_sensor
    def count_failures(context):
        seen.append(context.dagster_run.run_id)

    count_failures.events_per_tick = 10
    count_failures.runs_per_tick = 4
    cursor = count_failures.evaluate_tick(build_sensor_context(instance=instance)).cursor
    failed = []
    for i in range(200):
        dagster_run = instance.create_run(job_name=f"job_{i % 2}")
        instance.report_run_failed(dagster_run)
        if i % 50 == 0:  # other event types in between do not disturb the cursor
            instance.report_engine_event("noise", dagster_run)
        failed.append(dagster_run.run_id)
    ticks = 0
    while True:
        result = count_failures.evaluate_tick(
            build_sensor_context(instance=instance, cursor=cursor)
        )
        ticks += 1
        assert ticks < 100
        if not result.dagster_run_reactions:
            break
        cursor = result.cursor
    assert seen == failed
    assert ticks == 51
    assert RunStatusSensorCursor.from_json(cursor).record_id > 0
