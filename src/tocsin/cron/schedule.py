"""``CronSchedule``: cron expressions in a time zone, with the daylight-saving rules.

``DstPolicy`` says what a schedule does with wall times that a clock change skips or repeats;
the rules themselves are described in the ``tocsin.cron`` package docstring.
"""

from __future__ import annotations

import datetime as _dt
import functools
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from tocsin.cron.expression import (
    _DAY,
    _EPOCH,
    _HOUR,
    CronParseError,
    _Cron,
)
from tocsin.cron.zones import _Coverage, _offsets, _zone_table, get_timezone

# Hours in which the default rules apply end-of-gap / second-occurrence handling to crons that
# do not run every hour; outside them the plain clock reading is kept (see the package docstring).
_DST_HOURS = frozenset({1, 2, 3})


# --------------------------------------------------------------------------- DST policy

_GAP_CHOICES = ("transition", "shift", "skip")
_FOLD_CHOICES = ("second", "first", "both")


@dataclass(frozen=True)
class DstPolicy:
    """What a schedule does with clock times that do not exist or happen twice.

    Args:
        gap: for a time skipped by a spring-forward change: ``"transition"`` (fire at the first
            instant after the gap), ``"shift"`` (fire later by the gap length) or ``"skip"``.
        fold: for a time repeated by a fall-back change: ``"second"``, ``"first"`` or ``"both"``.
    """

    gap: str = "transition"
    fold: str = "second"

    def __post_init__(self) -> None:
        if self.gap not in _GAP_CHOICES:
            raise CronParseError(
                f"dst_policy gap {self.gap!r} is not one of {', '.join(_GAP_CHOICES)}."
            )
        if self.fold not in _FOLD_CHOICES:
            raise CronParseError(
                f"dst_policy fold {self.fold!r} is not one of {', '.join(_FOLD_CHOICES)}."
            )

    @classmethod
    def coerce(cls, value: DstPolicy | str | None) -> DstPolicy | None:
        """Accept a ``DstPolicy``, ``None`` or a string such as ``"gap=skip,fold=both"``."""
        if value is None or isinstance(value, DstPolicy):
            return value
        if not isinstance(value, str):
            raise CronParseError(
                f"dst_policy must be a DstPolicy or a string like 'gap=skip,fold=both', "
                f"got {value!r}."
            )
        parts: dict[str, str] = {}
        for item in filter(None, (p.strip() for p in value.split(","))):
            key, sep, val = item.partition("=")
            key, val = key.strip(), val.strip()
            if not sep or key not in ("gap", "fold") or key in parts:
                raise CronParseError(
                    f"dst_policy {value!r}: cannot read {item!r}; write "
                    f"'gap=<{'|'.join(_GAP_CHOICES)}>,fold=<{'|'.join(_FOLD_CHOICES)}>', "
                    "each key at most once."
                )
            parts[key] = val
        return cls(**parts)

    def __str__(self) -> str:
        return f"gap={self.gap},fold={self.fold}"


# --------------------------------------------------------------------------- schedules


