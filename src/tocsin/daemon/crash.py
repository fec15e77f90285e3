"""Deterministic crash points for the crash-safety tests.

``TOCSIN_CRASH_AT=<point>:<n>`` makes the daemon process kill itself (SIGKILL, so nothing is
cleaned up) the ``n``-th time it reaches ``<point>``. The sensor loop has the points
``before_evaluate``, ``after_evaluate`` (before the tick's transaction) and ``after_commit``
(before the new runs are submitted). Without the variable a crash point costs one dict look-up.
"""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter

CRASH_ENV = "TOCSIN_CRASH_AT"
POINTS = ("before_evaluate", "after_evaluate", "after_commit")

_lock = threading.Lock()
_reached: Counter[str] = Counter()


def _target() -> tuple[str, int] | None:
    text = os.environ.get(CRASH_ENV)
    if not text:
        return None
    point, _, count = text.partition(":")
    if point not in POINTS or not count.isdigit():
        raise ValueError(
            f"{CRASH_ENV}={text!r} is not '<point>:<n>' with a point among {list(POINTS)}, "
            "e.g. after_commit:17."
        )
    return point, int(count)


def crash_point(name: str) -> None:
    """Kill this process here if ``TOCSIN_CRASH_AT`` names this point and its turn has come."""
    target = _target()
    if target is None or target[0] != name:
        return
    with _lock:
        _reached[name] += 1
        if _reached[name] == target[1]:
            os.kill(os.getpid(), signal.SIGKILL)
