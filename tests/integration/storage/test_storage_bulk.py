"""The bulk paths of a sensor tick on both backends: many runs and tags in one prepared
INSERT, a key taken by another writer after the look-up, run status read without run bodies,
and run status changes folded per run."""

from __future__ import annotations

from datetime import UTC, datetime

from tocsin.model.events import DagsterEvent, DagsterEventType, EventLogEntry
from tocsin.model.run import DagsterRun, DagsterRunStatus, RunsFilter
from tocsin.model.tags import INSTIGATOR_TAG, RUN_KEY_TAG
from tocsin.model.ticks import InstigatorType, Tick
from tocsin.storage.base import RunStatusChange

S = DagsterRunStatus


def keyed(key: str, instigator: str = "loc:sensor:s") -> DagsterRun:
    return DagsterRun("job", tags={RUN_KEY_TAG: key, INSTIGATOR_TAG: instigator, "n": key})


def _miss_first_look_up(storage, monkeypatch) -> None:
    """The first key look-up sees nothing, as if another writer added the keys right after."""
    real = storage._existing_keys
    calls = []

    def look_up(conn, idents):
        calls.append(1)
        return {} if len(calls) == 1 else real(conn, idents)

    monkeypatch.setattr(storage, "_existing_keys", look_up)


def test_many_runs_keep_their_tags_and_times(storage):
    runs = [keyed(f"k{i}") for i in range(3000)]
    made = storage.add_runs(runs)
    assert [r.run_id for r in made] == [r.run_id for r in runs]
    found = storage.get_runs(RunsFilter(tags={"n": ["k7", "k2999"]}))
    assert sorted(r.run_key for r in found) == ["k2999", "k7"]
    record = storage.get_run_records(RunsFilter(run_ids=[runs[0].run_id]))[0]
    assert record.create_timestamp.tzinfo is not None
    assert abs((datetime.now(UTC) - record.create_timestamp).total_seconds()) < 3600


def test_a_key_taken_after_the_look_up_is_skipped_not_doubled(storage, monkeypatch):
    holder = storage.add_run(keyed("a"))
    _miss_first_look_up(storage, monkeypatch)
    fresh = keyed("b")
    made = storage.add_runs([keyed("a"), fresh])
    assert [r.run_id for r in made] == [fresh.run_id]
    assert storage.find_run_ids_for_keys("loc:sensor:s", ["a", "b"]) == {
        "a": holder.run_id,
        "b": fresh.run_id,
    }
    assert storage.get_runs_count() == 2


def test_write_tick_names_the_run_holding_a_key_taken_after_the_look_up(storage, monkeypatch):
    holder = storage.add_run(keyed("a"))
    _miss_first_look_up(storage, monkeypatch)
    tick = storage.create_tick(
        Tick("loc:sensor:s", "s", InstigatorType.SENSOR, datetime(2030, 1, 1, tzinfo=UTC))
    )
    fresh = keyed("b")
    made = storage.write_tick(tick, [keyed("a"), fresh])
    assert [r.run_id for r in made] == [fresh.run_id]
    stored = storage.get_tick(tick.tick_id)
    assert stored.run_ids == (fresh.run_id,)
    assert stored.skipped_run_keys == {"a": holder.run_id}


def test_run_statuses_without_bodies(storage):
    a, b = storage.add_run(DagsterRun("ja")), storage.add_run(DagsterRun("jb"))
    storage.update_run_status(b.run_id, S.QUEUED)
    assert storage.get_run_statuses([a.run_id, b.run_id, "missing", a.run_id]) == {
        a.run_id: ("ja", S.NOT_STARTED),
        b.run_id: ("jb", S.QUEUED),
    }
    assert storage.get_run_statuses([]) == {}


def test_changes_to_one_run_apply_in_order_among_other_runs(storage):
    r1, r2 = storage.add_run(DagsterRun("job")), storage.add_run(DagsterRun("job"))
    many = [storage.add_run(DagsterRun("job")) for _ in range(50)]
    entry = EventLogEntry(
        run_id=r1.run_id, dagster_event=DagsterEvent(DagsterEventType.ENGINE_EVENT.value, "job")
    )
    storage.store_events(
        [entry],
        [
            RunStatusChange(r2.run_id, S.CANCELING),
            RunStatusChange(r1.run_id, S.STARTED, start_time=10.0),
            RunStatusChange(r1.run_id, S.CANCELING),
            RunStatusChange(r2.run_id, S.CANCELED, end_time=30.0),
            RunStatusChange(r1.run_id, S.CANCELED, end_time=20.0),
            *(RunStatusChange(r.run_id, S.QUEUED) for r in many),
        ],
    )
    one, two = storage.get_run_by_id(r1.run_id), storage.get_run_by_id(r2.run_id)
    assert one.status == S.CANCELED and two.status == S.CANCELED
    assert one.start_time.timestamp() == 10.0 and one.end_time.timestamp() == 20.0
    assert two.start_time is None and two.end_time.timestamp() == 30.0
    assert {r.status for r in storage.get_runs(RunsFilter(run_ids=[r.run_id for r in many]))} == {
        S.QUEUED
    }


def test_insert_ignore_counts_the_rows_that_went_in(storage):
    """Both backends report how many rows an insert-or-ignore stored (psycopg gives no row
    count for it, so PostgreSQL counts what the statement returns)."""
    from tocsin.storage import schema as t

    rows = [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]
    with storage.engine.begin() as conn:
        assert storage.insert_ignore(conn, t.kvs, rows) == 2
        assert storage.insert_ignore(conn, t.kvs, [{"key": "a", "value": "x"}]) == 0
        more = [{"key": "b", "value": "y"}, {"key": "c", "value": "3"}]
        assert storage.insert_ignore(conn, t.kvs, more) == 1
    assert storage.get_kv(["a", "b", "c"]) == {"a": "1", "b": "2", "c": "3"}
