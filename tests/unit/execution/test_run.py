from __future__ import annotations

import pytest

from tocsin import (
    AssetKey,
    AssetMaterialization,
    DagsterInstance,
    DagsterRunStatus,
    DynamicOut,
    DynamicOutput,
    Failure,
    In,
    Nothing,
    Out,
    Output,
    RetryPolicy,
    RetryRequested,
    job,
    op,
    resource,
)
from tocsin.execution.run import execute_run


@op
def one(context) -> int:
    context.log.info("making one")
    return 1


@op
def inc(x: int) -> int:
    return x + 1


@job
def chain():
    inc(one())


def _types(result) -> list[str]:
    return [e.event_type_value for e in result.all_events if e.dagster_event is not None]


def test_events_in_reference_order_and_stored_on_instance() -> None:
    with DagsterInstance.ephemeral() as instance:
        result = chain.execute_in_process(instance=instance)
        assert result.success
        assert _types(result) == [
            "PIPELINE_START",
            "ENGINE_EVENT",
            "STEP_START",
            "STEP_OUTPUT",
            "HANDLED_OUTPUT",
            "STEP_SUCCESS",
            "STEP_START",
            "LOADED_INPUT",
            "STEP_OUTPUT",
            "HANDLED_OUTPUT",
            "STEP_SUCCESS",
            "ENGINE_EVENT",
            "PIPELINE_SUCCESS",
        ]
        stored = instance.all_logs(result.run_id)
        assert len(stored) == len(result.all_events)
        log_lines = [e for e in stored if e.dagster_event is None]
        assert [(e.user_message, e.step_key) for e in log_lines] == [("making one", "one")]
        run = instance.get_run_by_id(result.run_id)
        assert run.status == DagsterRunStatus.SUCCESS
        assert result.dagster_run.status == DagsterRunStatus.SUCCESS
    assert result.output_for_node("inc") == 2
    assert result.get_run_success_event().event_type_value == "PIPELINE_SUCCESS"
    assert result.get_job_success_event().event_type_value == "PIPELINE_SUCCESS"
    assert len(result.get_step_success_events()) == 2
    assert {e.step_key for e in result.events_for_node("inc")} == {"inc"}


def test_op_error_reraises_the_users_exception() -> None:
    @op
    def boom():
        raise ValueError("kaboom")

    @job
    def failing():
        inc(boom())

    with pytest.raises(ValueError, match="kaboom"):
        failing.execute_in_process()


def test_op_error_without_raise_records_failure() -> None:
    @op
    def boom():
        raise ValueError("kaboom")

    @job
    def failing():
        inc(boom())

    with DagsterInstance.ephemeral() as instance:
        result = failing.execute_in_process(instance=instance, raise_on_error=False)
        assert instance.get_run_by_id(result.run_id).status == DagsterRunStatus.FAILURE
    assert not result.success
    (failure,) = result.get_step_failure_events()
    assert failure.step_key == "boom"
    assert "kaboom" in failure.event_specific_data.error.to_string()
    run_failure = result.get_run_failure_event()
    assert "Steps failed: ['boom']" in run_failure.message
    assert result.get_job_failure_event() is run_failure
    assert not any(
        e.event_type_value == "STEP_START" and e.step_key == "inc" for e in result.all_events
    )


def test_failure_carries_description_and_metadata() -> None:
    @op
    def fails():
        raise Failure("bad input", metadata={"rows": 3})

    @job
    def j():
        fails()

    result = j.execute_in_process(raise_on_error=False)
    data = result.get_step_failure_events()[0].event_specific_data
    assert data.user_failure_data["description"] == "bad input"
    assert data.user_failure_data["metadata"]["rows"].value == 3


