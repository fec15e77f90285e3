"""What the commands share: the -f/-m/-w options, opening the instance, loading locations."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import click

from tocsin.errors import DagsterError


def location_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option("-w", "--workspace", "workspace", help="A workspace.yaml.")(fn)
    fn = click.option("-m", "--module", "modules", multiple=True, help="A module to load.")(fn)
    fn = click.option("-f", "--file", "files", multiple=True, help="A Python file to load.")(fn)
    return fn


def specs(files: tuple[str, ...], modules: tuple[str, ...], workspace: str | None) -> list[Any]:
    from tocsin.workspace.workspace import specs_from_options

    try:
        return specs_from_options(files, modules, workspace)
    except DagsterError as exc:
        raise click.UsageError(str(exc)) from exc


def open_instance(home: str | None = None) -> Any:
    """The instance in ``home``, else ``$TOCSIN_HOME``/``$DAGSTER_HOME``."""
    from tocsin.instance.instance import DagsterInstance

    if home is not None:
        os.makedirs(home, exist_ok=True)
        os.environ["TOCSIN_HOME"] = os.path.abspath(home)
    try:
        return DagsterInstance.get()
    except DagsterError as exc:
        raise click.ClickException(str(exc)) from exc


def load_in_process(spec: Any) -> Any:
    """Load a location here; a definitions file that raises exits 1 with its traceback."""
    from tocsin.workspace.location import InProcessLocation

    location = InProcessLocation(spec.name, spec=spec)
    error = location.load_error()
    if error is not None:
        click.echo(f"Could not load code location {spec.name!r}:\n{error.to_string()}", err=True)
        sys.exit(1)
    return location


def did_you_mean(name: str, choices: list[str], kind: str) -> click.ClickException:
    import difflib

    close = difflib.get_close_matches(name, choices, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    known = ", ".join(sorted(choices)) or "none"
    return click.ClickException(f"No {kind} named {name!r}.{hint} Known {kind}s: {known}.")
