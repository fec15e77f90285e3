"""``tocsin sensor why NAME`` / ``tocsin schedule why NAME [--at TIME]``: why did it not run?

Answers from storage alone (no code is loaded unless -f/-m/-w name the instigator): the
latest ticks that did not turn something into a run, each reason in plain words (the ticks'
``not_run`` records, ``daemon/why.py``), or with ``--at`` the scheduled time at or just before
that time; then the instigator's state (stopped, paused and why) and its runs that wait: held
by its overlap policy, or queued behind a concurrency limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import click

from tocsin.cli.common import (
    did_you_mean,
    echo_json,
    fmt_time,
    json_option,
    location_options,
    open_instance,
    parse_time,
)

SCAN_TICKS = 200  # newest ticks searched for ones that did not run something
AT_WINDOW = timedelta(days=35)  # ticks around --at searched for its scheduled time


def add_why_command(group: click.Group, kind: str) -> None:
    """Register ``why`` on ``group`` for instigators of ``kind`` (``sensor``/``schedule``)."""

    def run(name: str, at: str | None, limit: int, files, modules, workspace, as_json) -> None:
        when = None if at is None else parse_time(at, "--at")
        instance = open_instance()
        origin = resolve_origin(instance, kind, name, files, modules, workspace)
        answer = explain(instance, kind, name, origin, at=when, limit=limit)
        if as_json:
            echo_json(answer)
        else:
            print_answer(answer)

    help_text = (
        f"Why a {kind} did not run something: recent ticks' reasons, its state, waiting runs."
    )
    command = run
    if kind == "schedule":

        def schedule_why(name, at, limit, files, modules, workspace, as_json):
            run(name, at, limit, files, modules, workspace, as_json)

        schedule_why = click.option(
            "--at",
            "at",
            default=None,
            help="Explain the scheduled time at or just before this time (ISO 8601).",
        )(schedule_why)
        command = schedule_why
    else:

        def sensor_why(name, limit, files, modules, workspace, as_json):
            run(name, None, limit, files, modules, workspace, as_json)

        command = sensor_why  # type: ignore[assignment]
    command = click.option(
        "--limit",
        default=5,
        show_default=True,
        type=click.IntRange(min=1),
        help="How many ticks to show.",
    )(command)
    command = json_option(location_options(click.argument("name")(command)))
    group.command("why", help=help_text)(command)


def resolve_origin(instance: Any, kind: str, name: str, files, modules, workspace) -> str:
    """The origin id of ``name``: from the given code locations, else from stored states."""
    if files or modules or workspace:
        from tocsin.cli.instigator import find_of_kind, origin

        location, info = find_of_kind(kind, name, files, modules, workspace)
        return origin(location, info)
    from tocsin.model.ticks import InstigatorType

    states = instance.ticks.all_instigator_state(InstigatorType(kind.upper()))
    matches = [s.origin_id for s in states if s.name == name]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise click.UsageError(
            f"Several code locations have a {kind} named {name!r} ({', '.join(matches)}); "
            "pass -f, -m or -w to say which."
        )
    error = did_you_mean(name, sorted({s.name for s in states}), kind)
    raise click.ClickException(
        f"{error.message} (Only {kind}s that have ticked are stored; pass -f, -m or -w to "
        "look one up in code.)"
    )


def explain(
    instance: Any,
    kind: str,
    name: str,
    origin: str,
    *,
    at: datetime | None = None,
    limit: int = 5,
) -> dict[str, Any]:
    """The answer as plain data (what ``--json`` prints)."""
    from tocsin.daemon.pause import PAUSE_NOTE

    state = instance.ticks.get_instigator_state(origin)
    status = None if state is None else state.status.value
    note = None
    if state is not None and status == "STOPPED":
        note = state.extra.get(PAUSE_NOTE)
    answer: dict[str, Any] = {
        "kind": kind,
        "name": name,
        "origin_id": origin,
        "status": status,
        "last_tick": None
        if state is None or state.last_tick_timestamp is None
        else state.last_tick_timestamp.timestamp(),
        "paused": note,
        "held_runs": waiting_runs(instance, origin, kind),
    }
    if at is None:
        answer["ticks"] = [tick_data(t) for t in ticks_not_run(instance, origin, limit)]
    else:
        answer["at"] = at.isoformat()
        answer.update(at_time(instance, origin, at))
    return answer


def ticks_not_run(instance: Any, origin: str, limit: int) -> list[Any]:
    """The newest ticks that did not turn something into a run (or failed)."""
    from tocsin.daemon.why import not_run_of
    from tocsin.model.ticks import TickStatus

    found = []
    for tick in instance.ticks.get_ticks(origin, limit=SCAN_TICKS):
        if not_run_of(tick) or tick.status == TickStatus.FAILURE:
            found.append(tick)
            if len(found) >= limit:
                break
    return found


def at_time(instance: Any, origin: str, at: datetime) -> dict[str, Any]:
    """The scheduled time at or just before ``at`` and the tick that handled it."""
    from tocsin.daemon.why import not_run_of

    ticks = instance.ticks.get_ticks(origin, after=at - AT_WINDOW, before=at + AT_WINDOW)
    best: tuple[float, Any] | None = None
    limit = at.timestamp()
    for tick in ticks:
        times = [n.scheduled_time for n in not_run_of(tick)] + [tick.scheduled_execution_time]
        for when in times:
            if when is None or when.timestamp() > limit:
                continue
            if best is None or when.timestamp() > best[0]:
                best = (when.timestamp(), tick)
    if best is None:
        return {"scheduled_time": None, "ticks": []}
    stamp, tick = best
    data = tick_data(tick, only_time=stamp)
    return {"scheduled_time": stamp, "ticks": [data]}


def tick_data(tick: Any, *, only_time: float | None = None) -> dict[str, Any]:
    from tocsin.daemon.pause import PAUSE_NOTE
    from tocsin.daemon.why import REASONS, not_run_of

    items = []
    for item in not_run_of(tick):
        stamp = None if item.scheduled_time is None else item.scheduled_time.timestamp()
        if only_time is not None and stamp is not None and stamp != only_time:
            continue
        items.append({**item.to_dict(), "words": REASONS[item.reason]})
    scheduled = tick.scheduled_execution_time
    return {
        "tick_id": tick.tick_id,
        "timestamp": tick.timestamp.timestamp(),
        "status": tick.status.value,
        "scheduled_time": None if scheduled is None else scheduled.timestamp(),
        "run_ids": list(tick.run_ids),
        "skip_reason": tick.skip_reason,
        "error": None if tick.error is None else tick.error.message,
        "paused": tick.extra.get(PAUSE_NOTE),
        "not_run": items,
    }


def waiting_runs(instance: Any, origin: str, kind: str) -> list[dict[str, Any]]:
    """Its runs held by the overlap policy or queued behind a limit, and what holds each."""
    from tocsin.daemon.overlap import busy_runs
    from tocsin.daemon.run_queue import HELD_BY_TAG
    from tocsin.daemon.why import CONCURRENCY_LIMIT, OVERLAP
    from tocsin.model.run import DagsterRunStatus

    active, held = busy_runs(instance, origin)
    rows = []
    for run in reversed(active):
        if run.status == DagsterRunStatus.QUEUED:
            reason = run.tags.get(HELD_BY_TAG) or "waiting for the queue daemon"
            rows.append(_row(run, CONCURRENCY_LIMIT, f"queued: {reason}"))
    running = [r for r in active if r.status != DagsterRunStatus.QUEUED]
    blocker = (running or active)[-1] if active else None
    for run in held:
        detail = "overlap policy: waits for its turn"
        if blocker is not None:
            detail = (
                f"overlap policy: waits until run {blocker.run_id} "
                f"({blocker.status.value}) of this {kind} finishes"
            )
        rows.append(_row(run, OVERLAP, detail))
    return rows


def _row(run: Any, reason: str, held_by: str) -> dict[str, Any]:
    return {"run_id": run.run_id, "status": run.status.value, "reason": reason, "held_by": held_by}


def print_answer(answer: dict[str, Any]) -> None:
    kind, name = answer["kind"], answer["name"]
    title = kind.capitalize()
    status = answer["status"]
    if status is None:
        click.echo(f"{title} {name}: no state stored yet (it has never ticked).")
    elif answer["paused"]:
        click.echo(f"{title} {name} is STOPPED (paused). {answer['paused']}")
    elif status == "STOPPED":
        click.echo(
            f"{title} {name} is STOPPED; start it with 'tocsin {kind} start {name}' "
            "or the web UI toggle."
        )
    elif status == "DECLARED_IN_CODE":
        click.echo(
            f"{title} {name} has its definition's default status (never started or stopped "
            f"by hand); last tick {fmt_time(answer['last_tick'])}."
        )
    else:
        click.echo(f"{title} {name} is {status}; last tick {fmt_time(answer['last_tick'])}.")
    if "at" in answer:
        _print_at(answer)
    elif not answer["ticks"]:
        click.echo("No recent tick left anything not run.")
    for tick in answer["ticks"]:
        _print_tick(tick)
    if answer["held_runs"]:
        click.echo("Runs waiting:")
        for row in answer["held_runs"]:
            click.echo(f"  - run {row['run_id']} ({row['status']}): {row['held_by']}")


def _print_at(answer: dict[str, Any]) -> None:
    if answer["scheduled_time"] is None:
        click.echo(
            f"No tick handled a scheduled time at or before {answer['at']} "
            f"(ticks within {AT_WINDOW.days} days of it were searched)."
        )
        return
    click.echo(f"Scheduled time at or before {answer['at']}: {fmt_time(answer['scheduled_time'])}")


def _print_tick(tick: dict[str, Any]) -> None:
    scheduled = tick["scheduled_time"]
    header = f"Tick {tick['tick_id']} at {fmt_time(tick['timestamp'])} ({tick['status']})"
    if scheduled is not None:
        header += f" for {fmt_time(scheduled)}"
    click.echo(header + ":")
    if tick["error"]:
        click.echo(f"  failed: {tick['error'].splitlines()[0]}")
    if tick["paused"]:
        click.echo(f"  paused: {tick['paused']}")
    for item in tick["not_run"]:
        click.echo(f"  - {_subject(item)}: {item['words']} ({item['detail']})")
    if not tick["not_run"] and not tick["error"]:
        if tick["run_ids"]:
            click.echo(f"  ran: {', '.join(tick['run_ids'])}")
        elif tick["skip_reason"]:
            click.echo(f"  skipped: {tick['skip_reason']}")


def _subject(item: dict[str, Any]) -> str:
    parts: Sequence[str] = []
    if item.get("run_key") is not None:
        parts = [f"run key {item['run_key']!r}"]
    if item.get("scheduled_time") is not None:
        parts = [*parts, f"scheduled time {fmt_time(item['scheduled_time'])}"]
    return ", ".join(parts) or "its request"
