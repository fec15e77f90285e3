"""Tick retention: one pass per ``RetentionLoop.tick(now)`` deletes old sensor/schedule ticks.

By default SKIPPED ticks are deleted after 7 days and other ticks are kept. tocsin.yaml
``retention`` changes that per instigator kind, with one age for every status or an age per
status (-1 keeps them forever)::

    retention:
      sensor:
        purge_after_days: {skipped: 7, failure: 30, success: -1}
      schedule:
        purge_after_days: 90

Settings read: ``retention`` (above). A pass runs at most once an hour (``interval``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tocsin.daemon.common import TickReport
from tocsin.errors import ConfigError
from tocsin.model.ticks import InstigatorType, TickStatus

KINDS = {"sensor": InstigatorType.SENSOR, "schedule": InstigatorType.SCHEDULE}
STATUSES = {
    "skipped": TickStatus.SKIPPED,
    "success": TickStatus.SUCCESS,
    "failure": TickStatus.FAILURE,
    "started": TickStatus.STARTED,
}
DEFAULT_DAYS = {"skipped": 7}


@dataclass(frozen=True)
class RetentionSettings:
    """Days to keep ticks, ``{kind: {status name: days}}``; a missing status is kept."""

    days: Mapping[str, Mapping[str, float]] = field(
        default_factory=lambda: {kind: dict(DEFAULT_DAYS) for kind in KINDS}
    )


@dataclass
class RetentionReport(TickReport):
    purged: dict[str, int] = field(default_factory=dict)


def retention_settings(raw: Mapping[str, Any] | None) -> RetentionSettings:
    """``retention:`` of tocsin.yaml as ``RetentionSettings``.

    Raises:
        ConfigError: an unknown kind or status, or an age that is not a number.
    """
    raw = dict(raw or {})
    unknown = set(raw) - set(KINDS)
    if unknown:
        raise ConfigError(
            f"tocsin.yaml retention: unknown keys {sorted(unknown)}; use 'sensor' and 'schedule'."
        )
    days: dict[str, dict[str, float]] = {}
    for kind in KINDS:
        section = raw.get(kind)
        if section is None:
            days[kind] = dict(DEFAULT_DAYS)
            continue
        if not isinstance(section, Mapping) or set(section) - {"purge_after_days"}:
            raise ConfigError(
                f"retention.{kind} must be a mapping with 'purge_after_days', got {section!r}."
            )
        days[kind] = _ages(kind, section.get("purge_after_days"))
    return RetentionSettings(days)


def _ages(kind: str, value: Any) -> dict[str, float]:
    where = f"retention.{kind}.purge_after_days"
    if value is None:
        return dict(DEFAULT_DAYS)
    if isinstance(value, Mapping):
        bad = set(value) - set(STATUSES)
        if bad:
            raise ConfigError(
                f"{where} has unknown tick statuses {sorted(bad)}; use {sorted(STATUSES)}."
            )
        return {status: _days(f"{where}.{status}", v) for status, v in value.items()}
    age = _days(where, value)
    return {status: age for status in STATUSES}


def _days(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where} must be a number of days (-1 keeps forever), got {value!r}.")
    return float(value)


class RetentionLoop:
    """Deletes ticks older than their kind's and status's age.

    Args:
        instance: has ``ticks`` (``all_instigator_state``, ``purge_ticks``).
        settings: read from the instance's ``retention`` settings when omitted.
        interval: the least time between two passes that purge.
    """

    def __init__(
        self,
        instance: Any,
        settings: RetentionSettings | None = None,
        *,
        interval: timedelta = timedelta(hours=1),
    ):
        self.instance = instance
        if settings is None:
            get = getattr(instance, "get_settings", None)
            settings = retention_settings(get("retention") if get is not None else None)
        self.settings = settings
        self.interval = interval
        self.last_pass: datetime | None = None

    def tick(self, now: datetime) -> RetentionReport:
        report = RetentionReport(now=now)
        if self.last_pass is not None and now - self.last_pass < self.interval:
            return report
        self.last_pass = now
        ticks = self.instance.ticks
        for kind, instigator_type in KINDS.items():
            ages = self.settings.days.get(kind, {})
            origins = [s.origin_id for s in ticks.all_instigator_state(instigator_type)]
            for status_name, days in ages.items():
                if days < 0:
                    continue
                before = now - timedelta(days=days)
                status = STATUSES[status_name]
                count = sum(ticks.purge_ticks(o, before, [status]) for o in origins)
                key = f"{kind}:{status_name}"
                report.purged[key] = report.purged.get(key, 0) + count
        return report
