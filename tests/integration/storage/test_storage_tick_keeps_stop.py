"""A tick written with the state the daemon read before evaluating never undoes a stop made in
the meantime (the web UI's toggle, the CLI); the tick's cursor is still written."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from tocsin.model.ticks import InstigatorState, InstigatorStatus, InstigatorType, Tick, TickStatus

T0 = datetime(2024, 1, 1, 12, tzinfo=UTC)
ORIGIN = "loc:sensor:watch"


def _tick() -> Tick:
    return Tick(ORIGIN, "watch", InstigatorType.SENSOR, T0, TickStatus.SKIPPED)


def test_a_stop_made_during_the_evaluation_survives_the_tick(storage):
    read = storage.add_instigator_state(
        InstigatorState(ORIGIN, "watch", InstigatorType.SENSOR, InstigatorStatus.RUNNING, "c0")
    )
    stopped = replace(read, status=InstigatorStatus.STOPPED, extra={"status_changed_at": 5.0})
    storage.add_instigator_state(stopped)
    storage.write_tick(_tick(), (), "c1", replace(read, cursor="c1", extra={"failures": 0}))
    state = storage.get_instigator_state(ORIGIN)
    assert state.status == InstigatorStatus.STOPPED
    assert state.cursor == "c1" and state.last_tick_status == TickStatus.SKIPPED
    assert state.extra == {"failures": 0, "status_changed_at": 5.0}


def test_a_tick_still_stops_or_keeps_running_what_it_says(storage):
    read = storage.add_instigator_state(
        InstigatorState(ORIGIN, "watch", InstigatorType.SENSOR, InstigatorStatus.RUNNING)
    )
    storage.write_tick(_tick(), (), "c1", read)
    assert storage.get_instigator_state(ORIGIN).status == InstigatorStatus.RUNNING
    # The daemon pausing a sensor (after failures) is a stop the tick itself makes.
    storage.write_tick(_tick(), (), "c2", replace(read, status=InstigatorStatus.STOPPED))
    assert storage.get_instigator_state(ORIGIN).status == InstigatorStatus.STOPPED
    # A first tick with no stored state writes the state it was given.
    other = InstigatorState("loc:sensor:new", "new", InstigatorType.SENSOR)
    declared = replace(other, status=InstigatorStatus.DECLARED_IN_CODE)
    storage.write_tick(replace(_tick(), instigator_origin_id="loc:sensor:new"), (), None, declared)
    assert (
        storage.get_instigator_state("loc:sensor:new").status == InstigatorStatus.DECLARED_IN_CODE
    )
