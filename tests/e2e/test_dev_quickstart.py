"""``tocsin dev -f examples/quickstart/defs.py`` as a real process: a dropped file becomes a
SUCCESS run that ``tocsin run list --json`` shows, and Ctrl-C (SIGINT) stops dev cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart" / "defs.py"


def wait_until(predicate: Callable[[], object], timeout: float, interval: float = 0.2):
    """Poll ``predicate`` until it returns something truthy, or fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tocsin(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "tocsin.cli.main", *args]
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=30)


def _runs(env: dict[str, str], cwd: Path) -> list[dict]:
    out = _tocsin("run", "list", "--json", env=env, cwd=cwd)
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def _web_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def test_dev_turns_a_dropped_file_into_a_successful_run(tmp_path: Path):
    home, inbox = tmp_path / "home", tmp_path / "inbox"
    inbox.mkdir()
    port = _free_port()
    env = {
        **os.environ,
        "TOCSIN_HOME": str(home),
        "QUICKSTART_INBOX": str(inbox),
        "QUICKSTART_ALERTS": str(tmp_path / "alerts.log"),
    }
    log = (tmp_path / "dev.log").open("w+b")
    args = ["--interval", "0.5", "--port", str(port)]
    dev = subprocess.Popen(
        [sys.executable, "-m", "tocsin.cli.main", "dev", "-f", str(QUICKSTART), *args],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def output() -> str:
        if not log.closed:
            log.flush()
        return (tmp_path / "dev.log").read_text(errors="replace")

    try:
        wait_until(lambda: "tocsin dev: running" in output(), timeout=20)
        assert "code location defs: sensor inbox_sensor" in output()
        assert str(home) in output()
        assert f"http://127.0.0.1:{port}" in output()
        wait_until(lambda: _web_answers(port), timeout=10)
        wait_until(lambda: "defs:sensor:inbox_sensor" in output(), timeout=20)
        (inbox / "hello.txt").write_text("hello, tocsin")

        def finished():
            runs = [r for r in _runs(env, tmp_path) if r["job_name"] == "log_file_job"]
            done = [r for r in runs if r["status"] in ("SUCCESS", "FAILURE", "CANCELED")]
            return done or None

        runs = wait_until(finished, timeout=30)
        assert [r["status"] for r in runs] == ["SUCCESS"], output()
        assert runs[0]["tags"]["dagster/run_key"].startswith("hello.txt:")
    finally:
        dev.send_signal(signal.SIGINT)
        try:
            dev.wait(timeout=20)
        except subprocess.TimeoutExpired:
            dev.kill()
            dev.wait()
        log.close()
    assert dev.returncode == 0, output()
    assert "tocsin dev: stopped." in output()
    assert "Traceback" not in output()
