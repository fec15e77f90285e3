"""``tocsin schedule simulate``: it predicts exactly what the daemon does (New York DST days,
with an outage), stores nothing in the user's instance, and refuses bad times and ranges."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tocsin.daemon.common import instigator_id
from tocsin.daemon.schedules import ScheduleLoop
from tocsin.daemon.simulate import describe
from tocsin.launchers.base import ImmediateCoordinator, RunLauncher
from tocsin.model.events import DagsterEvent, DagsterEventType, EventLogEntry
from tocsin.model.ticks import InstigatorState, InstigatorStatus, InstigatorType

NY_DEFS = """
from datetime import timedelta
from tocsin import Definitions, RunRequest, job, op, schedule


@op
def noop():
    pass


@job
def work():
    noop()


@schedule(
    job=work, cron_schedule="0 * * * *", execution_timezone="America/New_York",
    catchup="all", max_catchup_runs=3, jitter=timedelta(minutes=5),
)
def hourly(context):
    return RunRequest()


@schedule(job=work, cron_schedule="30 2 * * *", execution_timezone="America/New_York")
def daily(context):
    return RunRequest(run_key=context.scheduled_execution_time.isoformat())


defs = Definitions(jobs=[work], schedules=[hourly, daily])
"""

# (from, to, outage) around each New York DST change of 2024.
WINDOWS = [
    (
        "2024-03-09T22:00-05:00",
        "2024-03-10T12:00-04:00",
        ("2024-03-10T00:30-05:00", "2024-03-10T06:10-04:00"),
    ),
    (
        "2024-11-02T22:00-04:00",
        "2024-11-03T12:00-05:00",
        ("2024-11-03T00:30-04:00", "2024-11-03T03:10-05:00"),
    ),
]
RUN_SECONDS = 120.0


@pytest.fixture
def ny_defs(tmp_path: Path) -> str:
    path = tmp_path / "ny_defs.py"
    path.write_text(NY_DEFS)
    return str(path)


class FinishingLauncher(RunLauncher):
    """Each run starts when launched and succeeds RUN_SECONDS later on the test's clock."""

    def __init__(self, instance):
        self.instance = instance
        self.now: datetime | None = None
        self.started: dict[str, datetime] = {}
        self.finished: dict[str, datetime] = {}
        self.runs: dict = {}

    def launch_run(self, run) -> None:
        self.started[run.run_id], self.runs[run.run_id] = self.now, run
        self._event(run, DagsterEventType.RUN_START, self.now)

    def terminate(self, run_id: str) -> bool:
        return False

    def set_clock(self, now: datetime) -> None:
        for run_id, began in sorted(self.started.items(), key=lambda item: item[1]):
            ends = began + timedelta(seconds=RUN_SECONDS)
            if run_id not in self.finished and ends <= now:
                self.finished[run_id] = ends
                self._event(self.runs[run_id], DagsterEventType.RUN_SUCCESS, ends)
        self.now = now

    def _event(self, run, kind, when) -> None:
        event = DagsterEvent(event_type_value=kind.value, job_name=run.job_name)
        self.instance.handle_new_event(
            EventLogEntry(
                run_id=run.run_id,
                job_name=run.job_name,
                dagster_event=event,
                timestamp=when.timestamp(),
            )
        )


def run_daemon(defs_file: str, start: datetime, end: datetime, down: tuple[datetime, datetime]):
    """The daemon's schedule loop on a real temporary instance, a pass every minute on a fake
    clock, not running during the outage and restarted after it."""
    from tocsin.cli.common import load_locations
    from tocsin.instance.instance import DagsterInstance

    (location,) = load_locations((defs_file,), (), None)
    instance = DagsterInstance.ephemeral()
    infos = {i.name: i for i in location.list_instigators() if i.kind == "schedule"}
    for info in infos.values():
        origin = instigator_id(location.name, "schedule", info.name)
        state = InstigatorState(origin, info.name, InstigatorType.SCHEDULE)
        started = {"started_at": start.timestamp(), "status_changed_at": start.timestamp()}
        instance.ticks.add_instigator_state(
            replace(state, status=InstigatorStatus.RUNNING, extra=started)
        )
    launcher = FinishingLauncher(instance)
    coordinator = ImmediateCoordinator(instance, launcher)
    loop = ScheduleLoop(instance, [location], coordinator, policy_defaults={})
    now = start
    while now <= end:
        if down[0] <= now < down[1]:
            now = down[1]
            loop = ScheduleLoop(instance, [location], coordinator, policy_defaults={})
            continue
        launcher.set_clock(now)
        loop.tick(now)
        now += timedelta(minutes=1)
    launcher.set_clock(end)
    found = {}
    for name, info in infos.items():
        origin = instigator_id(location.name, "schedule", name)
        found[name] = describe(instance, origin, info, launcher.started, launcher.finished)
    instance.dispose()
    return found


