from __future__ import annotations

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

T = DagsterEventType


def entry(kind: DagsterEventType, run_id: str = "r1", data: object = None, ts: float = 1.0):
    return EventLogEntry(
        run_id=run_id,
        timestamp=ts,
        dagster_event=DagsterEvent(kind.value, "job", event_specific_data=data),
    )


def mat(key: str, partition: str | None = None, run_id: str = "r1", ts: float = 1.0):
    data = StepMaterializationData(
        AssetMaterialization(key, partition=partition, metadata={"n": 1})
    )
    return entry(T.ASSET_MATERIALIZATION, run_id, data, ts)


def test_storage_ids_increase_and_logs_read_back(storage):
    stored = storage.store_events([entry(T.RUN_START), entry(T.STEP_START), entry(T.RUN_SUCCESS)])
    ids = [e.storage_id for e in stored]
    assert ids == sorted(ids) and len(set(ids)) == 3
    logs = storage.get_logs_for_run("r1")
    assert [e.dagster_event_type for e in logs] == [T.RUN_START, T.STEP_START, T.RUN_SUCCESS]
    assert storage.get_logs_for_run("r1", of_type=[T.STEP_START])[0].storage_id == ids[1]
    assert [e.storage_id for e in storage.get_logs_for_run("r1", after=ids[0])] == ids[1:]
    assert storage.get_max_storage_id() == ids[-1]
    plain = storage.store_event(EventLogEntry(run_id="r1", user_message="hello"))
    assert storage.get_logs_for_run("r1")[-1].message == "hello" and plain.storage_id > ids[-1]


def test_events_after_a_storage_id_are_exactly_the_newer_ones_of_the_asked_types(storage):
    kinds = [T.RUN_SUCCESS, T.RUN_FAILURE, T.STEP_START, T.RUN_START] * 25
    stored = storage.store_events([entry(k, run_id=f"r{i}") for i, k in enumerate(kinds)])
    cut = stored[40].storage_id
    wanted = {T.RUN_SUCCESS, T.RUN_FAILURE}
    expected = [
        e.storage_id for e in stored if e.storage_id > cut and e.dagster_event_type in wanted
    ]
    got = storage.get_event_records_after(cut, wanted)
    assert [r.storage_id for r in got] == expected
    assert [
        r.storage_id for r in storage.get_event_records_after(cut, wanted, limit=3)
    ] == expected[:3]
    assert storage.get_event_records_after(stored[-1].storage_id, wanted) == []


def test_event_records_filter(storage):
    stored = storage.store_events(
        [mat("a", "p1", "r1", 10.0), mat("b", None, "r2", 20.0), mat("a", "p2", "r3", 30.0)]
    )
    a = AssetKey("a")

    def ids(limit=None, ascending=False, **kwargs):
        f = EventRecordsFilter(T.ASSET_MATERIALIZATION, **kwargs)
        return [
            r.storage_id for r in storage.get_event_records(f, limit=limit, ascending=ascending)
        ]

    s1, s2, s3 = (e.storage_id for e in stored)
    assert ids() == [s3, s2, s1]
    assert ids(ascending=True, limit=2) == [s1, s2]
    assert ids(asset_key=a) == [s3, s1]
    assert ids(asset_key=a, asset_partitions=["p1"]) == [s1]
    assert ids(after_cursor=s1, before_cursor=s3) == [s2]
    assert ids(after_timestamp=15.0) == [s3, s2]
    assert ids(before_timestamp=15.0) == [s1]
    assert ids(storage_ids=[s1, s3]) == [s3, s1]
    assert ids(run_ids=["r2"]) == [s2]
    record = storage.get_event_records(EventRecordsFilter(T.ASSET_MATERIALIZATION, asset_key=a))[0]
    assert record.asset_key == a and record.partition_key == "p2"
    assert record.asset_materialization.metadata["n"].value == 1


def test_latest_materialization_per_asset_and_partition(storage):
    storage.store_events([mat("a", "p1"), mat("a", "p2"), mat("b")])
    newest_p1 = storage.store_event(mat("a", "p1", run_id="r9"))
    latest = storage.get_latest_materialization_event(AssetKey("a"))
    assert latest.storage_id == newest_p1.storage_id and latest.run_id == "r9"
    p2 = storage.get_latest_materialization_event(AssetKey("a"), partition="p2")
    assert p2.asset_materialization.partition == "p2"
    assert storage.get_latest_materialization_event(AssetKey("a"), partition="p3") is None
    assert storage.get_latest_materialization_event(AssetKey("zzz")) is None
    ids = storage.get_latest_materialization_ids(AssetKey("a"))
    assert ids["p1"] == newest_p1.storage_id and set(ids) == {"p1", "p2"}


def test_asset_keys_observations_and_wipe(storage):
    obs = AssetObservationData(AssetObservation(["x", "y"]))
    storage.store_events([mat("a"), mat("b"), entry(T.ASSET_OBSERVATION, data=obs)])
    assert storage.get_asset_keys() == [AssetKey("a"), AssetKey("b"), AssetKey(["x", "y"])]
    assert storage.get_asset_keys(prefix=["x"]) == [AssetKey(["x", "y"])]
    storage.wipe_assets([AssetKey("a")])
    assert storage.get_asset_keys() == [AssetKey("b"), AssetKey(["x", "y"])]
    assert storage.get_latest_materialization_event(AssetKey("a")) is None
    f = EventRecordsFilter(T.ASSET_MATERIALIZATION, asset_key=AssetKey("a"))
    assert storage.get_event_records(f) == []
    assert len(storage.get_logs_for_run("r1")) == 3  # the run's log keeps its events
    storage.store_event(mat("a"))
    assert AssetKey("a") in storage.get_asset_keys()


def test_delete_events(storage):
    storage.store_events([entry(T.RUN_START, "r1"), entry(T.RUN_START, "r2")])
    storage.delete_events("r1")
    assert storage.get_logs_for_run("r1") == [] and len(storage.get_logs_for_run("r2")) == 1


def test_dynamic_partitions(storage):
    storage.add_dynamic_partitions("files", ["b", "a", "b"])
    storage.add_dynamic_partitions("files", ["a", "c"])
    assert storage.get_dynamic_partitions("files") == ["b", "a", "c"]
    assert storage.has_dynamic_partition("files", "c") and not storage.has_dynamic_partition(
        "x", "c"
    )
    storage.delete_dynamic_partition("files", "a")
    storage.delete_dynamic_partition("files", "missing")
    assert storage.get_dynamic_partitions("files") == ["b", "c"]
