"""Each step's stdout and stderr go to the instance's compute log store."""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from tocsin import DagsterInstance, RetryPolicy, in_process_executor, job, multiprocess_executor, op
from tocsin.execution.capture import capture_step_output
from tocsin.execution.run import execute_run


@op
def talk() -> int:
    print("out from talk")
    print("err from talk", file=sys.stderr)
    return 1


@op
def quiet(x: int) -> int:
    return x + 1


@op
def shout(x: int) -> None:
    print(f"shouting {x}")
    raise ValueError("shout failed")


@job(executor_def=in_process_executor)
def talk_in_process():
    quiet(talk())


@job(executor_def=multiprocess_executor)
def talk_multiprocess():
    quiet(talk())


@job(executor_def=in_process_executor)
def talk_then_fail():
    shout(talk())


def _read(instance, run_id: str, step_key: str, io_type: str) -> str:
    return instance.compute_log_manager.read(run_id, step_key, io_type)[0]


def _step_pids(instance, run_id: str) -> set[int]:
    return {
        e.dagster_event.pid
        for e in instance.all_logs(run_id)
        if e.dagster_event is not None and e.dagster_event.event_type_value == "STEP_START"
    }


def test_in_process_steps_keep_their_own_output(capsys: pytest.CaptureFixture[str]) -> None:
    with DagsterInstance.ephemeral() as instance:
        result = talk_in_process.execute_in_process(instance=instance)
        assert result.success
        run_id = result.run_id
        assert _read(instance, run_id, "talk", "stdout") == "out from talk\n"
        assert _read(instance, run_id, "talk", "stderr") == "err from talk\n"
        # A step that printed nothing leaves no log behind.
        manager = instance.compute_log_manager
        assert not os.path.exists(manager.log_path(run_id, "quiet", "stdout"))
        assert not os.path.exists(manager.log_path(run_id, "quiet", "stderr"))
    # The output still reaches the streams it was printed to, and those are back in place.
    printed = capsys.readouterr()
    assert "out from talk" in printed.out and "err from talk" in printed.err
    assert type(sys.stdout).__name__ != "_Tee" and type(sys.stderr).__name__ != "_Tee"


def test_multiprocess_steps_write_their_output_from_the_child() -> None:
    with DagsterInstance.ephemeral() as instance:
        run = instance.create_run(job_name="talk_multiprocess")
        result = execute_run(talk_multiprocess, run, instance)
        assert result.success, [e.message for e in instance.all_logs(run.run_id)]
        pids = _step_pids(instance, run.run_id)
        assert pids and os.getpid() not in pids
        assert _read(instance, run.run_id, "talk", "stdout") == "out from talk\n"
        assert _read(instance, run.run_id, "talk", "stderr") == "err from talk\n"
        assert _read(instance, run.run_id, "quiet", "stdout") == ""


def test_a_failing_step_still_keeps_its_output() -> None:
    with DagsterInstance.ephemeral() as instance:
        result = talk_then_fail.execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success
        assert _read(instance, result.run_id, "shout", "stdout") == "shouting 1\n"
        assert _read(instance, result.run_id, "talk", "stdout") == "out from talk\n"


@op(retry_policy=RetryPolicy(max_retries=1))
def flaky(context) -> None:
    print(f"attempt {context.retry_number}")
    if context.retry_number == 0:
        raise ValueError("first attempt fails")


@job(executor_def=in_process_executor)
def flaky_job():
    flaky()


def test_output_of_every_attempt_is_kept() -> None:
    with DagsterInstance.ephemeral() as instance:
        result = flaky_job.execute_in_process(instance=instance)
        assert result.success
        assert _read(instance, result.run_id, "flaky", "stdout") == "attempt 0\nattempt 1\n"


class _Store:
    def __init__(self) -> None:
        self.writes: list[tuple[str, str, str, str]] = []

    def write(self, run_id: str, step_key: str, io_type: str, data: str) -> None:
        self.writes.append((run_id, step_key, io_type, data))


def test_without_a_store_nothing_is_swapped() -> None:
    before = sys.stdout
    with capture_step_output(None, "r", "s"):
        assert sys.stdout is before
    assert sys.stdout is before


def test_nested_capture_keeps_output_in_the_innermost_step() -> None:
    store = _Store()
    with capture_step_output(store, "r", "outer"):
        print("one")
        with capture_step_output(store, "r2", "inner"):
            print("two")
        print("three")
    assert store.writes == [
        ("r2", "inner", "stdout", "two\n"),
        ("r", "outer", "stdout", "one\nthree\n"),
    ]


def test_steps_in_concurrent_threads_keep_only_their_own_output() -> None:
    store = _Store()
    barrier = threading.Barrier(2)

    def step(name: str) -> None:
        with capture_step_output(store, "r", name):
            barrier.wait()  # both captures are open here
            print(f"from {name}")
            barrier.wait()

    threads = [threading.Thread(target=step, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(store.writes) == [
        ("r", "a", "stdout", "from a\n"),
        ("r", "b", "stdout", "from b\n"),
    ]
    assert type(sys.stdout).__name__ != "_Tee"


def test_a_store_that_fails_to_write_does_not_fail_the_step(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken:
        def write(self, *args: object) -> None:
            raise OSError("disk full")

    with (
        caplog.at_level(logging.WARNING, logger="tocsin"),
        capture_step_output(Broken(), "r", "s"),
    ):
        print("lost")
    assert "Could not store the stdout of step s of run r: disk full" in caplog.text


# ---------------------------------------------------------------------------- the CLI

DEFS = """
import sys
from tocsin import Definitions, job, op


@op
def chatty():
    print("hello from chatty")
    print("warning from chatty", file=sys.stderr)


@job
def chatter():
    chatty()


defs = Definitions(jobs=[chatter])
"""


def test_run_logs_shows_what_a_step_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tocsin.cli.main import cli

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("TOCSIN_HOME", str(home))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    defs_file = tmp_path / "chatter_defs.py"
    defs_file.write_text(DEFS)

    def invoke(*args: str):
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    invoke("job", "execute", "chatter", "-f", str(defs_file))
    with DagsterInstance.get() as instance:
        (run,) = instance.get_runs()
    out = invoke("run", "logs", run.run_id)
    assert "=== chatty (stdout)" in out and "hello from chatty" in out
    assert "warning from chatty" not in out
    err = invoke("run", "logs", run.run_id, "--stderr", "--step", "chatty")
    assert "=== chatty (stderr)" in err and "warning from chatty" in err
