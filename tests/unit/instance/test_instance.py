from __future__ import annotations

import os
import time

import pytest

from tocsin.errors import DagsterHomeNotSetError, DagsterRunNotFoundError
from tocsin.instance.instance import DagsterInstance, Instance
from tocsin.model.asset_key import AssetKey
from tocsin.model.events import (
    AssetMaterialization,
    DagsterEvent,
    DagsterEventType,
    EventLogEntry,
    EventRecordsFilter,
    StepMaterializationData,
)
from tocsin.model.run import DagsterRunStatus, RunsFilter


def _event(run_id: str, kind: DagsterEventType, data: object = None) -> EventLogEntry:
    return EventLogEntry(
        run_id=run_id, dagster_event=DagsterEvent(kind.value, "job", event_specific_data=data)
    )


def _materialization(run_id: str, key: str, partition: str | None = None) -> EventLogEntry:
    data = StepMaterializationData(AssetMaterialization(key, partition=partition))
    return _event(run_id, DagsterEventType.ASSET_MATERIALIZATION, data)


@pytest.fixture
def instance():
    with DagsterInstance.ephemeral() as inst:
        yield inst


def test_ephemeral_is_fast_and_cleans_up():
    DagsterInstance.ephemeral().dispose()  # builds the per-process template
    timings = []
    for _ in range(15):
        start = time.perf_counter()
        inst = DagsterInstance.ephemeral()
        timings.append(time.perf_counter() - start)
        home = inst.root_directory
        inst.dispose()
        assert not os.path.exists(home)
    assert sorted(timings)[len(timings) // 2] < 0.003
    assert Instance is DagsterInstance


def test_create_run_and_lifecycle_events_move_status(instance):
    run = instance.create_run(job_name="job", tags={"team": "x"})
    assert instance.get_run_by_id(run.run_id).status == DagsterRunStatus.NOT_STARTED
    instance.handle_new_event(_event(run.run_id, DagsterEventType.RUN_START))
    started = instance.get_run_by_id(run.run_id)
    assert started.status == DagsterRunStatus.STARTED and started.start_time is not None
    instance.handle_new_event(_event(run.run_id, DagsterEventType.RUN_SUCCESS))
    done = instance.get_run_by_id(run.run_id)
    assert done.status == DagsterRunStatus.SUCCESS
    assert (done.end_time - done.start_time).total_seconds() >= 0
    assert [e.dagster_event_type for e in instance.all_logs(run.run_id)] == [
        DagsterEventType.RUN_START,
        DagsterEventType.RUN_SUCCESS,
    ]
    assert len(instance.all_logs(run.run_id, of_type=DagsterEventType.RUN_SUCCESS)) == 1
    assert instance.get_runs(RunsFilter(tags={"team": "x"})) == [done]


def test_handle_new_event_returns_storage_id(instance):
    run = instance.create_run(job_name="job")
    first = instance.handle_new_event(_event(run.run_id, DagsterEventType.ENGINE_EVENT))
    second = instance.handle_new_event(_event(run.run_id, DagsterEventType.ENGINE_EVENT))
    assert first.storage_id is not None and second.storage_id > first.storage_id


def test_report_run_failed_and_canceled(instance):
    run = instance.create_run(job_name="job")
    instance.report_engine_event("hello", run)
    instance.report_run_failed(run, "boom")
    assert instance.get_run_by_id(run.run_id).status == DagsterRunStatus.FAILURE
    other = instance.create_run(job_name="job")
    instance.report_run_canceled(other)
    assert instance.get_run_by_id(other.run_id).status == DagsterRunStatus.CANCELED


def test_materializations(instance):
    run = instance.create_run(job_name="job")
    instance.handle_new_event(_materialization(run.run_id, "a", "p1"))
    last = instance.handle_new_event(_materialization(run.run_id, "a", "p2"))
    latest = instance.get_latest_materialization_event(AssetKey("a"))
    assert latest.storage_id == last.storage_id
    assert latest.asset_materialization.partition == "p2"
    assert instance.get_asset_keys() == [AssetKey("a")]
    records = instance.get_event_records(
        EventRecordsFilter(DagsterEventType.ASSET_MATERIALIZATION, asset_key=AssetKey("a"))
    )
    assert [r.partition_key for r in records] == ["p2", "p1"]
    page = instance.fetch_materializations(AssetKey("a"), limit=1)
    assert page.has_more and page.records[0].storage_id == last.storage_id
    rest = instance.fetch_materializations(AssetKey("a"), limit=1, cursor=page.cursor)
    assert not rest.has_more and rest.records[0].partition_key == "p1"
    instance.wipe_assets([AssetKey("a")])
    assert instance.get_latest_materialization_event(AssetKey("a")) is None
    assert instance.get_asset_keys() == []


def test_dynamic_partitions(instance):
    instance.add_dynamic_partitions("files", ["a", "b", "a"])
    assert instance.get_dynamic_partitions("files") == ["a", "b"]
    assert instance.has_dynamic_partition("files", "b")
    instance.delete_dynamic_partition("files", "b")
    assert instance.get_dynamic_partitions("files") == ["a"]


def test_add_dynamic_partitions_rejects_a_string(instance):
    with pytest.raises(Exception, match=r"list of keys.*\['abc'\]"):
        instance.add_dynamic_partitions("files", "abc")


def test_ref_opens_the_same_database(instance):
    run = instance.create_run(job_name="job")
    with DagsterInstance.from_ref(instance.get_ref()) as other:
        assert other.get_run_by_id(run.run_id) == run
    assert os.path.isdir(instance.storage_directory())


def test_get_run_raises_for_missing_run(instance):
    with pytest.raises(DagsterRunNotFoundError, match="nope"):
        instance.get_run("nope")


def test_get_without_home_says_what_to_set(monkeypatch):
    monkeypatch.delenv("TOCSIN_HOME", raising=False)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    with pytest.raises(DagsterHomeNotSetError, match=r"TOCSIN_HOME.*tocsin dev"):
        DagsterInstance.get()


def test_get_reads_tocsin_home(monkeypatch, tmp_path):
    monkeypatch.setenv("TOCSIN_HOME", str(tmp_path))
    with DagsterInstance.get() as inst:
        run = inst.create_run(job_name="job")
    with DagsterInstance.from_config(tmp_path) as again:
        assert again.get_run_by_id(run.run_id) is not None
        assert not again.is_ephemeral


def test_run_url_uses_configured_base(tmp_path):
    (tmp_path / "tocsin.yaml").write_text("webserver:\n  base_url: https://tocsin.example/\n")
    with DagsterInstance.from_config(tmp_path) as inst:
        assert inst.get_run_url("abc") == "https://tocsin.example/runs/abc"


def test_submit_run_queues(instance):
    run = instance.create_run(job_name="job")
    queued = instance.submit_run(run.run_id)
    assert queued.status == DagsterRunStatus.QUEUED
    assert instance.all_logs(run.run_id)[-1].dagster_event_type == DagsterEventType.RUN_ENQUEUED


def test_enqueue_runs_queues_only_not_started_runs_in_one_call() -> None:
    from tocsin import DagsterInstance, DagsterRunStatus
    from tocsin.model.events import DagsterEventType

    with DagsterInstance.ephemeral() as instance:
        waiting = [instance.create_run(job_name="j") for _ in range(3)]
        started = instance.create_run(job_name="j", status=DagsterRunStatus.STARTED)
        ids = [r.run_id for r in waiting] + [started.run_id, "no-such-run"]
        assert instance.enqueue_runs(ids) == [r.run_id for r in waiting]
        assert {instance.get_run_by_id(r.run_id).status for r in waiting} == {
            DagsterRunStatus.QUEUED
        }
        assert instance.get_run_by_id(started.run_id).status == DagsterRunStatus.STARTED
        events = instance.all_logs(waiting[0].run_id, of_type=DagsterEventType.RUN_ENQUEUED)
        assert len(events) == 1
        assert instance.enqueue_runs(ids) == []  # a second submission changes nothing
