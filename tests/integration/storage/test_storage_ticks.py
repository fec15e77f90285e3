from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tocsin.errors import NotFoundError
from tocsin.model.run import DagsterRun
from tocsin.model.tags import INSTIGATOR_TAG, RUN_KEY_TAG
from tocsin.model.ticks import InstigatorState, InstigatorStatus, InstigatorType, Tick, TickStatus
from tocsin.storage.base import DaemonHeartbeat

T0 = datetime(2024, 1, 1, tzinfo=UTC)
ORIGIN = "loc:sensor:watch"


def tick(minutes: int = 0, status: TickStatus = TickStatus.STARTED, origin: str = ORIGIN) -> Tick:
    return Tick(origin, "watch", InstigatorType.SENSOR, T0 + timedelta(minutes=minutes), status)


def keyed(key: str) -> DagsterRun:
    return DagsterRun("job", tags={RUN_KEY_TAG: key, INSTIGATOR_TAG: ORIGIN})


def state(cursor: str | None = None) -> InstigatorState:
    return InstigatorState(ORIGIN, "watch", InstigatorType.SENSOR, InstigatorStatus.RUNNING, cursor)


def test_instigator_state_round_trip(storage):
    assert storage.get_instigator_state(ORIGIN) is None
    storage.add_instigator_state(state("c1"))
    storage.update_instigator_state(state("c2").with_status(InstigatorStatus.STOPPED))
    stored = storage.get_instigator_state(ORIGIN)
    assert stored.cursor == "c2" and not stored.is_running
    schedule = InstigatorState("loc:schedule:s", "s", InstigatorType.SCHEDULE)
    storage.add_instigator_state(schedule)
    assert storage.all_instigator_state(InstigatorType.SCHEDULE) == [schedule]
    assert len(storage.all_instigator_state()) == 2
    storage.delete_instigator_state(ORIGIN)
    assert storage.get_instigator_state(ORIGIN) is None


def test_write_tick_makes_runs_records_skips_and_cursor(storage):
    storage.add_runs([keyed("old")])
    holder = storage.find_run_ids_for_keys(ORIGIN, ["old"])["old"]
    requests = [keyed("new1"), keyed("old"), keyed("new2"), keyed("new1")]
    done = tick(status=TickStatus.SUCCESS)
    made = storage.write_tick(done, requests, cursor="c9", state=state("c0"))
    assert [r.run_id for r in made] == [requests[0].run_id, requests[2].run_id]
    [stored] = storage.get_ticks(ORIGIN)
    assert list(stored.run_ids) == [r.run_id for r in made]
    assert list(stored.run_keys) == ["new1", "new2"]
    assert stored.skipped_run_keys == {"old": holder, "new1": requests[0].run_id}
    saved = storage.get_instigator_state(ORIGIN)
    assert saved.cursor == "c9" and saved.last_tick_status == TickStatus.SUCCESS
    assert saved.last_run_key == "new2"


def test_write_tick_updates_a_started_tick(storage):
    started = storage.create_tick(tick())
    made = storage.write_tick(started.with_status(TickStatus.SUCCESS), [keyed("a")], cursor="x")
    assert len(made) == 1
    [stored] = storage.get_ticks(ORIGIN)
    assert stored.tick_id == started.tick_id and stored.status == TickStatus.SUCCESS
    assert storage.get_instigator_state(ORIGIN).cursor == "x"


@pytest.mark.parametrize("fail_at", ["runs", "tick", "state"])
def test_write_tick_is_atomic(storage, fail_at):
    storage.add_instigator_state(state("before"))

    def fault(point: str) -> None:
        if point == fail_at:
            raise RuntimeError(f"injected at {point}")

    storage.fault = fault
    with pytest.raises(RuntimeError, match="injected"):
        storage.write_tick(
            tick(status=TickStatus.SUCCESS), [keyed("a"), keyed("b")], cursor="after"
        )
    storage.fault = None
    assert storage.get_runs_count() == 0
    assert storage.get_ticks(ORIGIN) == []
    assert storage.get_instigator_state(ORIGIN).cursor == "before"
    assert (
        len(storage.write_tick(tick(status=TickStatus.SUCCESS), [keyed("a")], cursor="after")) == 1
    )


