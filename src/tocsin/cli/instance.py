"""``tocsin instance info|migrate``."""

from __future__ import annotations

from typing import Any

import click

from tocsin.cli.common import echo_json, json_option, open_instance


@click.group("instance")
def instance_cli() -> None:
    """Show the instance ($TOCSIN_HOME) and upgrade its databases."""


def _storage(instance: Any) -> tuple[str, str, str | None]:
    """(kind, url with password hidden, schema revision) of the run storage."""
    engine = getattr(instance.runs, "engine", None)
    if engine is None:
        return type(instance.runs).__name__, "-", None
    from tocsin.storage.migrate import current_revision

    with engine.connect() as conn:
        revision = current_revision(conn)
    url = engine.url.render_as_string(hide_password=True)
    return engine.dialect.name, url, revision


@instance_cli.command("info")
@json_option
def info_command(as_json: bool) -> None:
    """Home directory, storage kind and URL, schema revision, coordinator and launcher."""
    instance = open_instance()
    kind, url, revision = _storage(instance)
    data = {
        "home": instance.root_directory,
        "storage": kind,
        "url": url,
        "schema_revision": revision,
        "run_coordinator": type(instance.run_coordinator).__name__
        if instance.run_coordinator is not None
        else None,
        "run_launcher": type(instance.run_launcher).__name__
        if instance.run_launcher is not None
        else None,
    }
    instance.dispose()
    if as_json:
        echo_json(data)
        return
    for key, value in data.items():
        click.echo(f"{key}: {value if value is not None else '-'}")


@instance_cli.command("migrate")
def migrate_command() -> None:
    """Upgrade every database of the instance to this tocsin's schema revision."""
    from tocsin.errors import DagsterError
    from tocsin.instance.instance import DagsterInstance

    try:
        results = DagsterInstance.migrate()
    except DagsterError as exc:
        raise click.ClickException(str(exc)) from exc
    for result in results:
        if result.before == result.after:
            click.echo(f"{result.url}: already at {result.after}.")
        else:
            click.echo(f"{result.url}: {result.before or 'empty'} -> {result.after}.")
