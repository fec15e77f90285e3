"""Which run policies (overlap, pause after failures) apply to one sensor or schedule.

A sensor or schedule's own value (``InstigatorInfo.extras``, from its definition) wins; else
the instance-wide one (``sensors:`` / ``schedules:`` in tocsin.yaml); else the reference's
behaviour: ``overlap='allow'`` and no pause.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tocsin.automation.policies import ALLOW

OVERLAP = "overlap"
PAUSE_AFTER_FAILURES = "pause_after_failures"


@dataclass(frozen=True)
class RunPolicy:
    """``overlap``: one of ``tocsin.automation.policies.OVERLAP_POLICIES``;
    ``pause_after_failures``: 0 for never."""

    overlap: str = ALLOW
    pause_after_failures: int = 0


def policy_for(info: Any, defaults: Mapping[str, Any] | None = None) -> RunPolicy:
    """The policy of one instigator: its own values first, then ``defaults``."""
    own = dict(getattr(info, "extras", None) or {})
    defaults = defaults or {}
    overlap = own.get(OVERLAP) or defaults.get(OVERLAP) or ALLOW
    pause = own.get(PAUSE_AFTER_FAILURES)
    if pause is None:
        pause = defaults.get(PAUSE_AFTER_FAILURES)
    return RunPolicy(overlap=str(overlap), pause_after_failures=int(pause or 0))


def policy_defaults(instance: Any, section: str) -> dict[str, Any]:
    """The policy keys of the instance's ``sensors:`` or ``schedules:`` settings (none when
    the instance has no settings)."""
    get_settings = getattr(instance, "get_settings", None)
    try:
        settings = dict((get_settings(section) if get_settings else None) or {})
    except Exception:  # an instance without settings support: the reference's behaviour
        return {}
    return {
        key: settings[key]
        for key in (OVERLAP, PAUSE_AFTER_FAILURES)
        if settings.get(key) is not None
    }
