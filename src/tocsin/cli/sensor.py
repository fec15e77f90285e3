"""``tocsin sensor list|preview|start|stop|cursor|ticks|why``."""

from __future__ import annotations

import json
from typing import Any

import click

from tocsin.cli.common import (
    echo_json,
    echo_table,
    instigators,
    json_option,
    location_options,
    open_instance,
)
from tocsin.cli.instigator import (
    add_lifecycle_commands,
    find_of_kind,
    print_evaluation,
    save_cursor,
    state_of,
    status_of,
)
from tocsin.cli.why import add_why_command


@click.group("sensor")
def sensor_cli() -> None:
    """List, preview, start and stop sensors; read their ticks and cursors."""


def _find(name: str, files, modules, workspace) -> tuple[Any, Any]:
    return find_of_kind("sensor", name, files, modules, workspace)


add_lifecycle_commands(sensor_cli, "sensor", "Stop a sensor; its cursor is kept.")
add_why_command(sensor_cli, "sensor")


@sensor_cli.command("list")
@location_options
@json_option
def list_command(files, modules, workspace, as_json: bool) -> None:
    """Each sensor, whether it is running, and its cursor."""
    instance = open_instance()
    rows = []
    for location, info in instigators(files, modules, workspace, "sensor"):
        state = state_of(instance, location, info)
        cursor = None if state is None else state.cursor
        rows.append((info.name, status_of(info, state), cursor, ",".join(info.job_names)))
    if as_json:
        keys = ("name", "status", "cursor", "jobs")
        echo_json([dict(zip(keys, r, strict=True)) for r in rows])
    else:
        echo_table(["NAME", "STATUS", "CURSOR", "JOBS"], rows)


@sensor_cli.command("preview")
@click.argument("name")
@click.option("--cursor", default=None, help="Evaluate with this cursor (default: the stored one).")
@location_options
@json_option
def preview_command(name: str, cursor: str | None, files, modules, workspace, as_json) -> None:
    """Evaluate a sensor once; stores nothing (no runs, no tick, cursor unchanged).

    With an instance home (``$TOCSIN_HOME`` or ``./.tocsin``), the sensor sees that instance
    (asset and run status sensors read its event log) and starts from its stored cursor.
    """
    location, info = _find(name, files, modules, workspace)
    check_cursor(info, cursor)
    instance = _optional_instance()
    ref = None
    if instance is not None:
        ref = instance.get_ref()
        if cursor is None:
            state = state_of(instance, location, info)
            cursor = None if state is None else state.cursor
    evaluation = location.evaluate_sensor(name, cursor=cursor, instance_ref=ref)
    print_evaluation(evaluation, cursor, as_json)


def check_cursor(info: Any, cursor: str | None) -> None:
    """Refuse a cursor that the sensor's kind cannot read, before anything is stored."""
    if cursor is None:
        return
    kind = getattr(info, "sensor_type", None)
    if kind == "ASSET":
        if not cursor.strip().lstrip("-").isdigit():
            raise click.BadParameter(
                f"sensor {info.name!r} is an asset sensor: its cursor is the storage id of the "
                f"last event it handled (an integer), got {cursor!r}. Example: --set 120",
                param_hint="cursor",
            )
    elif kind in ("MULTI_ASSET", "RUN_STATUS"):
        try:
            parsed = json.loads(cursor)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise click.BadParameter(
                f"sensor {info.name!r} is a {kind.lower().replace('_', ' ')} sensor: its "
                f"cursor is a JSON object, got {cursor!r}. Copy one from "
                f"'tocsin sensor cursor {info.name}', or use --delete to start afresh.",
                param_hint="cursor",
            )


def _optional_instance() -> Any:
    """The instance when a home is configured (or ``./.tocsin`` exists); else None."""
    try:
        return open_instance()
    except click.ClickException:
        return None


@sensor_cli.command("cursor")
@click.argument("name")
@click.option("--set", "new_cursor", default=None, help="The cursor the next tick starts from.")
@click.option("--delete", is_flag=True, help="Forget the cursor.")
@location_options
def cursor_command(name: str, new_cursor, delete: bool, files, modules, workspace) -> None:
    """Show, set or delete a sensor's cursor."""
    if new_cursor is not None and delete:
        raise click.UsageError("Pass either --set CURSOR or --delete, not both.")
    location, info = _find(name, files, modules, workspace)
    check_cursor(info, new_cursor)
    instance = open_instance()
    if new_cursor is None and not delete:
        state = state_of(instance, location, info)
        click.echo(repr(None if state is None else state.cursor))
        return
    save_cursor(instance, location, info, None if delete else new_cursor)
    click.echo(f"Sensor {name}: cursor {'deleted' if delete else f'set to {new_cursor!r}'}.")
