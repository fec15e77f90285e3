"""``tocsin schedule simulate``: the ticks, runs and skips the scheduler would produce for a
schedule over a window, through the daemon's own loop on a throwaway instance."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

import click

from tocsin.cli.common import echo_json, json_option, location_options, parse_time
from tocsin.cli.instigator import find_of_kind


def parse_outage(text: str, start: datetime, end: datetime) -> Any:
    """``T3..T4`` (ISO 8601 times) as an ``Outage`` within ``start``..``end``."""
    from tocsin.daemon.simulate import Outage

    first, sep, second = text.partition("..")
    if not sep or not first or not second:
        raise click.BadParameter(
            f"{text!r} is not a time range; write START..END, e.g. "
            "2024-03-10T01:00-05:00..2024-03-10T11:00-04:00.",
            param_hint="--down",
        )
    down_from, down_to = parse_time(first, "--down"), parse_time(second, "--down")
    if down_to <= down_from:
        raise click.BadParameter(f"{text!r}: the end must be after the start.", param_hint="--down")
    if down_from < start or down_to > end:
        raise click.BadParameter(
            f"{text!r} is not within --from {start.isoformat()} .. --to {end.isoformat()}; "
            "an outage must lie inside the simulated window.",
            param_hint="--down",
        )
    return Outage(down_from, down_to)


def policy_defaults() -> dict[str, Any]:
    """The ``schedules:`` settings of the user's tocsin.yaml, read without opening (or
    creating) the instance; none when there is no config file."""
    from tocsin.cli.common import DEV_HOME
    from tocsin.errors import ConfigError
    from tocsin.instance.config import find_config_file, load_instance_config

    home = os.environ.get("TOCSIN_HOME") or os.environ.get("DAGSTER_HOME")
    if not home and os.path.isdir(DEV_HOME):
        home = DEV_HOME
    path = find_config_file(home) if home else None
    if path is None:
        return {}
    try:
        return dict(load_instance_config(path).settings()["schedules"])
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@click.command("simulate")
@click.argument("name")
@click.option("--from", "start", required=True, help="Start of the window (ISO 8601).")
@click.option("--to", "end", required=True, help="End of the window (ISO 8601).")
@click.option(
    "--down",
    "downs",
    multiple=True,
    help="START..END: the daemon is down then (repeatable).",
)
@click.option(
    "--run-duration",
    default=60.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Seconds each run takes (for overlap).",
)
@click.option(
    "--step",
    default=60.0,
    show_default=True,
    type=click.FloatRange(min=1),
    help="Seconds between the simulated daemon's passes.",
)
@location_options
@json_option
def simulate_command(
    name: str, start, end, downs, run_duration, step, files, modules, workspace, as_json
) -> None:
    """Show the ticks, runs and skipped times (with reasons) the scheduler would produce for
    a schedule from --from to --to, with the daemon down during each --down range. Uses the
    daemon's own schedule loop on a throwaway instance; nothing is stored. Times without an
    offset are UTC."""
    from tocsin.daemon.simulate import MAX_STEPS, simulate_schedule

    window_from, window_to = parse_time(start, "--from"), parse_time(end, "--to")
    if window_to <= window_from:
        raise click.BadParameter(
            f"--to {end} is not after --from {start}; give a window that ends after it starts.",
            param_hint="--to",
        )
    steps = (window_to - window_from).total_seconds() / step
    if steps > MAX_STEPS:
        raise click.BadParameter(
            f"{steps:.0f} passes of {step:g}s from --from to --to is more than {MAX_STEPS}; "
            "shorten the window or pass a larger --step.",
            param_hint="--step",
        )
    down = sorted((parse_outage(d, window_from, window_to) for d in downs), key=lambda o: o.start)
    defaults = policy_defaults()
    location, info = find_of_kind("schedule", name, files, modules, workspace)
    result = simulate_schedule(
        location,
        info,
        start=window_from,
        end=window_to,
        down=down,
        run_duration=run_duration,
        step=step,
        policy_defaults=defaults,
    )
    if as_json:
        echo_json(result)
    else:
        print_simulation(result)


def print_simulation(result: dict[str, Any]) -> None:
    cron = result["cron_schedule"]
    cron = cron if isinstance(cron, str) else ", ".join(cron)
    click.echo(
        f"Schedule {result['schedule']} ({cron} in {result['timezone']}), catchup="
        f"{result['catchup']}, jitter offset {result['jitter_offset_seconds']:g}s, runs take "
        f"{result['run_duration_seconds']:g}s"
    )
    click.echo(f"From {result['from']} to {result['to']}, a pass every {result['step_seconds']:g}s")
    for down_from, down_to in result["down"]:
        click.echo(f"Daemon down {down_from} .. {down_to}")
    for error in result["errors"]:
        click.echo(f"Error at {error['at']}: {error['message']}")
    finished = {run["run_id"]: run for run in result["runs"]}
    click.echo("")
    if not result["ticks"]:
        click.echo("(no ticks)")
    for tick in result["ticks"]:
        line = f"{tick['at']}  tick for {tick['scheduled_time']}  {tick['status']}"
        if tick["skip_reason"]:
            line += f": {tick['skip_reason']}"
        if tick["error"]:
            line += f": {tick['error']}"
        click.echo(line)
        for run_id in tick["run_ids"]:
            run = finished.get(run_id, {})
            click.echo(
                f"    run {run_id[:8]}  {run.get('status', '?')}  started {run.get('started')}"
                f"  finished {run.get('finished') or '-'}"
            )
        for item in tick["not_run"]:
            when = item["scheduled_time"] or "-"
            click.echo(f"    not run {when}  [{item['reason']}] {item['detail']}")
    skipped = sum(len(t["not_run"]) for t in result["ticks"])
    click.echo(f"\n{len(result['ticks'])} ticks, {len(result['runs'])} runs, {skipped} not run.")
