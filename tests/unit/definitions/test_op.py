from __future__ import annotations

import pytest

from tocsin import (
    Backoff,
    Config,
    DagsterInvalidDefinitionError,
    DagsterInvalidInvocationError,
    DagsterUnknownResourceError,
    In,
    Jitter,
    Nothing,
    OpDefinition,
    Out,
    Output,
    ResourceParam,
    RetryPolicy,
    build_op_context,
    op,
)
from tocsin.errors import CheckError


class MyConfig(Config):
    name: str
    times: int = 2


def test_bare_op_infers_inputs_and_single_result_output() -> None:
    @op
    def add(a: int, b: int = 2) -> int:
        """Adds."""
        return a + b

    assert isinstance(add, OpDefinition)
    assert add.name == "add"
    assert list(add.ins) == ["a", "b"]
    assert add.ins["a"].dagster_type is int
    assert add.ins["b"].default_value == 2
    assert list(add.outs) == ["result"]
    assert add.description == "Adds."
    assert add(1) == 3
    assert add(1, b=5) == 6


def test_op_with_arguments() -> None:
    policy = RetryPolicy(max_retries=2, delay=0.5, backoff=Backoff.LINEAR)

    @op(
        name="renamed",
        config_schema={"x": int},
        required_resource_keys={"db"},
        ins={"a": In(int, description="first")},
        out={"left": Out(), "right": Out(is_required=False)},
        tags={"team": "data"},
        description="two outs",
        retry_policy=policy,
    )
    def f(context, a):
        return a, a

    assert f.name == "renamed"
    assert f.required_resource_keys == {"db"}
    assert list(f.outs) == ["left", "right"]
    assert f.outs["right"].is_required is False
    assert f.tags == {"team": "data"}
    assert f.retry_policy is policy
    assert f.ins["a"].description == "first"


def test_invalid_op_name_is_rejected() -> None:
    with pytest.raises(DagsterInvalidDefinitionError, match="not a valid op name"):
        op(name="bad name!")(lambda: 1)


def test_ins_without_matching_parameter_is_rejected() -> None:
    with pytest.raises(DagsterInvalidDefinitionError, match="no matching parameter"):

        @op(ins={"missing": In()})
        def f(a):
            return a


def test_required_resource_keys_as_string_is_rejected() -> None:
    with pytest.raises(DagsterInvalidDefinitionError, match="Write"):

        @op(required_resource_keys="db")
        def f():
            return 1


def test_out_must_be_out() -> None:
    with pytest.raises(DagsterInvalidDefinitionError, match="must be an Out"):

        @op(out={"a": 1})
        def f():
            return 1


def test_direct_invocation_with_context_config_and_resources() -> None:
    @op(config_schema={"n": int}, required_resource_keys={"base"})
    def f(context, x):
        context.log.info("running")
        return context.op_config["n"] + context.resources.base + x

    ctx = build_op_context(resources={"base": 100}, op_config={"n": 1})
    assert f(ctx, 10) == 111


def test_direct_invocation_without_context_when_required() -> None:
    @op
    def f(context):
        return 1

    with pytest.raises(DagsterInvalidInvocationError, match="no context was provided"):
        f()


def test_direct_invocation_missing_resource() -> None:
    @op(required_resource_keys={"db"})
    def f(context):
        return 1

    with pytest.raises(DagsterInvalidDefinitionError, match="resource with key 'db'"):
        f(build_op_context())


def test_direct_invocation_wrong_input_name() -> None:
    @op
    def f(a):
        return a

    with pytest.raises(DagsterInvalidInvocationError, match="no input named 'b'"):
        f(b=1)
    with pytest.raises(DagsterInvalidInvocationError, match="No value provided"):
        f()


def test_undeclared_resource_access_raises_unknown_resource() -> None:
    @op(required_resource_keys={"a"})
    def f(context):
        return context.resources.b

    with pytest.raises(DagsterUnknownResourceError, match="Unknown resource `b`"):
        f(build_op_context(resources={"a": 1, "b": 2}))


def test_resource_param_annotation() -> None:
    @op
    def f(client: ResourceParam[dict]) -> int:
        return client["v"]

    assert f.required_resource_keys == {"client"}
    assert f.resource_params == ("client",)
    assert f(build_op_context(resources={"client": {"v": 3}})) == 3
    assert f(client={"v": 4}) == 4


def test_config_class_parameter() -> None:
    @op
    def f(config: MyConfig) -> str:
        return config.name * config.times

    assert f.config_schema is MyConfig
    assert f(build_op_context(op_config={"name": "ab"})) == "abab"


def test_config_class_and_config_schema_conflict() -> None:
    with pytest.raises(DagsterInvalidDefinitionError, match="both config_schema"):

        @op(config_schema={"x": int})
        def f(config: MyConfig):
            return 1


def test_output_and_dynamic_output_values() -> None:
    from tocsin import DynamicOutput

    out = Output(1, metadata={"rows": 3})
    assert out.output_name == "result"
    assert out.metadata["rows"].value == 3
    dyn = DynamicOutput(5, mapping_key="k1")
    assert dyn.mapping_key == "k1"
    with pytest.raises(DagsterInvalidDefinitionError, match="mapping_key"):
        DynamicOutput(5, mapping_key="bad key")


def test_nothing_input_is_not_a_value_input() -> None:
    @op(ins={"start": In(Nothing)})
    def f():
        return 1

    assert f.ins["start"].is_nothing
    assert f() == 1


def test_retry_policy_validation_and_delays() -> None:
    with pytest.raises(CheckError, match="max_retries"):
        RetryPolicy(max_retries=-1)
    with pytest.raises(CheckError, match="need a delay"):
        RetryPolicy(backoff=Backoff.EXPONENTIAL)
    linear = RetryPolicy(max_retries=3, delay=1, backoff=Backoff.LINEAR)
    assert [linear.calculate_delay(n) for n in (1, 2, 3)] == [1, 2, 3]
    expo = RetryPolicy(max_retries=3, delay=1, backoff=Backoff.EXPONENTIAL)
    assert [expo.calculate_delay(n) for n in (1, 2, 3)] == [1, 3, 7]
    jitter = RetryPolicy(delay=2, jitter=Jitter.FULL)
    assert 0 <= jitter.calculate_delay(1) <= 2
