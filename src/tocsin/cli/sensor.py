"""``tocsin sensor list|preview|start|stop``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from tocsin.cli.common import did_you_mean, load_in_process, location_options, open_instance, specs


@click.group("sensor")
def sensor_cli() -> None:
    """List, preview, start and stop sensors."""


def _sensors(files, modules, workspace) -> list[tuple[Any, Any]]:
    found = []
    for spec in specs(files, modules, workspace):
        location = load_in_process(spec)
        found += [(location, i) for i in location.list_instigators() if i.kind == "sensor"]
    return found


def _find(name: str, found: list[tuple[Any, Any]]) -> tuple[Any, Any]:
    for location, info in found:
        if info.name == name:
            return location, info
    raise did_you_mean(name, [info.name for _, info in found], "sensor")


@sensor_cli.command("list")
@location_options
def list_command(files, modules, workspace) -> None:
    """Each sensor, whether it is running, and its cursor."""
    from tocsin.daemon.common import instigator_id, is_running

    instance = open_instance()
    for location, info in _sensors(files, modules, workspace):
        state = instance.ticks.get_instigator_state(
            instigator_id(location.name, "sensor", info.name)
        )
        status = "RUNNING" if is_running(info, state) else "STOPPED"
        cursor = None if state is None else state.cursor
        click.echo(f"{info.name}\t{status}\tcursor={cursor!r}\tjobs={','.join(info.job_names)}")


@sensor_cli.command("preview")
@click.argument("name")
@click.option("--cursor", default=None, help="Evaluate with this cursor.")
@location_options
def preview_command(name: str, cursor: str | None, files, modules, workspace) -> None:
    """Evaluate a sensor once without making runs or moving its cursor."""
    location, _ = _find(name, _sensors(files, modules, workspace))
    evaluation = location.evaluate_sensor(name, cursor=cursor, instance_ref=None)
    if evaluation.error is not None:
        raise click.ClickException(evaluation.error.to_string())
    for line in evaluation.log_lines:
        click.echo(f"log: {line}")
    if not evaluation.run_requests:
        click.echo(f"Skipped: {evaluation.skip_message or 'no run requests'}")
    for request in evaluation.run_requests:
        click.echo(f"RunRequest run_key={request.run_key!r} job={request.job_name}")
        if request.run_config:
            click.echo(f"  run_config={request.run_config}")
        if request.tags:
            click.echo(f"  tags={request.tags}")
    if evaluation.cursor != cursor:
        click.echo(f"New cursor: {evaluation.cursor!r}")


def _set_status(name: str, running: bool, files, modules, workspace) -> None:
    from dataclasses import replace

    from tocsin.daemon.common import fresh_state, instigator_id
    from tocsin.model.ticks import InstigatorStatus

    location, info = _find(name, _sensors(files, modules, workspace))
    instance = open_instance()
    origin = instigator_id(location.name, "sensor", info.name)
    state = instance.ticks.get_instigator_state(origin) or fresh_state(location.name, info)
    status = InstigatorStatus.RUNNING if running else InstigatorStatus.STOPPED
    extra = {**state.extra, "status_changed_at": datetime.now(UTC).timestamp()}
    instance.ticks.add_instigator_state(replace(state, status=status, extra=extra))
    click.echo(f"Sensor {name} is now {status.value}.")


@sensor_cli.command("start")
@click.argument("name")
@location_options
def start_command(name: str, files, modules, workspace) -> None:
    """Start a sensor (the choice survives daemon restarts and code reloads)."""
    _set_status(name, True, files, modules, workspace)


@sensor_cli.command("stop")
@click.argument("name")
@location_options
def stop_command(name: str, files, modules, workspace) -> None:
    """Stop a sensor; its cursor is kept."""
    _set_status(name, False, files, modules, workspace)
