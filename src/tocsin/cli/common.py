"""What the commands share: the -f/-m/-w options, opening the instance, loading locations,
tables and JSON output."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import click

from tocsin.errors import DagsterError


def location_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option("-w", "--workspace", "workspace", help="A workspace.yaml.")(fn)
    fn = click.option("-m", "--module", "modules", multiple=True, help="A module to load.")(fn)
    fn = click.option("-f", "--file", "files", multiple=True, help="A Python file to load.")(fn)
    return fn


def json_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(
        fn
    )


def specs(files: tuple[str, ...], modules: tuple[str, ...], workspace: str | None) -> list[Any]:
    from tocsin.workspace.workspace import specs_from_options

    for path in files:
        if not os.path.isfile(path):
            raise click.UsageError(
                f"-f {path}: no such file. Pass the path of a Python file that defines "
                "your Definitions (relative to the current directory or absolute)."
            )
    try:
        return specs_from_options(files, modules, workspace)
    except DagsterError as exc:
        raise click.UsageError(str(exc)) from exc


DEV_HOME = ".tocsin"


def open_instance(home: str | None = None) -> Any:
    """The instance in ``home``, else ``$TOCSIN_HOME``/``$DAGSTER_HOME``, else the ``./.tocsin``
    that ``tocsin dev`` made in this directory."""
    from tocsin.instance.instance import DagsterInstance

    no_env_home = not (os.environ.get("TOCSIN_HOME") or os.environ.get("DAGSTER_HOME"))
    if home is None and no_env_home and os.path.isdir(DEV_HOME):
        home = DEV_HOME
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


def load_locations(files, modules, workspace) -> list[Any]:
    return [load_in_process(spec) for spec in specs(files, modules, workspace)]


def instigators(files, modules, workspace, kind: str) -> list[tuple[Any, Any]]:
    """(location, InstigatorInfo) for every sensor or schedule of the given locations."""
    found = []
    for location in load_locations(files, modules, workspace):
        found += [(location, i) for i in location.list_instigators() if i.kind == kind]
    return found


def find_instigator(name: str, found: list[tuple[Any, Any]], kind: str) -> tuple[Any, Any]:
    for location, info in found:
        if info.name == name:
            return location, info
    raise did_you_mean(name, [info.name for _, info in found], kind)


def did_you_mean(name: str, choices: Sequence[str], kind: str) -> click.ClickException:
    import difflib

    close = difflib.get_close_matches(name, list(choices), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    listed = sorted(choices)
    known = ", ".join(listed[:10]) or "none"
    if len(listed) > 10:
        known += f" and {len(listed) - 10} more"
    return click.ClickException(f"No {kind} named {name!r}.{hint} Known: {known}.")


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, sort_keys=True, default=str, indent=2))


def echo_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain left-aligned table; an empty one says so."""
    if not rows:
        click.echo("(none)")
        return
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def fmt_time(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, int | float):
        from datetime import UTC, datetime

        value = datetime.fromtimestamp(value, UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def parse_time(text: str, option: str) -> Any:
    """An ISO 8601 time; a naive one is taken as UTC."""
    from datetime import UTC, datetime

    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(
            f"{text!r} is not an ISO 8601 time; write e.g. 2024-03-31T08:00 or "
            "2024-03-31T08:00+02:00.",
            param_hint=option,
        ) from exc
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
