"""Worker processes by pid and host: is one alive, and stop one (SIGTERM, then SIGKILL)."""

from __future__ import annotations

import os
import signal
import socket
import time

# The pid of the process executing a run, written by the launcher that started it, and the
# host it runs on (``socket.gethostname()``): a pid means something on that host only.
WORKER_PID_TAG = ".tocsin/worker_pid"
WORKER_HOST_TAG = ".tocsin/worker_host"


def this_host() -> str:
    """The name run workers started here record as their host."""
    return socket.gethostname()


def worker_host(tags: object) -> str | None:
    """The host recorded with a run's worker pid, or None (recorded before hosts were, or by a
    launcher that records none)."""
    text = getattr(tags, "get", lambda _k: None)(WORKER_HOST_TAG)
    return None if not text else str(text)


def is_on_this_host(tags: object, host: str | None = None) -> bool:
    """Whether a run's worker pid can be judged here: no host recorded, or this one."""
    recorded = worker_host(tags)
    return recorded is None or recorded == (host or this_host())


def worker_pid(tags: object) -> int | None:
    """The worker pid recorded on a run's tags, or None when there is none (or it is bad)."""
    text = getattr(tags, "get", lambda _k: None)(WORKER_PID_TAG)
    try:
        return None if text is None else int(text)
    except ValueError:
        return None


def pid_is_alive(pid: int) -> bool:
    """True while a process with this pid exists and has not exited (a zombie has exited)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return False  # no /proc (not Linux), or the process just went away
    # The state follows the parenthesised command name, which may itself contain spaces.
    state = text.rsplit(")", 1)[-1].split()
    if state and state[0] in ("Z", "X"):
        _reap(pid)
        return True
    return False


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass  # not our child: its own parent reaps it


def terminate_pid(pid: int, *, timeout: float = 10.0) -> bool:
    """Ask a process to stop, and kill it if it has not stopped within ``timeout`` seconds.

    Returns:
        True if the process was alive when asked.
    """
    if not pid_is_alive(pid):
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_is_alive(pid):
            return True
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return True
