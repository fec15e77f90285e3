"""Pause Python's cyclic garbage collector while a tick turns its requests into runs.

Recording a tick that asked for thousands of runs allocates hundreds of thousands of short-
lived objects (requests, runs, rows, events). With the collector on, each few hundred of them
start a collection that walks every object still alive, the batch included, and the full
collections alone can take a good part of the tick. Reference counting frees all of these
objects anyway; the few cycles left behind are collected once the pause ends.

The pause is process-wide (that is how ``gc`` works) and nests across threads: the collector
comes back when the last pause ends, and only if it was on when the first one began.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the cyclic collector off (reference counting still frees memory)."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
