from __future__ import annotations

import pytest

from tocsin.definitions.asset import (
    AssetOut,
    MaterializeResult,
    SourceAsset,
    asset,
    multi_asset,
)
from tocsin.definitions.asset_job import define_asset_job
from tocsin.definitions.definitions import Definitions
from tocsin.definitions.op import Output
from tocsin.errors import DagsterInvalidDefinitionError, DagsterInvariantViolationError
from tocsin.execution.io_managers import IOManager, io_manager, mem_io_manager
from tocsin.execution.materialize import materialize, materialize_to_memory
from tocsin.instance.instance import DagsterInstance
from tocsin.model.asset_key import AssetKey


@pytest.fixture
def instance():
    with DagsterInstance.ephemeral() as inst:
        yield inst


@asset
def upstream():
    return 1


@asset
def downstream(upstream):
    return upstream + 1


def test_chain_reads_upstream_value_and_records_materializations(instance):
    result = materialize([upstream, downstream], instance=instance)
    assert result.success
    assert result.output_for_node("downstream") == 2
    [mat] = result.asset_materializations_for_node("downstream")
    assert mat.asset_key == AssetKey("downstream")
    event = instance.get_latest_materialization_event(AssetKey("downstream"))
    assert event is not None
    assert event.asset_materialization.asset_key == AssetKey("downstream")
    assert result.dagster_run.job_name == "__ephemeral_asset_job__"


def test_selection_loads_unselected_upstream_from_storage(instance):
    materialize([upstream, downstream], instance=instance)
    result = materialize([upstream, downstream], instance=instance, selection="downstream")
    assert result.success
    assert result.output_for_node("downstream") == 2
    assert result.asset_materializations_for_node("upstream") == []


def test_missing_upstream_is_a_definition_error():
    with pytest.raises(
        DagsterInvalidDefinitionError,
        match='Input asset "\\["upstream"\\]" is not produced by any of the provided asset ops',
    ):
        materialize([downstream])


def test_materialize_result_and_output_metadata(instance):
    @asset
    def with_result():
        return MaterializeResult(metadata={"rows": 3})

    @asset
    def with_output():
        return Output(5, metadata={"size": 7})

    @asset
    def with_context(context):
        context.add_output_metadata({"added": "yes"})
        return 1

    result = materialize([with_result, with_output, with_context], instance=instance)
    assert result.success
    [m1] = result.asset_materializations_for_node("with_result")
    assert m1.metadata["rows"].value == 3
    [m2] = result.asset_materializations_for_node("with_output")
    assert m2.metadata["size"].value == 7
    assert result.output_for_node("with_output") == 5
    [m3] = result.asset_materializations_for_node("with_context")
    assert m3.metadata["added"].value == "yes"


def test_partitioned_asset_for_one_partition(instance):
    from tocsin.definitions.partitions import StaticPartitionsDefinition

    seen = []

    @asset(partitions_def=StaticPartitionsDefinition(["x", "y"]))
    def parted(context):
        seen.append(context.partition_key)
        return context.partition_key

    result = materialize([parted], partition_key="y", instance=instance)
    assert result.success
    assert seen == ["y"]
    [mat] = result.asset_materializations_for_node("parted")
    assert mat.partition == "y"
    event = instance.get_latest_materialization_event(AssetKey("parted"))
    assert event.dagster_event.partition == "y"


def test_resources_and_config(instance):
    @asset(required_resource_keys={"greeting"}, config_schema={"name": str})
    def greeted(context):
        return f"{context.resources.greeting} {context.op_config['name']}"

    result = materialize(
        [greeted],
        instance=instance,
        resources={"greeting": "hello"},
        run_config={"ops": {"greeted": {"config": {"name": "ann"}}}},
    )
    assert result.output_for_node("greeted") == "hello ann"


def test_source_asset_loaded_through_its_io_manager(instance):
    class Fixed(IOManager):
        def handle_output(self, context, obj):
            raise AssertionError("source assets are never written")

        def load_input(self, context):
            return 40

    @io_manager
    def fixed(_):
        return Fixed()

    ext = SourceAsset("ext", io_manager_key="ext_io")

    @asset
    def uses_ext(ext):
        return ext + 2

    result = materialize([ext, uses_ext], instance=instance, resources={"ext_io": fixed})
    assert result.output_for_node("uses_ext") == 42


def test_multi_asset_records_each_key(instance):
    @multi_asset(outs={"left": AssetOut(), "right": AssetOut()})
    def both():
        return 1, 2

    result = materialize([both], instance=instance)
    keys = {m.asset_key for m in result.asset_materializations_for_node("both")}
    assert keys == {AssetKey("left"), AssetKey("right")}


def test_failure_without_raising(instance):
    @asset
    def broken():
        raise ValueError("boom")

    result = materialize([broken], instance=instance, raise_on_error=False)
    assert not result.success
    with pytest.raises(ValueError, match="boom"):
        materialize([broken], instance=instance)


def test_materialize_to_memory(instance):
    result = materialize_to_memory([upstream, downstream], instance=instance)
    assert result.output_for_node("downstream") == 2
    with pytest.raises(
        DagsterInvariantViolationError,
        match="Attempted to call `materialize_to_memory` with a resource provided for io "
        "manager key 'io_manager'",
    ):
        materialize_to_memory([upstream], resources={"io_manager": mem_io_manager})


def test_materialize_rejects_non_lists():
    with pytest.raises(DagsterInvalidDefinitionError, match="takes a list of assets"):
        materialize(upstream)


def test_asset_job_star_in_definitions_runs_in_process(instance):
    @asset(required_resource_keys={"factor"})
    def scaled(context, upstream):
        return upstream * context.resources.factor

    defs = Definitions(
        assets=[upstream, scaled],
        jobs=[define_asset_job("asset_job", "*")],
        resources={"factor": 10},
    )
    result = defs.get_job_def("asset_job").execute_in_process(instance=instance)
    assert result.success
    assert result.output_for_node("scaled") == 10
    assert instance.get_latest_materialization_event(AssetKey("scaled")) is not None


def test_multi_asset_specs_and_generator_assets_run(instance):
    from tocsin.definitions.asset import AssetSpec

    @multi_asset(specs=[AssetSpec("s1"), AssetSpec("s2", deps=["s1"])])
    def pair():
        return (
            MaterializeResult(asset_key="s1", metadata={"n": 1}),
            MaterializeResult(asset_key="s2", metadata={"n": 2}),
        )

    @asset
    def yielded():
        yield Output(3, metadata={"via": "yield"})

    result = materialize([pair, yielded], instance=instance)
    assert result.success
    by_key = {m.asset_key: m for m in result.asset_materializations_for_node("pair")}
    assert by_key[AssetKey("s2")].metadata["n"].value == 2
    [m] = result.asset_materializations_for_node("yielded")
    assert m.metadata["via"].value == "yield"
    assert result.output_for_node("yielded") == 3
