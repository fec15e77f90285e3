"""``tocsin schedule list|preview|start|stop|ticks|next|logs|simulate|why``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from tocsin.cli.common import (
    echo_json,
    echo_table,
    instigators,
    json_option,
    location_options,
    open_instance,
    parse_time,
)
from tocsin.cli.instigator import (
    add_lifecycle_commands,
    find_of_kind,
    print_evaluation,
    show_logs,
    state_of,
    status_of,
)
from tocsin.cli.why import add_why_command


@click.group("schedule")
def schedule_cli() -> None:
    """List, preview, start and stop schedules; show their next ticks and past ones."""


def _find(name: str, files, modules, workspace) -> tuple[Any, Any]:
    return find_of_kind("schedule", name, files, modules, workspace)


add_lifecycle_commands(schedule_cli, "schedule", "Stop a schedule.")
add_why_command(schedule_cli, "schedule")


def cron_of(location: Any, info: Any) -> Any:
    """The schedule's ``CronSchedule`` in its zone (with its DST policy when it has one)."""
    from tocsin.cron import CronSchedule

    definition = location.handler.defs.get_schedule_def(info.name)
    policy = getattr(definition, "dst_policy", None)
    return CronSchedule.parse(
        info.cron_schedule if isinstance(info.cron_schedule, str) else list(info.cron_schedule),
        timezone=info.execution_timezone,
        dst_policy=policy,
    )


def upcoming(location: Any, info: Any, after: datetime, count: int) -> list[datetime]:
    from zoneinfo import ZoneInfo

    cron = cron_of(location, info)
    times = []
    for when in cron.iter_after(after.astimezone(ZoneInfo(info.execution_timezone))):
        times.append(when)
        if len(times) >= count:
            break
    return times


@schedule_cli.command("list")
@location_options
@json_option
def list_command(files, modules, workspace, as_json: bool) -> None:
    """Each schedule, its cron and zone, whether it is running, and its next tick."""
    instance = open_instance()
    now = datetime.now(UTC)
    rows = []
    for location, info in instigators(files, modules, workspace, "schedule"):
        state = state_of(instance, location, info)
        cron = (
            info.cron_schedule if isinstance(info.cron_schedule, str) else list(info.cron_schedule)
        )
        nxt = upcoming(location, info, now, 1)
        rows.append(
            (
                info.name,
                status_of(info, state),
                cron,
                info.execution_timezone,
                nxt[0].isoformat() if nxt else None,
                ",".join(info.job_names),
            )
        )
    if as_json:
        keys = ("name", "status", "cron_schedule", "timezone", "next_tick", "jobs")
        echo_json([dict(zip(keys, r, strict=True)) for r in rows])
    else:
        echo_table(["NAME", "STATUS", "CRON", "ZONE", "NEXT TICK", "JOBS"], rows)


@schedule_cli.command("preview")
@click.argument("name")
@click.option("--at", "at", default=None, help="Tick time (ISO 8601); default: the next tick.")
@location_options
@json_option
def preview_command(name: str, at: str | None, files, modules, workspace, as_json) -> None:
    """Evaluate a schedule for one tick time; stores nothing."""
    location, info = _find(name, files, modules, workspace)
    if at is None:
        when = upcoming(location, info, datetime.now(UTC), 1)[0]
    else:
        from zoneinfo import ZoneInfo

        when = parse_time(at, "--at").astimezone(ZoneInfo(info.execution_timezone))
    if not as_json:
        click.echo(f"Tick time: {when.isoformat()}")
    evaluation = location.evaluate_schedule(name, scheduled_time=when, instance_ref=None)
    print_evaluation(evaluation, None, as_json)


@schedule_cli.command("next")
@click.argument("name")
@click.option("-n", "count", default=5, show_default=True, type=click.IntRange(min=1))
@click.option("--after", default=None, help="Start from this time (ISO 8601); default: now.")
@location_options
@json_option
def next_command(name: str, count: int, after, files, modules, workspace, as_json) -> None:
    """The next tick times, in the schedule's zone (DST changes included)."""
    location, info = _find(name, files, modules, workspace)
    start = datetime.now(UTC) if after is None else parse_time(after, "--after")
    times = upcoming(location, info, start, count)
    if as_json:
        echo_json([t.isoformat() for t in times])
    else:
        for when in times:
            click.echo(f"{when.isoformat()}  ({when.tzname()})")


@schedule_cli.command("logs")
@click.argument("name")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1))
@location_options
@json_option
def logs_command(name: str, limit: int, files, modules, workspace, as_json: bool) -> None:
    """Log lines the schedule's recent ticks wrote (context.log)."""
    location, info = _find(name, files, modules, workspace)
    show_logs(open_instance(), location, info, limit, as_json)


def _add_simulate() -> None:
    from tocsin.cli.schedule_simulate import simulate_command

    schedule_cli.add_command(simulate_command)


_add_simulate()
