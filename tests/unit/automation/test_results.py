from __future__ import annotations

import pytest

from tocsin import (
    AddDynamicPartitionsRequest,
    AssetKey,
    DeleteDynamicPartitionsRequest,
    RunConfig,
    RunRequest,
    SensorResult,
    SkipReason,
)
from tocsin.errors import CheckError, ParameterCheckError


def test_run_key_is_the_first_positional_argument():
    assert RunRequest("k").run_key == "k"


def test_run_request_defaults():
    request = RunRequest()
    assert (request.run_key, request.run_config, request.tags) == (None, {}, {})
    assert request.job_name is None and request.partition_key is None
    assert request.asset_selection is None and request.stale_assets_only is False


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"run_key": 1}, 'Param "run_key" is not a str. Got 1 which is type'),
        ({"run_config": 5}, "Param \"run_config\" is not one of ['Mapping']. Got 5"),
        ({"tags": 5}, "Param \"tags\" is not one of ['Mapping']. Got 5"),
        ({"job_name": 5}, 'Param "job_name" is not a str. Got 5'),
        ({"partition_key": 5}, 'Param "partition_key" is not a str. Got 5'),
        ({"asset_selection": 5}, 'Param "asset_selection" is not a Sequence. Got 5'),
    ],
)
def test_run_request_rejects_wrong_types(kwargs, message):
    with pytest.raises(ParameterCheckError, match=message.replace("[", r"\[").replace("]", r"\]")):
        RunRequest(**kwargs)


def test_tag_values_are_stringified():
    request = RunRequest(tags={"a": 1, "b": None, "c": {"x": 1}, "d": "s"})
    assert request.tags == {"a": "1", "b": "null", "c": '{"x": 1}', "d": "s"}


def test_tag_keys_must_be_strings():
    with pytest.raises(CheckError, match="Key in Mapping mismatches type"):
        RunRequest(tags={1: 2})


def test_run_config_object_becomes_a_dict():
    request = RunRequest(run_config=RunConfig(ops={"my_op": {"config": {"a": 1}}}))
    assert isinstance(request.run_config, dict)
    assert request.run_config["ops"] == {"my_op": {"config": {"a": 1}}}


def test_asset_selection_is_made_of_asset_keys():
    request = RunRequest(asset_selection=[AssetKey("a"), ["b", "c"]])
    assert request.asset_selection == [AssetKey("a"), AssetKey(["b", "c"])]


def test_with_replaced_attrs_checks_again():
    request = RunRequest("k").with_replaced_attrs(tags={"x": 2})
    assert request.tags == {"x": "2"} and request.run_key == "k"
    with pytest.raises(ParameterCheckError):
        RunRequest("k").with_replaced_attrs(run_key=3)


def test_run_request_round_trips_through_a_dict():
    request = RunRequest("k", {"a": 1}, {"t": "v"}, job_name="j", partition_key="p")
    assert RunRequest.from_dict(request.to_dict()) == request


def test_skip_reason():
    assert SkipReason().skip_message is None
    assert SkipReason("x").skip_message == "x"
    with pytest.raises(ParameterCheckError, match='Param "skip_message" is not a str'):
        SkipReason(5)


def test_sensor_result_accepts_a_str_skip_reason():
    assert SensorResult(skip_reason="x").skip_reason == SkipReason("x")
    assert SensorResult(skip_reason=SkipReason("y")).skip_reason == SkipReason("y")


def test_sensor_result_rejects_requests_and_skip_together():
    with pytest.raises(CheckError, match="received values for both run_requests and skip_reason"):
        SensorResult(run_requests=[RunRequest()], skip_reason="x")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"run_requests": 5}, 'Param "run_requests" is not a Sequence'),
        ({"cursor": 5}, 'Param "cursor" is not a str'),
        ({"run_requests": ["x"]}, "Member of list mismatches type"),
        ({"dynamic_partitions_requests": [1]}, "Member of list mismatches type"),
    ],
)
def test_sensor_result_rejects_wrong_types(kwargs, message):
    with pytest.raises(CheckError, match=message):
        SensorResult(**kwargs)


def test_dynamic_partitions_requests():
    add = AddDynamicPartitionsRequest("files", ["a", "b"])
    delete = DeleteDynamicPartitionsRequest("files", ("a",))
    assert add.partition_keys == ["a", "b"] and delete.partition_keys == ["a"]
    with pytest.raises(CheckError):
        AddDynamicPartitionsRequest("files", [1])
    with pytest.raises(ParameterCheckError):
        AddDynamicPartitionsRequest(5, ["a"])


def test_with_tags_merges_checked_tags_and_keeps_the_rest():
    request = RunRequest("k", run_config={"ops": {}}, tags={"a": "1"}, job_name="j")
    tagged = request.with_tags({"b": 2, "a": "x"})
    assert tagged.tags == {"a": "x", "b": "2"}
    assert (tagged.run_key, tagged.run_config, tagged.job_name) == ("k", {"ops": {}}, "j")
    assert request.tags == {"a": "1"}
    with pytest.raises(CheckError, match="Key in Mapping"):
        request.with_tags({1: "x"})
