from __future__ import annotations

import datetime as dt

import pytest

from tocsin import (
    DagsterInvalidDefinitionError,
    DagsterInvalidInvocationError,
    DefaultSensorStatus,
    ResourceParam,
    RunRequest,
    SensorDefinition,
    build_sensor_context,
    sensor,
)
from tocsin.errors import CheckError, ParameterCheckError


def _fn(context):
    return None


def test_defaults():
    s = sensor(job_name="j")(_fn)
    assert s.name == "_fn" and s.minimum_interval_seconds == 30
    assert s.default_status is DefaultSensorStatus.STOPPED
    assert s.description is None and s.tags == {} and s.metadata == {}
    assert s.job_name == "j" and s.targets() == ["j"]
    assert s.evaluation_timeout is None and s.overlap is None and s.jitter is None
    assert s.pause_after_failures is None and s.wake_on is None


def test_definition_attributes():
    s = sensor(
        job_name="j",
        name="named",
        minimum_interval_seconds=45,
        description="d",
        default_status=DefaultSensorStatus.RUNNING,
        tags={"team": "x"},
        metadata={"m": 1},
    )(_fn)
    assert (s.name, s.minimum_interval_seconds, s.description) == ("named", 45, "d")
    assert s.default_status is DefaultSensorStatus.RUNNING
    assert s.tags == {"team": "x"} and s.metadata == {"m": 1}


def test_missing_evaluation_fn():
    with pytest.raises(DagsterInvalidDefinitionError, match="Must provide evaluation_fn"):
        SensorDefinition(name="a")


@pytest.mark.parametrize(
    "targets",
    [
        {"job_name": "a", "jobs": []},
        {"job_name": "a", "asset_selection": ["x"]},
        {"job_name": "a", "target": "x"},
    ],
)
def test_more_than_one_target(targets):
    with pytest.raises(DagsterInvalidDefinitionError) as info:
        SensorDefinition(name="a", evaluation_fn=_fn, **targets)
    assert str(info.value) == (
        "Attempted to provide more than one of 'job', 'jobs', 'job_name', and 'asset_selection' "
        "params to SensorDefinition. Must provide only one."
    )


@pytest.mark.parametrize("name", ["bad name!", "with-dash", ""])
def test_invalid_name(name):
    with pytest.raises(DagsterInvalidDefinitionError) as info:
        sensor(job_name="j", name=name)(_fn)
    assert str(info.value) == (
        f'"{name}" is not a valid name in Dagster. Names must be in regex ^[A-Za-z0-9_]+$.'
    )


def test_decorating_a_lambda_fails_on_its_name():
    with pytest.raises(DagsterInvalidDefinitionError, match='"<lambda>" is not a valid name'):
        sensor(job_name="j")(lambda: None)


@pytest.mark.parametrize("interval", ["3", 1.5])
def test_minimum_interval_must_be_an_int(interval):
    with pytest.raises(ParameterCheckError, match='Param "minimum_interval_seconds" is not a int'):
        sensor(job_name="j", minimum_interval_seconds=interval)(_fn)


@pytest.mark.parametrize("interval", [0, -5, None])
def test_minimum_interval_accepts_zero_negative_and_none(interval):
    s = sensor(job_name="j", minimum_interval_seconds=interval)(_fn)
    assert s.minimum_interval_seconds == (30 if interval is None else interval)


def test_bare_decorator_is_not_supported():
    inner = sensor(_fn)
    assert callable(inner) and not isinstance(inner, SensorDefinition)
    with pytest.raises(ParameterCheckError, match='Param "job_name" is not a str'):
        inner(_fn)


def test_sensor_without_target_has_no_job_name():
    s = sensor(job_name=None, name="s")(_fn)
    assert s.job_name is None and s.targets() == []


def test_tocsin_scheduling_options_are_stored():
    s = sensor(
        job_name="j",
        evaluation_timeout=12.5,
        overlap="skip",
        jitter=dt.timedelta(seconds=3),
        pause_after_failures=4,
        wake_on=["file_dropped"],
    )(_fn)
    assert s.evaluation_timeout == 12.5 and s.overlap == "skip"
    assert s.jitter == dt.timedelta(seconds=3) and s.pause_after_failures == 4
    assert s.wake_on == ["file_dropped"]


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("evaluation_timeout", 0),
        ("evaluation_timeout", "10"),
        ("jitter", "3s"),
        ("pause_after_failures", -1),
        ("pause_after_failures", True),
        ("overlap", "sometimes"),
        ("overlap", 1),
        ("wake_on", "event"),
    ],
)
def test_bad_scheduling_options(option, value):
    with pytest.raises(DagsterInvalidDefinitionError, match=option):
        sensor(job_name="j", **{option: value})(_fn)


def test_overlap_error_names_the_values_and_the_closest_one():
    with pytest.raises(DagsterInvalidDefinitionError) as caught:
        sensor(job_name="j", overlap="buffer-one")(_fn)
    message = str(caught.value)
    assert "'allow', 'skip', 'buffer_one', 'buffer_all', 'cancel_other'" in message
    assert "Did you mean 'buffer_one'?" in message


