from __future__ import annotations

import inspect

import pytest

from tocsin.automation.asset_sensor import AssetSensorDefinition, asset_sensor
from tocsin.automation.context import build_sensor_context
from tocsin.automation.results import RunRequest, SensorResult, SkipReason
from tocsin.automation.sensor import DefaultSensorStatus, sensor
from tocsin.errors import (
    CheckError,
    DagsterInvalidDefinitionError,
    DagsterInvalidInvocationError,
)
from tocsin.instance.instance import DagsterInstance
from tocsin.model.asset_key import AssetKey
from tocsin.model.events import (
    AssetMaterialization,
    DagsterEvent,
    DagsterEventType,
    EventLogEntry,
    StepMaterializationData,
)


class FakeJob:
    def __init__(self, name):
        self.name = name


FakeJob.__name__ = "JobDefinition"


@pytest.fixture
def instance():
    with DagsterInstance.ephemeral() as inst:
        yield inst


def materialize(instance, key, partition=None, metadata=None, job_name="upstream"):
    run = instance.create_run(job_name=job_name)
    mat = AssetMaterialization(key, metadata=metadata, partition=partition)
    event = DagsterEvent(
        DagsterEventType.ASSET_MATERIALIZATION.value,
        job_name,
        "op",
        f"Materialized value {mat.label}.",
        StepMaterializationData(mat),
        logging_tags={"dagster/partition": partition} if partition else {},
    )
    return instance.handle_new_event(EventLogEntry(run.run_id, dagster_event=event))


def test_sees_the_newest_materialization_after_the_cursor(instance):
    seen = []

    @asset_sensor(asset_key=AssetKey("a"), job=FakeJob("j"))
    def watch(context, asset_event):
        seen.append(asset_event)
        return RunRequest(run_key=str(asset_event.storage_id))

    empty = watch.evaluate_tick(build_sensor_context(instance=instance))
    assert empty.skip_message == "No new materialization events found for asset key AssetKey(['a'])"
    assert empty.cursor is None
    materialize(instance, "a")
    materialize(instance, "b")
    newest = materialize(instance, "a", metadata={"records": 5})
    result = watch.evaluate_tick(build_sensor_context(instance=instance))
    assert [r.run_key for r in result.run_requests] == [str(newest.storage_id)]
    assert result.cursor == str(newest.storage_id)
    entry = seen[0]
    assert isinstance(entry, EventLogEntry)
    assert entry.storage_id == newest.storage_id
    assert entry.dagster_event.asset_key == AssetKey("a")
    materialization = entry.dagster_event.step_materialization_data.materialization
    assert [(e.label, e.entry_data.value) for e in materialization.metadata_entries] == [
        ("records", 5)
    ]
    again = watch.evaluate_tick(build_sensor_context(instance=instance, cursor=result.cursor))
    assert again.skip_message.startswith("No new materialization events")


def test_cursor_moves_even_when_the_function_skips_or_returns_none(instance):
    @asset_sensor(asset_key="a")
    def skipper(context, asset_event):
        return SkipReason("not now")

    @asset_sensor(asset_key="a")
    def nothing(context, asset_event):
        return None

    stored = materialize(instance, "a")
    skipped = skipper.evaluate_tick(build_sensor_context(instance=instance))
    assert (skipped.skip_message, skipped.cursor) == ("not now", str(stored.storage_id))
    empty = nothing.evaluate_tick(build_sensor_context(instance=instance))
    assert empty.skip_message == "Sensor function returned an empty result"
    assert empty.cursor == str(stored.storage_id)


def test_an_unreadable_cursor_starts_from_the_beginning(instance):
    @asset_sensor(asset_key="a")
    def s(context, asset_event):
        return SkipReason(str(asset_event.storage_id))

    stored = materialize(instance, "a")
    result = s.evaluate_tick(build_sensor_context(instance=instance, cursor="not-a-number"))
    assert result.skip_message == str(stored.storage_id)