def test_retry_policy_retries_then_succeeds() -> None:
    attempts: list[int] = []

    @op(retry_policy=RetryPolicy(max_retries=2))
    def flaky(context):
        attempts.append(context.retry_number)
        if context.retry_number < 1:
            raise ValueError("once")
        return "ok"

    @job
    def j():
        flaky()

    result = j.execute_in_process()
    assert attempts == [0, 1]
    assert _types(result)[2:6] == [
        "STEP_START",
        "STEP_UP_FOR_RETRY",
        "STEP_RESTARTED",
        "STEP_OUTPUT",
    ]
    assert result.output_for_node("flaky") == "ok"


def test_retry_requested_exhausts_then_fails() -> None:
    @op
    def always():
        raise RetryRequested(max_retries=1)

    @job
    def j():
        always()

    result = j.execute_in_process(raise_on_error=False)
    types = _types(result)
    assert types.count("STEP_UP_FOR_RETRY") == 1
    assert types.count("STEP_FAILURE") == 1


def test_generator_resource_torn_down_after_failure() -> None:
    log: list[str] = []

    @resource
    def conn(_):
        log.append("open")
        try:
            yield "c"
        finally:
            log.append("close")

    @op(required_resource_keys={"conn"})
    def uses(context):
        assert context.resources.conn == "c"
        raise RuntimeError("fail after using conn")

    @job(resource_defs={"conn": conn})
    def j():
        uses()

    with pytest.raises(RuntimeError, match="fail after using conn"):
        j.execute_in_process()
    assert log == ["open", "close"]


def test_outputs_metadata_and_asset_materialization() -> None:
    @op(out={"a": Out(asset_key=AssetKey("tbl")), "b": Out(is_required=False)})
    def produce(context):
        context.add_output_metadata({"extra": 1}, output_name="a")
        context.log_event(AssetMaterialization("side"))
        yield Output(5, "a", metadata={"rows": 5})

    @job
    def j():
        produce()

    result = j.execute_in_process()
    mats = result.asset_materializations_for_node("produce")
    assert [m.asset_key for m in mats] == [AssetKey("side"), AssetKey("tbl")]
    assert mats[1].metadata["rows"].value == 5
    assert mats[1].metadata["extra"].value == 1
    assert len(result.get_asset_materialization_events()) == 2
    with pytest.raises(Exception, match="did not produce output 'b'"):
        result.output_for_node("produce", "b")


def test_missing_required_output_fails_the_step() -> None:
    @op(out={"a": Out(), "b": Out()})
    def half():
        yield Output(1, "a")

    @job
    def j():
        half()

    result = j.execute_in_process(raise_on_error=False)
    error = result.get_step_failure_events()[0].event_specific_data.error
    assert 'non-optional output "b"' in error.to_string()


def test_dynamic_map_and_collect() -> None:
    @op(out=DynamicOut())
    def fan():
        for i in range(3):
            yield DynamicOutput(i, mapping_key=f"k{i}")

    @op
    def square(x: int) -> int:
        return x * x

    @op
    def total(xs: list) -> int:
        return sum(xs)

    @job
    def j():
        total(fan().map(square).collect())

    result = j.execute_in_process()
    assert result.output_for_node("total") == 5
    assert result.output_for_node("square") == {"k0": 0, "k1": 1, "k2": 4}
    keys = [e.step_key for e in result.get_step_success_events()]
    assert "square[k1]" in keys


def test_nothing_dependency_orders_steps() -> None:
    order: list[str] = []

    @op
    def first() -> None:
        order.append("first")

    @op(ins={"after": In(Nothing)})
    def second():
        order.append("second")

    @job
    def j():
        second(after=first())

    assert j.execute_in_process().success
    assert order == ["first", "second"]


def test_execute_run_runs_an_existing_run_in_process_fallback() -> None:
    with DagsterInstance.ephemeral() as instance:
        run = instance.create_run(job_name="chain")
        result = execute_run(chain, run, instance)
        assert result.success
        assert instance.get_run_by_id(run.run_id).status == DagsterRunStatus.SUCCESS
        with pytest.raises(Exception, match="already finished"):
            execute_run(chain, instance.get_run_by_id(run.run_id), instance)
