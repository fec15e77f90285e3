"""The values of tocsin's per-instigator policies, checked where a sensor or schedule is defined.

``overlap`` says what a sensor or schedule does with a new run while one of its own runs is
still waiting or running (the daemon applies it, see ``tocsin.daemon.overlap``):

* ``allow`` -- start it anyway (the default, the reference's behaviour);
* ``skip`` -- do not make it; the tick records that the overlap policy dropped it;
* ``buffer_one`` -- keep at most one run waiting; later ones are recorded as not run;
* ``buffer_all`` -- keep every run waiting and start them in order, one at a time;
* ``cancel_other`` -- cancel the one in progress, then start the new one.

``pause_after_failures`` stops the sensor or schedule after that many consecutive failed
runs or failed ticks (0: never, even when tocsin.yaml sets a default).
"""

from __future__ import annotations

import datetime as dt
import difflib
from typing import Any

from tocsin.errors import DagsterInvalidDefinitionError

ALLOW = "allow"
SKIP = "skip"
BUFFER_ONE = "buffer_one"
BUFFER_ALL = "buffer_all"
CANCEL_OTHER = "cancel_other"
OVERLAP_POLICIES = (ALLOW, SKIP, BUFFER_ONE, BUFFER_ALL, CANCEL_OTHER)


def overlap_problem(value: Any) -> str | None:
    """What is wrong with an ``overlap`` value, as a sentence; None when it is valid."""
    if value is None or (isinstance(value, str) and value in OVERLAP_POLICIES):
        return None
    choices = ", ".join(repr(p) for p in OVERLAP_POLICIES)
    hint = ""
    if isinstance(value, str):
        normal = value.strip().lower().replace("-", "_").replace(" ", "_")
        close = difflib.get_close_matches(normal, OVERLAP_POLICIES, n=1)
        if close:
            hint = f" Did you mean {close[0]!r}?"
    return f"overlap must be one of {choices} (or None for the default), got {value!r}.{hint}"


def check_overlap(value: Any) -> str | None:
    """``value`` if it is a valid overlap policy or None.

    Raises:
        DagsterInvalidDefinitionError: any other value, naming the valid ones.
    """
    problem = overlap_problem(value)
    if problem is not None:
        raise DagsterInvalidDefinitionError(problem)
    return value


def pause_problem(value: Any) -> str | None:
    """What is wrong with a ``pause_after_failures`` value; None when it is valid."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return (
            "pause_after_failures must be a whole number >= 0 (0: never pause) or None, "
            f"got {value!r}."
        )
    return None


def seconds_of(value: Any) -> float | None:
    """A number of seconds or a ``timedelta`` as float seconds (None stays None)."""
    if value is None:
        return None
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return float(value)
