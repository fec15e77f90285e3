from __future__ import annotations

import pytest

from tocsin import (
    ConfigurableResource,
    DagsterInvalidConfigError,
    DagsterInvalidDefinitionError,
    EnvVar,
    InitResourceContext,
    ResourceDefinition,
    build_init_resource_context,
    build_resources,
    job,
    op,
    resource,
)
from tocsin.errors import DagsterResourceFunctionError


class Greeter(ConfigurableResource):
    greeting: str
    punctuation: str = "!"

    def greet(self, name: str) -> str:
        return f"{self.greeting} {name}{self.punctuation}"


def test_resource_decorator_config_and_dependencies() -> None:
    @resource(config_schema={"n": int})
    def number(context: InitResourceContext):
        return context.resource_config["n"]

    @resource(required_resource_keys={"number"})
    def doubled(context):
        return context.resources.number * 2

    with build_resources(
        {"number": number, "doubled": doubled}, resource_config={"number": {"config": {"n": 4}}}
    ) as res:
        assert res.number == 4
        assert res.doubled == 8


def test_bare_resource_without_context_and_plain_values() -> None:
    @resource
    def fixed():
        return "v"

    with build_resources({"fixed": fixed, "plain": 3}) as res:
        assert res.fixed == "v"
        assert res.plain == 3


def test_resource_cycle_is_rejected() -> None:
    a = ResourceDefinition(lambda ctx: 1, required_resource_keys={"b"})
    b = ResourceDefinition(lambda ctx: 2, required_resource_keys={"a"})
    with (
        pytest.raises(DagsterInvalidDefinitionError, match="depends on itself"),
        build_resources({"a": a, "b": b}),
    ):
        pass


def test_missing_resource_dependency() -> None:
    a = ResourceDefinition(lambda ctx: 1, required_resource_keys={"nope"})
    with (
        pytest.raises(DagsterInvalidDefinitionError, match="'nope' required by resource"),
        build_resources({"a": a}),
    ):
        pass


def test_generator_resource_tears_down_after_block() -> None:
    log: list[str] = []

    @resource
    def conn(_):
        log.append("open")
        yield "conn"
        log.append("close")

    with build_resources({"conn": conn}) as res:
        assert res.conn == "conn"
        assert log == ["open"]
    assert log == ["open", "close"]


def test_resource_error_is_wrapped() -> None:
    @resource
    def broken(_):
        raise ValueError("no")

    with pytest.raises(DagsterResourceFunctionError) as info, build_resources({"broken": broken}):
        pass
    assert isinstance(info.value.__cause__, ValueError)


def test_hardcoded_and_none_resources() -> None:
    with build_resources(
        {"h": ResourceDefinition.hardcoded_resource(5), "n": ResourceDefinition.none_resource()}
    ) as res:
        assert res.h == 5
        assert res.n is None


def test_bad_resource_config() -> None:
    @resource(config_schema={"n": int})
    def number(context):
        return context.resource_config["n"]

    with (
        pytest.raises(DagsterInvalidConfigError, match=r"resources\.number\.config\.n"),
        build_resources({"number": number}, resource_config={"number": {"config": {"n": "x"}}}),
    ):
        pass


def test_build_init_resource_context() -> None:
    @resource(required_resource_keys={"dep"})
    def uses(context):
        return context.resource_config["k"] + context.resources.dep

    assert uses(build_init_resource_context(config={"k": 1}, resources={"dep": 2})) == 3


def test_configurable_resource_in_a_job_with_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOCSIN_TEST_GREETING", "Hello")

    @op
    def greet(greeter: Greeter) -> str:
        return greeter.greet("tocsin")

    @job(resource_defs={"greeter": Greeter(greeting=EnvVar("TOCSIN_TEST_GREETING"))})
    def j():
        greet()

    assert j.execute_in_process().output_for_node("greet") == "Hello tocsin!"
    result = j.execute_in_process(
        run_config={"resources": {"greeter": {"config": {"punctuation": "?"}}}}
    )
    assert result.output_for_node("greet") == "Hello tocsin?"


def test_configurable_resource_setup_and_teardown() -> None:
    events: list[str] = []

    class Tracked(ConfigurableResource):
        name: str = "t"

        def setup_for_execution(self, context) -> None:
            events.append("setup")

        def teardown_after_execution(self, context) -> None:
            events.append("teardown")

    with build_resources({"t": Tracked()}) as res:
        assert res.t.name == "t"
    assert events == ["setup", "teardown"]
