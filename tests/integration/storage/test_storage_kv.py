"""The key-value store's atomic claim (``set_kv_if_absent``) and conditional delete, on both
backends, including two storage objects racing for one key."""

from __future__ import annotations

import threading

from tocsin.storage.postgres import postgres_engine
from tocsin.storage.sql import SqlStorage
from tocsin.storage.sqlite import sqlite_engine


def _second_storage(storage: SqlStorage) -> SqlStorage:
    url = storage.engine.url
    if storage.dialect == "sqlite":
        return SqlStorage(sqlite_engine(url.database))
    return SqlStorage(postgres_engine(url.render_as_string(hide_password=False)))


def test_set_kv_if_absent_stores_only_the_first_value(storage):
    assert storage.set_kv_if_absent("k", "first") is None
    assert storage.set_kv_if_absent("k", "second") == "first"
    assert storage.get_kv(["k"]) == {"k": "first"}
    storage.set_kv({"other": "x"})
    assert storage.set_kv_if_absent("other", "y") == "x"
    assert storage.get_kv(["k", "other"]) == {"k": "first", "other": "x"}


def test_delete_kv_if_removes_only_the_expected_value(storage):
    storage.set_kv({"k": "mine"})
    assert storage.delete_kv_if("k", "yours") is False
    assert storage.get_kv(["k"]) == {"k": "mine"}
    assert storage.delete_kv_if("k", "mine") is True
    assert storage.get_kv(["k"]) == {}
    assert storage.delete_kv_if("k", "mine") is False
    assert storage.set_kv_if_absent("k", "again") is None
    assert storage.get_kv(["k"]) == {"k": "again"}


def _race(stores: list[SqlStorage], key: str) -> dict[int, str | None]:
    """Each store claims ``key`` at the same moment; what each call answered."""
    answers: dict[int, str | None] = {}
    barrier = threading.Barrier(len(stores))

    def claim(index: int) -> None:
        barrier.wait()
        answers[index] = stores[index].set_kv_if_absent(key, f"writer-{index}")

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_concurrent_claims_of_one_key_have_exactly_one_winner(storage):
    stores = [storage, _second_storage(storage)]
    try:
        for round_ in range(20):
            key = f"race-{round_}"
            answers = _race(stores, key)
            assert len(answers) == len(stores)
            winners = [i for i, answer in answers.items() if answer is None]
            assert len(winners) == 1, answers
            stored = storage.get_kv([key])[key]
            assert stored == f"writer-{winners[0]}"
            assert [a for a in answers.values() if a is not None] == [stored]
    finally:
        stores[1].dispose()
