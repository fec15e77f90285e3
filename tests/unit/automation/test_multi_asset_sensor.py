from __future__ import annotations

import inspect
import json

import pytest

from tocsin import (
    AssetSelection,
    DagsterInstance,
    Definitions,
    StaticPartitionsDefinition,
    asset,
    materialize,
)
from tocsin.automation.context import build_sensor_context
from tocsin.automation.multi_asset_sensor import (
    MultiAssetSensorDefinition,
    MultiAssetSensorEvaluationContext,
    build_multi_asset_sensor_context,
    multi_asset_sensor,
)
from tocsin.automation.results import RunRequest, SkipReason
from tocsin.errors import CheckError, DagsterInvalidInvocationError
from tocsin.model.asset_key import AssetKey


@asset
def a():
    return 1


@asset
def b():
    return 2


@asset(partitions_def=StaticPartitionsDefinition(["x", "y", "z"]))
def p():
    return 3


DEFS = Definitions(assets=[a, b, p])
A, B, P = AssetKey("a"), AssetKey("b"), AssetKey("p")


class FakeJob:
    def __init__(self, name):
        self.name = name


FakeJob.__name__ = "JobDefinition"


@pytest.fixture
def instance():
    with DagsterInstance.ephemeral() as inst:
        yield inst


def context_for(instance, cursor=None, keys=(A, B)):
    return build_multi_asset_sensor_context(
        monitored_assets=list(keys), definitions=DEFS, instance=instance, cursor=cursor
    )


def test_reads_see_materializations_made_by_materialize(instance):
    materialize([a], instance=instance)
    materialize([a], instance=instance)
    context = context_for(instance)
    latest = context.latest_materialization_records_by_key()
    assert set(latest) == {A, B}
    assert latest[B] is None
    assert latest[A].asset_key == A
    records = context.materialization_records_for_key(A)
    assert [r.storage_id for r in records] == sorted(r.storage_id for r in records)
    assert records[-1].storage_id == latest[A].storage_id
    assert len(records) == 2
    assert context.materialization_records_for_key(A, limit=1) == records[:1]
    assert context.asset_keys == [A, B]
    assert context.assets_defs_by_key[A].key == A


def test_advance_cursor_is_written_after_the_evaluation(instance):
    materialize([a], instance=instance)
    materialize([b], instance=instance)
    context = context_for(instance)
    latest = context.latest_materialization_records_by_key()
    context.advance_cursor({A: latest[A], B: None})
    assert context.cursor is None  # reads keep the cursor the evaluation started with
    assert context.latest_materialization_records_by_key()[A] is not None
    context.update_cursor_after_evaluation()
    assert json.loads(context.cursor) == {
        "AssetKey(['a'])": [None, latest[A].storage_id, {}],
        "AssetKey(['b'])": [None, None, {}],
    }
    fresh = context_for(instance, cursor=context.cursor)
    after = fresh.latest_materialization_records_by_key()
    assert after[A] is None
    assert after[B].storage_id == latest[B].storage_id


def test_advance_all_cursors(instance):
    materialize([a], instance=instance)
    materialize([b], instance=instance)
    context = context_for(instance)
    context.advance_all_cursors()
    context.update_cursor_after_evaluation()
    again = context_for(instance, cursor=context.cursor)
    assert again.latest_materialization_records_by_key() == {A: None, B: None}


def test_partitions_skipped_over_stay_visible_until_consumed(instance):
    for key in ["x", "y"]:
        materialize([p], instance=instance, partition_key=key)
    context = context_for(instance, keys=[P])
    by_partition = context.latest_materialization_records_by_partition(P)
    assert sorted(by_partition) == ["x", "y"]
    context.advance_cursor({P: by_partition["y"]})
    context.update_cursor_after_evaluation()
    assert context.get_cursor_partition(P) == "y"
    assert [r.partition_key for r in context.get_trailing_unconsumed_events(P)] == ["x"]
    again = context_for(instance, cursor=context.cursor, keys=[P])
    assert sorted(again.latest_materialization_records_by_partition(P)) == ["x"]
    again.advance_cursor({P: again.latest_materialization_records_by_partition(P)["x"]})
    again.update_cursor_after_evaluation()
    done = context_for(instance, cursor=again.cursor, keys=[P])
    assert done.latest_materialization_records_by_partition(P) == {}
    materialize([p], instance=instance, partition_key="z")
    assert sorted(done.latest_materialization_records_by_partition(P)) == ["z"]
    assert sorted(done.latest_materialization_records_by_partition_and_asset()) == ["z"]
    assert done.latest_materialization_records_by_partition(P, after_cursor_partition=True) == {
        "z": done.latest_materialization_records_by_partition(P)["z"]
    }
    assert done.all_partitions_materialized(P)
    assert not context_for(instance, keys=[A]).all_partitions_materialized(A, ["nope"])


def test_cursor_from_latest_materializations(instance):
    materialize([a], instance=instance)
    context = build_multi_asset_sensor_context(
        monitored_assets=AssetSelection.keys("a", "b"),
        definitions=DEFS,
        instance=instance,
        cursor_from_latest_materializations=True,
    )
    assert context.asset_keys == [A, B]
    assert context.latest_materialization_records_by_key() == {A: None, B: None}


