"""Time zones for the cron engine: cached ``ZoneInfo`` objects and tables of offset changes."""

from __future__ import annotations

import datetime as _dt
import functools
import itertools
import threading
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tocsin.cron.expression import _DAY, _EPOCH, _EPOCH_ORDINAL, _HOUR, CronParseError


@functools.lru_cache(maxsize=256)
def get_timezone(name: str) -> ZoneInfo:
    """Return the (cached) ``ZoneInfo`` for an IANA zone name.

    Raises:
        CronParseError: the name is not a known IANA time zone.
    """
    if not isinstance(name, str) or not name:
        raise CronParseError(f"timezone must be an IANA zone name such as 'UTC', got {name!r}.")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CronParseError(
            f"timezone {name!r} is not a known IANA time zone; use a name such as "
            "'UTC', 'America/New_York' or 'Europe/Berlin'."
        ) from None


def _offset(tz: ZoneInfo, ts: int) -> int:
    off = _dt.datetime.fromtimestamp(ts, tz).utcoffset()
    return int(off.total_seconds()) if off is not None else 0


@dataclass(frozen=True)
class _Coverage:
    """An immutable snapshot of a zone's offset changes over a range of years."""

    trans: tuple[int, ...] = ()  # instants (epoch s) at which the offset changes
    after: tuple[int, ...] = ()  # offset in effect from trans[k]
    before: int = 0  # offset before the first covered instant
    year_lo: int = 0  # covered years, inclusive; 0 = nothing yet
    year_hi: int = 0
    cov_lo: int = 0  # covered instants
    cov_hi: int = 0
    o_lo: int = 0  # smallest and largest offset seen
    o_hi: int = 0
    span: int = 0  # largest offset change: the longest gap or fold

    def covers(self, lo: int, hi: int) -> bool:
        return bool(self.year_lo) and self.cov_lo <= lo and hi <= self.cov_hi

    def offset_at(self, ts: int) -> int:
        k = bisect_right(self.trans, ts)
        return self.after[k - 1] if k else self.before

    def has_change_between(self, lo: int, hi: int) -> bool:
        k = bisect_left(self.trans, lo)
        return k < len(self.trans) and self.trans[k] <= hi

    def transition_in(self, lo: int, hi: int) -> int | None:
        k = bisect_right(self.trans, lo)
        return self.trans[k] if k < len(self.trans) and self.trans[k] <= hi else None


class _ZoneTable:
    """Offset changes of one zone, found by sampling and kept for the years asked about.

    Sampling every six hours finds every change except two that undo each other within six
    hours, which no real zone has. The table is replaced, never changed in place, so threads
    can share it: readers take one ``_Coverage`` snapshot.
    """

    _STEP = 6 * _HOUR

    def __init__(self, tz: ZoneInfo):
        self.tz = tz
        self.coverage = _Coverage()
        self._lock = threading.Lock()

    @staticmethod
    def _year_start(year: int) -> int:
        return (_dt.date(year, 1, 1).toordinal() - _EPOCH_ORDINAL) * _DAY

    def _scan(self, start: int, end: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        trans: list[int] = []
        after: list[int] = []
        prev_ts, prev = start, _offset(self.tz, start)
        ts = start
        while ts < end:
            ts = min(ts + self._STEP, end)
            off = _offset(self.tz, ts)
            if off != prev:
                lo, hi = prev_ts, ts  # offset(lo) == prev, offset(hi) != prev
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    if _offset(self.tz, mid) == prev:
                        lo = mid
                    else:
                        hi = mid
                trans.append(hi)
                after.append(off)
                prev = off
            prev_ts = ts
        return tuple(trans), tuple(after)

    def ensure(self, lo: int, hi: int) -> _Coverage:
        """A snapshot that covers the instants ``lo``..``hi`` (epoch seconds)."""
        cov = self.coverage
        if cov.covers(lo, hi):
            return cov
        with self._lock:
            cov = self.coverage
            if not cov.covers(lo, hi):
                cov = self.coverage = self._extend(cov, lo, hi)
        return cov

    def _extend(self, cov: _Coverage, lo: int, hi: int) -> _Coverage:
        y_lo = min(max((_EPOCH + _dt.timedelta(seconds=lo)).year, 2), 9997)
        y_hi = min(max((_EPOCH + _dt.timedelta(seconds=hi)).year, 2), 9997)
        trans, after, before = cov.trans, cov.after, cov.before
        year_lo, year_hi, cov_lo, cov_hi = cov.year_lo, cov.year_hi, cov.cov_lo, cov.cov_hi
        if not year_lo or y_lo > year_hi + 2 or y_hi < year_lo - 2:
            # nothing yet, or far from what is known: start afresh rather than fill years between
            year_lo, year_hi = y_lo, y_lo - 1
            cov_lo = cov_hi = self._year_start(y_lo)
            trans, after, before = (), (), _offset(self.tz, cov_lo)
        if y_lo < year_lo:
            start = self._year_start(y_lo)
            more_trans, more_after = self._scan(start, cov_lo)
            trans, after = more_trans + trans, more_after + after
            year_lo, cov_lo, before = y_lo, start, _offset(self.tz, start)
        if y_hi > year_hi:
            end = self._year_start(y_hi + 1)
            more_trans, more_after = self._scan(cov_hi, end)
            trans, after = trans + more_trans, after + more_after
            year_hi, cov_hi = y_hi, end
        offsets = (before, *after)
        return _Coverage(
            trans=trans,
            after=after,
            before=before,
            year_lo=year_lo,
            year_hi=year_hi,
            cov_lo=cov_lo,
            cov_hi=cov_hi,
            o_lo=min(offsets),
            o_hi=max(offsets),
            span=max((abs(a - b) for a, b in itertools.pairwise(offsets)), default=0),
        )


@functools.lru_cache(maxsize=256)
def _zone_table(name: str) -> _ZoneTable:
    return _ZoneTable(get_timezone(name))


def _offsets(tz: ZoneInfo, naive: _dt.datetime) -> tuple[int, int]:
    """UTC offsets (seconds) of a wall time read as the first and as the second occurrence."""
    o0 = naive.replace(tzinfo=tz).utcoffset()
    o1 = naive.replace(tzinfo=tz, fold=1).utcoffset()
    return (
        int(o0.total_seconds()) if o0 is not None else 0,
        int(o1.total_seconds()) if o1 is not None else 0,
    )