def without_ids(result: dict) -> dict:
    ticks = [{k: v for k, v in t.items() if k != "run_ids"} for t in result["ticks"]]
    runs = [{k: v for k, v in r.items() if k != "run_id"} for r in result["runs"]]
    return {"ticks": ticks, "runs": runs, "made": [len(t["run_ids"]) for t in result["ticks"]]}


def test_simulate_matches_what_the_daemon_does_across_new_york_dst_days(invoke, ny_defs, home):
    for first, last, (down_from, down_to) in WINDOWS:
        simulated = {}
        for name in ("hourly", "daily"):
            args = ["schedule", "simulate", name, "-f", ny_defs, "--from", first, "--to", last]
            args += ["--down", f"{down_from}..{down_to}", "--run-duration", str(RUN_SECONDS)]
            result = invoke(*args, "--json")
            assert result.exit_code == 0, result.output
            simulated[name] = json.loads(result.output)
        parse = datetime.fromisoformat
        daemon = run_daemon(ny_defs, parse(first), parse(last), (parse(down_from), parse(down_to)))
        for name in ("hourly", "daily"):
            assert without_ids(simulated[name]) == without_ids(daemon[name]), name

    # What both agreed on, spelled out for the spring day (03-10) and the fall day (11-03).
    spring, fall = [], []
    for first, last, (down_from, down_to) in WINDOWS:
        args = ["schedule", "simulate", "hourly", "-f", ny_defs, "--from", first, "--to", last]
        args += ["--down", f"{down_from}..{down_to}", "--json"]
        (spring if first.startswith("2024-03") else fall).append(json.loads(invoke(*args).output))
    hours = [r["scheduled_time"][11:] for r in spring[0]["runs"]]
    # 02:00 does not exist; after the outage only the newest 3 missed hours run (max 3)
    assert hours[:4] == ["22:00:00-05:00", "23:00:00-05:00", "00:00:00-05:00", "04:00:00-04:00"]
    reasons = {i["reason"] for t in spring[0]["ticks"] for i in t["not_run"]}
    assert reasons == {"max_catchup_runs"}
    fall_hours = [r["scheduled_time"][11:] for r in fall[0]["runs"]]
    # 01:00 happens twice; both are due in the outage, the newest 3 run
    assert fall_hours[3:6] == ["01:00:00-05:00", "02:00:00-05:00", "03:00:00-05:00"]
    assert not (home / "storage").exists()  # the user's instance was never opened


def test_daily_gap_time_runs_at_the_end_of_the_gap_in_the_simulation(invoke, ny_defs):
    result = invoke(
        "schedule",
        "simulate",
        "daily",
        "-f",
        ny_defs,
        "--from",
        "2024-03-09T00:00-05:00",
        "--to",
        "2024-03-11T00:00-04:00",
    )
    assert result.exit_code == 0, result.output
    assert "tick for 2024-03-10T03:00:00-04:00  SUCCESS" in result.output
    assert "2 ticks, 2 runs, 0 not run." in result.output


