from __future__ import annotations

import pytest

from tocsin import DagsterInvalidDefinitionError, GraphDefinition, Out, graph, job, op
from tocsin.definitions.graph import DependencyDefinition, NodeInvocation


@op
def one() -> int:
    return 1


@op
def inc(x: int) -> int:
    return x + 1


@op(out={"a": Out(), "b": Out()})
def split(x: int):
    return x, x * 10


@op
def add(a: int, b: int) -> int:
    return a + b


def test_graph_composition_records_nodes_and_dependencies() -> None:
    @graph
    def g():
        inc(one())

    assert isinstance(g, GraphDefinition)
    assert sorted(g.nodes) == ["inc", "one"]
    assert g.dependencies["inc"] == {"x": DependencyDefinition("one", "result")}


def test_same_op_twice_gets_numbered_aliases_and_explicit_alias() -> None:
    @graph
    def g():
        inc(inc(one()))
        inc.alias("last")(one())

    assert sorted(g.nodes) == ["inc", "inc_2", "last", "one", "one_2"]


def test_multiple_outputs_unpack_and_nested_graph_flattens() -> None:
    @graph
    def inner(x):
        a, b = split(x)
        return add(a, b)

    @job
    def j():
        inc(inner(one()))

    handles = [n.handle for n in j.nodes_in_topological_order]
    assert handles == ["one", "inner.split", "inner.add", "inc"]
    result = j.execute_in_process()
    assert result.output_for_node("inc") == 12
    assert result.output_for_node("inner.add") == 11


def test_graph_outputs_dict_and_output_value() -> None:
    @graph(out={"first": Out(), "second": Out()})
    def g():
        a, b = split(one())
        return {"first": a, "second": b}

    result = g.to_job().execute_in_process()
    assert result.output_value("first") == 1
    assert result.output_value("second") == 10


def test_constant_input_in_graph_is_rejected() -> None:
    with pytest.raises(DagsterInvalidDefinitionError, match="must come from other ops"):

        @graph
        def g():
            inc(5)


def test_unknown_input_keyword_is_rejected() -> None:
    with pytest.raises(DagsterInvalidDefinitionError, match="does not have"):

        @graph
        def g():
            inc(y=one())


def test_calling_graph_outside_composition_is_rejected() -> None:
    @graph
    def g():
        one()

    with pytest.raises(DagsterInvalidDefinitionError, match="to_job"):
        g()


def test_explicit_graph_definition_with_dependency_dict() -> None:
    g = GraphDefinition(
        name="explicit",
        node_defs=[one, inc],
        dependencies={
            "inc": {"x": DependencyDefinition("one")},
            NodeInvocation("inc", alias="inc_again"): {"x": DependencyDefinition("inc")},
        },
    )
    assert g.to_job().execute_in_process().output_for_node("inc_again") == 3


def test_dependency_on_unknown_node_is_rejected() -> None:
    with pytest.raises(DagsterInvalidDefinitionError, match="'nope', which is not in the graph"):
        GraphDefinition(
            name="bad", node_defs=[inc], dependencies={"inc": {"x": DependencyDefinition("nope")}}
        )


def test_cycle_is_rejected_when_the_job_is_built() -> None:
    g = GraphDefinition(
        name="cyc",
        node_defs=[inc],
        dependencies={
            "inc": {"x": DependencyDefinition("inc_b")},
            NodeInvocation("inc", alias="inc_b"): {"x": DependencyDefinition("inc")},
        },
    )
    with pytest.raises(DagsterInvalidDefinitionError, match="Circular dependencies"):
        g.to_job()


def test_fan_in_list_input() -> None:
    @op
    def total(values: list) -> int:
        return sum(values)

    @job
    def j():
        total([one(), inc(one())])

    assert j.execute_in_process().output_for_node("total") == 3
