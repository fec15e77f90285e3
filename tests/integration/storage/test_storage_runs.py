from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tocsin.errors import DagsterRunNotFoundError, StorageError
from tocsin.model.run import DagsterRun, DagsterRunStatus, RunsFilter
from tocsin.model.tags import INSTIGATOR_TAG, RUN_KEY_TAG


def keyed(key: str, instigator: str = "loc:sensor:s", **tags: str) -> DagsterRun:
    return DagsterRun("job", tags={RUN_KEY_TAG: key, INSTIGATOR_TAG: instigator, **tags})


def test_add_runs_makes_only_new_keys(storage):
    storage.add_runs([keyed(f"k{i}") for i in range(0, 10_000, 2)])
    batch = [keyed(f"k{i}") for i in range(10_000)]
    made = storage.add_runs(batch)
    assert len(made) == 5_000
    assert {r.run_key for r in made} == {f"k{i}" for i in range(1, 10_000, 2)}
    assert storage.get_runs_count() == 10_000


def test_add_runs_first_in_batch_wins_and_keys_are_per_instigator(storage):
    first, second, other = keyed("a"), keyed("a"), keyed("a", instigator="loc:sensor:t")
    made = storage.add_runs([first, second, other, DagsterRun("job"), DagsterRun("job")])
    assert [r.run_id for r in made][:2] == [first.run_id, other.run_id]
    assert len(made) == 4
    assert storage.find_run_ids_for_keys("loc:sensor:s", ["a", "b"]) == {"a": first.run_id}


def test_add_run_refuses_duplicate_key(storage):
    storage.add_run(keyed("a"))
    with pytest.raises(StorageError, match="run key 'a'"):
        storage.add_run(keyed("a"))


def test_get_runs_newest_first_with_limit_and_cursor(storage):
    runs = [DagsterRun("job") for _ in range(5)]
    for run in runs:
        storage.add_run(run)
    ids = [r.run_id for r in reversed(runs)]
    assert [r.run_id for r in storage.get_runs()] == ids
    assert [r.run_id for r in storage.get_runs(limit=2)] == ids[:2]
    assert [r.run_id for r in storage.get_runs(cursor=ids[1], limit=2)] == ids[2:4]
    records = storage.get_run_records(ascending=True)
    assert [r.dagster_run.run_id for r in records] == ids[::-1]


def test_filters(storage):
    a = storage.add_run(DagsterRun("etl", tags={"team": "red", "env": "prod"}))
    b = storage.add_run(DagsterRun("etl", tags={"team": "blue"}))
    c = storage.add_run(DagsterRun("report", tags={"team": "red"}))
    storage.update_run_status(b.run_id, DagsterRunStatus.SUCCESS)

    def ids(**kwargs):
        return {r.run_id for r in storage.get_runs(RunsFilter(**kwargs))}

    assert ids(job_name="etl") == {a.run_id, b.run_id}
    assert ids(statuses=[DagsterRunStatus.SUCCESS]) == {b.run_id}
    assert ids(tags={"team": "red"}) == {a.run_id, c.run_id}
    assert ids(tags={"team": "red", "env": "prod"}) == {a.run_id}
    assert ids(tags={"team": ["red", "blue"]}, job_name="etl") == {a.run_id, b.run_id}
    assert ids(run_ids=[c.run_id]) == {c.run_id}
    now = datetime.now(UTC)
    assert ids(created_before=now + timedelta(seconds=5)) == {a.run_id, b.run_id, c.run_id}
    assert ids(created_after=now + timedelta(seconds=5)) == set()
    assert ids(updated_after=now - timedelta(minutes=1), statuses=[DagsterRunStatus.SUCCESS]) == {
        b.run_id
    }
    assert storage.get_runs_count(RunsFilter(tags={"team": "red"})) == 2


def test_status_times_tags_and_delete(storage):
    run = storage.add_run(DagsterRun("job", tags={"a": "1"}))
    storage.update_run_status(run.run_id, DagsterRunStatus.STARTED, start_time=100.0)
    done = storage.update_run_status(run.run_id, DagsterRunStatus.SUCCESS, end_time=160.0)
    assert (done.end_time - done.start_time).total_seconds() == 60
    tagged = storage.add_run_tags(run.run_id, {"a": "2", "b": "3"})
    assert tagged.tags == {"a": "2", "b": "3"}
    assert storage.get_runs(RunsFilter(tags={"a": "2"}))[0].tags == {"a": "2", "b": "3"}
    storage.delete_run(run.run_id)
    assert storage.get_run_by_id(run.run_id) is None
    with pytest.raises(DagsterRunNotFoundError):
        storage.update_run_status(run.run_id, DagsterRunStatus.FAILURE)
    with pytest.raises(DagsterRunNotFoundError):
        storage.add_run_tags(run.run_id, {"x": "y"})


def test_claim_queued_runs(storage):
    queued = [storage.add_run(DagsterRun("job", status=DagsterRunStatus.QUEUED)) for _ in range(3)]
    claimed = storage.claim_queued_runs(2, DagsterRunStatus.STARTING)
    assert [r.run_id for r in claimed] == [r.run_id for r in queued[:2]]
    assert all(r.status == DagsterRunStatus.STARTING for r in claimed)
    assert [r.run_id for r in storage.claim_queued_runs(5, DagsterRunStatus.STARTING)] == [
        queued[2].run_id
    ]
    assert storage.claim_queued_runs(5, DagsterRunStatus.STARTING) == []


def test_the_code_origin_tag_stays_on_the_run_but_is_not_a_filter(storage):
    from tocsin.errors import DagsterInvariantViolationError
    from tocsin.model.tags import CODE_ORIGIN_TAG

    origin = '{"name": "defs", "python_file": "/srv/defs.py"}'
    run = DagsterRun(job_name="j", tags={CODE_ORIGIN_TAG: origin, "team": "a"})
    storage.add_runs([run])
    assert storage.get_run_by_id(run.run_id).tags[CODE_ORIGIN_TAG] == origin
    assert [r.run_id for r in storage.get_runs(RunsFilter(tags={"team": "a"}))] == [run.run_id]
    with pytest.raises(DagsterInvariantViolationError, match="does not index it"):
        storage.get_runs(RunsFilter(tags={CODE_ORIGIN_TAG: origin}))
