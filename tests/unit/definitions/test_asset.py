from __future__ import annotations

import pytest

from tocsin.definitions.asset import (
    AssetIn,
    AssetOut,
    AssetsDefinition,
    AssetSpec,
    MaterializeResult,
    SourceAsset,
    asset,
    multi_asset,
)
from tocsin.definitions.op import Nothing, Output, op
from tocsin.errors import DagsterInvalidDefinitionError, DagsterInvariantViolationError
from tocsin.model.asset_key import AssetKey


def test_bare_asset_has_key_op_and_default_group():
    @asset
    def users():
        return [1, 2]

    assert isinstance(users, AssetsDefinition)
    assert users.key == AssetKey("users")
    assert users.keys == {AssetKey("users")}
    assert users.op.name == "users"
    assert users.op.outs["result"].asset_key == AssetKey("users")
    assert users.group_names_by_key == {AssetKey("users"): "default"}
    assert users.dependency_keys == set()
    assert users() == [1, 2]


def test_asset_arguments_are_kept():
    marker = object()

    @asset(
        name="orders",
        key_prefix=["raw", "shop"],
        group_name="sales",
        metadata={"owner": "me"},
        description="all orders",
        io_manager_key="warehouse",
        code_version="3",
        tags={"tier": "gold"},
        owners=["a@b.c"],
        kinds={"python"},
        automation_condition=marker,
    )
    def _ignored():
        return 1

    key = AssetKey(["raw", "shop", "orders"])
    assert _ignored.key == key
    assert _ignored.op.name == "raw__shop__orders"
    assert _ignored.group_names_by_key == {key: "sales"}
    assert _ignored.metadata_by_key == {key: {"owner": "me"}}
    assert _ignored.descriptions_by_key == {key: "all orders"}
    assert _ignored.get_io_manager_key_for_asset_key(key) == "warehouse"
    assert _ignored.code_versions_by_key == {key: "3"}
    assert _ignored.tags_by_key == {key: {"tier": "gold"}}
    assert _ignored.owners_by_key == {key: ["a@b.c"]}
    assert _ignored.automation_condition is marker
    assert _ignored.automation_conditions_by_key == {key: marker}


def test_key_argument_and_conflicts():
    @asset(key=["a", "b"])
    def fn():
        return 1

    assert fn.key == AssetKey(["a", "b"])

    @asset(key="x/y")
    def fn2():
        return 1

    assert fn2.key == AssetKey(["x", "y"])
    with pytest.raises(DagsterInvalidDefinitionError, match="Cannot specify a name or key prefix"):
        asset(key="a", name="b")(lambda: 1)
    with pytest.raises(DagsterInvalidDefinitionError, match="Invalid @asset key"):
        asset(key=3)(lambda: 1)


def test_invalid_name_is_rejected():
    with pytest.raises(DagsterInvalidDefinitionError, match='"bad name" is not a valid name'):
        asset(name="bad name")(lambda: 1)


def test_auto_materialize_policy_kept_and_converted():
    class Policy:
        def to_automation_condition(self):
            return "cond"

    policy = Policy()

    @asset(auto_materialize_policy=policy)
    def a():
        return 1

    assert a.auto_materialize_policy is policy
    assert a.automation_condition == "cond"


def test_dependencies_from_parameter_names_ins_and_deps():
    @asset
    def upstream():
        return 1

    src = SourceAsset(["ext", "table"])
    spec = AssetSpec("spec_dep")

    @asset(
        ins={"renamed": AssetIn(key="other"), "pref": AssetIn(key_prefix="p")},
        deps=[upstream, ["x", "y"], AssetKey("z"), src, spec, "single"],
    )
    def down(context, plain, renamed, pref):
        return plain

    assert down.keys_by_input_name == {
        "plain": AssetKey("plain"),
        "renamed": AssetKey("other"),
        "pref": AssetKey(["p", "pref"]),
    }
    expected_deps = {
        AssetKey("plain"),
        AssetKey("other"),
        AssetKey(["p", "pref"]),
        AssetKey("upstream"),
        AssetKey(["x", "y"]),
        AssetKey("z"),
        AssetKey(["ext", "table"]),
        AssetKey("spec_dep"),
        AssetKey("single"),
    }
    assert down.dependency_keys == expected_deps
    assert down.op.ins["x_y"].dagster_type is Nothing
    assert down.op.ins["x_y"].asset_key == AssetKey(["x", "y"])
    assert down.op.ins["plain"].asset_key == AssetKey("plain")


def test_dep_that_is_also_an_input_is_not_duplicated():
    @asset
    def a():
        return 1

    @asset(deps=[a])
    def b(a):
        return a

    assert list(b.op.ins) == ["a"]


def test_ins_must_name_a_parameter():
    with pytest.raises(DagsterInvalidDefinitionError, match="'missing', which is not a parameter"):

        @asset(ins={"missing": AssetIn("k")})
        def a(x):
            return x


def test_ins_must_be_asset_in():
    with pytest.raises(DagsterInvalidDefinitionError, match="must be an AssetIn"):

        @asset(ins={"x": "k"})
        def a(x):
            return x


