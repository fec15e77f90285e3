"""How fast storage takes keyed runs and events, on SQLite and PostgreSQL.

Prints one JSON line per figure:
  - ``add_runs_new``: runs created per second through ``add_runs`` (a batch of new keys);
  - ``add_runs_duplicate``: keys checked per second when the same batch comes again;
  - ``append_events``: events appended per second, one ``store_event`` each.

Usage: ``python benchmarks/storage_add_runs.py [--backend sqlite|postgres|both] [--batch N]``.
PostgreSQL is the server on 127.0.0.1:5432 (user postgres); a scratch database is created
and dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

if os.environ.get("BENCH_IMPL", "tocsin") != "tocsin":
    WHY = "measures tocsin's storage layer directly; the reference has no such API"
    print(
        json.dumps(
            {"workload": "storage_add_runs", "impl": os.environ["BENCH_IMPL"], "unsupported": WHY}
        )
    )
    raise SystemExit(0)

import sqlalchemy as sa

from tocsin.model.events import DagsterEvent, DagsterEventType, EventLogEntry
from tocsin.model.run import DagsterRun
from tocsin.model.tags import INSTIGATOR_TAG, RUN_KEY_TAG
from tocsin.storage.postgres import postgres_engine
from tocsin.storage.sql import SqlStorage
from tocsin.storage.sqlite import sqlite_engine

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@contextmanager
def sqlite_storage() -> Iterator[SqlStorage]:
    with tempfile.TemporaryDirectory() as tmp:
        storage = SqlStorage(sqlite_engine(Path(tmp) / "bench.db"))
        yield storage
        storage.dispose()


@contextmanager
def postgres_storage() -> Iterator[SqlStorage]:
    name = f"tocsin_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    storage = SqlStorage(postgres_engine(f"postgresql://postgres@127.0.0.1:5432/{name}"))
    try:
        yield storage
    finally:
        storage.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def keyed_runs(n: int, prefix: str) -> list[DagsterRun]:
    return [
        DagsterRun("job", tags={RUN_KEY_TAG: f"{prefix}{i}", INSTIGATOR_TAG: "bench:sensor:s"})
        for i in range(n)
    ]


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def report(backend: str, figure: str, count: int, seconds: float, unit: str) -> None:
    """One row in the harness's shape: the figure is a rate, so median = min = max."""
    rate = round(count / seconds)
    line = {
        "workload": f"storage_{figure}[{backend}]",
        "impl": "tocsin",
        "unit": unit,
        "median": rate,
        "min": rate,
        "max": rate,
        "repeats": 1,
        "count": count,
        "seconds": round(seconds, 4),
    }
    print(json.dumps(line), flush=True)


def bench(backend: str, storage: SqlStorage, batch: int, events: int) -> None:
    storage.add_runs(keyed_runs(100, "warm"))  # first-use costs (compile caches, connections)
    runs = keyed_runs(batch, "k")
    made: list[DagsterRun] = []
    seconds = timed(lambda: made.extend(storage.add_runs(runs)))
    assert len(made) == batch
    report(backend, "add_runs_new", batch, seconds, "runs/s")
    again = keyed_runs(batch, "k")
    seconds = timed(lambda: made.extend(storage.add_runs(again)))
    assert len(made) == batch
    report(backend, "add_runs_duplicate", batch, seconds, "keys/s")
    event = DagsterEvent(DagsterEventType.ENGINE_EVENT.value, "job", message="bench")
    entries = [
        EventLogEntry(run_id=runs[i % batch].run_id, dagster_event=event) for i in range(events)
    ]

    def append() -> None:
        for entry in entries:
            storage.store_event(entry)

    report(backend, "append_events", events, timed(append), "events/s")
    batched = [EventLogEntry(run_id=e.run_id, dagster_event=event) for e in entries]
    seconds = timed(lambda: storage.store_events(batched))
    report(backend, "append_events_batch", events, seconds, "events/s")


def main() -> None:
    if os.environ.get("BENCH_IMPL", "tocsin") != "tocsin":
        why = "measures tocsin's storage layer directly; the reference has no such API"
        print(
            json.dumps(
                {
                    "workload": "storage_add_runs",
                    "impl": os.environ["BENCH_IMPL"],
                    "unsupported": why,
                }
            )
        )
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--events", type=int, default=2000)
    args = parser.parse_args()
    backends = {"sqlite": sqlite_storage, "postgres": postgres_storage}
    for name, opener in backends.items():
        if args.backend in (name, "both"):
            with opener() as storage:
                bench(name, storage, args.batch, args.events)


if __name__ == "__main__":
    main()
