from __future__ import annotations

import os

import pytest

from tocsin import (
    DagsterInstance,
    DagsterInvalidDefinitionError,
    Executor,
    ExecutorDefinition,
    InitExecutorContext,
    executor,
    in_process_executor,
    job,
    multiprocess_executor,
    op,
)
from tocsin.execution.run import execute_run


@op
def child_one() -> int:
    return 1


@op
def child_double(x: int) -> int:
    return x * 2


@job(executor_def=multiprocess_executor)
def mp_job():
    child_double(child_one())


def _step_pids(instance, run_id) -> set[int]:
    return {
        e.dagster_event.pid
        for e in instance.all_logs(run_id)
        if e.dagster_event is not None and e.dagster_event.event_type_value == "STEP_START"
    }


def test_multiprocess_executor_runs_steps_in_child_processes() -> None:
    with DagsterInstance.ephemeral() as instance:
        run = instance.create_run(
            job_name="mp_job", run_config={"execution": {"config": {"max_concurrent": 2}}}
        )
        result = execute_run(mp_job, run, instance)
        assert result.success, [e.message for e in instance.all_logs(run.run_id)]
        pids = _step_pids(instance, run.run_id)
        assert pids and os.getpid() not in pids


def test_unimportable_job_falls_back_to_in_process_with_a_note() -> None:
    @job(executor_def=multiprocess_executor)
    def local_job():
        child_double(child_one())

    with DagsterInstance.ephemeral() as instance:
        run = instance.create_run(job_name="local_job")
        result = execute_run(local_job, run, instance)
        assert result.success
        messages = [e.message for e in instance.all_logs(run.run_id)]
        assert any("instead of in child processes" in m for m in messages)
        assert _step_pids(instance, run.run_id) == {os.getpid()}


def test_custom_executor_gets_init_context() -> None:
    seen: dict[str, object] = {}

    @executor(name="custom", config_schema={"note": str})
    def custom(init_context: InitExecutorContext) -> Executor:
        seen["job"] = init_context.job.name
        seen["pipeline"] = init_context.pipeline.name
        seen["config"] = init_context.executor_config
        return in_process_executor.executor_creation_fn(init_context)

    assert isinstance(custom, ExecutorDefinition)

    @job(executor_def=custom)
    def custom_job():
        child_one()

    with DagsterInstance.ephemeral() as instance:
        run = instance.create_run(
            job_name="custom_job", run_config={"execution": {"config": {"note": "hi"}}}
        )
        assert execute_run(custom_job, run, instance).success
    assert seen == {"job": "custom_job", "pipeline": "custom_job", "config": {"note": "hi"}}


def test_executor_without_creation_fn_is_rejected() -> None:
    with pytest.raises(DagsterInvalidDefinitionError, match="executor_creation_fn"):
        ExecutorDefinition("nope")


def test_bad_executor_config_fails_the_run() -> None:
    with DagsterInstance.ephemeral() as instance:
        run = instance.create_run(
            job_name="mp_job", run_config={"execution": {"config": {"max_concurrent": "x"}}}
        )
        result = execute_run(mp_job, run, instance)
        assert not result.success
        assert instance.get_run_by_id(run.run_id).status.value == "FAILURE"
