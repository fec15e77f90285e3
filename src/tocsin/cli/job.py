"""``tocsin job list|execute|launch|backfill``."""

from __future__ import annotations

from typing import Any

import click

from tocsin.cli.common import (
    did_you_mean,
    echo_json,
    echo_table,
    json_option,
    load_locations,
    location_options,
    open_instance,
)


@click.group("job")
def job_cli() -> None:
    """List, execute, launch and backfill jobs."""


def _jobs(files, modules, workspace) -> dict[str, tuple[Any, Any]]:
    """{job name: (location, JobDefinition)} over every location."""
    jobs: dict[str, tuple[Any, Any]] = {}
    for location in load_locations(files, modules, workspace):
        for job in location.handler.defs.get_all_job_defs():
            jobs[job.name] = (location, job)
    return jobs


def _find(name: str, files, modules, workspace) -> tuple[Any, Any]:
    jobs = _jobs(files, modules, workspace)
    if name not in jobs:
        raise did_you_mean(name, list(jobs), "job")
    return jobs[name]


def _read_config(config_file: str | None) -> dict[str, Any]:
    import yaml

    if not config_file:
        return {}
    try:
        with open(config_file) as handle:
            run_config = yaml.safe_load(handle) or {}
    except OSError as exc:
        raise click.BadParameter(f"cannot read {config_file!r}: {exc.strerror}.", param_hint="-c")
    except yaml.YAMLError as exc:
        raise click.BadParameter(f"{config_file} is not valid YAML: {exc}", param_hint="-c")
    if not isinstance(run_config, dict):
        raise click.UsageError(f"{config_file}: run config must be a mapping, got {run_config!r}.")
    return run_config


def _partition_keys(job: Any, instance: Any) -> list[str]:
    partitions_def = getattr(job, "partitions_def", None)
    if partitions_def is None:
        raise click.UsageError(
            f"Job {job.name!r} is not partitioned; drop --partition/--from/--to."
        )
    return list(partitions_def.get_partition_keys(dynamic_partitions_store=instance))


def _check_partition(job: Any, key: str, instance: Any) -> None:
    keys = _partition_keys(job, instance)
    if key not in keys:
        raise did_you_mean(key, keys, f"partition of job {job.name!r}")


@job_cli.command("list")
@location_options
@json_option
def list_command(files, modules, workspace, as_json: bool) -> None:
    """Every job of the code locations."""
    rows = []
    for name, (location, job) in sorted(_jobs(files, modules, workspace).items()):
        partitioned = "yes" if getattr(job, "partitions_def", None) is not None else "no"
        rows.append((name, location.name, partitioned, getattr(job, "description", None) or ""))
    if as_json:
        keys = ("name", "location", "partitioned", "description")
        echo_json([dict(zip(keys, r, strict=True)) for r in rows])
    else:
        echo_table(["NAME", "LOCATION", "PARTITIONED", "DESCRIPTION"], rows)


@job_cli.command("execute")
@click.argument("name")
@click.option("-c", "--config", "config_file", default=None, help="Run config as YAML.")
@click.option("--partition", default=None, help="The partition key to run.")
@location_options
def execute_command(name: str, config_file, partition, files, modules, workspace) -> None:
    """Execute a job in this process and record the run on the instance."""
    run_config = _read_config(config_file)
    _, job = _find(name, files, modules, workspace)
    instance = open_instance()
    if partition is not None:
        _check_partition(job, partition, instance)
    result = job.execute_in_process(
        run_config=run_config, instance=instance, raise_on_error=False, partition_key=partition
    )
    status = "SUCCESS" if result.success else "FAILURE"
    click.echo(f"Run {result.run_id} of {name}: {status}")
    if not result.success:
        raise SystemExit(1)


def coordinator_for(instance: Any) -> Any:
    """The coordinator the instance's tocsin.yaml asks for (queued, or launch at once)."""
    from tocsin.daemon.run_queue import QueuedCoordinator, is_queued_coordinator
    from tocsin.launchers.base import ImmediateCoordinator
    from tocsin.launchers.subprocess import SubprocessLauncher

    if is_queued_coordinator(instance.run_coordinator):
        return QueuedCoordinator(instance)
    return ImmediateCoordinator(instance, SubprocessLauncher(instance))


def _create_run(instance, location, name, run_config, partition=None, tags=None) -> Any:
    from tocsin.daemon.common import location_tags
    from tocsin.model.run import DagsterRunStatus
    from tocsin.model.tags import PARTITION_NAME_TAG

    all_tags = {**(tags or {}), **location_tags(location)}
    if partition is not None:
        all_tags[PARTITION_NAME_TAG] = partition
    return instance.create_run(
        job_name=name, run_config=run_config, tags=all_tags, status=DagsterRunStatus.NOT_STARTED
    )


@job_cli.command("launch")
@click.argument("name")
@click.option("-c", "--config", "config_file", default=None, help="Run config as YAML.")
@click.option("--partition", default=None, help="The partition key to run.")
@location_options
def launch_command(name: str, config_file, partition, files, modules, workspace) -> None:
    """Create a run and submit it through the instance's run coordinator."""
    run_config = _read_config(config_file)
    location, job = _find(name, files, modules, workspace)
    instance = open_instance()
    if partition is not None:
        _check_partition(job, partition, instance)
    run = _create_run(instance, location, name, run_config, partition)
    coordinator_for(instance).submit([run])
    current = instance.get_run_by_id(run.run_id)
    click.echo(f"Run {run.run_id} of {name} submitted: {current.status.value}")


@job_cli.command("backfill")
@click.argument("name")
@click.option("--from", "first", required=True, help="The first partition key.")
@click.option("--to", "last", required=True, help="The last partition key (included).")
@click.option("-c", "--config", "config_file", default=None, help="Run config as YAML.")
@location_options
def backfill_command(name: str, first, last, config_file, files, modules, workspace) -> None:
    """One run per partition from --from to --to, submitted through the coordinator."""
    import uuid

    from tocsin.model.tags import BACKFILL_ID_TAG

    run_config = _read_config(config_file)
    location, job = _find(name, files, modules, workspace)
    instance = open_instance()
    keys = _partition_keys(job, instance)
    for key in (first, last):
        if key not in keys:
            raise did_you_mean(key, keys, f"partition of job {job.name!r}")
    lo, hi = keys.index(first), keys.index(last)
    if lo > hi:
        raise click.UsageError(f"--from {first} comes after --to {last}; swap them.")
    backfill_id = uuid.uuid4().hex[:8]
    coordinator = coordinator_for(instance)
    submitted = []
    with click.progressbar(keys[lo : hi + 1], label=f"Backfill {backfill_id}") as bar:
        for key in bar:
            run = _create_run(
                instance, location, name, run_config, key, {BACKFILL_ID_TAG: backfill_id}
            )
            coordinator.submit([run])
            submitted.append(run.run_id)
    click.echo(
        f"Backfill {backfill_id}: {len(submitted)} runs of {name} for partitions "
        f"{first} .. {last} submitted."
    )
