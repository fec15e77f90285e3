"""The queued run coordinator and the run queue loop, on the real SQLite instance."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from tocsin.daemon.run_queue import (
    QueuedCoordinator,
    QueueSettings,
    RunQueueLoop,
    claim_run,
    launch_order,
    parse_tag_limits,
    queue_settings,
)
from tocsin.errors import ConfigError
from tocsin.instance.components import QueuedRunCoordinator
from tocsin.instance.instance import DagsterInstance
from tocsin.launchers.base import RunLauncher
from tocsin.model.events import DagsterEventType
from tocsin.model.run import DagsterRun, DagsterRunStatus, RunsFilter
from tocsin.model.tags import PRIORITY_TAG

T0 = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def real():
    instance = DagsterInstance.ephemeral()
    yield instance
    instance.dispose()


class CheckingLauncher(RunLauncher):
    """Marks each run STARTED and records the concurrency seen at every launch."""

    def __init__(self, instance, settings: QueueSettings):
        self.instance = instance
        self.settings = settings
        self.launched: list[str] = []
        self.peak = 0
        self.tag_peaks: Counter = Counter()
        self.active: dict[str, DagsterRun] = {}

    def launch_run(self, run):
        self.instance.update_run_status(run.run_id, DagsterRunStatus.STARTED)
        self.launched.append(run.run_id)
        self.active[run.run_id] = run
        active = list(self.active.values())
        self.peak = max(self.peak, len(active))
        most = self.settings.max_concurrent_runs
        assert most == -1 or len(active) <= most
        for limit in self.settings.tag_limits:
            counts = Counter(limit.bucket(r.tags) for r in active)
            counts.pop(None, None)
            for bucket, n in counts.items():
                assert n <= limit.limit, (limit, bucket, n)
                self.tag_peaks[bucket] = max(self.tag_peaks[bucket], n)

    def terminate(self, run_id):
        return False


def queued(instance, count, tags_for):
    runs = [
        DagsterRun(job_name="the_job", status=DagsterRunStatus.QUEUED, tags=tags_for(i))
        for i in range(count)
    ]
    instance.add_runs(runs)
    return runs


def drain(loop, launcher, rng, *, total, finish_fraction=0.6, max_passes=2000):
    """Pass after pass, finishing some of the started runs in between, until all launched."""
    now = T0
    for _ in range(max_passes):
        loop.tick(now)
        now += timedelta(seconds=10)
        for run_id in list(launcher.active):
            if rng.random() < finish_fraction:
                launcher.instance.update_run_status(run_id, DagsterRunStatus.SUCCESS)
                del launcher.active[run_id]
        if len(launcher.launched) == total:
            return
    raise AssertionError("the queue did not drain")


def test_500_queued_runs_never_exceed_max_concurrent_or_tag_limits(real):
    rng = random.Random(7)
    limits = parse_tag_limits(
        [
            {"key": "db", "limit": 3},
            {"key": "team", "value": "red", "limit": 2},
            {"key": "region", "value": {"applyLimitPerUniqueValue": True}, "limit": 1},
        ]
    )
    settings = QueueSettings(max_concurrent_runs=6, tag_limits=limits, dequeue_interval=timedelta())

    def tags(i):
        out = {PRIORITY_TAG: str(rng.randint(-2, 2))}
        if rng.random() < 0.4:
            out["db"] = "x"
        out["team"] = rng.choice(["red", "blue"])
        if rng.random() < 0.5:
            out["region"] = rng.choice(["eu", "us", "ap"])
        return out

    runs = queued(real, 500, tags)
    launcher = CheckingLauncher(real, settings)
    drain(RunQueueLoop(real, launcher, settings), launcher, rng, total=500)
    assert sorted(launcher.launched) == sorted(r.run_id for r in runs)
    assert launcher.peak == 6
    assert launcher.tag_peaks[("db", None)] == 3
    assert launcher.tag_peaks[("team", "red")] == 2
    assert launcher.tag_peaks[("region", "eu")] == 1


def test_without_tag_limits_runs_launch_by_priority_then_age(real):
    rng = random.Random(3)
    settings = QueueSettings(max_concurrent_runs=10, dequeue_interval=timedelta())
    runs = queued(real, 500, lambda i: {PRIORITY_TAG: str(rng.randint(-3, 3))})
    launcher = CheckingLauncher(real, settings)
    loop = RunQueueLoop(real, launcher, settings)
    drain(loop, launcher, rng, total=500, finish_fraction=0.8)
    expected = sorted(range(500), key=lambda i: (-int(runs[i].tags[PRIORITY_TAG]), i))
    assert launcher.launched == [runs[i].run_id for i in expected]
    assert launcher.peak == 10


def test_a_run_held_back_by_a_tag_limit_does_not_hold_back_others(real):
    settings = QueueSettings(tag_limits=parse_tag_limits([{"key": "db", "limit": 1}]))
    a, b, c = queued(real, 3, lambda i: {"db": "x"} if i < 2 else {})
    launcher = CheckingLauncher(real, settings)
    report = RunQueueLoop(real, launcher, settings).tick(T0)
    assert launcher.launched == [a.run_id, c.run_id]
    assert report.held_back == [b.run_id]
    assert real.get_run_by_id(b.run_id).status == DagsterRunStatus.QUEUED


def test_launched_runs_record_run_starting(real):
    (run,) = queued(real, 1, lambda i: {})
    launcher = CheckingLauncher(real, QueueSettings())
    RunQueueLoop(real, launcher, QueueSettings()).tick(T0)
    kinds = [e.dagster_event.event_type_value for e in real.all_logs(run.run_id)]
    assert kinds == [DagsterEventType.RUN_STARTING.value]


def test_dequeue_interval_spaces_passes(real):
    settings = QueueSettings(max_concurrent_runs=1, dequeue_interval=timedelta(seconds=5))
    queued(real, 3, lambda i: {})
    launcher = CheckingLauncher(real, settings)
    loop = RunQueueLoop(real, launcher, settings)
    loop.tick(T0)
    for run in real.get_runs(RunsFilter(statuses=[DagsterRunStatus.STARTED])):
        real.update_run_status(run.run_id, DagsterRunStatus.SUCCESS)
        launcher.active.clear()
    assert loop.tick(T0 + timedelta(seconds=4)).skipped_reason is not None
    assert len(launcher.launched) == 1
    loop.tick(T0 + timedelta(seconds=5))
    assert len(launcher.launched) == 2


def test_two_loops_never_launch_the_same_run(real):
    settings = QueueSettings(dequeue_interval=timedelta())
    runs = queued(real, 20, lambda i: {})
    first = CheckingLauncher(real, settings)
    second = CheckingLauncher(real, settings)
    # The second loop claims the runs while the first one's pass is under way.
    other = RunQueueLoop(real, second, settings, owner="b")
    original = first.launch_run

    def launch_and_interleave(run):
        original(run)
        if len(first.launched) == 5:
            real.leases.release_lease("run_queue", "a")  # as if a's lease had expired
            other.tick(T0)

    first.launch_run = launch_and_interleave
    RunQueueLoop(real, first, settings, owner="a").tick(T0)
    both = first.launched + second.launched
    assert sorted(both) == sorted(r.run_id for r in runs)
    assert len(set(both)) == len(both)


def test_a_held_queue_lease_makes_the_pass_wait(real):
    queued(real, 2, lambda i: {})
    real.leases.claim_lease("run_queue", "other", timedelta(seconds=60), T0)
    launcher = CheckingLauncher(real, QueueSettings())
    report = RunQueueLoop(real, launcher, QueueSettings(), owner="me").tick(T0)
    assert report.skipped_reason == "another daemon holds the run queue"
    assert launcher.launched == []


def test_claim_run_is_won_once(real):
    (run,) = queued(real, 1, lambda i: {})
    assert claim_run(real, run.run_id) is True
    assert claim_run(real, run.run_id) is False
    assert real.get_run_by_id(run.run_id).status == DagsterRunStatus.STARTING


def test_queued_coordinator_enqueues_only_not_started_runs(real):
    fresh = real.create_run(job_name="the_job")
    done = real.create_run(job_name="the_job", status=DagsterRunStatus.SUCCESS)
    assert QueuedCoordinator(real).submit([fresh, done]) == [fresh.run_id]
    assert real.get_run_by_id(fresh.run_id).status == DagsterRunStatus.QUEUED
    kinds = [e.dagster_event.event_type_value for e in real.all_logs(fresh.run_id)]
    assert kinds == [DagsterEventType.RUN_ENQUEUED.value]
    assert QueuedCoordinator(real).submit([fresh]) == []


def test_priority_tag_that_is_not_a_number_counts_as_zero():
    runs = [
        DagsterRun(job_name="j", tags={PRIORITY_TAG: "high"}),
        DagsterRun(job_name="j", tags={PRIORITY_TAG: "1"}),
        DagsterRun(job_name="j"),
    ]
    assert launch_order(runs) == [runs[1], runs[0], runs[2]]


def test_settings_come_from_the_queued_run_coordinator():
    coordinator = QueuedRunCoordinator(
        max_concurrent_runs=3,
        tag_concurrency_limits=[{"key": "k", "value": "v", "limit": 1}],
        dequeue_interval_seconds=2,
    )
    settings = queue_settings(coordinator)
    assert settings.max_concurrent_runs == 3
    assert settings.tag_limits[0].value == "v"
    assert settings.dequeue_interval == timedelta(seconds=2)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("nope", "must be a list"),
        ([{"key": "k"}], "must be a mapping with 'key' and 'limit'"),
        ([{"key": "k", "limit": 1, "vlaue": "x"}], "unknown keys ['vlaue']"),
        ([{"key": "", "limit": 1}], "key must be a non-empty tag name"),
        ([{"key": "k", "limit": -1}], "limit must be a whole number >= 0, got -1"),
        ([{"key": "k", "limit": "2"}], "limit must be a whole number >= 0, got '2'"),
        ([{"key": "k", "limit": 1, "value": {"per": True}}], "applyLimitPerUniqueValue"),
        ([{"key": "k", "limit": 1, "value": 3}], "must be a string tag value"),
    ],
)
def test_bad_tag_limits_say_what_is_wrong(raw, message):
    with pytest.raises(ConfigError, match=None) as info:
        parse_tag_limits(raw)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("max_concurrent_runs", "ten", "max_concurrent_runs must be a whole number"),
        ("max_concurrent_runs", -5, "got -5"),
        ("dequeue_interval_seconds", "soon", "dequeue_interval_seconds must be a number"),
    ],
)
def test_bad_queue_settings_say_what_is_wrong(field, value, message):
    coordinator = QueuedRunCoordinator()
    setattr(coordinator, field, value)
    with pytest.raises(ConfigError) as info:
        queue_settings(coordinator)
    assert message in str(info.value)


def test_a_held_run_records_the_limit_that_holds_it(real):
    from tocsin.daemon.run_queue import HELD_BY_TAG, hold_reason

    settings = QueueSettings(
        max_concurrent_runs=2, tag_limits=parse_tag_limits([{"key": "db", "limit": 1}])
    )
    a, b, c, d = queued(real, 4, lambda i: {"db": "x"} if i < 2 else {})
    launcher = CheckingLauncher(real, settings)
    RunQueueLoop(real, launcher, settings).tick(T0)
    assert launcher.launched == [a.run_id, c.run_id]
    tags = {r.run_id: real.get_run_by_id(r.run_id).tags.get(HELD_BY_TAG) for r in (b, d)}
    assert tags == {
        b.run_id: "tag_concurrency_limits: 1 of 1 runs with db=x in progress",
        d.run_id: "max_concurrent_runs: 2 of 2 runs in progress",
    }
    wide = QueueSettings(tag_limits=settings.tag_limits)
    in_progress = real.get_runs(RunsFilter(statuses=[DagsterRunStatus.STARTED]))
    held = real.get_run_by_id(b.run_id)
    assert hold_reason(held, in_progress, wide) == (
        "tag_concurrency_limits: 1 of 1 runs with db=x in progress"
    )
    assert hold_reason(real.get_run_by_id(d.run_id), in_progress, wide) is None
