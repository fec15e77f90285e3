"""The daemon's handle on one user-code worker process.

Settings read: the per-request time limit (``timeout``), which the caller takes from the
sensor's ``evaluation_timeout`` or tocsin.yaml ``sensors: {evaluation_timeout_seconds}``
(default 60 s). A request that runs over kills the worker; the next request starts a new one.
A code location keeps a few of these (``tocsin.workspace.pool.WorkerPool``) so one slow
request does not hold up the others.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import threading
import time
from typing import Any

from tocsin.errors import TocsinError
from tocsin.model.errors_info import SerializableErrorInfo
from tocsin.workspace.protocol import write_message
from tocsin.workspace.workspace import LocationSpec

DEFAULT_TIMEOUT_SECONDS = 60.0


class WorkerTimeout(TocsinError):
    """A request to a user-code worker ran over its time limit."""


class WorkerFailed(TocsinError):
    """A request to a user-code worker failed; ``error_info`` says how."""

    def __init__(self, message: str, error_info: SerializableErrorInfo | None = None):
        super().__init__(message)
        self.error_info = error_info


class WorkerClient:
    """Starts the worker on first use and talks to it one request at a time."""

    def __init__(self, spec: LocationSpec, *, python: str | None = None):
        self.spec = spec
        self._python = python or sys.executable
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    @property
    def alive(self) -> bool:
        """Whether the worker process is started and has not exited."""
        proc = self._proc
        return proc is not None and proc.poll() is None

    def _start(self) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
        return subprocess.Popen(
            [self._python, "-m", "tocsin.workspace.worker", self.spec.to_json()],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=self.spec.working_directory or None,
            env=env,
            # Its own session: a Ctrl-C in the terminal stops the daemon, which then stops
            # its workers, instead of every worker printing a KeyboardInterrupt of its own.
            start_new_session=True,
        )

    def request(self, op: str, args: dict[str, Any] | None = None, *, timeout: float | None = None):
        """Send one request and return its value.

        Raises:
            WorkerTimeout: no answer within ``timeout`` seconds (the worker was replaced).
            WorkerFailed: the worker answered with an error, or died.
        """
        limit = DEFAULT_TIMEOUT_SECONDS if timeout is None else timeout
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._proc = self._start()
            proc = self._proc
            assert proc.stdin is not None and proc.stdout is not None
            try:
                write_message(proc.stdin, {"op": op, "args": args or {}})
                reply = _read_with_deadline(proc.stdout.fileno(), time.monotonic() + limit)
            except _Deadline:
                self._kill()
                raise WorkerTimeout(f"no answer from code location {self.spec.name!r} in {limit} s")
            except (EOFError, BrokenPipeError, OSError) as exc:
                self._kill()
                raise WorkerFailed(
                    f"the worker of code location {self.spec.name!r} exited: {exc}"
                ) from exc
        if reply.get("ok"):
            return reply.get("value")
        info = reply.get("load_error") or reply.get("error_info")
        message = info.message if info is not None else str(reply.get("error"))
        raise WorkerFailed(message, info)

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc is not None:
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    stream.close()

    def terminate(self) -> None:
        """Kill the worker now, even in the middle of a request (which then fails).

        Unlike ``close`` it does not wait for the request in flight; the thread that sent it
        cleans up.
        """
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()

    def close(self) -> None:
        with self._lock:
            proc = self._proc
            if proc is not None and proc.poll() is None and proc.stdin is not None:
                try:
                    write_message(proc.stdin, {"op": "shutdown"})
                    proc.wait(timeout=5)
                except (OSError, subprocess.TimeoutExpired):
                    pass
            self._kill()


class _Deadline(Exception):
    pass


def _read_exactly(fd: int, size: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        wait = deadline - time.monotonic()
        if wait <= 0:
            raise _Deadline()
        ready, _, _ = select.select([fd], [], [], wait)
        if not ready:
            raise _Deadline()
        chunk = os.read(fd, remaining)
        if not chunk:
            raise EOFError("worker closed its pipe")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _read_with_deadline(fd: int, deadline: float) -> Any:
    import pickle
    import struct

    (length,) = struct.unpack(">Q", _read_exactly(fd, 8, deadline))
    return pickle.loads(_read_exactly(fd, length, deadline))
