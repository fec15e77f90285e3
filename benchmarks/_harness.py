"""Shared helpers for benchmark workloads.

A workload script runs on either implementation: ``BENCH_IMPL`` names the package to import
(``tocsin`` by default, ``dagster`` for the reference). Each workload prints one JSON line per
figure: ``{"workload", "impl", "unit", "median", "min", "max", "repeats"}``.
"""

from __future__ import annotations

import importlib
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

IMPL = os.environ.get("BENCH_IMPL", "tocsin")


def package() -> ModuleType:
    """The implementation under test (``tocsin`` or ``dagster``)."""
    return importlib.import_module(IMPL)


def measure(fn: Callable[[], Any], *, repeats: int, warmup: int = 1) -> list[float]:
    """Call ``fn`` ``warmup + repeats`` times; return the last ``repeats`` durations in seconds."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def report(
    workload: str, samples: list[float], *, unit: str = "ms", scale: float = 1e3, **extra: Any
) -> None:
    """Print one JSON line with the median, min and max of ``samples`` (seconds) in ``unit``."""
    row = {
        "workload": workload,
        "impl": IMPL,
        "unit": unit,
        "median": round(statistics.median(samples) * scale, 4),
        "min": round(min(samples) * scale, 4),
        "max": round(max(samples) * scale, 4),
        "repeats": len(samples),
        **extra,
    }
    print(json.dumps(row), flush=True)


def unsupported(workload: str, why: str) -> None:
    """Print a row saying why this implementation cannot run the workload."""
    print(json.dumps({"workload": workload, "impl": IMPL, "unsupported": why}), flush=True)


def quiet_reference() -> None:
    """Keep the reference from printing warnings and telemetry into the figures."""
    import warnings

    warnings.simplefilter("ignore")
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")


if __name__ == "__main__":
    sys.exit("this module is a helper for the workload scripts")
