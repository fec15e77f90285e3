"""``tocsin job``: list, execute (config, partition), launch and backfill via the coordinator."""

from __future__ import annotations

import json


def _config(tmp_path, text):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return str(path)


def test_list(invoke, defs_file):
    data = json.loads(invoke("job", "list", "-f", defs_file, "--json").output)
    assert {j["name"]: j["partitioned"] for j in data} == {
        "broken": "no",
        "compute": "no",
        "report_job": "yes",
    }
    assert "compute" in invoke("job", "list", "-f", defs_file).output


def test_execute_with_config_records_a_successful_run(invoke, defs_file, tmp_path, instance):
    config = _config(tmp_path, "ops: {add_one: {config: {n: 41}}}")
    result = invoke("job", "execute", "compute", "-c", config, "-f", defs_file)
    assert result.exit_code == 0, result.output
    assert "SUCCESS" in result.output
    [run] = instance.get_runs()
    assert run.status.value == "SUCCESS" and run.job_name == "compute"


def test_execute_a_failing_job_exits_1(invoke, defs_file):
    result = invoke("job", "execute", "broken", "-f", defs_file)
    assert result.exit_code == 1
    assert "FAILURE" in result.output


def test_missing_config_is_a_clear_error(invoke, defs_file):
    result = invoke("job", "execute", "compute", "-f", defs_file)
    assert result.exit_code == 1
    assert "ops.add_one.config" in result.output and "'n'" in result.output


def test_config_file_errors(invoke, defs_file, tmp_path):
    missing = invoke("job", "execute", "compute", "-c", str(tmp_path / "no.yaml"), "-f", defs_file)
    assert missing.exit_code == 2 and "cannot read" in missing.output
    bad = invoke("job", "execute", "compute", "-c", _config(tmp_path, "a: [1"), "-f", defs_file)
    assert bad.exit_code == 2 and "not valid YAML" in bad.output
    scalar = invoke("job", "execute", "compute", "-c", _config(tmp_path, "3"), "-f", defs_file)
    assert scalar.exit_code == 2 and "must be a mapping" in scalar.output


def test_execute_a_partition(invoke, defs_file, instance):
    result = invoke("job", "execute", "report_job", "--partition", "2024-01-02", "-f", defs_file)
    assert result.exit_code == 0, result.output
    assert instance.get_runs()[0].tags["dagster/partition"] == "2024-01-02"


def test_unknown_partition_suggests(invoke, defs_file):
    result = invoke("job", "execute", "report_job", "--partition", "2024-01-32", "-f", defs_file)
    assert result.exit_code == 1
    assert "Did you mean '2024-01-31'?" in result.output
    assert "more" in result.output  # the list of known keys is cut short


def test_partition_of_an_unpartitioned_job(invoke, defs_file):
    result = invoke("job", "execute", "compute", "--partition", "x", "-f", defs_file)
    assert result.exit_code == 2 and "is not partitioned" in result.output


def test_unknown_job_suggests(invoke, defs_file):
    result = invoke("job", "execute", "compte", "-f", defs_file)
    assert result.exit_code == 1 and "Did you mean 'compute'?" in result.output


def test_launch_submits_through_the_queued_coordinator(invoke, defs_file, tmp_path, queued):
    from tocsin.instance.instance import DagsterInstance

    config = _config(tmp_path, "ops: {add_one: {config: {n: 1}}}")
    result = invoke("job", "launch", "compute", "-c", config, "-f", defs_file)
    assert result.exit_code == 0, result.output
    assert "QUEUED" in result.output
    with DagsterInstance.get() as instance:
        [run] = instance.get_runs()
        assert run.status.value == "QUEUED"
        assert run.tags["tocsin/code_location"] == "defs"


def test_backfill_makes_one_run_per_partition(invoke, defs_file, queued):
    from tocsin.instance.instance import DagsterInstance

    result = invoke(
        "job",
        "backfill",
        "report_job",
        "--from",
        "2024-01-01",
        "--to",
        "2024-01-03",
        "-f",
        defs_file,
    )
    assert result.exit_code == 0, result.output
    assert "3 runs of report_job" in result.output
    with DagsterInstance.get() as instance:
        runs = instance.get_runs()
    assert sorted(r.tags["dagster/partition"] for r in runs) == [
        "2024-01-01",
        "2024-01-02",
        "2024-01-03",
    ]
    assert len({r.tags["dagster/backfill"] for r in runs}) == 1


def test_backfill_range_errors(invoke, defs_file, queued):
    backwards = invoke(
        "job",
        "backfill",
        "report_job",
        "--from",
        "2024-01-03",
        "--to",
        "2024-01-01",
        "-f",
        defs_file,
    )
    assert backwards.exit_code == 2 and "comes after" in backwards.output
    unknown = invoke(
        "job",
        "backfill",
        "report_job",
        "--from",
        "2023-12-31",
        "--to",
        "2024-01-01",
        "-f",
        defs_file,
    )
    assert unknown.exit_code == 1 and "No partition" in unknown.output