def test_generator_and_sensor_result_returns(instance):
    @asset_sensor(asset_key=["nested", "key"], jobs=[FakeJob("x"), FakeJob("y")])
    def gen(context, asset_event):
        yield RunRequest(run_key="1", job_name="x")
        yield RunRequest(run_key="2", job_name="y")

    @asset_sensor(asset_key=["nested", "key"], job=FakeJob("x"))
    def result_fn(context, asset_event):
        return SensorResult(run_requests=[RunRequest(run_key="r")])

    materialize(instance, AssetKey(["nested", "key"]))
    assert [
        r.job_name for r in gen.evaluate_tick(build_sensor_context(instance=instance)).run_requests
    ] == ["x", "y"]
    assert [
        r.run_key
        for r in result_fn.evaluate_tick(build_sensor_context(instance=instance)).run_requests
    ] == ["r"]


def test_direct_invocation_returns_a_generator_that_queries_the_instance(instance):
    @asset_sensor(asset_key=AssetKey("a"), job=FakeJob("j"))
    def watch(context, asset_event):
        return RunRequest(run_key=f"k{asset_event.storage_id}")

    stored = materialize(instance, "a")
    context = build_sensor_context(instance=instance)
    out = watch(context)
    assert inspect.isgenerator(out)
    assert list(out) == [RunRequest(run_key=f"k{stored.storage_id}")]
    assert context.cursor == str(stored.storage_id)
    assert next(iter(watch(context=context))).skip_message.startswith("No new materialization")
    with pytest.raises(DagsterInvalidInvocationError, match="expected context argument"):
        watch()
    with pytest.raises(CheckError, match="is not a SensorEvaluationContext"):
        watch("not a context")


def test_resources_reach_the_function(instance):
    @asset_sensor(asset_key="a", required_resource_keys={"client"})
    def s(context, asset_event):
        return SkipReason(context.resources.client)

    materialize(instance, "a")
    ok = s.evaluate_tick(build_sensor_context(instance=instance, resources={"client": "c"}))
    assert ok.skip_message == "c"
    with pytest.raises(DagsterInvalidDefinitionError, match="Resource with key 'client'"):
        s.evaluate_tick(build_sensor_context(instance=instance))


def test_function_with_only_a_context_or_nothing(instance):
    @asset_sensor(asset_key="a")
    def context_only(context):
        return SkipReason("context only")

    @asset_sensor(asset_key="a")
    def no_params():
        return SkipReason("no params")

    materialize(instance, "a")
    assert context_only.evaluate_tick(build_sensor_context(instance=instance)).skip_message == (
        "context only"
    )
    assert no_params.evaluate_tick(build_sensor_context(instance=instance)).skip_message == (
        "no params"
    )


def test_definition_attributes_and_sensor_asset_key_form():
    @asset_sensor(
        asset_key=AssetKey("a"),
        job_name="j",
        name="named",
        minimum_interval_seconds=5,
        default_status=DefaultSensorStatus.RUNNING,
    )
    def fn(context, asset_event):
        return None

    assert isinstance(fn, AssetSensorDefinition)
    assert (fn.name, fn.asset_key, fn.job_name, fn.minimum_interval_seconds) == (
        "named",
        AssetKey("a"),
        "j",
        5,
    )
    assert fn.sensor_type == "ASSET"

    @sensor(asset_key=AssetKey("my_asset"))
    def my_asset_sensor(context, asset_event):
        return None

    assert isinstance(my_asset_sensor, AssetSensorDefinition)
    assert my_asset_sensor.asset_key == AssetKey("my_asset")


def test_bad_asset_key_and_targets():
    with pytest.raises(CheckError, match="asset_key must be an AssetKey"):
        asset_sensor(asset_key=5)
    with pytest.raises(DagsterInvalidDefinitionError, match="more than one of"):
        asset_sensor(asset_key="a", name="s", job_name="x", job=FakeJob("y"))(
            lambda context, e: None
        )
    with pytest.raises(DagsterInvalidDefinitionError, match="not a valid name"):
        asset_sensor(asset_key="a")(lambda context, e: None)
