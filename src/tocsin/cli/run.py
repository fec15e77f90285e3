"""``tocsin run list|show|logs|cancel|delete``."""

from __future__ import annotations

import json
from typing import Any

import click

from tocsin.cli.common import echo_json, echo_table, fmt_time, json_option, open_instance


@click.group("run")
def run_cli() -> None:
    """Inspect, cancel and delete runs."""


def _statuses() -> list[str]:
    from tocsin.model.run import DagsterRunStatus

    return [s.value for s in DagsterRunStatus]


def _tag(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise click.BadParameter(f"{text!r} is not KEY=VALUE; write e.g. --tag day=2024-01-01.")
    return key, value


def get_run(instance: Any, run_id: str) -> Any:
    """The run with this id, or the only one whose id starts with it."""
    run = instance.get_run_by_id(run_id)
    if run is not None:
        return run
    matches = [r for r in instance.get_runs(limit=1000) if r.run_id.startswith(run_id)]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise click.ClickException(
            f"Run id prefix {run_id!r} matches {len(matches)} runs; give more characters."
        )
    raise click.ClickException(
        f"No run with id {run_id!r}. 'tocsin run list' shows the ids of recent runs."
    )


@run_cli.command("list")
@click.option("--status", "statuses", multiple=True, help="Only runs in this status (repeatable).")
@click.option("--job", default=None, help="Only runs of this job.")
@click.option("--tag", "tags", multiple=True, help="Only runs with tag KEY=VALUE (repeatable).")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per run, one per line.")
def list_command(statuses, job, tags, limit: int, as_json: bool) -> None:
    """The newest runs first."""
    from tocsin.model.run import DagsterRunStatus, RunsFilter

    wanted = []
    for status in statuses:
        if status.upper() not in _statuses():
            import difflib

            close = difflib.get_close_matches(status.upper(), _statuses(), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise click.BadParameter(
                f"unknown status {status!r}.{hint} Known: {', '.join(_statuses())}.",
                param_hint="--status",
            )
        wanted.append(DagsterRunStatus(status.upper()))
    filters = RunsFilter(
        job_name=job, statuses=wanted or None, tags=dict(_tag(t) for t in tags) or None
    )
    instance = open_instance()
    runs = instance.get_runs(filters, limit=limit)
    if as_json:
        for run in runs:
            click.echo(json.dumps(run.to_dict(), sort_keys=True))
        return
    rows = [
        (r.run_id, r.status.value, r.job_name, r.run_key or "", fmt_time(r.start_time))
        for r in runs
    ]
    echo_table(["RUN", "STATUS", "JOB", "RUN KEY", "STARTED"], rows)


@run_cli.command("show")
@click.argument("run_id")
@json_option
def show_command(run_id: str, as_json: bool) -> None:
    """A run's status, times, tags, config and event log."""
    instance = open_instance()
    run = get_run(instance, run_id)
    events = instance.all_logs(run.run_id)
    if as_json:
        data = run.to_dict()
        data["events"] = [_event_dict(e) for e in events]
        echo_json(data)
        return
    click.echo(f"Run {run.run_id}\n  job: {run.job_name}\n  status: {run.status.value}")
    click.echo(f"  started: {fmt_time(run.start_time)}\n  ended: {fmt_time(run.end_time)}")
    for key, value in sorted(run.tags.items()):
        if not key.startswith(".tocsin/"):
            click.echo(f"  tag {key}={value}")
    if run.run_config:
        click.echo(f"  run_config: {json.dumps(run.run_config, sort_keys=True)}")
    click.echo("Events:")
    for entry in events:
        click.echo(f"  {_event_line(entry)}")


def _event_dict(entry: Any) -> dict[str, Any]:
    event = entry.dagster_event
    return {
        "timestamp": entry.timestamp,
        "step_key": entry.step_key,
        "event_type": None if event is None else event.event_type_value,
        "message": entry.message,
    }


def _event_line(entry: Any) -> str:
    event = entry.dagster_event
    kind = "LOG" if event is None else event.event_type_value
    step = f" [{entry.step_key}]" if entry.step_key else ""
    line = f"{fmt_time(entry.timestamp)} {kind}{step} {entry.message}"
    data = None if event is None else getattr(event, "event_specific_data", None)
    error = getattr(data, "error", None) or entry.error_info
    if error is not None:
        line += f"\n    {error.message.strip()}"
    return line


@run_cli.command("logs")
@click.argument("run_id")
@click.option("--step", default=None, help="Only this step's output.")
@click.option("--stderr", is_flag=True, help="Show stderr instead of stdout.")
def logs_command(run_id: str, step: str | None, stderr: bool) -> None:
    """What a run's steps printed (compute logs)."""
    instance = open_instance()
    run = get_run(instance, run_id)
    steps = sorted({e.step_key for e in instance.all_logs(run.run_id) if e.step_key})
    if step is not None and step not in steps:
        from tocsin.cli.common import did_you_mean

        raise did_you_mean(step, steps, f"step of run {run.run_id}")
    store = instance.compute_log_manager
    io_type = "stderr" if stderr else "stdout"
    shown = 0
    for key in [step] if step else steps:
        text, _ = store.read(run.run_id, key, io_type)
        if text:
            click.echo(f"=== {key} ({io_type})")
            click.echo(text, nl=not text.endswith("\n"))
            shown += 1
    if not shown:
        click.echo(f"No {io_type} captured for run {run.run_id}.")


@run_cli.command("cancel")
@click.argument("run_id")
def cancel_command(run_id: str) -> None:
    """Cancel a run that has not finished."""
    instance = open_instance()
    run = get_run(instance, run_id)
    if run.status.is_finished:
        raise click.ClickException(
            f"Run {run.run_id} is already {run.status.value}; only unfinished runs can be canceled."
        )
    from tocsin.model.run import DagsterRunStatus

    if run.status in (DagsterRunStatus.STARTED, DagsterRunStatus.STARTING):
        instance.report_run_canceling(run)
    instance.report_run_canceled(instance.get_run(run.run_id), "Canceled from the command line.")
    click.echo(f"Run {run.run_id} is now {instance.get_run(run.run_id).status.value}.")


@run_cli.command("delete")
@click.argument("run_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete_command(run_id: str, yes: bool) -> None:
    """Delete a run and its events."""
    instance = open_instance()
    run = get_run(instance, run_id)
    if not run.status.is_finished:
        raise click.ClickException(
            f"Run {run.run_id} is {run.status.value}; cancel it first (tocsin run cancel)."
        )
    if not yes:
        click.confirm(f"Delete run {run.run_id} of {run.job_name}?", abort=True)
    instance.delete_run(run.run_id)
    click.echo(f"Deleted run {run.run_id}.")