def test_asset_in_rejects_key_and_prefix():
    with pytest.raises(DagsterInvalidDefinitionError, match="both key='a' and key_prefix='p'"):
        AssetIn(key="a", key_prefix="p")


def test_partitions_and_resources_and_config():
    pdef = object()

    @asset(partitions_def=pdef, required_resource_keys={"db"}, config_schema={"n": int})
    def a(context):
        return 1

    assert a.partitions_def is pdef
    assert a.required_resource_keys == {"db"}
    assert a.op.config_schema == {"n": int}


def test_materialize_result_is_returned_by_direct_invocation():
    @asset
    def a():
        return MaterializeResult(metadata={"rows": 3})

    result = a()
    assert isinstance(result, MaterializeResult)
    assert result.metadata == {"rows": 3}


def test_compute_fn_turns_materialize_result_into_output():
    @asset
    def a():
        return MaterializeResult(metadata={"rows": 3})

    output = a.op.compute_fn()
    assert isinstance(output, Output)
    assert output.output_name == "result"
    assert output.value is None
    assert output.metadata["rows"].value == 3


def test_generator_asset_yields_outputs():
    @asset
    def a():
        yield MaterializeResult(metadata={"n": 1})

    items = list(a.op.compute_fn())
    assert isinstance(items[0], Output)


def test_multi_asset_with_outs():
    @multi_asset(
        outs={"x": AssetOut(), "y": AssetOut(key_prefix="k", group_name="g")},
        group_name="fallback",
    )
    def m(upstream):
        return 1, 2

    assert m.keys == {AssetKey("x"), AssetKey(["k", "y"])}
    assert m.op.name == "m"
    assert m.group_names_by_key == {AssetKey("x"): "fallback", AssetKey(["k", "y"]): "g"}
    assert m.keys_by_output_name == {"x": AssetKey("x"), "y": AssetKey(["k", "y"])}
    assert m.asset_deps[AssetKey("x")] == {AssetKey("upstream")}
    with pytest.raises(DagsterInvariantViolationError, match="multiple asset keys"):
        _ = m.key


def test_multi_asset_with_specs_maps_results_by_key():
    @multi_asset(specs=[AssetSpec("s1"), AssetSpec("s2", deps=["s1"])])
    def m():
        return MaterializeResult(asset_key="s1"), MaterializeResult(asset_key="s2")

    assert m.asset_deps == {AssetKey("s1"): set(), AssetKey("s2"): {AssetKey("s1")}}
    outputs = list(m.op.compute_fn())
    assert [o.output_name for o in outputs] == ["s1", "s2"]


def test_multi_asset_result_for_unknown_key():
    @multi_asset(specs=[AssetSpec("s1")])
    def m():
        return MaterializeResult(asset_key="nope")

    with pytest.raises(DagsterInvalidDefinitionError, match="names asset 'nope'"):
        m.op.compute_fn()


def test_multi_asset_argument_errors():
    with pytest.raises(DagsterInvalidDefinitionError, match="can_subset=True is not supported"):
        multi_asset(outs={"a": AssetOut()}, can_subset=True)
    with pytest.raises(DagsterInvalidDefinitionError, match="needs outs"):
        multi_asset()
    with pytest.raises(DagsterInvalidDefinitionError, match="both outs and specs"):
        multi_asset(outs={"a": AssetOut()}, specs=[AssetSpec("a")])
    with pytest.raises(DagsterInvalidDefinitionError, match="dict of output name to AssetOut"):
        multi_asset(outs={"a": 1})


def test_asset_spec_replace_and_merge():
    spec = AssetSpec("a", tags={"x": "1"}, deps=["b"])
    merged = spec.merge_attributes(tags={"y": "2"}, deps=["c"])
    assert merged.tags == {"x": "1", "y": "2"}
    assert merged.dep_keys == {AssetKey("b"), AssetKey("c")}
    assert spec.replace_attributes(group_name="g").group_name == "g"
    with pytest.raises(DagsterInvalidDefinitionError, match="unknown attributes"):
        spec.replace_attributes(nope=1)


def test_source_asset_defaults():
    src = SourceAsset("a/b")
    assert src.key == AssetKey(["a", "b"])
    assert src.io_manager_key == "io_manager"
    assert src.group_name == "default"
    assert not src.is_executable


def test_assets_definition_from_op():
    @op
    def my_op(up):
        return up

    assets_def = AssetsDefinition.from_op(my_op, key_prefix="p", group_name="g")
    assert assets_def.key == AssetKey(["p", "result"])
    assert assets_def.keys_by_input_name == {"up": AssetKey("up")}
    assert assets_def.group_names_by_key == {AssetKey(["p", "result"]): "g"}
    assert assets_def.to_source_asset().key == AssetKey(["p", "result"])


def test_assets_definition_needs_outputs():
    @op
    def my_op():
        return 1

    with pytest.raises(DagsterInvalidDefinitionError, match="keys_by_output_name is empty"):
        AssetsDefinition(node_def=my_op, keys_by_output_name={})
