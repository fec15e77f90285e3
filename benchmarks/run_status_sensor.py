"""Workload ``run_status_sensor``: one run status sensor tick over 200 runs that finished
successfully after the sensor's initiating tick (runs made through the instance, each with
RUN_START and RUN_SUCCESS events). Driven through ``adapters/<impl>_adapter.py``.

Both implementations hand a run status sensor at most 5 runs per tick by default, so the tick
reads the 200 new events but acts on 5 of them.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _harness import IMPL, quiet_reference, report

if IMPL != "tocsin":
    quiet_reference()
os.environ["BENCH_SENSORS"] = "run_status"

from adapters import load

DEFS = str(Path(__file__).resolve().parent / "adapters" / "defs_runkeys.py")
T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
RUNS = 200
REPEATS = 3 if IMPL == "tocsin" else 2


def one_round(adapter) -> float:
    with adapter.SensorDaemon(DEFS) as daemon:
        daemon.tick(T0)  # initiating tick: the cursor starts after the newest event
        for _ in range(RUNS):
            daemon.add_finished_run("target_job")
        start = time.perf_counter()
        daemon.tick(T0 + timedelta(seconds=31))
        return time.perf_counter() - start


def main() -> None:
    adapter = load()
    samples = [one_round(adapter) for _ in range(REPEATS)]
    report(f"run_status_sensor[tick after {RUNS} finished runs]", samples, runs=RUNS)


if __name__ == "__main__":
    main()