def test_build_context_validation(instance):
    with pytest.raises(CheckError, match="Exactly one of `definitions` or `repository_def`"):
        build_multi_asset_sensor_context(monitored_assets=[A])
    with pytest.raises(CheckError, match="Exactly one of `definitions` or `repository_def`"):
        build_multi_asset_sensor_context(
            monitored_assets=[A], definitions=DEFS, repository_def=DEFS.get_repository_def()
        )
    with pytest.raises(DagsterInvalidInvocationError, match="without a Dagster instance"):
        build_multi_asset_sensor_context(
            monitored_assets=[A], definitions=DEFS, cursor_from_latest_materializations=True
        )
    with pytest.raises(DagsterInvalidInvocationError, match="Cannot provide both cursor"):
        build_multi_asset_sensor_context(
            monitored_assets=[A],
            definitions=DEFS,
            instance=instance,
            cursor="{}",
            cursor_from_latest_materializations=True,
        )
    with pytest.raises(CheckError, match="could not read 'garbage'"):
        context_for(instance, cursor="garbage")
    with pytest.raises(CheckError, match="every member must be an AssetKey"):
        context_for(instance, keys=[3])


def test_unknown_keys_and_bad_records_are_rejected(instance):
    context = context_for(instance)
    with pytest.raises(DagsterInvalidInvocationError, match="'zz' is not monitored"):
        context.latest_materialization_records_by_key([AssetKey("zz")])
    with pytest.raises(DagsterInvalidInvocationError, match="Monitored asset keys: a, b"):
        context.advance_cursor({"zz": None})
    with pytest.raises(CheckError, match="must be an EventLogRecord"):
        context.advance_cursor({A: "record"})
    with pytest.raises(CheckError, match="expects a dict"):
        context.advance_cursor([A])


def test_direct_call_updates_the_context_cursor_so_calls_progress(instance):
    @multi_asset_sensor(monitored_assets=[A, B], job=FakeJob("j"))
    def both_updated(context):
        latest = context.latest_materialization_records_by_key()
        if all(latest.values()):
            context.advance_all_cursors()
            return RunRequest(run_key=str(max(r.storage_id for r in latest.values())))
        return SkipReason("waiting")

    context = context_for(instance)
    materialize([a], instance=instance)
    assert both_updated(context) == SkipReason("waiting")
    materialize([b], instance=instance)
    first = both_updated(context)
    assert isinstance(first, RunRequest)
    assert both_updated(context) == SkipReason("waiting")
    with pytest.raises(CheckError, match="is not a MultiAssetSensorEvaluationContext"):
        both_updated(build_sensor_context(instance=instance))
    with pytest.raises(DagsterInvalidInvocationError, match="expected context argument"):
        both_updated()


def test_direct_call_of_a_generator_updates_after_consumption(instance):
    @multi_asset_sensor(monitored_assets=[A])
    def gen(context):
        for record in context.materialization_records_for_key(A):
            context.advance_cursor({A: record})
            yield SkipReason(str(record.storage_id))

    materialize([a], instance=instance)
    context = context_for(instance, keys=[A])
    out = gen(context)
    assert inspect.isgenerator(out)
    assert len(list(out)) == 1
    assert list(gen(context)) == []


def test_tick_evaluation_with_a_plain_sensor_context(instance):
    @multi_asset_sensor(monitored_assets=[A, B], job=FakeJob("j"))
    def s(context):
        assert isinstance(context, MultiAssetSensorEvaluationContext)
        context.log.info("looking")
        latest = context.latest_materialization_records_by_key()
        context.advance_cursor(latest)
        return [RunRequest(run_key=str(r.storage_id)) for r in latest.values() if r]

    materialize([a], instance=instance)
    result = s.evaluate_tick(build_sensor_context(instance=instance, definitions=DEFS))
    assert len(result.run_requests) == 1
    assert [line.message for line in result.log_lines] == ["looking"]
    again = s.evaluate_tick(build_sensor_context(instance=instance, cursor=result.cursor))
    assert again.skip_message == "Sensor function returned an empty result"
    assert again.cursor == result.cursor


def test_definition_attributes_and_validation(instance):
    @multi_asset_sensor(monitored_assets=[A], request_assets=AssetSelection.keys("a"))
    def s(context):
        return None

    assert isinstance(s, MultiAssetSensorDefinition)
    assert s.sensor_type == "MULTI_ASSET"
    assert s.monitored_assets == [A]
    assert s.asset_selection == AssetSelection.keys("a")
    with pytest.raises(CheckError, match="must be a list of AssetKeys or an AssetSelection"):
        multi_asset_sensor(monitored_assets="a")(lambda context: None)
    with pytest.raises(CheckError, match="needs the code location's definitions"):
        multi_asset_sensor(monitored_assets=AssetSelection.all(), name="sel")(
            lambda context: None
        ).evaluate_tick(build_sensor_context(instance=instance))
