"""``tocsin web``: serve the web UI and HTTP API (register as ``web`` in the CLI's commands).

``tocsin dev`` can run the same server beside the daemon with ``start_in_thread``.
"""

from __future__ import annotations

import threading
from typing import Any

import click

from tocsin.cli.common import location_options, open_instance, specs
from tocsin.errors import ConfigError
from tocsin.web.app import DEFAULT_HOST, DEFAULT_PORT


@click.command("web")
@location_options
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int, help="Port.")
@click.option("--token", default=None, help="Token for changes (default: webserver.token).")
def web_command(files, modules, workspace, host: str, port: int, token: str | None) -> None:
    """Serve the web UI and the JSON API (/api/v1) for the instance in $TOCSIN_HOME."""
    from tocsin.web.app import serve
    from tocsin.workspace.location import WorkerLocation

    instance = open_instance()
    spec_list = specs(files, modules, workspace) if files or modules or workspace else []
    locations = [WorkerLocation(spec) for spec in spec_list]
    try:
        serve(instance, locations, host=host, port=port, token=token)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        for location in locations:
            location.close()


def start_in_thread(
    instance: Any,
    workspace: Any = None,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    token: str | None = None,
) -> tuple[Any, threading.Thread]:
    """Start the server in a daemon thread; return the uvicorn server (``should_exit``) and thread.

    Raises:
        ConfigError: a non-loopback host without a token.
    """
    import uvicorn

    from tocsin.web.app import create_app

    app = create_app(instance, workspace, token=token, host=host)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="tocsin-web", daemon=True)
    thread.start()
    return server, thread
