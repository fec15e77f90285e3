"""Pieces both loops share: instigator ids, run tags, the running decision, reports.

The loops talk to the instance only through the names below: ``instance.ticks``
(``get_instigator_state``, ``add_instigator_state``, ``create_tick``, ``update_tick``,
``write_tick``), ``instance.runs.find_run_ids_for_keys``, ``instance.get_runs``,
``instance.get_run_by_id`` and ``instance.report_engine_event``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from tocsin.model.errors_info import SerializableErrorInfo, serializable_error_info_from_exc
from tocsin.model.run import DagsterRun, DagsterRunStatus, RunsFilter
from tocsin.model.tags import (
    CODE_LOCATION_TAG,
    CODE_ORIGIN_TAG,
    INSTIGATOR_TAG,
    PARTITION_NAME_TAG,
    RUN_KEY_TAG,
    TICK_ID_TAG,
)
from tocsin.model.ticks import InstigatorState, InstigatorStatus, InstigatorType, TickStatus
from tocsin.workspace.messages import RUNNING, InstigatorInfo, RunRequestData

# A wake request for a sensor: ``<prefix><origin id>`` -> POSIX time, in the key-value store.
WAKE_KEY_PREFIX = "tocsin/wake/"


def instigator_id(location: str, kind: str, name: str) -> str:
    """``<location>:sensor:<name>`` or ``<location>:schedule:<name>``."""
    return f"{location}:{kind}:{name}"


def instigator_type(kind: str) -> InstigatorType:
    return InstigatorType.SENSOR if kind == "sensor" else InstigatorType.SCHEDULE


def is_running(info: InstigatorInfo, state: InstigatorState | None) -> bool:
    """A user's start/stop wins; until there is one, the definition's default status."""
    if state is not None and state.status != InstigatorStatus.DECLARED_IN_CODE:
        return state.status == InstigatorStatus.RUNNING
    return info.default_status == RUNNING


def fresh_state(location: str, info: InstigatorInfo) -> InstigatorState:
    return InstigatorState(
        origin_id=instigator_id(location, info.kind, info.name),
        name=info.name,
        instigator_type=instigator_type(info.kind),
        status=InstigatorStatus.DECLARED_IN_CODE,
    )


@dataclass(frozen=True)
class TickOutcome:
    """What one instigator did in one pass."""

    origin_id: str
    status: TickStatus
    tick_id: int | None = None
    run_ids: tuple[str, ...] = ()
    skip_reason: str | None = None
    error: SerializableErrorInfo | None = None
    origin_run_ids: tuple[str, ...] = ()


@dataclass
class TickReport:
    """What one loop pass did: the ticks it made, the runs it submitted, what went wrong."""

    now: datetime
    outcomes: list[TickOutcome] = field(default_factory=list)
    submitted_run_ids: list[str] = field(default_factory=list)
    location_errors: dict[str, SerializableErrorInfo] = field(default_factory=dict)

    def outcome(self, origin_id: str) -> TickOutcome | None:
        for item in self.outcomes:
            if item.origin_id == origin_id:
                return item
        return None


def build_runs(
    requests: Sequence[RunRequestData],
    *,
    origin_id: str,
    location: Any,
    tick_id: int | None,
    system_tags: dict[str, str],
) -> tuple[list[DagsterRun], list[str]]:
    """Runs (NOT_STARTED) for the requests, the first of each run key winning.

    Returns the runs and the problems (requests without a job) as messages.
    """
    runs: list[DagsterRun] = []
    problems: list[str] = []
    seen: set[str] = set()
    where = location_tags(location)  # the same for every run: built once
    for request in requests:
        if request.run_key is not None and request.run_key in seen:
            continue
        if not request.job_name:
            problems.append(
                f"a RunRequest (run_key={request.run_key!r}) names no job and {origin_id} does "
                "not target exactly one job. Pass job= to the decorator or job_name= to RunRequest."
            )
            continue
        if request.run_key is not None:
            seen.add(request.run_key)
        tags = {**request.tags, **system_tags, INSTIGATOR_TAG: origin_id}
        tags.update(where)
        if tick_id is not None:
            tags[TICK_ID_TAG] = str(tick_id)
        if request.run_key is not None:
            tags[RUN_KEY_TAG] = request.run_key
        if request.partition_key is not None:
            tags[PARTITION_NAME_TAG] = request.partition_key
        runs.append(
            DagsterRun(
                job_name=request.job_name,
                run_config=request.run_config,
                tags=tags,
                status=DagsterRunStatus.NOT_STARTED,
                code_location=location.name,
                asset_selection=_selection(request.asset_selection),
            )
        )
    return runs, problems


def _selection(paths: list[list[str]] | None) -> frozenset[Any] | None:
    if paths is None:
        return None
    from tocsin.model.asset_key import AssetKey

    return frozenset(AssetKey(p) for p in paths)


def location_tags(location: Any) -> dict[str, str]:
    tags = {CODE_LOCATION_TAG: location.name}
    spec = getattr(location, "spec", None)
    if spec is not None:
        tags[CODE_ORIGIN_TAG] = json.dumps(spec.to_dict(), sort_keys=True)
    return tags


def drop_used_keys(instance: Any, origin_id: str, runs: list[DagsterRun]):
    """Split runs into those whose key is unused and {used key: run id holding it}.

    The UNIQUE index in ``write_tick`` is what guarantees one run per key; this look-up only
    lets the tick say SKIPPED rather than SUCCESS when every key was already used.
    """
    keys = [r.run_key for r in runs if r.run_key is not None]
    if not keys:
        return runs, {}
    used = instance.runs.find_run_ids_for_keys(origin_id, keys)
    return [r for r in runs if r.run_key is None or r.run_key not in used], dict(used)


def drop_used_requests(
    instance: Any, origin_id: str, requests: Sequence[RunRequestData]
) -> tuple[list[RunRequestData], dict[str, str]]:
    """Split requests into those whose run key has no run yet and {used key: run id}.

    One look-up for all keys. Requests without a key are kept, and so are those naming no
    job, so that ``build_runs`` still reports them. Dropping used keys before building runs
    spares a tick that repeats known keys from making a run per request only to throw it
    away. As with ``drop_used_keys``, the UNIQUE index in ``write_tick`` is the guarantee.
    """
    keys = [r.run_key for r in requests if r.run_key is not None]
    if not keys:
        return list(requests), {}
    used = dict(instance.runs.find_run_ids_for_keys(origin_id, keys))
    if not used:
        return list(requests), used
    kept = [r for r in requests if r.run_key is None or r.run_key not in used or not r.job_name]
    return kept, used


def find_unsubmitted(instance: Any, origin_ids: Iterable[str]) -> list[DagsterRun]:
    """Runs a tick made that were never submitted (a crash between commit and submit).

    Runs the overlap policy holds are not among them: ``overlap.release_held`` submits those
    when their turn comes.
    """
    from tocsin.daemon.overlap import is_held

    wanted = set(origin_ids)
    if not wanted:
        return []
    runs = instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.NOT_STARTED]))
    found = [r for r in runs if r.tags.get(INSTIGATOR_TAG) in wanted and not is_held(r)]
    return list(reversed(found))  # oldest first


def state_after_tick(
    state: InstigatorState,
    *,
    now: datetime,
    status: TickStatus,
    cursor: str | None,
    last_run_key: str | None,
    **extra: Any,
) -> InstigatorState:
    return replace(
        state,
        cursor=cursor,
        last_tick_timestamp=now,
        last_tick_status=status,
        last_run_key=last_run_key or state.last_run_key,
        extra={**state.extra, **extra},
    )


def instigators_of(location: Any, kind: str, report: TickReport) -> list[InstigatorInfo]:
    """The location's instigators of one kind; a location that fails to load is recorded on
    the report and yields none, so the other locations keep ticking."""
    try:
        error = location.load_error()
        if error is not None:
            report.location_errors[location.name] = error
            return []
        return [i for i in location.list_instigators() if i.kind == kind]
    except Exception as exc:  # one broken location must not stop the others
        report.location_errors[location.name] = serializable_error_info_from_exc(exc)
        return []
