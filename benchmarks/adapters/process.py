"""Start an implementation's daemon as a subprocess on a home directory, and measure its memory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

IMPL = os.environ.get("BENCH_IMPL", "tocsin")
COMMANDS = {
    "tocsin": ("tocsin", ["daemon", "run", "--interval", "1"], "TOCSIN_HOME"),
    "dagster": ("dagster-daemon", ["run"], "DAGSTER_HOME"),
}


def start_daemon(defs_file: str, home: str, env: dict[str, str]) -> subprocess.Popen:
    """The daemon of the implementation under test, loading ``defs_file``, in its own session."""
    exe, args, home_var = COMMANDS[IMPL]
    command = [str(Path(sys.executable).parent / exe), *args, "-f", defs_file]
    full_env = {**os.environ, **env, home_var: home, "DAGSTER_DISABLE_TELEMETRY": "1"}
    log = open(Path(home) / "daemon.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        command, env=full_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop_daemon(process: subprocess.Popen) -> None:
    """Interrupt the daemon's process group (only the processes this module started)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def process_tree(root: int) -> list[int]:
    """``root`` and every descendant, from ``/proc``."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def tree_rss(root: int) -> tuple[int, int]:
    """(total resident bytes, process count) of ``root`` and its descendants."""
    pids = process_tree(root)
    return sum(rss_bytes(p) for p in pids), len(pids)


def log_tail(home: str, lines: int = 5) -> str:
    try:
        text = (Path(home) / "daemon.log").read_text(errors="replace")
    except OSError:
        return ""
    return " | ".join(text.strip().splitlines()[-lines:])
