"""Workload ``daemon_idle_rss``: total resident memory of an idle daemon (10 sensors, interval
30 s, each skipping) and all its child processes (code-location workers, code servers).

Sampled at 20, 25 and 30 s after start (``/proc`` VmRSS summed over the process tree; shared
pages count once per process, so this is an upper bound). Reported in MiB.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from _harness import IMPL, quiet_reference, report, unsupported

if IMPL != "tocsin":
    quiet_reference()

from adapters.process import log_tail, start_daemon, stop_daemon, tree_rss

DEFS = str(Path(__file__).resolve().parent / "adapters" / "defs_drop.py")
SAMPLE_AT = (20.0, 25.0, 30.0)


def main() -> None:
    home = tempfile.mkdtemp(prefix=f"bench-idle-{IMPL}-")
    process = start_daemon(DEFS, home, {"BENCH_IDLE_SENSORS": "10", "BENCH_IMPL": IMPL})
    started = time.perf_counter()
    samples: list[float] = []
    counts: list[int] = []
    try:
        for at in SAMPLE_AT:
            time.sleep(max(0.0, started + at - time.perf_counter()))
            if process.poll() is not None:
                unsupported("daemon_idle_rss[10 sensors]", f"daemon exited: {log_tail(home)}")
                return
            total, count = tree_rss(process.pid)
            samples.append(total)
            counts.append(count)
        report(
            "daemon_idle_rss[10 sensors]",
            samples,
            unit="MiB",
            scale=1 / 2**20,
            processes=max(counts),
            sampled_at_s=list(SAMPLE_AT),
        )
    finally:
        stop_daemon(process)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
