"""Workload ``import``: wall time of ``import <package>`` in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
import time

from _harness import IMPL, report


def once() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {IMPL}"], check=True)
    return time.perf_counter() - start


def baseline() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - start


if __name__ == "__main__":
    once()
    empty = sorted(baseline() for _ in range(5))[2]
    samples = [max(once() - empty, 0.0) for _ in range(15)]
    report("import", samples, note="fresh process, interpreter start-up subtracted")
