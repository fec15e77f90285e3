"""A temporary instance home driven by ``tocsin daemon tick --now`` processes (e2e tests).

The home's tocsin.yaml holds every run QUEUED (``max_concurrent_runs: 0``), so nothing
executes and the tests read the ticks and runs the daemon stored, as a user would.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

HOLD_RUNS = """
run_coordinator:
  module: tocsin.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 0
"""


class Home:
    """A temporary TOCSIN_HOME, a definitions file ``defs.py`` and the daemon passes on them."""

    def __init__(self, tmp_path: Path, source: str):
        self.tmp_path = tmp_path
        self.home = tmp_path / "home"
        self.home.mkdir()
        (self.home / "tocsin.yaml").write_text(HOLD_RUNS)
        self.defs = tmp_path / "defs.py"
        self.defs.write_text(source)
        self.env = {**os.environ, "TOCSIN_HOME": str(self.home), "TOCSIN_E2E_DIR": str(tmp_path)}
        self.env.pop("DAGSTER_HOME", None)
        from tocsin.instance.instance import DagsterInstance

        self.instance = DagsterInstance.from_config(str(self.home))

    def tocsin(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "tocsin.cli.main", *args]
        return subprocess.run(
            command, env=self.env, cwd=self.tmp_path, capture_output=True, text=True, timeout=90
        )

    def tick(self, now: datetime) -> str:
        """One ``tocsin daemon tick --now`` process; its output."""
        done = self.tocsin("daemon", "tick", "-f", str(self.defs), "--now", now.isoformat())
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def ticks(self, kind: str, name: str) -> list[Any]:
        """Finished ticks of an instigator, oldest first."""
        ticks = self.instance.ticks.get_ticks(f"defs:{kind}:{name}")
        return [t for t in reversed(ticks) if t.is_finished]

    def runs(self, tag: str, name: str) -> list[Any]:
        """Runs whose ``tag`` is ``name`` (a sensor or schedule name), oldest first."""
        return [r for r in reversed(self.instance.get_runs()) if r.tags.get(tag) == name]

    def sensor_runs(self, name: str) -> list[Any]:
        return self.runs("dagster/sensor_name", name)

    def schedule_runs(self, name: str) -> list[Any]:
        return self.runs("dagster/schedule_name", name)

    def load_defs(self) -> ModuleType:
        """The definitions file imported in the test process, for direct invocation."""
        spec = importlib.util.spec_from_file_location(f"defs_{id(self)}", self.defs)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module


@pytest.fixture
def tick_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Makes the test's ``Home`` from the source of its definitions file, which may read
    ``$TOCSIN_E2E_DIR`` (the test's temporary directory, set here and in the daemon's)."""
    monkeypatch.setenv("TOCSIN_E2E_DIR", str(tmp_path))
    made: list[Home] = []

    def make(source: str) -> Home:
        made.append(Home(tmp_path, source))
        return made[-1]

    yield make
    for home in made:
        home.instance.dispose()
