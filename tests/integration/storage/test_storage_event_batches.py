"""The batch write of the event log: one transaction, ids in order, asset indexes and run
status moved as if the entries had been stored one by one (both backends)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tocsin.model.asset_key import AssetKey
from tocsin.model.events import (
    AssetMaterialization,
    AssetObservation,
    AssetObservationData,
    DagsterEvent,
    DagsterEventType,
    EventLogEntry,
    EventRecordsFilter,
    StepMaterializationData,
)
from tocsin.model.run import DagsterRun, DagsterRunStatus
from tocsin.storage.base import RunStatusChange

T = DagsterEventType


def _entry(kind: DagsterEventType, run_id: str = "r1", data: object = None, ts: float = 1.0):
    return EventLogEntry(
        run_id=run_id,
        timestamp=ts,
        dagster_event=DagsterEvent(kind.value, "job", event_specific_data=data),
    )


def _mat(key: str, partition: str | None = None, n: int = 0, run_id: str = "r1"):
    data = StepMaterializationData(
        AssetMaterialization(key, partition=partition, metadata={"n": n})
    )
    return _entry(T.ASSET_MATERIALIZATION, run_id, data, float(n))


def test_a_batch_keeps_its_order_and_every_storage_id(storage):
    before = storage.store_event(EventLogEntry(run_id="r1", user_message="before"))
    # More rows than one page of the multi-row INSERT, so pages must line up too.
    entries = [EventLogEntry(run_id="r1", user_message=f"m{i}") for i in range(2500)]
    stored = storage.store_events(entries)
    ids = [e.storage_id for e in stored]
    assert ids == sorted(ids) and len(set(ids)) == 2500 and ids[0] > before.storage_id
    assert [e.user_message for e in stored] == [e.user_message for e in entries]
    logs = storage.get_logs_for_run("r1", after=before.storage_id)
    assert [(e.storage_id, e.user_message) for e in logs] == [
        (e.storage_id, e.user_message) for e in stored
    ]
    assert storage.store_events([]) == []


def test_a_batch_is_one_transaction(storage):
    good = EventLogEntry(run_id="r1", user_message="good")
    bad = EventLogEntry(run_id=None, user_message="no run id")  # type: ignore[arg-type]
    with pytest.raises(sa.exc.IntegrityError):
        storage.store_events([good, bad])
    assert storage.get_logs_for_run("r1") == []
    assert storage.get_max_storage_id() == 0


def test_two_materializations_of_one_asset_in_a_batch_index_the_later(storage):
    stored = storage.store_events(
        [
            _mat("a", "p1", 1),
            _mat("b", None, 2),
            _mat("a", "p1", 3),
            _mat("a", "p2", 4),
            _entry(T.ASSET_OBSERVATION, data=AssetObservationData(AssetObservation("b"))),
            _mat("a", "p1", 5, run_id="r2"),
        ]
    )
    a = AssetKey("a")
    latest = storage.get_latest_materialization_event(a)
    assert latest.storage_id == stored[5].storage_id and latest.run_id == "r2"
    p1 = storage.get_latest_materialization_event(a, partition="p1")
    assert p1.storage_id == stored[5].storage_id
    assert p1.asset_materialization.metadata["n"].value == 5
    assert storage.get_latest_materialization_ids(a) == {
        "p1": stored[5].storage_id,
        "p2": stored[3].storage_id,
    }
    assert storage.get_latest_materialization_event(AssetKey("b")).storage_id == (
        stored[1].storage_id
    )
    assert storage.get_asset_keys() == [a, AssetKey("b")]
    records = storage.get_event_records(EventRecordsFilter(T.ASSET_MATERIALIZATION, asset_key=a))
    assert [r.storage_id for r in records] == [stored[i].storage_id for i in (5, 3, 2, 0)]
    # A later batch moves the index on from the earlier one.
    newer = storage.store_events([_mat("a", "p2", 6)])
    assert storage.get_latest_materialization_event(a).storage_id == newer[0].storage_id
    assert storage.get_latest_materialization_ids(a)["p2"] == newer[0].storage_id


def test_run_changes_apply_in_the_same_transaction(storage):
    run = storage.add_run(DagsterRun(job_name="job"))
    start, success = _entry(T.RUN_START, run.run_id, ts=10.0), _entry(T.RUN_SUCCESS, run.run_id)
    stored = storage.store_events(
        [start, _entry(T.STEP_START, run.run_id), success],
        [
            RunStatusChange(run.run_id, DagsterRunStatus.STARTED, start_time=10.0),
            RunStatusChange(run.run_id, DagsterRunStatus.SUCCESS, end_time=20.0),
        ],
    )
    assert len(stored) == 3
    done = storage.get_run_by_id(run.run_id)
    assert done.status == DagsterRunStatus.SUCCESS
    assert done.start_time.timestamp() == 10.0 and done.end_time.timestamp() == 20.0


def test_a_run_change_for_an_unknown_run_is_skipped_and_the_events_stay(storage):
    stored = storage.store_events(
        [_entry(T.RUN_START, "ghost")],
        [RunStatusChange("ghost", DagsterRunStatus.STARTED, start_time=1.0)],
    )
    assert storage.get_run_by_id("ghost") is None
    assert [e.storage_id for e in storage.get_logs_for_run("ghost")] == [stored[0].storage_id]


def test_a_failed_run_change_rolls_back_the_events(storage):
    run = storage.add_run(DagsterRun(job_name="job"))
    bad = RunStatusChange(run.run_id, "not a status")  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        storage.store_events([_entry(T.RUN_START, run.run_id)], [bad])
    assert storage.get_logs_for_run(run.run_id) == []
    assert storage.get_run_by_id(run.run_id).status == DagsterRunStatus.NOT_STARTED
