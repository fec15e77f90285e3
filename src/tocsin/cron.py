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

import calendar
import datetime as _dt
import functools
import itertools
import re
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tocsin.errors import DagsterInvalidDefinitionError

__all__ = [
    "CronParseError",
    "CronSchedule",
    "DstPolicy",
    "get_timezone",
    "is_valid_cron",
]

_UTC = _dt.UTC
_EPOCH = _dt.datetime(1970, 1, 1)
_EPOCH_ORDINAL = _EPOCH.toordinal()
_DAY = 86400
_HOUR = 3600
# Hours in which the default rules apply end-of-gap / second-occurrence handling to crons that
# do not run every hour; outside them the plain clock reading is kept (see module docstring).
_DST_HOURS = frozenset({1, 2, 3})
_MAX_YEARS_AHEAD = 400  # the Gregorian calendar repeats every 400 years


class CronParseError(DagsterInvalidDefinitionError, ValueError):
    """A cron expression, time zone or DST policy that tocsin cannot use."""


# --------------------------------------------------------------------------- time zones


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


# --------------------------------------------------------------------------- parsing

_MONTH_NAMES = {n.lower(): i for i, n in enumerate(calendar.month_abbr) if n}
_DOW_NAMES = {n: i for i, n in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}
_ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MAX_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclass(frozen=True)
class _Field:
    name: str
    plural: str
    lo: int
    hi: int
    names: dict[str, int] | None = None

    def allowed(self) -> str:
        text = f"{self.plural} run {self.lo}-{self.hi}"
        if self.names is _MONTH_NAMES:
            text += " or JAN-DEC"
        elif self.names is _DOW_NAMES:
            text += " (0 and 7 are Sunday) or SUN-SAT"
        return text


_FIELDS = (
    _Field("minute", "minutes", 0, 59),
    _Field("hour", "hours", 0, 23),
    _Field("day of month", "days of month", 1, 31),
    _Field("month", "months", 1, 12, _MONTH_NAMES),
    _Field("day of week", "days of week", 0, 7, _DOW_NAMES),
)
_RANGE_RE = re.compile(r"^([^-/]+)(?:-([^-/]+))?(?:/(.*))?$")


class _Parser:
    def __init__(self, expr: str):
        self.expr = expr

    def fail(self, message: str) -> CronParseError:
        return CronParseError(f"cron_schedule {self.expr!r} {message}")

    def value(self, field: _Field, token: str) -> int:
        low = token.lower()
        if field.names is not None and low in field.names:
            return field.names[low]
        if not token.isdigit():
            if low == "h" or low.startswith("h("):
                raise self.fail(
                    f"uses 'H' in the {field.name} field; hashed values are not supported, "
                    f"pick a number ({field.allowed()})."
                )
            raise self.fail(f"has {field.name} {token!r}; {field.allowed()}.")
        number = int(token)
        if not field.lo <= number <= field.hi:
            raise self.fail(f"has {field.name} {number}; {field.allowed()}.")
        return number

    def item(self, field: _Field, item: str) -> list[int]:
        match = _RANGE_RE.match(item)
        if match is None:
            raise self.fail(f"has {field.name} {item!r}; {field.allowed()}.")
        start, end, step_text = match.groups()
        top = 6 if field.names is _DOW_NAMES else field.hi
        step = 1
        if step_text is not None:
            if not step_text.isdigit() or int(step_text) == 0:
                raise self.fail(
                    f"has step {step_text!r} in the {field.name} field; a step is a whole "
                    "number of at least 1, as in '*/15'."
                )
            step = int(step_text)
        if start in ("*", "?"):
            if end is not None:
                raise self.fail(f"has {field.name} {item!r}; {field.allowed()}.")
            return list(range(field.lo, top + 1, step))
        first = self.value(field, start)
        if end is None:
            return list(range(first, top + 1, step)) if step_text is not None else [first]
        last = self.value(field, end)
        if field.names is _DOW_NAMES and last == 7 and first > 0:
            last = 6 if first <= 6 else 7
            values = list(range(first, last + 1)) + ([0] if first <= 6 else [])
        elif first <= last:
            values = list(range(first, last + 1))
        else:  # a range that wraps around, such as FRI-MON or 22-2
            values = list(range(first, top + 1)) + list(range(field.lo, last + 1))
        return values[::step]

    def field(self, index: int, text: str) -> tuple[frozenset[int], set[str | tuple[int, int]]]:
        field = _FIELDS[index]
        values: set[int] = set()
        specials: set[str | tuple[int, int]] = set()
        for item in text.split(","):
            low = item.lower()
            if not item:
                raise self.fail(f"has an empty item in the {field.name} field {text!r}.")
            if "w" in low and index == 2:
                raise self.fail(
                    f"uses {item!r} in the day-of-month field; 'W' (nearest weekday) is not "
                    "supported. List the days instead, or use 'L' for the last day of the month."
                )
            if index == 2 and low == "l":
                specials.add("last")
                continue
            if index == 4 and ("#" in item or low.startswith("l") or low.endswith("l")):
                specials.add(self.dow_special(item))
                continue
            values.update(self.item(field, item))
        if index == 4 and 7 in values:
            values.discard(7)
            values.add(0)
        return frozenset(values), specials

    def dow_special(self, item: str) -> tuple[int, int]:
        field = _FIELDS[4]
        low = item.lower()
        if "#" in low:
            day, _, nth = low.partition("#")
            if not nth.isdigit() or not 1 <= int(nth) <= 5:
                raise self.fail(
                    f"has {item!r} in the day-of-week field; after '#' comes which week of the "
                    "month, 1-5 (as in '5#3', the third Friday)."
                )
            return self.value(field, day) % 7, int(nth)
        if low.startswith("l") and len(low) > 1:
            return self.value(field, item[1:]) % 7, -1
        raise self.fail(
            f"has {item!r} in the day-of-week field; write 'L5' for the last Friday of the "
            "month (or 'L' in the day-of-month field for the last day of the month)."
        )


