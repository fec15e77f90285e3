"""What ``tocsin sensor`` and ``tocsin schedule`` share: state, start/stop, ticks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from tocsin.cli.common import (
    echo_json,
    echo_table,
    find_instigator,
    fmt_time,
    instigators,
    json_option,
    location_options,
    open_instance,
)


def find_of_kind(kind: str, name: str, files, modules, workspace) -> tuple[Any, Any]:
    """The (location, InstigatorInfo) of the sensor or schedule called ``name``."""
    return find_instigator(name, instigators(files, modules, workspace, kind), kind)


def add_lifecycle_commands(group: click.Group, kind: str, stop_doc: str) -> None:
    """Register ``start``, ``stop`` and ``ticks`` on ``group`` for instigators of ``kind``."""

    start_help = f"Start a {kind} (the choice survives daemon restarts and code reloads)."

    @group.command("start", help=start_help)
    @click.argument("name")
    @location_options
    def start_command(name: str, files, modules, workspace) -> None:
        location, info = find_of_kind(kind, name, files, modules, workspace)
        set_status(open_instance(), location, info, True)

    @group.command("stop", help=stop_doc)
    @click.argument("name")
    @location_options
    def stop_command(name: str, files, modules, workspace) -> None:
        location, info = find_of_kind(kind, name, files, modules, workspace)
        set_status(open_instance(), location, info, False)

    @group.command("ticks", help=f"The newest ticks of a {kind}.")
    @click.argument("name")
    @click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1))
    @location_options
    @json_option
    def ticks_command(name: str, limit: int, files, modules, workspace, as_json: bool) -> None:
        location, info = find_of_kind(kind, name, files, modules, workspace)
        show_ticks(open_instance(), location, info, limit, as_json)


def origin(location: Any, info: Any) -> str:
    from tocsin.daemon.common import instigator_id

    return instigator_id(location.name, info.kind, info.name)


def state_of(instance: Any, location: Any, info: Any) -> Any:
    return instance.ticks.get_instigator_state(origin(location, info))


def status_of(info: Any, state: Any) -> str:
    from tocsin.daemon.common import is_running

    return "RUNNING" if is_running(info, state) else "STOPPED"


def save_cursor(instance: Any, location: Any, info: Any, cursor: str | None) -> Any:
    """Set only the cursor (the status and what the daemon wrote stay as stored)."""
    from tocsin.daemon.common import fresh_state

    return instance.ticks.set_instigator_cursor(
        origin(location, info), cursor, default=fresh_state(location.name, info)
    )


def set_status(instance: Any, location: Any, info: Any, running: bool) -> None:
    """Start or stop: only the status and its times change, never the cursor or last tick."""
    from tocsin.daemon.common import fresh_state
    from tocsin.model.ticks import InstigatorStatus

    status = InstigatorStatus.RUNNING if running else InstigatorStatus.STOPPED
    now = datetime.now(UTC).timestamp()
    changes = {"status_changed_at": now}
    if running and info.kind == "schedule":
        changes["started_at"] = now  # a schedule started again never catches up its stopped time
    instance.ticks.set_instigator_status(
        origin(location, info), status, changes, default=fresh_state(location.name, info)
    )
    click.echo(f"{info.kind.capitalize()} {info.name} is now {status.value}.")


def show_ticks(instance: Any, location: Any, info: Any, limit: int, as_json: bool) -> None:
    ticks = instance.ticks.get_ticks(origin(location, info), limit=limit)
    if as_json:
        echo_json([t.to_dict() for t in ticks])
        return
    rows = []
    for tick in ticks:
        detail = tick.skip_reason or (tick.error.message.splitlines()[0] if tick.error else "")
        runs = ",".join(tick.run_ids)
        rows.append((tick.tick_id, fmt_time(tick.timestamp), tick.status.value, runs, detail))
    echo_table(["TICK", "TIME", "STATUS", "RUNS", "DETAIL"], rows)


def show_logs(instance: Any, location: Any, info: Any, limit: int, as_json: bool) -> None:
    ticks = instance.ticks.get_ticks(origin(location, info), limit=limit)
    if as_json:
        echo_json([{"tick_id": t.tick_id, "log_lines": list(t.log_lines)} for t in ticks])
        return
    lines = 0
    for tick in reversed(ticks):
        for line in tick.log_lines:
            click.echo(f"[tick {tick.tick_id} {fmt_time(tick.timestamp)}] {line}")
            lines += 1
        if tick.error is not None:
            click.echo(f"[tick {tick.tick_id}] error: {tick.error.to_string()}")
            lines += 1
    if not lines:
        click.echo(f"No log lines in the last {limit} ticks of {info.name}.")


def print_evaluation(evaluation: Any, cursor: str | None, as_json: bool) -> None:
    if evaluation.error is not None:
        raise click.ClickException(evaluation.error.to_string())
    if as_json:
        data = evaluation.to_dict()
        data.pop("error")  # a failed evaluation exits with its error above
        echo_json(data)
        return
    for line in evaluation.log_lines:
        click.echo(f"log: {line}")
    if not evaluation.run_requests:
        click.echo(f"Skipped: {evaluation.skip_message or 'no run requests'}")
    for request in evaluation.run_requests:
        partition = f" partition={request.partition_key}" if request.partition_key else ""
        click.echo(f"RunRequest run_key={request.run_key!r} job={request.job_name}{partition}")
        if request.run_config:
            click.echo(f"  run_config={request.run_config}")
        if request.tags:
            click.echo(f"  tags={request.tags}")
    if evaluation.cursor is not None and evaluation.cursor != cursor:
        click.echo(f"New cursor: {evaluation.cursor!r}")
