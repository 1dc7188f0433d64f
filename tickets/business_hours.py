"""Business-hours arithmetic for SLA due times.

Working hours are local wall-clock hours in the calendar's time zone, but every
computation is done on UTC instants: each local working day is turned into a
half-open UTC interval ``[opens, closes)`` and time is only ever measured between
UTC instants. That way a 09:00-17:00 day is eight hours on a DST change day when
the change happens at night, and exactly the elapsed real time when the change
happens inside working hours.

Local times that do not exist (spring forward) or occur twice (fall back) are
resolved with ``fold=0`` and normalised through UTC: a non-existent 02:30 becomes
the instant the clock would have shown had it not jumped (03:30 summer time), and
an ambiguous time means its first occurrence.

Intervals are half-open: the opening instant is inside business hours, the
closing instant is not. A duration that runs out exactly at closing time ends at
closing time rather than at the next opening.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

__all__ = [
    "Calendar",
    "add_business_minutes",
    "business_minutes_between",
    "is_open",
    "next_opening",
]

_ONE_DAY = timedelta(days=1)
_ONE_MINUTE = timedelta(minutes=1)
_MIDNIGHT = time(0, 0)
_ALL_DAYS = frozenset(range(7))

# A calendar that stays shut this long is misconfigured (or holiday data ran
# away); giving up beats spinning until the year 9999.
_MAX_CLOSED_DAYS = 3 * 366 + 1

_Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class Calendar:
    """When business time runs.

    ``day_end`` may be ``time(0, 0)``, which stands for midnight at the end of
    the day (24:00) since ``datetime.time`` cannot express 24:00 itself.
    """

    tz: ZoneInfo
    working_days: frozenset[int]
    day_start: time
    day_end: time
    holidays: frozenset[date] = field(default=frozenset())

    def __post_init__(self) -> None:
        if not isinstance(self.tz, tzinfo):
            raise TypeError(f"tz must be a tzinfo such as ZoneInfo, not {type(self.tz).__name__}")

        # Callers often hold sets or lists; freezing them keeps the calendar
        # hashable and immune to later mutation of the caller's collection.
        working_days = frozenset(self.working_days)
        for day in working_days:
            if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= 6:
                raise ValueError(f"working_days must be integers 0 (Monday) to 6 (Sunday), got {day!r}")
        object.__setattr__(self, "working_days", working_days)

        holidays = frozenset(self.holidays)
        for holiday in holidays:
            # A datetime never compares equal to a date, so one slipping in
            # would silently never match any day.
            if isinstance(holiday, datetime) or not isinstance(holiday, date):
                raise ValueError(f"holidays must be dates, got {holiday!r}")
        object.__setattr__(self, "holidays", holidays)

        for name in ("day_start", "day_end"):
            value = getattr(self, name)
            if not isinstance(value, time):
                raise TypeError(f"{name} must be a datetime.time, not {type(value).__name__}")
            if value.tzinfo is not None:
                raise ValueError(f"{name} is a wall-clock time in the calendar's tz and must be naive")

        if self.day_end != _MIDNIGHT and self.day_end <= self.day_start:
            raise ValueError(
                f"day_end ({self.day_end}) must be later than day_start ({self.day_start}); "
                "use time(0, 0) for a day that ends at midnight"
            )

    @classmethod
    def always_open(cls) -> Calendar:
        """Round-the-clock calendar: business time equals elapsed time."""
        return cls(tz=ZoneInfo("UTC"), working_days=_ALL_DAYS, day_start=_MIDNIGHT, day_end=_MIDNIGHT)

    @property
    def is_continuous(self) -> bool:
        """Whether business time never stops, whatever the time zone."""
        # Consecutive 00:00-24:00 local days tile the timeline with no gaps even
        # across DST changes, so the zone is irrelevant here.
        return (
            self.working_days == _ALL_DAYS
            and not self.holidays
            and self.day_start == _MIDNIGHT
            and self.day_end == _MIDNIGHT
        )


def add_business_minutes(calendar: Calendar, start: datetime, minutes: float) -> datetime:
    """The aware datetime (in UTC) at which ``minutes`` of business time have elapsed after ``start``.

    If ``start`` falls outside working hours, counting begins at the next
    opening; with ``minutes == 0`` that opening (or ``start`` itself when
    inside hours) is returned. Raises ``ValueError`` for a naive ``start``,
    negative or non-finite ``minutes``, or a calendar that never opens.
    """
    start_utc = _to_utc(start, "start")
    remaining = _minutes_to_timedelta(minutes)
    try:
        if calendar.is_continuous:
            return start_utc + remaining
        for opens, closes in _open_intervals_from(calendar, start_utc):
            available = closes - opens
            # "<=" so a duration ending exactly at closing lands on closing
            # time instead of being pushed to the next morning.
            if remaining <= available:
                return opens + remaining
            remaining -= available
    except OverflowError as exc:
        raise ValueError("the result lies outside the supported datetime range") from exc
    raise AssertionError("unreachable: the interval search either yields or raises")


def business_minutes_between(calendar: Calendar, start: datetime, end: datetime) -> float:
    """Business minutes elapsed from ``start`` to ``end``; 0 if ``end <= start``."""
    start_utc = _to_utc(start, "start")
    end_utc = _to_utc(end, "end")
    if end_utc <= start_utc:
        return 0.0
    if calendar.is_continuous:
        return (end_utc - start_utc) / _ONE_MINUTE

    total = timedelta(0)
    try:
        # One day of slack either side covers days whose local boundaries are
        # shifted by odd zone transitions; clipping discards anything outside.
        last_day = end_utc.astimezone(calendar.tz).date() + _ONE_DAY
        for day, interval in _clipped_days(calendar, start_utc):
            if day > last_day:
                break
            if interval is None:
                continue
            opens, closes = interval
            if opens >= end_utc:
                break
            total += min(closes, end_utc) - opens
    except OverflowError as exc:
        raise ValueError("the span reaches outside the supported datetime range") from exc
    return total / _ONE_MINUTE


def is_open(calendar: Calendar, moment: datetime) -> bool:
    """Whether ``moment`` is inside working hours (opening inclusive, closing exclusive)."""
    moment_utc = _to_utc(moment, "moment")
    if calendar.is_continuous:
        return True
    try:
        local_day = moment_utc.astimezone(calendar.tz).date()
    except OverflowError as exc:
        raise ValueError("moment lies outside the supported datetime range") from exc
    for offset in (-1, 0, 1):
        try:
            interval = _day_interval(calendar, local_day + offset * _ONE_DAY)
        except OverflowError:
            continue
        if interval is not None and interval[0] <= moment_utc < interval[1]:
            return True
    return False


def next_opening(calendar: Calendar, moment: datetime) -> datetime:
    """``moment`` (in UTC) if it is inside working hours, else the next opening in UTC."""
    moment_utc = _to_utc(moment, "moment")
    if calendar.is_continuous:
        return moment_utc
    try:
        for opens, _closes in _open_intervals_from(calendar, moment_utc):
            return opens
    except OverflowError as exc:
        raise ValueError("no opening within the supported datetime range") from exc
    raise AssertionError("unreachable: the interval search either yields or raises")


def _to_utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")
    return value.astimezone(timezone.utc)


def _minutes_to_timedelta(minutes: float) -> timedelta:
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)):
        raise TypeError(f"minutes must be a number, not {type(minutes).__name__}")
    if not math.isfinite(minutes):
        raise ValueError(f"minutes must be finite, got {minutes!r}")
    if minutes < 0:
        raise ValueError(f"minutes must not be negative, got {minutes!r}")
    # timedelta holds whole microseconds, so all later arithmetic is exact and
    # add/measure round-trips do not drift the way summed floats would.
    try:
        return timedelta(minutes=minutes)
    except OverflowError as exc:
        raise ValueError(f"minutes is too large: {minutes!r}") from exc


def _localize(calendar: Calendar, day: date, wall_time: time) -> datetime:
    # fold=0 picks the first of two ambiguous instants and, for a time inside a
    # spring-forward gap, the pre-transition offset; the UTC round-trip turns
    # that into the real instant the wall clock reaches it.
    local = datetime.combine(day, wall_time.replace(fold=0), tzinfo=calendar.tz)
    return local.astimezone(timezone.utc)


def _day_interval(calendar: Calendar, day: date) -> _Interval | None:
    """The UTC working interval of one local day, or None if the day has none."""
    if day.weekday() not in calendar.working_days or day in calendar.holidays:
        return None
    opens = _localize(calendar, day, calendar.day_start)
    if calendar.day_end == _MIDNIGHT:
        closes = _localize(calendar, day + _ONE_DAY, _MIDNIGHT)
    else:
        closes = _localize(calendar, day, calendar.day_end)
    # Both ends can fall in the same DST gap and collapse onto one instant (or
    # even swap), leaving nothing to work that day.
    if closes <= opens:
        return None
    return opens, closes


def _clipped_days(calendar: Calendar, after: datetime) -> Iterator[tuple[date, _Interval | None]]:
    """Every local day from just before ``after``, with its working interval cut to lie after
    ``after`` and after the previous day's interval (None when nothing is left)."""
    # Zones that skip or repeat a whole day can map two local days onto
    # overlapping instants; the running floor keeps every instant counted once.
    floor = after
    day = after.astimezone(calendar.tz).date() - _ONE_DAY
    while True:
        interval = _day_interval(calendar, day)
        if interval is not None:
            opens, closes = max(interval[0], floor), interval[1]
            if closes > opens:
                floor = closes
                yield day, (opens, closes)
            else:
                yield day, None
        else:
            yield day, None
        day += _ONE_DAY


def _open_intervals_from(calendar: Calendar, after: datetime) -> Iterator[_Interval]:
    """Working intervals at or after ``after`` in order, the first possibly already running.

    Raises ValueError instead of searching forever when the calendar stays shut.
    """
    if not calendar.working_days:
        raise ValueError("the calendar has no working days, so business time never elapses")
    closed_days = 0
    for _day, interval in _clipped_days(calendar, after):
        if interval is None:
            closed_days += 1
            if closed_days > _MAX_CLOSED_DAYS:
                raise ValueError(f"the calendar has no working hours for over {_MAX_CLOSED_DAYS} consecutive days")
            continue
        closed_days = 0
        yield interval
