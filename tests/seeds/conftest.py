"""Helpers for the seed examples: each test is a seed example with only its import changed.

External services the examples talk to (pandas, Slack, SMTP, HTTP) are stubbed here, never
the tocsin API under test.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator

import pytest


class FakeFrame:
    """Just enough of a pandas DataFrame for the seeds' ETL examples."""

    def __init__(self, rows: list[dict] | None = None):
        self.rows = list(rows or [])

    def dropna(self) -> FakeFrame:
        return FakeFrame([r for r in self.rows if all(v is not None for v in r.values())])

    def reset_index(self, drop: bool = False) -> FakeFrame:
        return self

    def __len__(self) -> int:
        return len(self.rows)


@pytest.fixture
def fake_pandas(monkeypatch: pytest.MonkeyPatch) -> Iterator[types.ModuleType]:
    module = types.ModuleType("pandas")
    module.DataFrame = FakeFrame  # type: ignore[attr-defined]
    module.read_sql = lambda query, connection: FakeFrame([{"a": 1}, {"a": None}])  # type: ignore[attr-defined]
    module.read_csv = lambda path: FakeFrame([{"a": 1}])  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pandas", module)
    yield module
