"""Workload ``end_to_end``: file drop to run SUCCESS with the daemon running as a subprocess
(``tocsin daemon run`` / ``dagster-daemon run``, default run launcher, sensor interval 1 s).

Latency runs from writing the file to the run's SUCCESS seen by polling the instance every
20 ms. A first drop warms the daemon (its first evaluation, the first run process) and is not
counted.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from _harness import IMPL, quiet_reference, report, unsupported

if IMPL != "tocsin":
    quiet_reference()

from adapters import load
from adapters.process import log_tail, start_daemon, stop_daemon

DEFS = str(Path(__file__).resolve().parent / "adapters" / "defs_drop.py")
REPEATS = 5 if IMPL == "tocsin" else 3
WARM_TIMEOUT = 120.0
DROP_TIMEOUT = 60.0


def wait_for_new_success(adapter, instance, known: set[str], timeout: float) -> float | None:
    """When a run not in ``known`` finished SUCCESS; raises if it finished otherwise."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        found = {k: v for k, v in adapter.finished_runs(instance).items() if k not in known}
        if found:
            known |= set(found)
            if set(found.values()) != {"SUCCESS"}:
                raise RuntimeError(f"run finished {sorted(set(found.values()))}, not SUCCESS")
            return time.perf_counter()
        time.sleep(0.02)
    return None


def main() -> None:
    adapter = load()
    home = tempfile.mkdtemp(prefix=f"bench-e2e-{IMPL}-")
    drops = Path(home) / "drops"
    drops.mkdir()
    process = start_daemon(DEFS, home, {"BENCH_DROP_DIR": str(drops), "BENCH_IMPL": IMPL})
    try:
        return _measure(adapter, home, drops, process)
    except RuntimeError as exc:
        unsupported("end_to_end[drop to SUCCESS]", f"{exc}: {log_tail(home, 2)}")
    finally:
        stop_daemon(process)
        shutil.rmtree(home, ignore_errors=True)


def _measure(adapter, home: str, drops: Path, process) -> None:
    instance = None
    try:
        # The daemon makes the instance's storage; wait for it before opening it here.
        instance = _open_when_ready(adapter, home, process)
        known: set[str] = set()
        (drops / "warm.txt").write_text("warm")
        if wait_for_new_success(adapter, instance, known, WARM_TIMEOUT) is None:
            unsupported("end_to_end[drop to SUCCESS]", f"no SUCCESS run: {log_tail(home)}")
            return
        samples = []
        for i in range(REPEATS):
            time.sleep(0.37 * (i % 3))  # land drops at different points of the 1 s interval
            start = time.perf_counter()
            (drops / f"file-{i}.txt").write_text(str(i))
            done = wait_for_new_success(adapter, instance, known, DROP_TIMEOUT)
            if done is None:
                unsupported("end_to_end[drop to SUCCESS]", f"drop {i} timed out: {log_tail(home)}")
                return
            samples.append(done - start)
        report("end_to_end[drop to SUCCESS]", samples, unit="s", scale=1.0, interval_s=1)
    finally:
        if instance is not None:
            instance.dispose()


def _open_when_ready(adapter, home: str, process):
    deadline = time.perf_counter() + WARM_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"daemon exited {process.returncode}: {log_tail(home)}")
        try:
            instance = adapter.open_home(home)
            adapter.finished_runs(instance)
            return instance
        except Exception:
            if time.perf_counter() > deadline:
                raise
            time.sleep(0.2)


if __name__ == "__main__":
    os.environ.setdefault("BENCH_IMPL", IMPL)
    main()