class CronSchedule:
    """One cron expression, or several (their ticks merged), in one time zone.

    Build one with ``CronSchedule.parse``. Every method takes and returns timezone-aware
    datetimes (a naive datetime is read as a wall time in the schedule's zone); results are in
    the schedule's zone.
    """

    __slots__ = ("_crons", "_table", "dst_policy", "expressions", "timezone", "tzinfo")

    def __init__(self, crons: Sequence[_Cron], timezone: str, dst_policy: DstPolicy | None):
        self._crons = tuple(crons)
        self.expressions: tuple[str, ...] = tuple(c.expr for c in crons)
        self.timezone = timezone
        self.tzinfo = get_timezone(timezone)
        self.dst_policy = dst_policy
        self._table = _zone_table(timezone)

    @classmethod
    def parse(
        cls,
        expr_or_list: str | Sequence[str],
        *,
        timezone: str | None = "UTC",
        dst_policy: DstPolicy | str | None = None,
    ) -> CronSchedule:
        """Parse and validate a cron expression (or a list of them) for a time zone.

        Args:
            expr_or_list: a 5-field cron such as ``"0 2 * * *"``, an ``@daily``-style alias, or
                a non-empty list of those (the schedule fires at the union of their ticks).
            timezone: an IANA zone name; ``None`` means UTC.
            dst_policy: a ``DstPolicy`` or a string like ``"gap=skip,fold=both"``; ``None``
                keeps tocsin's default daylight-saving rules.

        Raises:
            CronParseError: the expression, zone or policy is invalid; the message says why.
        """
        if isinstance(expr_or_list, str):
            exprs: list[str] = [expr_or_list]
        elif isinstance(expr_or_list, Sequence) and expr_or_list:
            exprs = list(expr_or_list)
        else:
            raise CronParseError(
                "cron_schedule must be a cron string like '0 2 * * *' or a non-empty list of "
                f"them, got {expr_or_list!r}."
            )
        crons = [_parse_cached(e) if isinstance(e, str) else _Cron.parse(e) for e in exprs]
        return cls(crons, timezone or "UTC", DstPolicy.coerce(dst_policy))

    # ---- public iteration

    def next_after(self, dt: _dt.datetime) -> _dt.datetime:
        """The first tick strictly after ``dt``."""
        ts = self._timestamp(dt)
        return self._datetime(self._next_ts(int(ts // 1)))

    def prev_before(self, dt: _dt.datetime) -> _dt.datetime:
        """The last tick strictly before ``dt``."""
        ts = self._timestamp(dt)
        return self._datetime(self._prev_ts(-int(-ts // 1)))

    def next_at_or_after(self, dt: _dt.datetime) -> _dt.datetime:
        """The first tick at or after ``dt``."""
        ts = self._timestamp(dt)
        return self._datetime(self._next_ts(-int(-ts // 1) - 1))

    def prev_at_or_before(self, dt: _dt.datetime) -> _dt.datetime:
        """The last tick at or before ``dt``."""
        ts = self._timestamp(dt)
        return self._datetime(self._prev_ts(int(ts // 1) + 1))

    def iter_after(self, dt: _dt.datetime) -> Iterator[_dt.datetime]:
        """Ticks strictly after ``dt``, ascending, without end."""
        ts = int(self._timestamp(dt) // 1)
        while True:
            ts = self._next_ts(ts)
            yield self._datetime(ts)

    def iter_before(self, dt: _dt.datetime) -> Iterator[_dt.datetime]:
        """Ticks strictly before ``dt``, descending."""
        ts = -int(-self._timestamp(dt) // 1)
        while True:
            ts = self._prev_ts(ts)
            yield self._datetime(ts)

    def gap_times(self, after: _dt.datetime, until: _dt.datetime) -> list[tuple[str, _dt.datetime]]:
        """Matching wall times that do not exist because clocks jumped forward in
        ``(after, until]``: each as ``("YYYY-MM-DD HH:MM", instant of the jump)``, oldest first.

        With ``dst_policy`` gap ``"skip"`` these are the times the schedule drops.
        """
        lo, hi = int(self._timestamp(after) // 1), int(self._timestamp(until) // 1)
        if hi <= lo:
            return []
        cov = self._table.ensure(lo - _DAY, hi + _DAY)
        found: list[tuple[str, _dt.datetime]] = []
        k = bisect_right(cov.trans, lo)
        while k < len(cov.trans) and cov.trans[k] <= hi:
            jump = cov.trans[k]
            before = cov.after[k - 1] if k else cov.before
            if cov.after[k] > before:  # a spring-forward: wall times [jump+before, jump+after)
                start, end = jump + before, jump + cov.after[k]
                for cron in self._crons:
                    wall = cron.next_wall(start - 1)
                    while wall < end:
                        naive = _EPOCH + _dt.timedelta(seconds=wall)
                        found.append((naive.strftime("%Y-%m-%d %H:%M"), self._datetime(jump)))
                        wall = cron.next_wall(wall)
            k += 1
        return sorted(set(found), key=lambda item: item[0])

    def is_tick(self, dt: _dt.datetime) -> bool:
        """Whether ``dt`` is exactly a tick of this schedule."""
        return self.next_at_or_after(dt).timestamp() == self._timestamp(dt)

    # ---- plumbing

    def _timestamp(self, dt: _dt.datetime) -> float:
        if not isinstance(dt, _dt.datetime):
            raise CronParseError(f"expected a datetime, got {dt!r}.")
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=self.tzinfo)
        return dt.timestamp()

    def _datetime(self, ts: int) -> _dt.datetime:
        return _dt.datetime.fromtimestamp(ts, self.tzinfo)

    def _next_ts(self, t: int) -> int:
        if len(self._crons) == 1:
            return self._next_one(self._crons[0], t)
        return min(self._next_one(cron, t) for cron in self._crons)

    def _prev_ts(self, t: int) -> int:
        if len(self._crons) == 1:
            return self._prev_one(self._crons[0], t)
        return max(self._prev_one(cron, t) for cron in self._crons)

    def _next_one(self, cron: _Cron, t: int) -> int:
        table = self._table
        cov = table.ensure(t - _DAY, t + _DAY)
        offset = cov.offset_at(t)
        instant = cron.next_wall(t + offset) - offset
        cov = table.ensure(t - _DAY, instant + 2 * _DAY)
        pad = cov.span
        # Far from offset changes a wall time maps to exactly one instant by subtraction.
        if not pad or not cov.has_change_between(t - pad, instant + pad):
            return instant
        return self._next_slow(cron, t, cov)

    def _prev_one(self, cron: _Cron, t: int) -> int:
        table = self._table
        cov = table.ensure(t - _DAY, t + _DAY)
        offset = cov.offset_at(t)
        instant = cron.prev_wall(t + offset) - offset
        cov = table.ensure(instant - 2 * _DAY, t + _DAY)
        pad = cov.span
        if not pad or not cov.has_change_between(instant - pad, t + pad):
            return instant
        return self._prev_slow(cron, t, cov)

    def _next_slow(self, cron: _Cron, t: int, cov: _Coverage) -> int:
        margin = cov.span + _HOUR
        wall = t + cov.o_lo - margin
        best: int | None = None
        while True:
            wall = cron.next_wall(wall)
            if best is not None and wall - cov.o_hi - margin > best:
                return best
            for instant in self._instants(cron, wall):
                if instant > t and (best is None or instant < best):
                    best = instant

    def _prev_slow(self, cron: _Cron, t: int, cov: _Coverage) -> int:
        margin = cov.span + _HOUR
        wall = t + cov.o_hi + margin
        best: int | None = None
        while True:
            wall = cron.prev_wall(wall)
            if best is not None and wall - cov.o_lo + margin < best:
                return best
            for instant in self._instants(cron, wall):
                if instant < t and (best is None or instant > best):
                    best = instant

    def _instants(self, cron: _Cron, wall: int) -> tuple[int, ...]:
        """The instants (epoch seconds) at which a matching wall time fires."""
        naive = _EPOCH + _dt.timedelta(seconds=wall)
        o0, o1 = _offsets(self.tzinfo, naive)
        if o0 == o1:
            return (wall - o0,)
        policy = self.dst_policy
        if o0 > o1:  # the clock was set back: the wall time happens twice
            first, second = wall - o0, wall - o1
            if policy is not None:
                fold = policy.fold
            elif cron.every_hour:
                fold = "both"
            elif cron.simple_shape and naive.hour not in _DST_HOURS:
                fold = "first"
            else:
                fold = "second"
            if fold == "both":
                return (first, second)
            return (first,) if fold == "first" else (second,)
        # the clock was set forward: the wall time does not exist
        if policy is None:
            return self._default_gap(cron, naive, wall, o0)
        if policy.gap == "skip":
            return ()
        if policy.gap == "shift":
            return (wall - o0,)
        return (self._transition_in(wall - o1, wall - o0),)

    def _default_gap(self, cron: _Cron, naive: _dt.datetime, wall: int, o0: int) -> tuple[int, ...]:
        if cron.every_hour:
            return ()
        if naive.hour not in _DST_HOURS:
            return (wall - o0,)
        # Top of the hour plus the zone's daylight-saving amount: the end of the gap.
        dst = (naive + _dt.timedelta(hours=1)).replace(tzinfo=self.tzinfo).dst()
        moved = wall - wall % _HOUR + (int(dst.total_seconds()) if dst else 0)
        m0, m1 = _offsets(self.tzinfo, _EPOCH + _dt.timedelta(seconds=moved))
        if m0 > m1 and (moved % _DAY) // _HOUR in _DST_HOURS:
            return (moved - m1,)
        return (moved - m0,)

    def _transition_in(self, lo: int, hi: int) -> int:
        found = self._table.ensure(lo, hi).transition_in(lo, hi)
        return hi if found is None else found

    # ---- values

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, CronSchedule)
            and self.expressions == other.expressions
            and self.timezone == other.timezone
            and self.dst_policy == other.dst_policy
        )

    def __hash__(self) -> int:
        return hash((self.expressions, self.timezone, self.dst_policy))

    def __repr__(self) -> str:
        exprs = self.expressions[0] if len(self.expressions) == 1 else list(self.expressions)
        policy = f", dst_policy={str(self.dst_policy)!r}" if self.dst_policy else ""
        return f"CronSchedule({exprs!r}, timezone={self.timezone!r}{policy})"


@functools.lru_cache(maxsize=1024)
def _parse_cached(expr: str) -> _Cron:
    return _Cron.parse(expr)


def is_valid_cron(expr: str | Sequence[str]) -> bool:
    """Whether ``expr`` (a cron string or a list of them) is a cron tocsin can schedule."""
    try:
        CronSchedule.parse(expr)
    except CronParseError:
        return False
    return True
