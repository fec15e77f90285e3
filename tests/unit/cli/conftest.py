"""A temporary instance home and a small definitions file for the CLI tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

DEFS = """
from tocsin import (
    DailyPartitionsDefinition, DefaultSensorStatus, Definitions, RunRequest, SkipReason,
    asset, define_asset_job, job, op, schedule, sensor,
)


@op(config_schema={"n": int})
def add_one(context):
    context.log.info(f"adding one to {context.op_config['n']}")
    print("stdout from add_one")
    return context.op_config["n"] + 1


@job
def compute():
    add_one()


@op
def boom():
    raise ValueError("boom")


@job
def broken():
    boom()


@sensor(job=compute, default_status=DefaultSensorStatus.RUNNING)
def watch(context):
    if context.cursor == "stop":
        return SkipReason("told to stop")
    context.update_cursor("seen")
    return RunRequest(run_key="k1", run_config={"ops": {"add_one": {"config": {"n": 1}}}})


@schedule(job=compute, cron_schedule="0 2 * * *", execution_timezone="Europe/Amsterdam")
def nightly(context):
    day = context.scheduled_execution_time.isoformat()
    context.log.info(f"nightly for {day}")
    return RunRequest(run_key=day, run_config={"ops": {"add_one": {"config": {"n": 2}}}})


daily = DailyPartitionsDefinition(start_date="2024-01-01")


@asset(partitions_def=daily)
def report(context):
    return context.partition_key


@asset
def plain():
    return 1


report_job = define_asset_job("report_job", selection=[report], partitions_def=daily)

defs = Definitions(
    assets=[report, plain], jobs=[compute, broken, report_job], sensors=[watch],
    schedules=[nightly],
)
"""

QUEUED_YAML = """
run_coordinator:
  module: tocsin.core.run_coordinator
  class: QueuedRunCoordinator
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("TOCSIN_HOME", str(path))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return path


@pytest.fixture
def defs_file(tmp_path: Path) -> str:
    path = tmp_path / "defs.py"
    path.write_text(DEFS)
    return str(path)


@pytest.fixture
def invoke(home: Path):
    """Run ``tocsin ARGS`` in-process on the temporary home."""
    from tocsin.cli.main import cli

    def run(*args: str, input: str | None = None):
        return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)

    return run


@pytest.fixture
def instance(home: Path):
    from tocsin.instance.instance import DagsterInstance

    with DagsterInstance.get() as opened:
        yield opened


@pytest.fixture
def queued(home: Path) -> None:
    """The home's tocsin.yaml uses the queued run coordinator (submitting only queues runs)."""
    (home / "tocsin.yaml").write_text(QUEUED_YAML)
