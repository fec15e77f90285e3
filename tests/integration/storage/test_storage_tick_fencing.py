"""A tick commits only while its daemon still holds the tick's claim (``write_tick(lease=)``)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from tocsin.errors import TickClaimLostError
from tocsin.model.run import DagsterRun
from tocsin.model.tags import INSTIGATOR_TAG, RUN_KEY_TAG
from tocsin.model.ticks import InstigatorState, InstigatorStatus, InstigatorType, Tick, TickStatus
from tocsin.storage.base import LeaseFence
from tocsin.storage.postgres import postgres_engine
from tocsin.storage.sql import SqlStorage
from tocsin.storage.sqlite import sqlite_engine

T0 = datetime(2030, 1, 1, 12, tzinfo=UTC)
LEASE = timedelta(seconds=15)
ORIGIN = "loc:sensor:watch"
NAME = f"tick/{ORIGIN}"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _tick() -> Tick:
    return Tick(ORIGIN, "watch", InstigatorType.SENSOR, T0, TickStatus.SUCCESS)


def _runs() -> list[DagsterRun]:
    keyed = DagsterRun("job", tags={RUN_KEY_TAG: "k1", INSTIGATOR_TAG: ORIGIN})
    return [keyed, DagsterRun("job", tags={INSTIGATOR_TAG: ORIGIN})]


def _state(storage: SqlStorage) -> InstigatorState:
    return storage.add_instigator_state(
        InstigatorState(ORIGIN, "watch", InstigatorType.SENSOR, InstigatorStatus.RUNNING, "c0")
    )


def _nothing_written(storage: SqlStorage) -> None:
    assert storage.get_ticks(ORIGIN) == []
    assert storage.get_runs() == []
    assert storage.get_instigator_state(ORIGIN).cursor == "c0"


def test_a_tick_whose_claim_is_held_commits(storage):
    state = _state(storage)
    assert storage.claim_lease(NAME, "a", LEASE, at(0))
    made = storage.write_tick(_tick(), _runs(), "c1", state, lease=LeaseFence(NAME, "a", at(10)))
    assert len(made) == 2
    assert [t.run_ids for t in storage.get_ticks(ORIGIN)] == [tuple(r.run_id for r in made)]
    assert storage.get_instigator_state(ORIGIN).cursor == "c1"


def test_a_tick_whose_claim_was_taken_over_writes_nothing(storage):
    state = _state(storage)
    assert storage.claim_lease(NAME, "a", LEASE, at(0))
    # a stalls past its lease; b takes the claim over before a commits.
    assert storage.claim_lease(NAME, "b", LEASE, at(16))
    with pytest.raises(TickClaimLostError) as caught:
        storage.write_tick(_tick(), _runs(), "c1", state, lease=LeaseFence(NAME, "a", at(17)))
    assert (caught.value.lease, caught.value.owner, caught.value.holder) == (NAME, "a", "b")
    assert "it is held by daemon b" in str(caught.value)
    _nothing_written(storage)
    assert [(x.name, x.owner) for x in storage.get_leases()] == [(NAME, "b")]


def test_an_expired_or_released_claim_writes_nothing(storage):
    state = _state(storage)
    assert storage.claim_lease(NAME, "a", LEASE, at(0))
    with pytest.raises(TickClaimLostError) as caught:
        storage.write_tick(_tick(), _runs(), "c1", state, lease=LeaseFence(NAME, "a", at(15)))
    assert caught.value.holder is None and "it expired" in str(caught.value)
    storage.release_lease(NAME, "a")
    with pytest.raises(TickClaimLostError):
        storage.write_tick(_tick(), _runs(), "c1", state, lease=LeaseFence(NAME, "a", at(1)))
    _nothing_written(storage)


def test_a_stored_tick_is_left_as_it_was_when_the_claim_is_lost(storage):
    state = _state(storage)
    started = storage.create_tick(Tick(ORIGIN, "watch", InstigatorType.SENSOR, T0))
    assert storage.claim_lease(NAME, "b", LEASE, at(0))
    finished = started.with_status(TickStatus.SUCCESS, cursor="c1")
    with pytest.raises(TickClaimLostError):
        storage.write_tick(finished, _runs(), "c1", state, lease=LeaseFence(NAME, "a", at(1)))
    (tick,) = storage.get_ticks(ORIGIN)
    assert tick.status == TickStatus.STARTED and tick.run_ids == ()
    assert storage.get_runs() == []


def _second_storage(storage: SqlStorage) -> SqlStorage:
    url = storage.engine.url
    if storage.dialect == "sqlite":
        return SqlStorage(sqlite_engine(url.database))
    return SqlStorage(postgres_engine(url.render_as_string(hide_password=False)))


def test_the_claim_cannot_be_taken_over_while_the_tick_commits(storage):
    """The lease is checked and held in the tick's transaction: a daemon claiming it at that
    moment gets it only after the tick committed."""
    state = _state(storage)
    other = _second_storage(storage)
    assert storage.claim_lease(NAME, "a", LEASE, at(0))
    in_transaction, go_on = threading.Event(), threading.Event()

    def pause_after_runs(point: str) -> None:
        if point == "runs":
            in_transaction.set()
            assert go_on.wait(60)

    storage.fault = pause_after_runs
    claimed: list[bool] = []
    writer = threading.Thread(
        target=storage.write_tick,
        args=(_tick(), _runs(), "c1", state),
        kwargs={"lease": LeaseFence(NAME, "a", at(14))},
    )
    claimer = threading.Thread(
        target=lambda: claimed.append(other.claim_lease(NAME, "b", LEASE, at(16)))
    )
    try:
        writer.start()
        assert in_transaction.wait(60)
        claimer.start()
        claimer.join(1.0)
        assert claimed == []  # b waits for a's transaction
    finally:
        go_on.set()
        writer.join(60)
        claimer.join(60)
        other.dispose()
    assert claimed == [True]
    assert storage.get_instigator_state(ORIGIN).cursor == "c1"
    assert len(storage.get_runs()) == 2
    assert [(x.name, x.owner) for x in storage.get_leases()] == [(NAME, "b")]
