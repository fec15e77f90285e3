"""The user-code worker process: answers, load errors, reloads, and time limits."""

from __future__ import annotations

import os

import pytest

from tocsin.workspace.client import WorkerClient, WorkerFailed, WorkerTimeout
from tocsin.workspace.location import WorkerLocation
from tocsin.workspace.workspace import spec_for_file


@pytest.fixture
def client_for(tmp_path):
    clients = []

    def make(source: str) -> WorkerClient:
        path = tmp_path / "defs.py"
        path.write_text(source)
        client = WorkerClient(spec_for_file(str(path)))
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def test_worker_answers_and_user_prints_do_not_corrupt_the_pipe(client_for):
    client = client_for("print('hello from user code')\n")
    assert client.request("load_error") is None
    assert client.request("list_instigators") == []
    assert client.request("ping") == client.pid


def test_a_location_that_raises_on_import_reports_its_traceback(client_for):
    client = client_for("raise RuntimeError('broken definitions')\n")
    error = client.request("load_error")
    assert "RuntimeError: broken definitions" in error.to_string()
    with pytest.raises(WorkerFailed, match="broken definitions"):
        client.request("list_instigators")


def test_changed_code_is_reloaded_and_a_slow_request_replaces_the_worker(client_for, tmp_path):
    client = client_for("X = 1\n")
    assert client.request("load_error") is None
    first_pid = client.pid
    path = tmp_path / "defs.py"
    path.write_text("import time\ntime.sleep(30)\n")
    os.utime(path, (1, 1))  # a different mtime even within the same clock tick
    with pytest.raises(WorkerTimeout):
        client.request("load_error", timeout=0.5)
    assert client.pid is None
    path.write_text("raise ValueError('fixed, then broken again')\n")
    assert "fixed, then broken again" in client.request("load_error").to_string()
    assert client.pid != first_pid


def test_a_timed_out_evaluation_says_how_to_raise_the_limit(tmp_path):
    path = tmp_path / "defs.py"
    path.write_text("X = 1\n")
    location = WorkerLocation(spec_for_file(str(path)))
    try:
        assert location.load_error() is None
        path.write_text("import time\ntime.sleep(30)\n")
        os.utime(path, (2, 2))
        evaluation = location.evaluate_sensor("slow", timeout=0.5)
    finally:
        location.close()
    assert evaluation.is_timeout
    assert "evaluation_timeout" in evaluation.error.message
    assert "context.update_cursor()" in evaluation.error.message
