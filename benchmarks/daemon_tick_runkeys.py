"""Workload ``daemon_tick_runkeys``: one sensor pass making N new keyed runs on a fresh SQLite
home, then a pass 31 s later asking for the same N keys (no new run).

The daemon pass is driven through ``adapters/<impl>_adapter.py`` (in-process code location,
queued run coordinator). One row per N and pass; each repeat uses a fresh home.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _harness import IMPL, quiet_reference, report, unsupported

if IMPL != "tocsin":
    quiet_reference()
os.environ["BENCH_SENSORS"] = "runkeys"

from adapters import load

DEFS = str(Path(__file__).resolve().parent / "adapters" / "defs_runkeys.py")
T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
SIZES = {100: 3, 1000: 3, 5000: 2}
# The reference makes one SQLite event-log database per run on a SQLite home, so a new run
# costs it about 0.2-0.5 s here; larger N would take tens of minutes.
REFERENCE_SIZES = {100: 1}


def one_round(adapter, n: int) -> tuple[float, float]:
    import time

    os.environ["BENCH_RUNKEYS_N"] = str(n)
    with adapter.SensorDaemon(DEFS) as daemon:
        start = time.perf_counter()
        made = daemon.tick(T0)
        first = time.perf_counter() - start
        start = time.perf_counter()
        again = daemon.tick(T0 + timedelta(seconds=31))
        second = time.perf_counter() - start
        if made != n or again != 0 or daemon.run_count() != n:
            raise RuntimeError(f"expected {n} runs then none, got {made} then {again}")
    return first, second


def main() -> None:
    adapter = load()
    one_round(adapter, 10)  # warm imports and first-use caches
    sizes = SIZES if IMPL == "tocsin" else REFERENCE_SIZES
    for n in SIZES:
        if n not in sizes:
            why = "skipped: ~0.2-0.5 s per new run on a SQLite home (one event-log DB per run)"
            unsupported(f"daemon_tick_runkeys[{n} new]", why)
            unsupported(f"daemon_tick_runkeys[{n} duplicate]", why)
    for n, repeats in sizes.items():
        rounds = [one_round(adapter, n) for _ in range(repeats)]
        report(f"daemon_tick_runkeys[{n} new]", [r[0] for r in rounds], runs=n)
        report(f"daemon_tick_runkeys[{n} duplicate]", [r[1] for r in rounds], runs=n)


if __name__ == "__main__":
    main()
