from __future__ import annotations

import pytest

from tocsin.definitions.asset import AssetSpec, SourceAsset, asset
from tocsin.definitions.asset_graph import AssetGraph
from tocsin.definitions.asset_selection import AssetSelection
from tocsin.errors import DagsterInvalidDefinitionError
from tocsin.model.asset_key import AssetKey


@asset(group_name="ingest")
def raw():
    return 1


@asset(key_prefix="clean", group_name="ingest")
def users(raw):
    return raw


@asset(deps=[users])
def report():
    return 2


@asset
def lonely():
    return 3


ext = SourceAsset("ext", group_name="outside")


@asset
def from_ext(ext):
    return ext


ALL = [raw, users, report, lonely, ext, from_ext]
K = AssetKey


def resolve(sel):
    return sel.resolve(ALL)


def test_all_excludes_sources_unless_asked():
    assert resolve(AssetSelection.all()) == {
        K("raw"),
        K(["clean", "users"]),
        K("report"),
        K("lonely"),
        K("from_ext"),
    }
    assert K("ext") in resolve(AssetSelection.all(include_sources=True))


def test_keys_assets_groups_prefixes():
    assert resolve(AssetSelection.keys("clean/users")) == {K(["clean", "users"])}
    assert resolve(AssetSelection.keys(["clean", "users"], K("raw"))) == {
        K(["clean", "users"]),
        K("raw"),
    }
    assert resolve(AssetSelection.assets(raw, users)) == {K("raw"), K(["clean", "users"])}
    assert resolve(AssetSelection.groups("ingest")) == {K("raw"), K(["clean", "users"])}
    assert resolve(AssetSelection.groups("outside")) == set()
    assert resolve(AssetSelection.groups("outside", include_sources=True)) == {K("ext")}
    assert resolve(AssetSelection.key_prefixes("clean")) == {K(["clean", "users"])}
    assert resolve(AssetSelection.key_prefixes(["clean", "users"])) == {K(["clean", "users"])}


def test_upstream_and_downstream():
    users_sel = AssetSelection.keys("clean/users")
    assert resolve(users_sel.upstream()) == {K("raw"), K(["clean", "users"])}
    assert resolve(users_sel.downstream()) == {K(["clean", "users"]), K("report")}
    assert resolve(AssetSelection.keys("raw").downstream(depth=1)) == {
        K("raw"),
        K(["clean", "users"]),
    }
    assert resolve(AssetSelection.keys("report").upstream(include_self=False)) == {
        K("raw"),
        K(["clean", "users"]),
    }
    # External assets are not part of an upstream walk.
    assert resolve(AssetSelection.keys("from_ext").upstream()) == {K("from_ext")}


def test_set_operations():
    ingest = AssetSelection.groups("ingest")
    assert resolve(ingest | AssetSelection.keys("lonely")) == {
        K("raw"),
        K(["clean", "users"]),
        K("lonely"),
    }
    assert resolve(ingest & AssetSelection.keys("raw")) == {K("raw")}
    assert resolve(ingest - AssetSelection.keys("raw")) == {K(["clean", "users"])}
    with pytest.raises(DagsterInvalidDefinitionError, match="Cannot combine an AssetSelection"):
        ingest | "raw"  # type: ignore[operator]


def test_roots_and_sinks():
    chain = AssetSelection.keys("raw", "clean/users", "report")
    assert resolve(chain.roots()) == {K("raw")}
    assert resolve(chain.sinks()) == {K("report")}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("*", {"raw", "clean/users", "report", "lonely", "from_ext"}),
        ("raw", {"raw"}),
        ("clean/users", {"clean/users"}),
        ("*clean/users", {"raw", "clean/users"}),
        ("raw*", {"raw", "clean/users", "report"}),
        ("+report", {"clean/users", "report"}),
        ("raw+", {"raw", "clean/users"}),
        ("++report", {"raw", "clean/users", "report"}),
        ("*clean/users*", {"raw", "clean/users", "report"}),
        ("key:raw", {"raw"}),
        ("group:ingest", {"raw", "clean/users"}),
    ],
)
def test_string_forms(text, expected):
    keys = resolve(AssetSelection.from_coercible(text))
    assert {k.to_user_string() for k in keys} == expected


def test_coercible_lists():
    assert resolve(AssetSelection.from_coercible(["raw", "lonely*"])) == {K("raw"), K("lonely")}
    assert resolve(AssetSelection.from_coercible([raw, K("lonely")])) == {K("raw"), K("lonely")}
    assert resolve(AssetSelection.from_coercible(raw)) == {K("raw")}


def test_bad_selections():
    with pytest.raises(DagsterInvalidDefinitionError, match="Cannot parse the asset selection"):
        AssetSelection.from_coercible("a b")
    with pytest.raises(DagsterInvalidDefinitionError, match="Cannot use 3 as an asset selection"):
        AssetSelection.from_coercible(3)
    with pytest.raises(DagsterInvalidDefinitionError, match="depth must be an int"):
        AssetSelection.all().upstream(depth=-1)
    with pytest.raises(DagsterInvalidDefinitionError, match="takes group names"):
        AssetSelection.groups(1)  # type: ignore[arg-type]
    with pytest.raises(DagsterInvalidDefinitionError, match="takes str or lists of str"):
        AssetSelection.key_prefixes(1)  # type: ignore[arg-type]


def test_unknown_key_names_suggestions():
    with pytest.raises(DagsterInvalidDefinitionError) as info:
        resolve(AssetSelection.keys("users"))
    assert "AssetKey(s) ['users'] were selected" in str(info.value)
    assert "did you mean ['clean/users']" in str(info.value)


def test_resolve_accepts_graph_and_rejects_junk():
    graph = AssetGraph.from_assets(ALL)
    assert AssetSelection.keys("raw").resolve(graph) == {K("raw")}
    with pytest.raises(DagsterInvalidDefinitionError, match="needs an AssetGraph"):
        AssetSelection.all().resolve(3)


def test_graph_structure_and_errors():
    graph = AssetGraph.from_assets([*ALL, AssetSpec("spec_only")])
    assert graph.parents(K(["clean", "users"])) == {K("raw")}
    assert graph.children(K("raw")) == {K(["clean", "users"])}
    assert not graph.is_materializable(K("spec_only"))
    assert graph.toposort([K("report"), K("raw"), K(["clean", "users"])]) == [
        K("raw"),
        K(["clean", "users"]),
        K("report"),
    ]

    @asset(name="raw")
    def other_raw():
        return 0

    with pytest.raises(DagsterInvalidDefinitionError, match="Duplicate asset key"):
        AssetGraph.from_assets([raw, other_raw])
    with pytest.raises(DagsterInvalidDefinitionError, match="Expected an asset"):
        AssetGraph.from_assets(["raw"])


def test_undeclared_upstream_becomes_external():
    graph = AssetGraph.from_assets([users])
    assert graph.external_asset_keys == {K("raw")}
    assert graph.io_manager_key(K("raw")) == "io_manager"


def test_cycle_is_reported():
    @asset(deps=["b"])
    def a():
        return 1

    @asset(deps=["a"])
    def b():
        return 1

    graph = AssetGraph.from_assets([a, b])
    with pytest.raises(DagsterInvalidDefinitionError, match="cycle"):
        graph.toposort(graph.materializable_asset_keys)