def test_ticks_newest_first_filters_and_purge(storage):
    for minute, status in enumerate([TickStatus.SKIPPED, TickStatus.SUCCESS, TickStatus.FAILURE]):
        storage.create_tick(tick(minute, status))
    storage.create_tick(tick(5, TickStatus.SKIPPED, origin="other"))
    ticks = storage.get_ticks(ORIGIN)
    assert [t.status for t in ticks] == [TickStatus.FAILURE, TickStatus.SUCCESS, TickStatus.SKIPPED]
    assert len(storage.get_ticks(ORIGIN, limit=1)) == 1
    assert [t.status for t in storage.get_ticks(ORIGIN, statuses=[TickStatus.SKIPPED])] == [
        TickStatus.SKIPPED
    ]
    assert len(storage.get_ticks(ORIGIN, before=T0 + timedelta(minutes=1))) == 1
    assert len(storage.get_ticks(ORIGIN, after=T0)) == 2
    assert storage.get_tick(ticks[0].tick_id) == ticks[0]
    purged = storage.purge_ticks(ORIGIN, T0 + timedelta(minutes=2), [TickStatus.SKIPPED])
    assert purged == 1
    assert storage.purge_ticks(None, T0 + timedelta(days=1)) == 3
    with pytest.raises(NotFoundError, match="Tick"):
        storage.get_tick(ticks[0].tick_id)
    with pytest.raises(NotFoundError, match="create_tick"):
        storage.update_tick(tick())


def test_leases(storage):
    minute = timedelta(minutes=1)
    assert storage.claim_lease("sensor:a", "d1", minute, T0)
    assert not storage.claim_lease("sensor:a", "d2", minute, T0 + timedelta(seconds=30))
    assert storage.claim_lease("sensor:a", "d1", minute, T0 + timedelta(seconds=30))  # renew
    assert storage.extend_lease("sensor:a", "d1", minute, T0 + timedelta(seconds=40))
    assert not storage.extend_lease("sensor:a", "d2", minute, T0 + timedelta(seconds=40))
    # Expired: another owner takes it over, and the old owner cannot extend it any more.
    assert storage.claim_lease("sensor:a", "d2", minute, T0 + timedelta(minutes=5))
    assert not storage.extend_lease("sensor:a", "d1", minute, T0 + timedelta(minutes=5))
    [lease] = storage.get_leases()
    assert lease.owner == "d2" and lease.expires_at == T0 + timedelta(minutes=6)
    storage.release_lease("sensor:a", "d1")  # not the holder: nothing happens
    assert len(storage.get_leases()) == 1
    storage.release_lease("sensor:a", "d2")
    assert storage.get_leases() == []
    assert storage.claim_lease("sensor:a", "d1", minute, T0 + timedelta(minutes=6))


def test_heartbeats_and_settings(storage):
    storage.add_daemon_heartbeat(DaemonHeartbeat(T0, "SENSOR", "d1"))
    storage.add_daemon_heartbeat(DaemonHeartbeat(T0 + timedelta(seconds=30), "SENSOR", "d1"))
    storage.add_daemon_heartbeat(DaemonHeartbeat(T0, "SCHEDULER", "d1"))
    beats = storage.get_daemon_heartbeats()
    assert set(beats) == {"SENSOR", "SCHEDULER"}
    assert beats["SENSOR"].timestamp == T0 + timedelta(seconds=30)
    storage.set_kv({"a": "1", "b": "2"})
    storage.set_kv({"a": "3"})
    assert storage.get_kv(["a", "b", "c"]) == {"a": "3", "b": "2"}


def test_write_tick_can_insert_its_runs_queued_with_their_enqueued_events(storage):
    """The queued coordinator's submission, done in the tick's own transaction."""
    from tocsin.model.events import DagsterEventType, EventRecordsFilter
    from tocsin.model.run import DagsterRunStatus

    storage.write_tick(tick(0, TickStatus.SUCCESS), [keyed("a")], None, state())
    again, fresh, unkeyed = keyed("a"), keyed("b"), DagsterRun(job_name="j")
    left = DagsterRun(job_name="j", tags={INSTIGATOR_TAG: ORIGIN, RUN_KEY_TAG: "c"})
    made = storage.write_tick(
        tick(1, TickStatus.SUCCESS),
        [again, fresh, unkeyed, left],
        None,
        state(),
        enqueue=[again.run_id, fresh.run_id, unkeyed.run_id],
    )
    assert [r.run_id for r in made] == [fresh.run_id, unkeyed.run_id, left.run_id]
    statuses = {r.run_id: storage.get_run_by_id(r.run_id).status for r in made}
    assert statuses == {
        fresh.run_id: DagsterRunStatus.QUEUED,
        unkeyed.run_id: DagsterRunStatus.QUEUED,
        left.run_id: DagsterRunStatus.NOT_STARTED,
    }
    enqueued = storage.get_event_records(EventRecordsFilter(DagsterEventType.RUN_ENQUEUED))
    assert sorted(r.run_id for r in enqueued) == sorted([fresh.run_id, unkeyed.run_id])
