"""Tick retention and per-loop heartbeats, on the real SQLite instance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tocsin.daemon.retention import RetentionLoop, retention_settings
from tocsin.daemon.runner import DaemonRunner
from tocsin.errors import ConfigError
from tocsin.instance.instance import DagsterInstance
from tocsin.model.ticks import InstigatorState, InstigatorStatus, InstigatorType, Tick, TickStatus

T0 = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def real():
    instance = DagsterInstance.ephemeral()
    yield instance
    instance.dispose()


def add_ticks(instance, origin, kind, ages_and_statuses):
    instance.ticks.add_instigator_state(
        InstigatorState(origin, origin.split(":")[-1], kind, InstigatorStatus.RUNNING)
    )
    for days, status in ages_and_statuses:
        tick = Tick(
            instigator_origin_id=origin,
            instigator_name=origin.split(":")[-1],
            instigator_type=kind,
            timestamp=T0 - timedelta(days=days),
        )
        instance.ticks.create_tick(tick.with_status(status))


def statuses_left(instance, origin):
    return sorted(
        (round((T0 - t.timestamp).total_seconds() / 86400), t.status.value)
        for t in instance.ticks.get_ticks(origin)
    )


def test_by_default_skipped_ticks_go_after_7_days_and_others_stay(real):
    origin = "loc:sensor:s"
    add_ticks(
        real,
        origin,
        InstigatorType.SENSOR,
        [(8, TickStatus.SKIPPED), (6, TickStatus.SKIPPED), (400, TickStatus.SUCCESS)],
    )
    report = RetentionLoop(real).tick(T0)
    assert report.purged["sensor:skipped"] == 1
    assert statuses_left(real, origin) == [(6, "SKIPPED"), (400, "SUCCESS")]


def test_ages_per_kind_and_status_come_from_tocsin_yaml(real):
    settings = retention_settings(
        {
            "sensor": {"purge_after_days": {"skipped": 1, "failure": 30, "success": -1}},
            "schedule": {"purge_after_days": 90},
        }
    )
    add_ticks(
        real,
        "loc:sensor:s",
        InstigatorType.SENSOR,
        [
            (2, TickStatus.SKIPPED),
            (31, TickStatus.FAILURE),
            (29, TickStatus.FAILURE),
            (999, TickStatus.SUCCESS),
        ],
    )
    add_ticks(
        real,
        "loc:schedule:daily",
        InstigatorType.SCHEDULE,
        [(91, TickStatus.SUCCESS), (91, TickStatus.SKIPPED), (89, TickStatus.FAILURE)],
    )
    RetentionLoop(real, settings).tick(T0)
    assert statuses_left(real, "loc:sensor:s") == [(29, "FAILURE"), (999, "SUCCESS")]
    assert statuses_left(real, "loc:schedule:daily") == [(89, "FAILURE")]


def test_retention_runs_at_most_once_per_interval(real):
    loop = RetentionLoop(real)
    loop.tick(T0)
    add_ticks(real, "loc:sensor:s", InstigatorType.SENSOR, [(10, TickStatus.SKIPPED)])
    assert loop.tick(T0 + timedelta(minutes=59)).purged == {}
    assert loop.tick(T0 + timedelta(hours=1)).purged["sensor:skipped"] == 1


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"sensors": {}}, "unknown keys ['sensors']; use 'sensor' and 'schedule'"),
        ({"sensor": {"purge_after": 3}}, "must be a mapping with 'purge_after_days'"),
        ({"sensor": {"purge_after_days": {"skiped": 3}}}, "unknown tick statuses ['skiped']"),
        ({"schedule": {"purge_after_days": "a week"}}, "must be a number of days"),
    ],
)
def test_bad_retention_settings_say_what_is_wrong(raw, message):
    with pytest.raises(ConfigError) as info:
        retention_settings(raw)
    assert message in str(info.value)


def test_every_loop_writes_a_heartbeat_readable_through_the_instance(real):
    class Boom:
        def tick(self, now):
            raise RuntimeError("pass failed")

    runner = DaemonRunner(
        real, {"RETENTION": RetentionLoop(real), "BROKEN": Boom()}, clock=lambda: T0
    )
    runner.run_once()
    beats = real.get_daemon_heartbeats()
    assert set(beats) == {"RETENTION", "BROKEN"}
    assert beats["RETENTION"].timestamp == T0
    assert beats["RETENTION"].errors == ()
    assert "pass failed" in str(beats["BROKEN"].errors[0])
