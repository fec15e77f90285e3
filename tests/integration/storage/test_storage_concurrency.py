from __future__ import annotations

import pickle
import threading
from datetime import UTC, datetime, timedelta

import pytest

from tocsin.instance.instance import DagsterInstance
from tocsin.model.run import DagsterRun
from tocsin.model.tags import INSTIGATOR_TAG, RUN_KEY_TAG
from tocsin.storage.postgres import postgres_engine
from tocsin.storage.sql import SqlStorage
from tocsin.storage.sqlite import sqlite_engine


def _second_storage(storage: SqlStorage) -> SqlStorage:
    """Another storage object (its own engine and connections) on the same database."""
    url = storage.engine.url
    if storage.dialect == "sqlite":
        return SqlStorage(sqlite_engine(url.database))
    return SqlStorage(postgres_engine(url.render_as_string(hide_password=False)))


def _run_threads(*targets) -> None:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(len(targets))
    errors: list[BaseException] = []

    def wrap(fn):  # type: ignore[no-untyped-def]
        def go() -> None:
            barrier.wait()
            try:
                fn()
            except BaseException as exc:
                errors.append(exc)

        return go

    threads = [threading.Thread(target=wrap(fn)) for fn in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_two_writers_with_overlapping_keys_make_each_run_once(storage):
    other = _second_storage(storage)
    made: list[list[DagsterRun]] = [[], []]

    def batch(start: int) -> list[DagsterRun]:
        return [
            DagsterRun("job", tags={RUN_KEY_TAG: f"k{i}", INSTIGATOR_TAG: "s"})
            for i in range(start, start + 600)
        ]

    def writer(index: int, store: SqlStorage, start: int):  # type: ignore[no-untyped-def]
        def go() -> None:
            for chunk in range(3):
                made[index].extend(store.add_runs(batch(start + chunk * 100)))

        return go

    _run_threads(writer(0, storage, 0), writer(1, other, 150))
    keys = [r.run_key for r in made[0] + made[1]]
    assert len(keys) == len(set(keys)) == storage.get_runs_count() == 950
    other.dispose()


def test_two_daemons_claiming_one_lease_get_it_once(storage):
    other = _second_storage(storage)
    now = datetime(2024, 1, 1, tzinfo=UTC)
    wins: list[str] = []

    def claim(store: SqlStorage, owner: str):  # type: ignore[no-untyped-def]
        def go() -> None:
            for i in range(20):
                if store.claim_lease(f"lease{i}", owner, timedelta(minutes=1), now):
                    wins.append(f"lease{i}")

        return go

    _run_threads(claim(storage, "a"), claim(other, "b"))
    assert sorted(wins) == sorted(f"lease{i}" for i in range(20))
    other.dispose()


def test_instance_ref_pickles_and_reopens(tmp_path):
    with DagsterInstance.local_temp(str(tmp_path)) as instance:
        run = instance.create_run(job_name="job")
        ref = pickle.loads(pickle.dumps(instance.get_ref()))
        with DagsterInstance.from_ref(ref) as child:
            assert child.get_run_by_id(run.run_id) == run
            assert child.storage_directory() == instance.storage_directory()


@pytest.mark.postgres
def test_instance_on_postgres_from_its_parts(tmp_path, postgres_url):
    database = postgres_url.rsplit("/", 1)[1]
    (tmp_path / "tocsin.yaml").write_text(
        "storage:\n  postgres:\n    postgres_db:\n      hostname: 127.0.0.1\n"
        f"      username: postgres\n      db_name: {database}\n      port: 5432\n"
    )
    with DagsterInstance.from_config(tmp_path) as instance:
        assert instance.runs.dialect == "postgresql"
        run = instance.create_run(job_name="job")
        with DagsterInstance.from_ref(instance.get_ref()) as child:
            assert child.get_run_by_id(run.run_id) is not None