def _split(expr: str) -> list[str]:
    if not isinstance(expr, str):
        raise CronParseError(f"cron_schedule must be a string like '0 2 * * *', got {expr!r}.")
    text = expr.strip()
    if text.startswith("@"):
        alias = _ALIASES.get(text.lower())
        if alias is None:
            raise CronParseError(
                f"cron_schedule {expr!r} is not supported; the @ forms are "
                f"{', '.join(_ALIASES)} (there is no @reboot: schedules run on a clock)."
            )
        text = alias
    parts = text.split()
    if len(parts) != 5:
        extra = " (seconds are not supported)" if len(parts) == 6 else ""
        raise CronParseError(
            f"cron_schedule {expr!r} has {len(parts)} fields{extra}; a cron has 5: minute, "
            "hour, day of month, month and day of week, as in '0 2 * * *'."
        )
    return parts


@dataclass(eq=False)
class _Cron:
    """One parsed cron: the allowed values of each field, as sorted tuples and sets."""

    expr: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    doms: frozenset[int]
    dom_last: bool
    months: frozenset[int]
    dows: frozenset[int]
    nth: frozenset[tuple[int, int]]  # (weekday, n); n == -1 means the last one of the month
    dom_restricted: bool
    dow_restricted: bool
    every_hour: bool  # the hour field allows all 24 hours
    simple_shape: bool  # daily, weekly or monthly up to the 28th
    hour_set: frozenset[int] = frozenset()
    _months_cache: dict[int, tuple[int, ...]] = field(default_factory=dict)

    @classmethod
    def parse(cls, expr: str) -> _Cron:
        parts = _split(expr)
        parser = _Parser(expr)
        fields = [parser.field(i, text) for i, text in enumerate(parts)]
        (minutes, _), (hours, _), (doms, dom_sp), (months, _), (dows, dow_sp) = fields
        dom_last = "last" in dom_sp
        nth = frozenset(s for s in dow_sp if isinstance(s, tuple))
        dom_restricted = dom_last or len(doms) != 31
        dow_restricted = bool(nth) or len(dows) != 7
        cron = cls(
            expr=expr,
            minutes=tuple(sorted(minutes)),
            hours=tuple(sorted(hours)),
            doms=doms,
            dom_last=dom_last,
            months=months,
            dows=dows,
            nth=nth,
            dom_restricted=dom_restricted,
            dow_restricted=dow_restricted,
            every_hour=len(hours) == 24,
            hour_set=hours,
            simple_shape=cls._is_simple(minutes, hours, doms, months, dows, bool(nth) or dom_last),
        )
        cron._check_possible(parser)
        return cron

    @staticmethod
    def _is_simple(
        minutes: frozenset[int],
        hours: frozenset[int],
        doms: frozenset[int],
        months: frozenset[int],
        dows: frozenset[int],
        special: bool,
    ) -> bool:
        # One minute and one hour, every month, and either one day of month up to the 28th or
        # only days of the week: the daily, weekly and monthly shapes (see _Cron.instants).
        if special or len(minutes) != 1 or len(hours) != 1 or len(months) != 12:
            return False
        if len(doms) == 1 and len(dows) == 7:
            return min(doms) <= 28
        return len(doms) == 31

    def _check_possible(self, parser: _Parser) -> None:
        if self.dow_restricted or self.dom_last:
            return
        longest = max(_MAX_DAYS[m - 1] for m in self.months)
        if min(self.doms) > longest:
            names = ", ".join(calendar.month_name[m] for m in sorted(self.months))
            raise parser.fail(
                f"can never fire: day of month {min(self.doms)} does not occur in {names}."
            )

    def month_days(self, year: int, month: int) -> tuple[int, ...]:
        """The days of ``month`` on which this cron fires, sorted."""
        key = year * 16 + month
        days = self._months_cache.get(key)
        if days is None:
            days = self._months_cache[key] = self._compute_month_days(year, month)
        return days

    def _compute_month_days(self, year: int, month: int) -> tuple[int, ...]:
        if month not in self.months:
            return ()
        first_weekday, ndays = calendar.monthrange(year, month)
        days = []
        for day in range(1, ndays + 1):
            dom_ok = day in self.doms or (self.dom_last and day == ndays)
            weekday = (first_weekday + day) % 7  # 0 = Sunday
            dow_ok = (
                weekday in self.dows
                or (weekday, (day - 1) // 7 + 1) in self.nth
                or (day + 7 > ndays and (weekday, -1) in self.nth)
            )
            if self.dom_restricted and self.dow_restricted:
                ok = dom_ok or dow_ok
            elif self.dom_restricted:
                ok = dom_ok
            else:
                ok = dow_ok
            if ok:
                days.append(day)
        return tuple(days)

    def _first_day_after_month(self, year: int, month: int, *, forward: bool) -> int:
        """Day number (days since 1970-01-01) of the first match in a later/earlier month."""
        for _ in range(12 * _MAX_YEARS_AHEAD):
            month += 1 if forward else -1
            if month > 12:
                year, month = year + 1, 1
            elif month < 1:
                year, month = year - 1, 12
            if not 1 <= year <= 9999:
                break
            days = self.month_days(year, month)
            if days:
                day = days[0] if forward else days[-1]
                return _dt.date(year, month, day).toordinal() - _EPOCH_ORDINAL
        raise CronParseError(
            f"cron_schedule {self.expr!r} has no matching day within {_MAX_YEARS_AHEAD} years "
            f"of {year}."
        )

    def next_wall(self, w: int) -> int:
        """The first matching wall-clock time strictly after ``w`` (naive epoch seconds)."""
        days, sod = divmod(w, _DAY)
        hour, rem = divmod(sod, _HOUR)
        minute = rem // 60
        date = _dt.date.fromordinal(days + _EPOCH_ORDINAL)
        mdays = self.month_days(date.year, date.month)
        day = date.day
        k = bisect_left(mdays, day)
        minutes, hours = self.minutes, self.hours
        if k < len(mdays) and mdays[k] == day:
            if hour in self.hour_set:
                j = bisect_right(minutes, minute)
                if j < len(minutes):
                    return days * _DAY + hour * _HOUR + minutes[j] * 60
            j = bisect_right(hours, hour)
            if j < len(hours):
                return days * _DAY + hours[j] * _HOUR + minutes[0] * 60
            k += 1
        if k < len(mdays):
            days += mdays[k] - day
        else:
            days = self._first_day_after_month(date.year, date.month, forward=True)
        return days * _DAY + hours[0] * _HOUR + minutes[0] * 60

    def prev_wall(self, w: int) -> int:
        """The last matching wall-clock time strictly before ``w`` (naive epoch seconds)."""
        days, sod = divmod(w, _DAY)
        hour, rem = divmod(sod, _HOUR)
        minute, second = divmod(rem, 60)
        date = _dt.date.fromordinal(days + _EPOCH_ORDINAL)
        mdays = self.month_days(date.year, date.month)
        day = date.day
        k = bisect_left(mdays, day)
        minutes, hours = self.minutes, self.hours
        if k < len(mdays) and mdays[k] == day:
            if hour in self.hour_set:
                j = bisect_right(minutes, minute) if second else bisect_left(minutes, minute)
                if j:
                    return days * _DAY + hour * _HOUR + minutes[j - 1] * 60
            j = bisect_left(hours, hour)
            if j:
                return days * _DAY + hours[j - 1] * _HOUR + minutes[-1] * 60
        if k:
            days -= day - mdays[k - 1]
        else:
            days = self._first_day_after_month(date.year, date.month, forward=False)
        return days * _DAY + hours[-1] * _HOUR + minutes[-1] * 60


# --------------------------------------------------------------------------- schedules


def _offsets(tz: ZoneInfo, naive: _dt.datetime) -> tuple[int, int]:
    """UTC offsets (seconds) of a wall time read as the first and as the second occurrence."""
    o0 = naive.replace(tzinfo=tz).utcoffset()
    o1 = naive.replace(tzinfo=tz, fold=1).utcoffset()
    return (
        int(o0.total_seconds()) if o0 is not None else 0,
        int(o1.total_seconds()) if o1 is not None else 0,
    )


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
