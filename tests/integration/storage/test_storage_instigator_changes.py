"""Targeted instigator state changes (web UI, CLI) leave what a daemon wrote meanwhile."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from tocsin.errors import NotFoundError
from tocsin.model.ticks import InstigatorState, InstigatorStatus, InstigatorType, Tick, TickStatus

T0 = datetime(2024, 1, 1, 12, tzinfo=UTC)
ORIGIN = "loc:sensor:watch"
DEFAULT = InstigatorState(ORIGIN, "watch", InstigatorType.SENSOR, InstigatorStatus.DECLARED_IN_CODE)


def test_a_status_change_keeps_the_cursor_a_tick_wrote_after_the_state_was_read(storage):
    read = storage.add_instigator_state(
        replace(DEFAULT, status=InstigatorStatus.RUNNING, cursor="c0", extra={"failures": 1})
    )
    tick = Tick(ORIGIN, "watch", InstigatorType.SENSOR, T0, TickStatus.SUCCESS)
    storage.write_tick(tick, (), "c1", read)  # the daemon, after the web page read ``read``
    stopped = storage.set_instigator_status(
        ORIGIN, InstigatorStatus.STOPPED, {"status_changed_at": 5.0}, default=DEFAULT
    )
    stored = storage.get_instigator_state(ORIGIN)
    assert stored == stopped
    assert (stored.status, stored.cursor, stored.last_tick_timestamp) == (
        InstigatorStatus.STOPPED,
        "c1",
        T0,
    )
    assert stored.extra == {"failures": 1, "status_changed_at": 5.0}


def test_a_cursor_change_keeps_the_status_and_extra(storage):
    storage.add_instigator_state(
        replace(DEFAULT, status=InstigatorStatus.STOPPED, cursor="c0", extra={"a": 1})
    )
    storage.set_instigator_cursor(ORIGIN, "c9")
    stored = storage.get_instigator_state(ORIGIN)
    assert (stored.status, stored.cursor, stored.extra) == (
        InstigatorStatus.STOPPED,
        "c9",
        {"a": 1},
    )
    storage.set_instigator_cursor(ORIGIN, None)
    assert storage.get_instigator_state(ORIGIN).cursor is None


def test_a_missing_state_is_created_from_the_default(storage):
    made = storage.set_instigator_status(
        ORIGIN, InstigatorStatus.RUNNING, {"started_at": 1.0}, default=DEFAULT
    )
    assert storage.get_instigator_state(ORIGIN) == made
    assert (made.status, made.extra) == (InstigatorStatus.RUNNING, {"started_at": 1.0})
    other = replace(DEFAULT, origin_id="loc:sensor:other", name="other")
    storage.set_instigator_cursor("loc:sensor:other", "c1", default=other)
    stored = storage.get_instigator_state("loc:sensor:other")
    assert (stored.name, stored.cursor, stored.status) == (
        "other",
        "c1",
        InstigatorStatus.DECLARED_IN_CODE,
    )


def test_a_missing_state_without_a_default_is_a_clear_error(storage):
    with pytest.raises(NotFoundError, match="No stored state for instigator 'loc:sensor:watch'"):
        storage.set_instigator_status(ORIGIN, InstigatorStatus.RUNNING)
    with pytest.raises(NotFoundError, match="pass default="):
        storage.set_instigator_cursor(ORIGIN, "c1")
    assert storage.all_instigator_state() == []


def test_no_status_changes_only_the_extra_keys(storage):
    """The schedule loop records its start time this way: a stop made meanwhile stays."""
    storage.add_instigator_state(replace(DEFAULT, status=InstigatorStatus.RUNNING))
    storage.set_instigator_status(ORIGIN, InstigatorStatus.STOPPED)  # the user, meanwhile
    kept = storage.set_instigator_status(ORIGIN, None, {"started_at": 2.0}, default=DEFAULT)
    assert (kept.status, kept.extra) == (InstigatorStatus.STOPPED, {"started_at": 2.0})
    fresh = replace(DEFAULT, origin_id="loc:sensor:new", name="new")
    made = storage.set_instigator_status("loc:sensor:new", None, {"started_at": 3.0}, default=fresh)
    assert made.status == InstigatorStatus.DECLARED_IN_CODE
