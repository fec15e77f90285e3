"""Execution stores a step's events in one batch, yet every reader sees them in time."""

from __future__ import annotations

import pytest

from tocsin import DagsterInstance, DagsterRunStatus, job, op
from tocsin.errors import CheckError
from tocsin.model.events import DagsterEvent, DagsterEventType, EventLogEntry


class _CountingInstance:
    """An ephemeral instance that records each batch it is handed."""

    def __init__(self, instance):
        self._instance = instance
        self.batches: list[list[str]] = []

    def __getattr__(self, name):
        return getattr(self._instance, name)

    def handle_new_events(self, entries):
        self.batches.append(
            [e.dagster_event.event_type_value if e.dagster_event else "LOG" for e in entries]
        )
        return self._instance.handle_new_events(entries)


@op
def first(context) -> int:
    context.log.info("first says hi")
    return 1


@op
def second(x: int) -> int:
    return x + 1


@job
def pair():
    second(first())


def test_a_step_is_one_batch_and_run_lifecycle_events_are_flushed_at_once() -> None:
    with DagsterInstance.ephemeral() as ephemeral:
        instance = _CountingInstance(ephemeral)
        result = pair.execute_in_process(instance=instance)
        assert result.success
        assert instance.batches == [
            ["PIPELINE_START"],
            ["ENGINE_EVENT", "STEP_START", "LOG", "STEP_OUTPUT", "HANDLED_OUTPUT", "STEP_SUCCESS"],
            ["STEP_START", "LOADED_INPUT", "STEP_OUTPUT", "HANDLED_OUTPUT", "STEP_SUCCESS"],
            ["ENGINE_EVENT", "PIPELINE_SUCCESS"],
        ]
        stored = ephemeral.all_logs(result.run_id)
        assert [e.storage_id for e in result.all_events] == [e.storage_id for e in stored]
        assert all(e.storage_id is not None for e in result.all_events)
        assert ephemeral.get_run(result.run_id).status == DagsterRunStatus.SUCCESS


def test_an_op_reading_the_instance_sees_its_own_events_so_far() -> None:
    seen: dict[str, object] = {}

    @op
    def look(context) -> None:
        context.log.info("before looking")
        logs = context.instance.all_logs(context.run_id)
        seen["types"] = [e.dagster_event and e.dagster_event.event_type_value for e in logs]
        seen["messages"] = [e.user_message for e in logs if e.dagster_event is None]
        seen["status"] = context.instance.get_run(context.run_id).status

    @job
    def looking():
        look()

    with DagsterInstance.ephemeral() as instance:
        result = looking.execute_in_process(instance=instance)
        assert result.success
        assert seen["types"] == ["PIPELINE_START", "ENGINE_EVENT", "STEP_START", None]
        assert seen["messages"] == ["before looking"]
        assert seen["status"] == DagsterRunStatus.STARTED
        ids = [e.storage_id for e in instance.all_logs(result.run_id)]
        assert ids == sorted(ids) and ids == [e.storage_id for e in result.all_events]


def test_a_failed_step_is_stored_before_the_run_fails() -> None:
    @op
    def boom() -> None:
        raise ValueError("boom")

    @job
    def failing():
        boom()

    with DagsterInstance.ephemeral() as ephemeral:
        instance = _CountingInstance(ephemeral)
        result = failing.execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success
        assert instance.batches[1][-1] == "STEP_FAILURE"
        assert instance.batches[-1][-1] == "PIPELINE_FAILURE"
        assert ephemeral.get_run(result.run_id).status == DagsterRunStatus.FAILURE
        assert len(ephemeral.all_logs(result.run_id)) == len(result.all_events)


def test_an_instance_without_the_batch_method_gets_events_one_by_one() -> None:
    class _OneByOne:
        def __init__(self, instance):
            self._instance = instance
            self.count = 0

        def __getattr__(self, name):
            if name == "handle_new_events":
                raise AttributeError(name)
            return getattr(self._instance, name)

        def handle_new_event(self, entry):
            self.count += 1
            return self._instance.handle_new_event(entry)

    with DagsterInstance.ephemeral() as ephemeral:
        instance = _OneByOne(ephemeral)
        result = pair.execute_in_process(instance=instance)
        assert result.success and instance.count == len(result.all_events)
        assert [e.storage_id for e in result.all_events] == [
            e.storage_id for e in ephemeral.all_logs(result.run_id)
        ]


def test_handle_new_events_stores_in_order_and_moves_the_run() -> None:
    with DagsterInstance.ephemeral() as instance:
        run = instance.create_run(job_name="job")

        def event(kind: DagsterEventType) -> EventLogEntry:
            return EventLogEntry(run.run_id, dagster_event=DagsterEvent(kind.value, "job"))

        stored = instance.handle_new_events(
            [event(DagsterEventType.RUN_START), event(DagsterEventType.STEP_START)]
        )
        ids = [e.storage_id for e in stored]
        assert ids == sorted(ids) and None not in ids
        assert instance.get_run(run.run_id).status == DagsterRunStatus.STARTED
        assert instance.handle_new_events([]) == []
        with pytest.raises(CheckError, match="EventLogEntry"):
            instance.handle_new_events([DagsterEvent("STEP_START", "job")])
