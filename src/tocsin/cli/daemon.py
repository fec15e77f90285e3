"""``tocsin daemon run|tick|status``, ``tocsin dev`` and ``tocsin web``."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from typing import Any

import click

from tocsin.cli.common import (
    echo_json,
    echo_table,
    fmt_time,
    json_option,
    location_options,
    open_instance,
    specs,
)


@click.group("daemon")
def daemon_cli() -> None:
    """Run the daemon that ticks sensors and schedules and launches runs."""


def _start(
    spec_list: list[Any], instance: Any, interval: float, verbose: bool, now: datetime | None = None
) -> Any:
    from tocsin.daemon.assemble import build_daemon, location_workers
    from tocsin.workspace.location import WorkerLocation

    workers = location_workers(instance)
    locations = [WorkerLocation(spec, workers=workers) for spec in spec_list]

    def on_report(name: str, report: Any) -> None:
        if not verbose:
            return
        for outcome in report.outcomes:
            runs = f" runs={list(outcome.run_ids)}" if outcome.run_ids else ""
            click.echo(f"{report.now:%H:%M:%S} {outcome.origin_id} {outcome.status.value}{runs}")

    from tocsin.errors import TocsinError

    clock = None if now is None else (lambda: now)
    try:
        runner = build_daemon(
            instance, locations, interval=interval, on_report=on_report, clock=clock
        )
        runner.start()
    except TocsinError as exc:
        _close(locations, instance)
        raise click.ClickException(str(exc)) from exc
    return locations, runner


def _describe(locations: list[Any], runner: Any = None) -> None:
    if runner is not None and runner.daemon_id is not None:
        click.echo(f"daemon {runner.daemon_id}")
    for location in locations:
        error = location.load_error()
        if error is not None:
            click.echo(f"code location {location.name}: FAILED to load\n{error.to_string()}")
            continue
        items = location.list_instigators()
        names = ", ".join(f"{i.kind} {i.name}" for i in items) or "no sensors or schedules"
        jobs = ", ".join(location.list_jobs()) or "none"
        click.echo(f"code location {location.name}: {names}; jobs: {jobs}")


def _close(locations: list[Any], instance: Any, runner: Any = None) -> None:
    if runner is not None:
        runner.close()
    for location in locations:
        location.close()
    instance.dispose()


def _serve(spec_list: list[Any], instance: Any, interval: float) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    from tocsin.daemon.presence import DaemonLeaseLostError

    locations, runner = _start(spec_list, instance, interval, verbose=True)
    try:
        _describe(locations, runner)
        runner.run()
    except KeyboardInterrupt:
        pass
    except DaemonLeaseLostError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        click.echo("Stopped.")
        _close(locations, instance, runner)


@daemon_cli.command("run")
@location_options
@click.option("--interval", default=1.0, show_default=True, help="Seconds between passes.")
def run_command(files, modules, workspace, interval: float) -> None:
    """Tick sensors and schedules until stopped (SIGTERM/SIGINT)."""
    _serve(specs(files, modules, workspace), open_instance(), interval)


def parse_now(value: str | None) -> datetime | None:
    """The ``--now`` of ``daemon tick``: an ISO 8601 time with a UTC offset, as UTC."""
    if value is None:
        return None
    example = "2024-01-01T12:00:00+00:00 (or ...Z)"
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 time; write it like {example}.", param_hint="--now"
        ) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise click.BadParameter(
            f"{value!r} has no UTC offset, so it names no single moment; add one, like {example}.",
            param_hint="--now",
        )
    return parsed.astimezone(UTC)


@daemon_cli.command("tick")
@location_options
@click.option(
    "--now",
    "now_text",
    metavar="ISO-TIME",
    help="Advanced: tick as if it were this time (ISO 8601 with a UTC offset), e.g. to replay "
    "or test a schedule; sensors' intervals and schedules' cron times are judged against it.",
)
def tick_command(files, modules, workspace, now_text: str | None) -> None:
    """Exactly one pass of every loop at the current time (or at --now)."""
    now = parse_now(now_text)
    instance = open_instance()
    spec_list = specs(files, modules, workspace)
    locations, runner = _start(spec_list, instance, 0, verbose=True, now=now)
    try:
        reports = runner.run_once()
        for name, report in reports.items():
            if report is None:
                raise click.ClickException(f"The {name} loop failed; see the log above.")
            for location, error in report.location_errors.items():
                click.echo(f"{location}: {error.message}", err=True)
    finally:
        _close(locations, instance, runner)


@daemon_cli.command("status")
@json_option
def status_command(as_json: bool) -> None:
    """The live daemons (their loops, heartbeats and what they hold), heartbeats and leases."""
    from tocsin.daemon.presence import read_daemons

    instance = open_instance()
    now = datetime.now(UTC)
    try:
        beats = instance.get_daemon_heartbeats()
        leases = instance.leases.get_leases() if hasattr(instance.leases, "get_leases") else []
        daemons = read_daemons(instance, now)
    finally:
        instance.dispose()
    if as_json:
        echo_json(
            {
                "daemons": [info.to_dict() for info in daemons],
                "heartbeats": [
                    {
                        "daemon_type": name,
                        "daemon_id": beat.daemon_id,
                        "timestamp": beat.timestamp.isoformat(),
                        "errors": [str(getattr(e, "message", e)) for e in beat.errors],
                    }
                    for name, beat in sorted(beats.items())
                ],
                "leases": [
                    {"name": x.name, "owner": x.owner, "expires_at": x.expires_at.isoformat()}
                    for x in leases
                ],
            }
        )
        return
    _echo_daemons(daemons, now)
    click.echo("Heartbeats:")
    rows = []
    for name, beat in sorted(beats.items()):
        age = (now - beat.timestamp).total_seconds()
        rows.append(
            (
                name,
                beat.daemon_id or "-",
                fmt_time(beat.timestamp),
                f"{age:.0f}s ago",
                len(beat.errors),
            )
        )
    echo_table(["DAEMON", "DAEMON ID", "LAST HEARTBEAT", "AGE", "ERRORS"], rows)
    if not beats:
        click.echo("No daemon has run on this instance; start one with 'tocsin daemon run'.")
    click.echo("Leases:")
    lease_rows = [
        (x.name, x.owner, fmt_time(x.expires_at), "held" if x.expires_at > now else "expired")
        for x in leases
    ]
    echo_table(["LEASE", "OWNER", "EXPIRES", "STATE"], lease_rows)


def _echo_daemons(daemons: list[Any], now: datetime) -> None:
    click.echo(f"Live daemons: {len(daemons)}")
    rows = [
        (
            d.daemon_id,
            d.host,
            d.pid if d.pid is not None else "-",
            d.started_at or "-",
            len(d.sensors),
            len(d.schedules),
            len(d.ticks),
            ", ".join(d.other) or "-",
        )
        for d in daemons
    ]
    if rows:
        echo_table(
            ["ID", "HOST", "PID", "SINCE", "SENSORS", "SCHEDULES", "TICKS", "OTHER LEASES"], rows
        )
    for d in daemons:
        loop_rows = []
        for loop, item in sorted(d.loops.items()):
            stamp = item.get("heartbeat")
            age = "-"
            if stamp:
                age = f"{(now - datetime.fromisoformat(stamp)).total_seconds():.0f}s ago"
            loop_rows.append((loop, stamp or "-", age, item.get("errors", 0)))
        click.echo(f"Loops of {d.daemon_id}:")
        echo_table(["LOOP", "LAST HEARTBEAT", "AGE", "ERRORS"], loop_rows)


# -- the web server ------------------------------------------------------------------------------


def _port_free(host: str, port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def start_web(instance: Any, locations: list[Any], host: str, port: int) -> Any:
    """Serve the web UI in a thread; return (server, thread), or None without a web app."""
    try:
        from tocsin.web.app import create_app
    except ImportError:
        return None
    import threading

    import uvicorn

    if not _port_free(host, port):
        raise click.ClickException(
            f"Port {port} on {host} is in use; pick another with --port, or --no-web."
        )
    app = create_app(instance, locations, host=host)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="tocsin-web", daemon=True)
    thread.start()
    return server, thread


def stop_web(web: Any) -> None:
    if web is None:
        return
    server, thread = web
    server.should_exit = True
    thread.join(timeout=10)


class _Watcher:
    """Notices edits to the files of -f locations so dev can say it reloads."""

    def __init__(self, spec_list: list[Any]):
        self.dirs = sorted(
            {os.path.dirname(os.path.abspath(s.python_file)) for s in spec_list if s.python_file}
        )
        self.mtimes = self._scan()

    def _scan(self) -> dict[str, float]:
        found = {}
        for folder in self.dirs:
            for name in os.listdir(folder):
                if name.endswith(".py"):
                    path = os.path.join(folder, name)
                    try:
                        found[path] = os.stat(path).st_mtime
                    except OSError:
                        continue
        return found

    def changed(self) -> bool:
        now = self._scan()
        changed, self.mtimes = now != self.mtimes, now
        return changed


@click.command("dev")
@location_options
@click.option("--interval", default=1.0, show_default=True, help="Seconds between passes.")
@click.option("--port", default=3000, show_default=True, help="Port of the web UI.")
@click.option("--no-web", is_flag=True, help="Run the daemon alone, without the web UI.")
def dev_command(files, modules, workspace, interval: float, port: int, no_web: bool) -> None:
    """Run the daemon and the web UI on $TOCSIN_HOME (or ./.tocsin when unset).

    Code reloads when its files change; Ctrl-C stops everything.
    """
    spec_list = specs(files, modules, workspace)
    home = os.environ.get("TOCSIN_HOME") or os.path.abspath(".tocsin")
    instance = open_instance(home)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    click.echo(f"tocsin dev: instance in {home}")
    locations, runner = _start(spec_list, instance, interval, verbose=True)
    web = None
    try:
        _describe(locations, runner)
        if not no_web:
            web = start_web(open_instance(), locations, "127.0.0.1", port)
            if web is not None:
                click.echo(f"tocsin dev: web UI at http://127.0.0.1:{port}")
        watcher = _Watcher(spec_list)

        def reload_if_changed() -> None:
            if watcher.changed():
                click.echo("tocsin dev: code changed, reloading.")
                _describe(locations)

        click.echo("tocsin dev: running; Ctrl-C stops.")
        # Loops on their own threads, as `daemon run`: a slow sensor holds up only itself.
        runner.run(between=reload_if_changed)
    except KeyboardInterrupt:
        pass
    finally:
        stop_web(web)
        _close(locations, instance, runner)
        click.echo("tocsin dev: stopped.")


@click.command("web")
@location_options
@click.option("--port", default=3000, show_default=True, help="Port to listen on.")
def web_command(files, modules, workspace, port: int) -> None:
    """Serve the web UI on 127.0.0.1 (without the daemon)."""
    from tocsin.workspace.location import WorkerLocation

    spec_list = specs(files, modules, workspace) if files or modules or workspace else []
    instance = open_instance()
    locations = [WorkerLocation(spec) for spec in spec_list]
    try:
        from tocsin.web.app import serve
    except ImportError as exc:
        raise click.ClickException(f"The web UI is not available: {exc}") from exc
    if not _port_free("127.0.0.1", port):
        raise click.ClickException(f"Port {port} on 127.0.0.1 is in use; pick another with --port.")
    click.echo(f"tocsin web: http://127.0.0.1:{port}")
    try:
        serve(instance, locations, port=port)
    except KeyboardInterrupt:
        pass
    finally:
        _close(locations, instance)