def test_instance_settings_apply_to_the_simulation(invoke, ny_defs, home):
    (home / "tocsin.yaml").write_text("schedules:\n  catchup: none\n")
    result = invoke(
        "schedule", "simulate", "daily", "-f", ny_defs, "--json",
        "--from", "2024-03-09T00:00-05:00", "--to", "2024-03-12T00:00-04:00",
        "--down", "2024-03-10T00:00-05:00..2024-03-10T12:00-04:00",
    )  # fmt: skip
    data = json.loads(result.output)
    assert data["catchup"] == "none"
    assert [r["scheduled_time"][:10] for r in data["runs"]] == ["2024-03-09", "2024-03-11"]
    ((item,),) = [t["not_run"] for t in data["ticks"] if t["not_run"]]
    assert item["reason"] == "catchup_none"
    assert item["scheduled_time"] == "2024-03-10T03:00:00-04:00"


DAY = ["--from", "2024-03-10T00:00Z", "--to", "2024-03-11T00:00Z"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--from", "yesterday", "--to", "2024-03-10T00:00Z"], "'yesterday' is not an ISO 8601"),
        (["--from", "2024-03-10T00:00Z", "--to", "2024-13-01"], "'2024-13-01' is not an ISO 8601"),
        (
            ["--from", "2024-03-10T00:00Z", "--to", "2024-03-09T00:00Z"],
            "--to 2024-03-09T00:00Z is not after --from 2024-03-10T00:00Z",
        ),
        (
            ["--from", "2024-03-10T00:00Z", "--to", "2024-03-11T00:00Z", "--down", "2024-03-10"],
            "'2024-03-10' is not a time range; write START..END",
        ),
        (
            [*DAY, "--down", "2024-03-10T05:00Z..2024-03-10T04:00Z"],
            "the end must be after the start",
        ),
        (
            [*DAY, "--down", "2024-03-09T05:00Z..2024-03-10T04:00Z"],
            "an outage must lie inside the simulated window",
        ),
        (
            [*DAY, "--down", "2024-03-10T05:00Z..noon"],
            "'noon' is not an ISO 8601",
        ),
        (
            ["--from", "2000-01-01T00:00Z", "--to", "2024-01-01T00:00Z", "--step", "60"],
            "shorten the window or pass a larger --step",
        ),
        (
            ["--from", "2024-03-10T00:00Z", "--to", "2024-03-11T00:00Z", "--run-duration", "-1"],
            "-1.0 is not in the range x>=0",
        ),
        (["--to", "2024-03-11T00:00Z"], "Missing option '--from'"),
    ],
)
def test_bad_times_and_ranges_are_refused_clearly(invoke, ny_defs, home, extra, message):
    result = invoke("schedule", "simulate", "daily", "-f", ny_defs, *extra)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert list(home.iterdir()) == []


def test_an_unknown_schedule_is_named(invoke, ny_defs):
    result = invoke(
        "schedule", "simulate", "dayly", "-f", ny_defs,
        "--from", "2024-03-10T00:00Z", "--to", "2024-03-11T00:00Z",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "No schedule named 'dayly'. Did you mean 'daily'?" in result.output


OVERLAP_DEFS = """
from tocsin import Definitions, RunRequest, job, op, schedule


@op
def noop():
    pass


@job
def work():
    noop()


@schedule(job=work, cron_schedule="0 * * * *", overlap="skip")
def careful(context):
    return RunRequest()


defs = Definitions(jobs=[work], schedules=[careful])
"""


def test_overlap_acts_on_runs_that_take_the_assumed_duration(invoke, tmp_path):
    path = tmp_path / "overlap_defs.py"
    path.write_text(OVERLAP_DEFS)
    result = invoke(
        "schedule", "simulate", "careful", "-f", str(path), "--json", "--run-duration", "5400",
        "--from", "2024-01-01T00:00Z", "--to", "2024-01-01T04:30Z",
    )  # fmt: skip
    data = json.loads(result.output)
    ran = [r["scheduled_time"][11:16] for r in data["runs"]]
    assert ran == ["00:00", "02:00", "04:00"]
    skipped = [
        (i["reason"], i["scheduled_time"][11:16]) for t in data["ticks"] for i in t["not_run"]
    ]
    assert skipped == [("overlap", "01:00"), ("overlap", "03:00")]
    assert [r["finished"] for r in data["runs"]][:2] == [
        "2024-01-01T01:30:00+00:00",
        "2024-01-01T03:30:00+00:00",
    ]
