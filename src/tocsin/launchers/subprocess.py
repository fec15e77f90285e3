"""``SubprocessLauncher``: each run in its own process (the default launcher).

The process is ``python -m tocsin.launchers.run_worker <instance-ref> <run-id>``. Its stdout
and stderr go to the instance's compute log store when it has one (``instance.compute_logs``,
under step key ``run``), else to this process's. Cancelling a run terminates its process.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from typing import Any

from tocsin.launchers.base import RunLauncher
from tocsin.launchers.processes import (
    WORKER_HOST_TAG,
    WORKER_PID_TAG,
    is_on_this_host,
    terminate_pid,
    this_host,
    worker_pid,
)
from tocsin.launchers.run_worker import encode_ref
from tocsin.model.run import DagsterRun


class SubprocessLauncher(RunLauncher):
    def __init__(self, instance: Any, *, python: str | None = None):
        self.instance = instance
        self.python = python or sys.executable
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()

    def launch_run(self, run: DagsterRun) -> None:
        command = [
            self.python,
            "-m",
            "tocsin.launchers.run_worker",
            encode_ref(self.instance.get_ref()),
            run.run_id,
        ]
        out = self._log_file(run.run_id)
        proc = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT if out is not None else None
        )
        if out is not None:
            out.close()
        with self._lock:
            self._reap()
            self._procs[run.run_id] = proc
        # Recorded so that run monitoring (in this daemon or after a restart) can tell a
        # worker that died from one still working, and can stop it; the host says where the
        # pid means something when daemons run on several hosts.
        tags = {WORKER_PID_TAG: str(proc.pid), WORKER_HOST_TAG: this_host()}
        self.instance.add_run_tags(run.run_id, tags)

    def _log_file(self, run_id: str) -> Any:
        store = getattr(self.instance, "compute_log_manager", None)
        if store is None or not hasattr(store, "log_path"):
            return None
        if store is None:
            return None
        import os

        path = store.log_path(run_id, "run", "stdout")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return open(path, "ab")

    def _reap(self) -> None:
        for run_id, proc in list(self._procs.items()):
            if proc.poll() is not None:
                del self._procs[run_id]

    def is_running(self, run_id: str) -> bool:
        with self._lock:
            proc = self._procs.get(run_id)
            return proc is not None and proc.poll() is None

    def terminate(self, run_id: str) -> bool:
        with self._lock:
            proc = self._procs.pop(run_id, None)
        if proc is None:
            # Started by an earlier daemon process: stop it by the pid on the run, when the
            # run's worker is on this host (the same pid elsewhere is another process).
            run = self.instance.get_run_by_id(run_id)
            if run is None or not is_on_this_host(run.tags):
                return False
            pid = worker_pid(run.tags)
            return pid is not None and terminate_pid(pid)
        if proc.poll() is not None:
            return False
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        return True

    def dispose(self) -> None:
        """Wait briefly for finished children so none is left a zombie."""
        with self._lock:
            self._reap()
