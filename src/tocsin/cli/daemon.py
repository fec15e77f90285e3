"""``tocsin daemon run|tick`` and ``tocsin dev``."""

from __future__ import annotations

import logging
import os
from typing import Any

import click

from tocsin.cli.common import location_options, open_instance, specs


@click.group("daemon")
def daemon_cli() -> None:
    """Run the daemon that ticks sensors and schedules and launches runs."""


def _start(spec_list: list[Any], instance: Any, interval: float, verbose: bool) -> Any:
    from tocsin.daemon.assemble import build_daemon
    from tocsin.workspace.location import WorkerLocation

    locations = [WorkerLocation(spec) for spec in spec_list]

    def on_report(name: str, report: Any) -> None:
        if not verbose:
            return
        for outcome in report.outcomes:
            runs = f" runs={list(outcome.run_ids)}" if outcome.run_ids else ""
            click.echo(f"{report.now:%H:%M:%S} {outcome.origin_id} {outcome.status.value}{runs}")

    runner = build_daemon(instance, locations, interval=interval, on_report=on_report)
    return locations, runner


def _describe(locations: list[Any]) -> None:
    for location in locations:
        error = location.load_error()
        if error is not None:
            click.echo(f"code location {location.name}: FAILED to load\n{error.to_string()}")
            continue
        items = location.list_instigators()
        names = ", ".join(f"{i.kind} {i.name}" for i in items) or "no sensors or schedules"
        click.echo(f"code location {location.name}: {names}")


def _serve(spec_list: list[Any], instance: Any, interval: float) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    locations, runner = _start(spec_list, instance, interval, verbose=True)
    try:
        _describe(locations)
        runner.run()
    except KeyboardInterrupt:
        click.echo("Stopped.")
    finally:
        for location in locations:
            location.close()
        instance.dispose()


@daemon_cli.command("run")
@location_options
@click.option("--interval", default=1.0, show_default=True, help="Seconds between passes.")
def run_command(files, modules, workspace, interval: float) -> None:
    """Tick sensors and schedules until stopped (SIGTERM/SIGINT)."""
    _serve(specs(files, modules, workspace), open_instance(), interval)


@daemon_cli.command("tick")
@location_options
def tick_command(files, modules, workspace) -> None:
    """Exactly one pass of every loop at the current time."""
    instance = open_instance()
    locations, runner = _start(specs(files, modules, workspace), instance, 0, verbose=True)
    try:
        reports = runner.run_once()
        for name, report in reports.items():
            if report is None:
                raise click.ClickException(f"The {name} loop failed; see the log above.")
            for location, error in report.location_errors.items():
                click.echo(f"{location}: {error.message}", err=True)
    finally:
        for location in locations:
            location.close()
        instance.dispose()


@click.command("dev")
@location_options
@click.option("--interval", default=1.0, show_default=True, help="Seconds between passes.")
def dev_command(files, modules, workspace, interval: float) -> None:
    """Run the daemon on $TOCSIN_HOME (or ./.tocsin when unset). Ctrl-C stops it."""
    spec_list = specs(files, modules, workspace)
    home = os.environ.get("TOCSIN_HOME") or os.path.abspath(".tocsin")
    instance = open_instance(home)
    click.echo(f"tocsin dev: instance in {home}")
    _serve(spec_list, instance, interval)
