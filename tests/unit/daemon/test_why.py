from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tocsin.daemon.why import (
    DUPLICATE_RUN_KEY,
    OUTSIDE_CATCHUP_WINDOW,
    NotRun,
    duplicate_keys,
    not_run_of,
    with_not_run,
)
from tocsin.model.ticks import InstigatorType, Tick

T0 = datetime(2024, 1, 1, 12, tzinfo=UTC)


def _tick() -> Tick:
    return Tick("loc:schedule:s", "s", InstigatorType.SCHEDULE, T0)


def test_reasons_round_trip_through_the_tick_dict():
    item = NotRun(OUTSIDE_CATCHUP_WINDOW, "older than 2 h", scheduled_time=T0)
    tick = with_not_run(_tick(), [item])
    again = Tick.from_dict(tick.to_dict())
    assert not_run_of(again) == [item]


def test_items_accumulate_and_nothing_added_leaves_the_tick_alone():
    tick = _tick()
    assert with_not_run(tick, []) is tick
    tick = with_not_run(tick, duplicate_keys({"a": "run-1"}))
    tick = with_not_run(tick, duplicate_keys({"b": "run-2"}))
    assert [(n.reason, n.run_key, n.run_id) for n in not_run_of(tick)] == [
        (DUPLICATE_RUN_KEY, "a", "run-1"),
        (DUPLICATE_RUN_KEY, "b", "run-2"),
    ]


def test_an_unknown_reason_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="duplicate_run_key"):
        NotRun("bored", "no reason")
