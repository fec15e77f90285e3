"""Driver-level bulk writes for ``SqlStorage``: one prepared INSERT run over many rows.

A sensor tick can make thousands of runs, each with a handful of tags. Going through
SQLAlchemy's per-row parameter processing costs more than the database itself, so these
helpers hand plain tuples to the driver's ``executemany`` (SQLite's, or psycopg's pipelined
one), on the caller's connection and therefore inside its transaction.

Only columns whose values need no type conversion are passed as they are; timestamps are
converted once per batch with the column type's own bind processor (``bound``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tocsin.model.run import DagsterRun
from tocsin.model.tags import CODE_ORIGIN_TAG
from tocsin.storage import schema as t
from tocsin.storage.base import run_instigator_id

#: The columns of a new run, in the order ``run_values`` gives them.
RUN_COLUMNS = (
    "run_id",
    "job_name",
    "status",
    "instigator_id",
    "run_key",
    "partition",
    "run_body",
    "create_timestamp",
    "update_timestamp",
    "start_time",
    "end_time",
)
TAG_COLUMNS = ("run_id", "key", "value")

#: Tags kept on the run but not written to the tag index: where a run's code lives is a long
#: JSON text on every daemon-made run, and nothing filters runs by it.
UNINDEXED_TAGS = frozenset({CODE_ORIGIN_TAG})

_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def insert_sql(
    dialect: sa.Dialect, table: sa.Table, columns: Sequence[str], *, ignore: bool = False
) -> str | None:
    """``INSERT INTO table (columns) VALUES (...)`` in the driver's positional paramstyle.

    ``ignore`` adds ``ON CONFLICT DO NOTHING`` (SQLite and PostgreSQL both accept it). None
    when the driver takes no positional parameters this module knows how to write.
    """
    mark = _PLACEHOLDERS.get(dialect.paramstyle)
    if mark is None:
        return None
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    marks = ", ".join([mark] * len(columns))
    sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})"
    return sql + " ON CONFLICT DO NOTHING" if ignore else sql


def executemany_sql(conn: sa.Connection, sql: str, rows: Iterable[tuple[Any, ...]]) -> int:
    """Run ``sql`` over ``rows`` with the driver's ``executemany``, inside ``conn``'s transaction.

    Driver errors come back as SQLAlchemy's (``sqlalchemy.exc.IntegrityError``, ...). Returns
    the driver's row count (-1 when it does not say).
    """
    params = rows if isinstance(rows, list) else list(rows)
    if not params:
        return 0
    result = conn.exec_driver_sql(sql, params)
    return int(result.rowcount if result.rowcount is not None else -1)


def executemany(
    conn: sa.Connection, table: sa.Table, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> int:
    """Insert ``rows`` (tuples in ``columns`` order) with one prepared statement.

    Returns:
        How many rows were inserted, or -1 when the driver does not say.
    """
    sql = insert_sql(conn.dialect, table, columns, ignore=False)
    if sql is None:
        params = [dict(zip(columns, r, strict=True)) for r in rows]
        return int(conn.execute(sa.insert(table), params).rowcount) if params else 0
    return executemany_sql(conn, sql, rows)


def insert_ignore_many(
    conn: sa.Connection, table: sa.Table, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
) -> int:
    """Like ``executemany`` with ``ON CONFLICT DO NOTHING``; returns the rows inserted or -1."""
    sql = insert_sql(conn.dialect, table, columns, ignore=True)
    if sql is None:
        return -1
    return executemany_sql(conn, sql, rows)


def select_in(
    conn: sa.Connection,
    table: sa.Table,
    columns: Sequence[str],
    where: Mapping[str, Any],
    in_column: str,
    values: Sequence[Any],
) -> list[Any] | None:
    """Rows (tuples of ``columns``) whose ``in_column`` is among ``values`` and whose other
    columns equal ``where``, in one driver-level query: ``values`` bind as plain positional
    parameters instead of one SQLAlchemy expanding parameter each.

    None when the driver takes no positional parameters this module knows how to write (the
    caller then builds the query with SQLAlchemy). The caller keeps ``values`` under the
    driver's parameter limit.
    """
    mark = _PLACEHOLDERS.get(conn.dialect.paramstyle)
    if mark is None:
        return None
    if not values:
        return []
    quote = conn.dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    tests = [f"{quote(c)} = {mark}" for c in where]
    tests.append(f"{quote(in_column)} IN ({', '.join([mark] * len(values))})")
    sql = f"SELECT {names} FROM {quote(table.name)} WHERE {' AND '.join(tests)}"
    return list(conn.exec_driver_sql(sql, (*where.values(), *values)).all())


def bound(dialect: sa.Dialect, column: sa.Column[Any], value: Any) -> Any:
    """``value`` as the driver receives it for ``column`` (its type's bind processing)."""
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    return value if process is None else process(value)


def run_body(run: DagsterRun) -> str:
    return json.dumps(run.to_dict(), separators=(",", ":"))


def run_values(
    dialect: sa.Dialect, runs: Iterable[DagsterRun], now: datetime
) -> Iterator[tuple[Any, ...]]:
    """Rows of ``RUN_COLUMNS`` for new runs created at ``now``."""
    stamp = bound(dialect, t.runs.c.create_timestamp, now)
    for run in runs:
        tags = run.tags
        start, end = run.start_time, run.end_time
        yield (
            run.run_id,
            run.job_name,
            run.status.value,
            run_instigator_id(tags),
            run.run_key,
            run.partition_key,
            run_body(run),
            stamp,
            stamp,
            None if start is None else start.timestamp(),
            None if end is None else end.timestamp(),
        )


def tag_values(runs: Iterable[DagsterRun]) -> Iterator[tuple[str, str, str]]:
    """Rows of ``TAG_COLUMNS``: one per tag of each run."""
    return (
        (r.run_id, k, str(v)) for r in runs for k, v in r.tags.items() if k not in UNINDEXED_TAGS
    )
