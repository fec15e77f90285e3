"""``tocsin run list``."""

from __future__ import annotations

import json

import click

from tocsin.cli.common import open_instance


@click.group("run")
def run_cli() -> None:
    """Inspect runs."""


@run_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per run.")
@click.option("--limit", default=50, show_default=True)
def list_command(as_json: bool, limit: int) -> None:
    """The newest runs first."""
    instance = open_instance()
    for run in instance.get_runs(limit=limit):
        if as_json:
            click.echo(json.dumps(run.to_dict(), sort_keys=True))
        else:
            key = run.run_key or ""
            click.echo(f"{run.run_id}\t{run.status.value}\t{run.job_name}\t{key}")
