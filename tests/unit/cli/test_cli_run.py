"""``tocsin run``: list with filters, show, logs, cancel, delete, and their errors."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def finished(invoke, defs_file, tmp_path, instance):
    """One SUCCESS run of compute and one FAILURE run of broken; returns their ids."""
    config = tmp_path / "c.yaml"
    config.write_text("ops: {add_one: {config: {n: 1}}}")
    invoke("job", "execute", "compute", "-c", str(config), "-f", defs_file)
    invoke("job", "execute", "broken", "-f", defs_file)
    return {r.job_name: r.run_id for r in instance.get_runs()}


def _listed(invoke, *args):
    result = invoke("run", "list", "--json", *args)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def test_list_filters(invoke, finished):
    assert len(_listed(invoke)) == 2
    assert [r["job_name"] for r in _listed(invoke, "--status", "failure")] == ["broken"]
    assert [r["job_name"] for r in _listed(invoke, "--job", "compute")] == ["compute"]
    assert len(_listed(invoke, "--limit", "1")) == 1
    table = invoke("run", "list").output
    assert table.splitlines()[0].split()[:3] == ["RUN", "STATUS", "JOB"]


def test_list_by_tag(invoke, instance):
    instance.create_run(job_name="j", tags={"team": "a"})
    instance.create_run(job_name="j", tags={"team": "b"})
    assert [r["tags"]["team"] for r in _listed(invoke, "--tag", "team=b")] == ["b"]


def test_bad_status_and_tag(invoke):
    status = invoke("run", "list", "--status", "SUCESS")
    assert status.exit_code == 2 and "Did you mean 'SUCCESS'?" in status.output
    tag = invoke("run", "list", "--tag", "nokey")
    assert tag.exit_code == 2 and "is not KEY=VALUE" in tag.output


def test_show_by_prefix(invoke, finished):
    run_id = finished["compute"]
    result = invoke("run", "show", run_id[:8])
    assert result.exit_code == 0, result.output
    assert f"Run {run_id}" in result.output and "SUCCESS" in result.output
    data = json.loads(invoke("run", "show", run_id, "--json").output)
    assert data["run_id"] == run_id and data["events"]


def test_show_a_failure_includes_the_error(invoke, finished):
    result = invoke("run", "show", finished["broken"])
    assert "STEP_FAILURE" in result.output and "boom" in result.output


def test_unknown_run(invoke, finished):
    result = invoke("run", "show", "zzzz")
    assert result.exit_code == 1 and "No run with id 'zzzz'" in result.output


def test_logs_reads_the_compute_log_manager(invoke, instance):
    run = instance.create_run(job_name="compute")
    instance.compute_log_manager.write(run.run_id, "add_one", "stdout", "hello from step\n")
    from tocsin.model.events import EventLogEntry

    instance.handle_new_event(
        EventLogEntry(run_id=run.run_id, step_key="add_one", user_message="x")
    )
    result = invoke("run", "logs", run.run_id)
    assert "=== add_one (stdout)" in result.output and "hello from step" in result.output
    assert "hello from step" in invoke("run", "logs", run.run_id, "--step", "add_one").output
    bad = invoke("run", "logs", run.run_id, "--step", "add_on")
    assert bad.exit_code == 1 and "Did you mean 'add_one'?" in bad.output
    assert "No stderr captured" in invoke("run", "logs", run.run_id, "--stderr").output


def test_cancel(invoke, instance, finished):
    run = instance.create_run(job_name="compute")
    result = invoke("run", "cancel", run.run_id)
    assert result.exit_code == 0, result.output
    assert instance.get_run_by_id(run.run_id).status.value == "CANCELED"
    again = invoke("run", "cancel", finished["compute"])
    assert again.exit_code == 1 and "already SUCCESS" in again.output


def test_delete(invoke, instance, finished):
    run_id = finished["compute"]
    assert invoke("run", "delete", run_id, input="n\n").exit_code == 1
    assert instance.get_run_by_id(run_id) is not None
    result = invoke("run", "delete", run_id, "--yes")
    assert result.exit_code == 0 and instance.get_run_by_id(run_id) is None
    unfinished = instance.create_run(job_name="compute")
    refused = invoke("run", "delete", unfinished.run_id, "--yes")
    assert refused.exit_code == 1 and "cancel it first" in refused.output
