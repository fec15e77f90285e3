"""A small in-memory instance with the methods the daemon loops use, and scripted locations.

The loops are tested here against their contract with the instance (``instance.ticks``,
``instance.runs``, runs and engine events) and with a code location (plain ``Evaluation``s),
so these tests pin the tick protocol without loading any user code.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from tocsin.model.run import DagsterRun, DagsterRunStatus, RunsFilter
from tocsin.model.tags import RUN_KEY_TAG
from tocsin.model.ticks import InstigatorState, Tick
from tocsin.workspace.location import CodeLocation
from tocsin.workspace.messages import Evaluation, InstigatorInfo

T0 = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)


class FakeTicks:
    def __init__(self, runs: FakeRuns):
        self.states: dict[str, InstigatorState] = {}
        self.ticks: dict[int, Tick] = {}
        self._ids = itertools.count(1)
        self._runs = runs

    def get_instigator_state(self, origin_id: str) -> InstigatorState | None:
        return self.states.get(origin_id)

    def add_instigator_state(self, state: InstigatorState) -> InstigatorState:
        self.states[state.origin_id] = state
        return state

    update_instigator_state = add_instigator_state

    def set_instigator_status(self, origin_id, status, extra_changes=None, *, default=None):
        state = self.states.get(origin_id) or default
        assert state is not None, origin_id
        extra = {**state.extra, **(extra_changes or {})}
        status = state.status if status is None else status
        return self.add_instigator_state(replace(state, status=status, extra=extra))

    def create_tick(self, tick: Tick) -> Tick:
        tick = replace(tick, tick_id=next(self._ids))
        self.ticks[tick.tick_id] = tick
        return tick

    def update_tick(self, tick: Tick) -> Tick:
        self.ticks[tick.tick_id] = tick
        return tick

    def write_tick(self, tick, new_runs=(), cursor=None, state=None, *, enqueue=()):
        queued = DagsterRunStatus.QUEUED
        new_runs = [replace(r, status=queued) if r.run_id in enqueue else r for r in new_runs]
        inserted = self._runs.add_runs(new_runs)
        tick = replace(tick, run_ids=tuple(r.run_id for r in inserted))
        if tick.tick_id is None:
            tick = self.create_tick(tick)
        self.ticks[tick.tick_id] = tick
        if state is not None:
            self.states[state.origin_id] = state if cursor is None else state.with_cursor(cursor)
        return inserted

    def get_ticks(self, origin_id: str, *, limit=None, statuses=None, before=None, after=None):
        found = [t for t in self.ticks.values() if t.instigator_origin_id == origin_id]
        found = [t for t in found if t.is_finished]
        found.sort(key=lambda t: t.tick_id, reverse=True)
        return found[:limit] if limit else found


class FakeRuns:
    def __init__(self):
        self.runs: dict[str, DagsterRun] = {}

    def add_runs(self, runs):
        inserted = []
        for run in runs:
            key = (run.instigator_id, run.run_key)
            if run.run_key is not None and key in self._keys():
                continue
            self.runs[run.run_id] = run
            inserted.append(run)
        return inserted

    def _keys(self):
        return {(r.instigator_id, r.run_key) for r in self.runs.values() if r.run_key}

    def find_run_ids_for_keys(self, instigator_id, run_keys):
        keys = set(run_keys)
        return {
            r.run_key: r.run_id
            for r in self.runs.values()
            if r.instigator_id == instigator_id and r.run_key in keys
        }


class FakeInstance:
    def __init__(self):
        self.runs = FakeRuns()
        self.ticks = FakeTicks(self.runs)
        self.engine_events: list[tuple[str, str]] = []

    def get_run_by_id(self, run_id):
        return self.runs.runs.get(run_id)

    def get_runs(self, filters: RunsFilter | None = None, limit=None, cursor=None):
        runs = list(reversed(self.runs.runs.values()))
        if filters is not None and filters.statuses:
            runs = [r for r in runs if r.status in filters.statuses]
        for key, value in ((filters and filters.tags) or {}).items():
            runs = [r for r in runs if r.tags.get(key) == value]
        return runs[:limit] if limit else runs

    def add_run_tags(self, run_id, new_tags):
        run = self.runs.runs[run_id].with_tags(new_tags)
        self.runs.runs[run_id] = run
        return run

    def report_run_canceled(self, run, message=None):
        self.runs.runs[run.run_id] = self.runs.runs[run.run_id].with_status(
            DagsterRunStatus.CANCELED
        )

    def report_run_canceling(self, run, message=None):
        self.runs.runs[run.run_id] = self.runs.runs[run.run_id].with_status(
            DagsterRunStatus.CANCELING
        )

    def finish_run(self, run_id, status):
        """What a run worker would record when the run ends."""
        self.runs.runs[run_id] = self.runs.runs[run_id].with_status(status)

    def report_engine_event(self, message, dagster_run, engine_event_data=None, step_key=None):
        self.engine_events.append((dagster_run.run_id, message))

    def handle_new_event(self, entry):
        run = self.runs.runs[entry.run_id]
        self.runs.runs[entry.run_id] = run.with_status(DagsterRunStatus.STARTING)
        return entry

    # helpers for tests
    def sensor_ticks(self, origin_id):
        return list(reversed(self.ticks.get_ticks(origin_id)))

    def run_keys(self):
        return [r.tags.get(RUN_KEY_TAG) for r in self.runs.runs.values()]

    @property
    def all_runs(self):
        return list(self.runs.runs.values())


class RecordingCoordinator:
    def __init__(self, instance: FakeInstance):
        self.instance = instance
        self.submitted: list[str] = []

    def submit(self, runs):
        from tocsin.launchers.base import ImmediateCoordinator

        class _Launcher:
            def launch_run(inner, run):
                self.submitted.append(run.run_id)

        ImmediateCoordinator(self.instance, _Launcher()).submit(runs)


class ScriptedLocation(CodeLocation):
    """A code location whose instigators answer from Python callables."""

    def __init__(self, name: str = "loc"):
        self.name = name
        self.spec = None
        self.infos: list[InstigatorInfo] = []
        self.fns: dict[str, Callable[..., Evaluation]] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.error = None

    def add(self, info: InstigatorInfo, fn: Callable[..., Evaluation]) -> None:
        self.infos.append(info)
        self.fns[info.name] = fn

    def load_error(self):
        return self.error

    def list_instigators(self):
        return list(self.infos)

    def list_jobs(self):
        return ["the_job"]

    def evaluate_sensor(self, name, *, timeout=None, **kwargs):
        self.calls.append((name, kwargs))
        return self.fns[name](**kwargs)

    def evaluate_schedule(self, name, *, scheduled_time, timeout=None, **kwargs):
        self.calls.append((name, {"scheduled_time": scheduled_time}))
        return self.fns[name](scheduled_time=scheduled_time)


class RealInstance:
    """The real ephemeral instance, with the two helpers the tests read."""

    def __init__(self):
        from tocsin.instance.instance import DagsterInstance

        self._instance = DagsterInstance.ephemeral()

    def __getattr__(self, name):
        return getattr(self._instance, name)

    def sensor_ticks(self, origin_id):
        return list(reversed(self._instance.ticks.get_ticks(origin_id)))

    def run_keys(self):
        return [r.tags.get(RUN_KEY_TAG) for r in reversed(self._instance.get_runs())]

    @property
    def all_runs(self):
        return list(reversed(self._instance.get_runs()))

    def finish_run(self, run_id, status):
        """What a run worker would record when the run ends."""
        self._instance.update_run_status(run_id, status)

    @property
    def engine_events(self):
        from tocsin.model.events import DagsterEventType

        return [
            (run.run_id, entry.message)
            for run in self.all_runs
            for entry in self._instance.all_logs(run.run_id, of_type=DagsterEventType.ENGINE_EVENT)
        ]


@pytest.fixture(params=["fake", "sqlite"])
def instance(request):
    if request.param == "fake":
        yield FakeInstance()
        return
    real = RealInstance()
    yield real
    real._instance.dispose()


@pytest.fixture
def location() -> ScriptedLocation:
    return ScriptedLocation()


@pytest.fixture
def coordinator(instance: FakeInstance) -> RecordingCoordinator:
    return RecordingCoordinator(instance)


@pytest.fixture
def make_location() -> Callable[[str], ScriptedLocation]:
    return ScriptedLocation
