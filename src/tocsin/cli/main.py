"""``tocsin``: the entry point. Each command group lives in its own module, imported on use."""

from __future__ import annotations

import importlib
from typing import Any

import click

_COMMANDS = {
    "daemon": ("tocsin.cli.daemon", "daemon_cli", "Run the daemon: sensors, schedules, runs."),
    "dev": ("tocsin.cli.daemon", "dev_command", "Run the daemon locally on ./.tocsin."),
    "job": ("tocsin.cli.job", "job_cli", "Execute jobs."),
    "run": ("tocsin.cli.run", "run_cli", "List runs."),
    "sensor": ("tocsin.cli.sensor", "sensor_cli", "List, preview, start and stop sensors."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = _COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, attr, _ = entry
        return getattr(importlib.import_module(module_name), attr)

    def format_commands(self, ctx: click.Context, formatter: Any) -> None:
        rows = [(name, _COMMANDS[name][2]) for name in sorted(_COMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup)
@click.version_option(package_name="tocsin")
def cli() -> None:
    """tocsin: sensors, schedules and a daemon that turns what they ask for into runs."""


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
