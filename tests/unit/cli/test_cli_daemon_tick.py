"""``tocsin daemon tick``: one pass of every loop, at the system time or at ``--now``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

HOLD_RUNS = """
run_coordinator:
  module: tocsin.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 0
"""


def test_now_sets_the_time_the_pass_runs_at(invoke, defs_file, instance, home: Path):
    (home / "tocsin.yaml").write_text(HOLD_RUNS)  # runs wait QUEUED: nothing executes
    result = invoke("daemon", "tick", "-f", defs_file, "--now", "2024-01-01T13:00:00+01:00")
    assert result.exit_code == 0, result.output
    ticks = instance.ticks.get_ticks("defs:sensor:watch")
    assert [t.timestamp for t in ticks] == [datetime(2024, 1, 1, 12, tzinfo=UTC)]
    assert ticks[0].status.value == "SUCCESS"
    assert "12:00:00 defs:sensor:watch SUCCESS" in result.output
    again = invoke("daemon", "tick", "-f", defs_file, "--now", "2024-01-01T12:00:10Z")
    assert again.exit_code == 0, again.output
    assert len(instance.ticks.get_ticks("defs:sensor:watch")) == 1  # its 30 s are not over


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("2024-01-01T12:00:00", "has no UTC offset, so it names no single moment"),
        ("tomorrow", "is not an ISO 8601 time"),
        ("2024-13-01T00:00:00Z", "is not an ISO 8601 time"),
    ],
)
def test_a_bad_now_is_refused_before_anything_is_stored(invoke, defs_file, instance, value, says):
    result = invoke("daemon", "tick", "-f", defs_file, "--now", value)
    assert result.exit_code == 2
    assert f"Invalid value for --now: {value!r} {says}" in result.output
    assert "2024-01-01T12:00:00+00:00" in result.output  # shows a time it would take
    assert instance.ticks.get_ticks("defs:sensor:watch") == []
    assert instance.get_runs() == []
