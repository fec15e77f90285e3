"""Fixtures for the browser tests: ``tocsin dev`` on the quickstart, and headless Chromium.

The browser is the system's Chromium (``/usr/bin/chromium``, Debian's ``chromium`` package, or
the path in ``TOCSIN_CHROMIUM``) driven through Playwright's Python API; Playwright's own
browser downloads are never used. Without Chromium or Playwright the tests fail, saying what to
install. Screenshots go to ``$TOCSIN_TEST_ARTIFACTS/browser/`` (default:
``test-artifacts/browser/`` in the repository).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
QUICKSTART = REPO / "examples" / "quickstart" / "defs.py"
CHROMIUM = os.environ.get("TOCSIN_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium dials out at start, which a closed network
# refuses; the rest keep a fresh profile quiet and headless Chromium working as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGE_TIMEOUT_MS = 20_000


def wait_until(predicate: Callable[[], Any], timeout: float, interval: float = 0.25) -> Any:
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


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@dataclass
class Dev:
    """A running ``tocsin dev``: its web address, the quickstart inbox and its output so far."""

    url: str
    inbox: Path
    log_path: Path

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dev]:
    """``tocsin dev -f examples/quickstart/defs.py`` in temporary directories, on a free port."""
    root = tmp_path_factory.mktemp("dev")
    home, inbox = root / "home", root / "inbox"
    inbox.mkdir()
    port = _free_port()
    env = {
        **os.environ,
        "TOCSIN_HOME": str(home),
        "QUICKSTART_INBOX": str(inbox),
        "QUICKSTART_ALERTS": str(root / "alerts.log"),
    }
    log_path = root / "dev.log"
    command = [sys.executable, "-m", "tocsin.cli.main", "dev", "-f", str(QUICKSTART)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, "--interval", "0.5", "--port", str(port)],
            env=env,
            cwd=root,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    running = Dev(f"http://127.0.0.1:{port}", inbox, log_path)
    try:
        wait_until(lambda: "tocsin dev: running" in running.output(), timeout=30)
        wait_until(lambda: _answers(running.url + "/"), timeout=15)
        wait_until(lambda: "defs:sensor:inbox_sensor" in running.output(), timeout=30)
        yield running
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert process.returncode == 0, running.output()
    assert "Traceback" not in running.output(), running.output()


@pytest.fixture(scope="module")
def browser_context() -> Iterator[Any]:
    """Headless system Chromium with a fresh profile."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "The browser tests need Playwright's Python package: "
            "pip install -e '.[test]' (or pip install playwright). Do not run "
            "'playwright install'; the tests use the system Chromium."
        )
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"The browser tests need Chromium at {CHROMIUM}: apt-get install -y chromium "
            "(or point TOCSIN_CHROMIUM at a Chromium binary)."
        )
    with tempfile.TemporaryDirectory(prefix="tocsin-chromium-") as profile:
        playwright = sync_playwright().start()
        try:
            context = playwright.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1280, "height": 900},
            )
            context.set_default_timeout(PAGE_TIMEOUT_MS)
            try:
                yield context
            finally:
                context.close()
        finally:
            playwright.stop()


@pytest.fixture
def page(browser_context: Any) -> Iterator[Any]:
    """A new tab; the test fails if a page script throws."""
    tab = browser_context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield tab
    finally:
        tab.close()
    assert errors == [], errors


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go (kept after the run, ignored by git)."""
    root = Path(os.environ.get("TOCSIN_TEST_ARTIFACTS") or REPO / "test-artifacts")
    folder = root / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
