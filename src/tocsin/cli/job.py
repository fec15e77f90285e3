"""``tocsin job execute NAME [-c config.yaml]``."""

from __future__ import annotations

import click

from tocsin.cli.common import did_you_mean, load_in_process, location_options, open_instance, specs


@click.group("job")
def job_cli() -> None:
    """Execute jobs."""


@job_cli.command("execute")
@click.argument("name")
@click.option("-c", "--config", "config_file", default=None, help="Run config as YAML.")
@location_options
def execute_command(name: str, config_file: str | None, files, modules, workspace) -> None:
    """Execute a job in this process and record the run on the instance."""
    import yaml

    run_config = {}
    if config_file:
        with open(config_file) as handle:
            run_config = yaml.safe_load(handle) or {}
        if not isinstance(run_config, dict):
            raise click.UsageError(
                f"{config_file}: run config must be a mapping, got {run_config!r}."
            )
    jobs = {}
    for spec in specs(files, modules, workspace):
        location = load_in_process(spec)
        for job in location.handler.defs.get_all_job_defs():
            jobs[job.name] = job
    if name not in jobs:
        raise did_you_mean(name, list(jobs), "job")
    instance = open_instance()
    result = jobs[name].execute_in_process(
        run_config=run_config, instance=instance, raise_on_error=False
    )
    status = "SUCCESS" if result.success else "FAILURE"
    click.echo(f"Run {result.run_id} of {name}: {status}")
    if not result.success:
        raise SystemExit(1)
