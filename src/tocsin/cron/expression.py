"""Cron expressions parsed into the wall-clock times they match (no time zones here).

``_Cron`` holds the allowed values of each field and finds the next or previous matching
wall time with plain arithmetic on day numbers; ``CronParseError`` is the one error of the
cron engine.
"""

from __future__ import annotations

import calendar
import datetime as _dt
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

from tocsin.errors import DagsterInvalidDefinitionError

_UTC = _dt.UTC
_EPOCH = _dt.datetime(1970, 1, 1)
_EPOCH_ORDINAL = _EPOCH.toordinal()
_DAY = 86400
_HOUR = 3600
_MAX_YEARS_AHEAD = 400  # the Gregorian calendar repeats every 400 years


class CronParseError(DagsterInvalidDefinitionError, ValueError):
    """A cron expression, time zone or DST policy that tocsin cannot use."""


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
