"""Per-implementation adapters that drive one daemon pass; ``load()`` picks by ``BENCH_IMPL``."""

from __future__ import annotations

import importlib
import os


def load():
    """The adapter module for the implementation under test."""
    impl = os.environ.get("BENCH_IMPL", "tocsin")
    return importlib.import_module(f"adapters.{impl}_adapter")