def test_pause_after_failures_zero_means_never():
    assert sensor(job_name="j", pause_after_failures=0)(_fn).pause_after_failures == 0


def test_default_status_must_be_the_enum():
    with pytest.raises(ParameterCheckError, match="default_status"):
        sensor(job_name="j", default_status="RUNNING")(_fn)


# -- direct invocation (semantics 2.3) ------------------------------------------------------


@sensor(job_name="j")
def no_context():
    return {"raw": True}


@sensor(job_name="j")
def with_context(context):
    return context.cursor


@sensor(job_name="j")
def arbitrary_name(_arbitrary_context):
    return _arbitrary_context.cursor


@sensor(job_name="j")
def underscore(_):
    return _.cursor


@sensor(job_name="j")
def generator():
    yield RunRequest("a")


def test_no_context_param_returns_the_raw_value():
    assert no_context() == {"raw": True}


def test_no_context_param_accepts_and_ignores_a_context():
    assert no_context(build_sensor_context()) == {"raw": True}


def test_generator_function_returns_a_generator():
    result = generator()
    assert list(result) == [RunRequest("a")]


def test_context_param_without_context():
    with pytest.raises(DagsterInvalidInvocationError) as info:
        with_context()
    assert str(info.value) == (
        "Sensor evaluation function expected context argument, but no context argument was "
        "provided when invoking."
    )


def test_none_context_builds_a_default_one():
    assert with_context(None) is None
    assert underscore(_=None) is None


def test_context_positional_or_by_param_name():
    assert with_context(build_sensor_context(cursor="c")) == "c"
    assert with_context(context=build_sensor_context(cursor="c")) == "c"
    assert arbitrary_name(_arbitrary_context=build_sensor_context(cursor="q")) == "q"


def test_wrong_keyword():
    with pytest.raises(DagsterInvalidInvocationError) as info:
        arbitrary_name(context=build_sensor_context())
    assert str(info.value) == "Sensor invocation expected argument '_arbitrary_context'."


@pytest.mark.parametrize(
    "call",
    [
        lambda: with_context(build_sensor_context(), build_sensor_context()),
        lambda: with_context(build_sensor_context(), context=None),
    ],
)
def test_two_non_resource_arguments(call):
    with pytest.raises(DagsterInvalidInvocationError, match="multiple non-resource arguments"):
        call()


def test_non_context_positional():
    with pytest.raises(CheckError) as info:
        with_context("str")
    assert str(info.value).startswith("Object 'str' is not a SensorEvaluationContext")


class Client:
    def __init__(self, value):
        self.value = value


@sensor(job_name="j")
def uses_resource(context, my_resource: ResourceParam[Client]):
    return my_resource.value


@sensor(job_name="j")
def resource_only(my_resource: ResourceParam[Client]):
    return my_resource.value


@sensor(job_name="j", required_resource_keys={"a"})
def required_key(context):
    return context.resources.a


def test_resource_params_are_recognised():
    assert uses_resource.required_resource_keys == {"my_resource"}


def test_resource_keyword_is_merged_into_the_context():
    assert uses_resource(build_sensor_context(), my_resource=Client(3)) == 3
    assert resource_only(my_resource=Client(4)) == 4


def test_resource_from_the_context():
    assert uses_resource(build_sensor_context(resources={"my_resource": Client(5)})) == 5
    assert resource_only(build_sensor_context(resources={"my_resource": Client(7)})) == 7


def test_missing_resource():
    with pytest.raises(DagsterInvalidDefinitionError) as info:
        uses_resource(build_sensor_context())
    assert str(info.value) == (
        "Resource with key 'my_resource' required by sensor 'uses_resource' was not provided."
    )


def test_missing_required_resource_key():
    with pytest.raises(DagsterInvalidDefinitionError, match="Resource with key 'a' required"):
        required_key(build_sensor_context())
    assert required_key(build_sensor_context(resources={"a": 9})) == 9


def test_resource_passed_positionally():
    with pytest.raises(DagsterInvalidInvocationError) as info:
        resource_only(Client(1))
    assert str(info.value) == (
        "If directly invoking a sensor, you may not provide resources as positional arguments, "
        "only as keyword arguments."
    )


def test_required_keys_and_resource_params_together():
    def fn(context, my_resource: ResourceParam[Client]):
        return None

    with pytest.raises(ParameterCheckError, match="cannot specify resource requirements"):
        sensor(job_name="j", required_resource_keys={"a"})(fn)


def test_evaluate_tick_injects_resources():
    @sensor(job_name="j")
    def asks(context, my_resource: ResourceParam[Client]):
        return RunRequest(str(my_resource.value))

    context = build_sensor_context(resources={"my_resource": Client(8)})
    assert asks.evaluate_tick(context).run_requests[0].run_key == "8"


def test_repr_names_the_sensor():
    assert repr(with_context) == "<SensorDefinition 'with_context'>"


def test_asset_key_makes_an_asset_sensor():
    from tocsin import AssetKey, AssetSensorDefinition

    @sensor(asset_key=AssetKey("my_asset"), job_name="j")
    def my_asset_sensor(context, asset_event):
        return None

    assert isinstance(my_asset_sensor, AssetSensorDefinition)
    assert my_asset_sensor.name == "my_asset_sensor"
