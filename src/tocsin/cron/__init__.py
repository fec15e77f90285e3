"""Cron expressions evaluated in an IANA time zone, with explicit daylight-saving rules.

A ``CronSchedule`` matches *wall-clock* times (``0 2 * * *`` means 02:00 on the clock in its
zone) and turns each matching wall time into real instants. Around daylight-saving changes a
wall time may not exist (spring forward) or may happen twice (fall back); ``DstPolicy`` says
what to do then:

* ``gap``: ``"transition"`` fires at the first instant after the gap (02:30 -> 03:00),
  ``"shift"`` moves the time forward by the gap length (02:30 -> 03:30), ``"skip"`` drops it.
* ``fold``: ``"second"`` or ``"first"`` picks one occurrence, ``"both"`` fires at both.

With no policy (``dst_policy=None``) a schedule keeps tocsin's default rules, which existing
schedules rely on: a time in the gap fires at the end of the gap, a repeated time fires once at
its second occurrence, and crons that run every hour (hour field ``*``) fire at every real
instant whose clock time matches (twice in the repeated hour, never in the gap). The finer
points of the default follow the measured behaviour in the project's DST reference.

The engine works on integer epoch seconds: a matching *wall* time is found with plain
arithmetic on the naive local clock, then mapped to an instant. Far from any offset change the
mapping is a subtraction; near one, every candidate wall time is mapped explicitly.
"""

from __future__ import annotations

from tocsin.cron.expression import CronParseError as CronParseError
from tocsin.cron.schedule import CronSchedule as CronSchedule
from tocsin.cron.schedule import DstPolicy as DstPolicy
from tocsin.cron.schedule import is_valid_cron as is_valid_cron
from tocsin.cron.zones import get_timezone as get_timezone

__all__ = [
    "CronParseError",
    "CronSchedule",
    "DstPolicy",
    "get_timezone",
    "is_valid_cron",
]
