"""``tocsin``: the entry point. Each command group lives in its own module, imported on use."""

from __future__ import annotations

import importlib
from typing import Any

import click

_COMMANDS = {
    "asset": ("tocsin.cli.asset", "asset_cli", "List, materialize and wipe assets."),
    "daemon": ("tocsin.cli.daemon", "daemon_cli", "Run the daemon: sensors, schedules, runs."),
    "dev": ("tocsin.cli.daemon", "dev_command", "Run the daemon and web UI locally."),
    "instance": ("tocsin.cli.instance", "instance_cli", "Show and migrate the instance."),
    "job": ("tocsin.cli.job", "job_cli", "List, execute, launch and backfill jobs."),
    "run": ("tocsin.cli.run", "run_cli", "List, show, cancel and delete runs; their logs."),
    "schedule": ("tocsin.cli.schedule", "schedule_cli", "List, preview and run schedules."),
    "sensor": ("tocsin.cli.sensor", "sensor_cli", "List, preview, start and stop sensors."),
    "web": ("tocsin.cli.daemon", "web_command", "Serve the web UI on 127.0.0.1."),
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

    def invoke(self, ctx: click.Context) -> Any:
        """A tocsin error a command lets through prints its message and exits 1."""
        from tocsin.errors import DagsterError

        try:
            return super().invoke(ctx)
        except DagsterError as exc:
            raise click.ClickException(f"{type(exc).__name__}: {exc}") from exc

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
