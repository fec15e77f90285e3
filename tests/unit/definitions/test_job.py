from __future__ import annotations

import pytest

from tocsin import (
    DagsterInvalidConfigError,
    DagsterInvalidDefinitionError,
    JobDefinition,
    RunConfig,
    graph,
    job,
    op,
    validate_run_config,
)


@op(config_schema={"filename": str, "retries": int})
def process_file(context):
    return context.op_config["filename"]


@op
def plain():
    return 1


@job(tags={"team": "data"}, description="d", metadata={"owner": "me"})
def file_job():
    process_file()
    plain()


def test_job_properties() -> None:
    assert isinstance(file_job, JobDefinition)
    assert file_job.name == "file_job"
    assert file_job.tags == {"team": "data"}
    assert file_job.metadata == {"owner": "me"}
    assert file_job.has_op("plain")


def test_validate_run_config_returns_processed_config() -> None:
    processed = validate_run_config(
        file_job, {"ops": {"process_file": {"config": {"filename": "a", "retries": 1}}}}
    )
    assert processed["ops"]["process_file"]["config"] == {"filename": "a", "retries": 1}


def test_solids_is_accepted_for_ops() -> None:
    processed = validate_run_config(
        file_job, {"solids": {"process_file": {"config": {"filename": "a", "retries": 1}}}}
    )
    assert processed["ops"]["process_file"]["config"]["filename"] == "a"


def test_bad_config_names_the_nested_path() -> None:
    with pytest.raises(DagsterInvalidConfigError) as info:
        validate_run_config(
            file_job, {"ops": {"process_file": {"config": {"filename": 3, "retries": 1}}}}
        )
    assert "ops.process_file.config.filename" in str(info.value)


def test_missing_required_op_config() -> None:
    with pytest.raises(DagsterInvalidConfigError, match=r"ops\.process_file\.config"):
        validate_run_config(file_job, {})


def test_unknown_op_and_top_level_key() -> None:
    with pytest.raises(DagsterInvalidConfigError, match='unexpected config entry "zzz"'):
        validate_run_config(file_job, {"ops": {"zzz": {"config": {}}}})
    with pytest.raises(DagsterInvalidConfigError, match="at the root"):
        validate_run_config(file_job, {"opz": {}})


def test_validate_run_config_rejects_non_job() -> None:
    with pytest.raises(DagsterInvalidDefinitionError, match="expects a JobDefinition"):
        validate_run_config("nope", {})


def test_job_default_config_dict_and_run_config_object() -> None:
    @job(config={"ops": {"process_file": {"config": {"filename": "x", "retries": 0}}}})
    def configured():
        process_file()

    result = configured.execute_in_process()
    assert result.output_for_node("process_file") == "x"
    run_config = RunConfig(ops={"process_file": {"config": {"filename": "y", "retries": 0}}})
    assert (
        configured.execute_in_process(run_config=run_config).output_for_node("process_file") == "y"
    )


def test_job_config_function() -> None:
    def config_fn(_given):
        return {"ops": {"process_file": {"config": {"filename": "fn", "retries": 0}}}}

    @job(config=config_fn)
    def fn_job():
        process_file()

    assert fn_job.execute_in_process().output_for_node("process_file") == "fn"


def test_nested_graph_config_path() -> None:
    @graph
    def inner():
        process_file()

    @job
    def outer():
        inner()

    with pytest.raises(DagsterInvalidConfigError, match=r"ops\.inner\.ops\.process_file\.config"):
        validate_run_config(outer, {"ops": {"inner": {"ops": {"process_file": {"config": {}}}}}})
    processed = validate_run_config(
        outer,
        {"ops": {"inner": {"ops": {"process_file": {"config": {"filename": "n", "retries": 0}}}}}},
    )
    assert processed["ops"]["inner"]["ops"]["process_file"]["config"]["filename"] == "n"


def test_missing_resource_is_a_definition_error_naming_op_and_key() -> None:
    @op(required_resource_keys={"db"})
    def needs_db(context):
        return 1

    @job
    def j():
        needs_db()

    with pytest.raises(DagsterInvalidDefinitionError, match="'db' required by op 'needs_db'"):
        j.execute_in_process()


def test_op_selection_runs_only_selected_ops() -> None:
    @op
    def a():
        return 1

    @op
    def b(x):
        return x + 1

    @op
    def c():
        return 5

    @job
    def j():
        b(a())
        c()

    result = j.execute_in_process(op_selection=["*b"])
    assert result.output_for_node("b") == 2
    assert not any(e.step_key == "c" for e in result.all_node_events)
    sub = j.get_subset(op_selection=["b"])
    with pytest.raises(DagsterInvalidConfigError, match=r"ops\.b\.inputs\.x"):
        sub.execute_in_process()
    assert (
        sub.execute_in_process(run_config={"ops": {"b": {"inputs": {"x": 4}}}}).output_for_node("b")
        == 5
    )
    with pytest.raises(DagsterInvalidDefinitionError, match="matches no op"):
        j.get_subset(op_selection=["nope"])


def test_partition_key_on_unpartitioned_job_is_rejected() -> None:
    with pytest.raises(DagsterInvalidDefinitionError, match="not partitioned"):
        file_job.execute_in_process(partition_key="2024-01-01")
