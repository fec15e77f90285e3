from __future__ import annotations

import pytest

from tocsin.definitions.asset import AssetOut, SourceAsset, asset, multi_asset
from tocsin.definitions.asset_graph import AssetGraph
from tocsin.definitions.asset_job import (
    UnresolvedAssetJobDefinition,
    build_asset_job,
    define_asset_job,
)
from tocsin.definitions.asset_selection import AssetSelection
from tocsin.definitions.job import JobDefinition
from tocsin.errors import DagsterInvalidDefinitionError
from tocsin.model.asset_key import AssetKey


class FakePartitions:
    def __init__(self, name):
        self.name = name

    def __eq__(self, other):
        return isinstance(other, FakePartitions) and other.name == self.name

    def __hash__(self):
        return hash(self.name)


@asset
def a():
    return 1


@asset
def b(a):
    return a + 1


@asset(deps=[b])
def c():
    return 3


ext = SourceAsset("ext", io_manager_key="ext_io")


@asset
def from_ext(ext):
    return ext


def graph_of(*assets):
    return AssetGraph.from_assets(assets)


def test_define_asset_job_is_unresolved_and_keeps_arguments():
    job = define_asset_job("asset_job", "*", config={"ops": {}}, description="d", tags={"t": "1"})
    assert isinstance(job, UnresolvedAssetJobDefinition)
    assert job.name == "asset_job"
    assert job.selection == AssetSelection.all()
    assert job.tags == {"t": "1"}
    assert define_asset_job("j").selection == AssetSelection.all()


def test_define_asset_job_rejects_bad_names_and_selections():
    with pytest.raises(DagsterInvalidDefinitionError, match="not a valid job name"):
        define_asset_job("bad name")
    with pytest.raises(DagsterInvalidDefinitionError, match="Cannot use 3"):
        define_asset_job("j", 3)


def test_resolve_builds_nodes_and_edges():
    job = define_asset_job("asset_job", "*").resolve(graph_of(a, b, c))
    assert isinstance(job, JobDefinition)
    assert job.name == "asset_job"
    assert [n.handle for n in job.nodes_in_topological_order] == ["a", "b", "c"]
    assert job.get_op("b").dependencies["a"].node == "a"
    assert job.get_op("c").dependencies["b"].node == "b"


def test_unselected_upstream_stays_unconnected():
    job = define_asset_job("only_b", "b").resolve(graph_of(a, b, c))
    assert [n.handle for n in job.nodes_in_topological_order] == ["b"]
    assert job.get_op("b").dependencies == {}
    assert job.get_op("b").op_def.ins["a"].asset_key == AssetKey("a")


def test_external_input_loads_through_its_io_manager():
    job = define_asset_job("j").resolve(graph_of(ext, from_ext), resource_defs={"ext_io": 1})
    op_def = job.get_op("from_ext").op_def
    assert op_def.ins["ext"].input_manager_key == "ext_io"
    # The asset's own op is untouched (the job works on a copy).
    assert from_ext.op.ins["ext"].input_manager_key is None
    assert "ext_io" in job.resource_defs


def test_partitions_inferred_from_selected_assets():
    daily = FakePartitions("daily")

    @asset(partitions_def=daily)
    def p1():
        return 1

    @asset(partitions_def=FakePartitions("daily"))
    def p2(p1):
        return p1

    @asset(partitions_def=FakePartitions("hourly"))
    def p3():
        return 1

    graph = graph_of(p1, p2, p3)
    assert define_asset_job("j", ["p1", "p2"]).resolve(graph).partitions_def == daily
    assert define_asset_job("j", "p3").resolve(graph_of(p3, a)).partitions_def == FakePartitions(
        "hourly"
    )
    with pytest.raises(DagsterInvalidDefinitionError, match="Multiple partitioned assets"):
        define_asset_job("j", "*").resolve(graph)
    explicit = FakePartitions("explicit")
    assert (
        define_asset_job("j", "*", partitions_def=explicit).resolve(graph).partitions_def
        is explicit
    )


def test_multi_asset_cannot_be_subset():
    @multi_asset(outs={"m1": AssetOut(), "m2": AssetOut()})
    def m():
        return 1, 2

    graph = graph_of(m)
    with pytest.raises(DagsterInvalidDefinitionError, match="does not support subsetting"):
        define_asset_job("j", "m1").resolve(graph)
    full = define_asset_job("j", ["m1", "m2"]).resolve(graph)
    assert [n.handle for n in full.nodes_in_topological_order] == ["m"]


def test_executor_and_resources_passed_through():
    marker = object()
    job = build_asset_job(
        "j", graph_of(a), {AssetKey("a")}, resource_defs={"x": 1}, executor_def=marker
    )
    assert job.has_explicit_executor
    assert job.executor_def is marker
    assert "x" in job.resource_defs


def test_job_executor_wins_over_default():
    mine, default = object(), object()
    job = define_asset_job("j", executor_def=mine).resolve(graph_of(a), executor_def=default)
    assert job.executor_def is mine
