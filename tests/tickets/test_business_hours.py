import math
import random
import time as clock
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tickets.business_hours import (
    Calendar,
    add_business_minutes,
    business_minutes_between,
    is_open,
    next_opening,
)

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
WEEKDAYS = frozenset(range(5))
EVERY_DAY = frozenset(range(7))

# 2024-06-03 is a Monday; June keeps Paris on summer time (UTC+2) all week.
MON, TUE, WED, FRI, SAT = 3, 4, 5, 7, 8
NEXT_MON = 10

OFFICE = Calendar(tz=PARIS, working_days=WEEKDAYS, day_start=time(9, 0), day_end=time(17, 30))
OFFICE_DAY = 510  # minutes from 09:00 to 17:30


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0, fold: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS, fold=fold)


def june(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return paris(2024, 6, day, hour, minute)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=timezone.utc)


def assert_utc(value: datetime) -> None:
    assert value.tzinfo is timezone.utc


# --- ordinary days -------------------------------------------------------------------------


def test_within_a_day() -> None:
    due = add_business_minutes(OFFICE, june(MON, 10), 90)
    assert due == june(MON, 11, 30)
    assert due == utc(2024, 6, 3, 9, 30)
    assert_utc(due)


def test_duration_ending_exactly_at_closing_ends_at_closing_not_next_morning() -> None:
    assert add_business_minutes(OFFICE, june(MON, 9), OFFICE_DAY) == june(MON, 17, 30)
    assert add_business_minutes(OFFICE, june(FRI, 17), 30) == june(FRI, 17, 30)


def test_across_a_night() -> None:
    assert add_business_minutes(OFFICE, june(MON, 16, 30), 120) == june(TUE, 10)


def test_friday_afternoon_to_monday() -> None:
    assert add_business_minutes(OFFICE, june(FRI, 16), 180) == june(NEXT_MON, 10, 30)
    assert business_minutes_between(OFFICE, june(FRI, 16), june(NEXT_MON, 10, 30)) == 180


def test_several_days_and_a_weekend() -> None:
    # Wednesday 12:00 plus three working days lands on Monday 12:00.
    assert add_business_minutes(OFFICE, june(WED, 12), 3 * OFFICE_DAY) == june(NEXT_MON, 12)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        pytest.param(june(MON, 7, 12), june(MON, 9, 30), id="before-opening"),
        pytest.param(june(MON, 17, 30), june(TUE, 9, 30), id="at-closing"),
        pytest.param(june(MON, 18), june(TUE, 9, 30), id="after-closing"),
        pytest.param(june(MON, 23, 59), june(TUE, 9, 30), id="before-midnight"),
        pytest.param(june(SAT, 12), june(NEXT_MON, 9, 30), id="weekend"),
        pytest.param(june(FRI, 20), june(NEXT_MON, 9, 30), id="friday-evening"),
    ],
)
def test_start_outside_hours_counts_from_next_opening(start: datetime, expected: datetime) -> None:
    assert add_business_minutes(OFFICE, start, 30) == expected


def test_start_on_a_holiday() -> None:
    calendar = Calendar(PARIS, WEEKDAYS, time(9), time(17, 30), holidays=frozenset({date(2024, 6, TUE)}))
    assert add_business_minutes(calendar, june(TUE, 10), 60) == june(WED, 10)
    assert not is_open(calendar, june(TUE, 10))


def test_holiday_in_the_middle_of_a_span() -> None:
    calendar = Calendar(PARIS, WEEKDAYS, time(9), time(17, 30), holidays=frozenset({date(2024, 6, TUE)}))
    assert add_business_minutes(calendar, june(MON, 17), 60) == june(WED, 9, 30)
    assert business_minutes_between(calendar, june(MON, 9), june(6, 9)) == 2 * OFFICE_DAY


def test_holidays_bridging_into_a_weekend() -> None:
    holidays = frozenset({date(2024, 6, 6), date(2024, 6, 7)})  # Thursday and Friday
    calendar = Calendar(PARIS, WEEKDAYS, time(9), time(17, 30), holidays=holidays)
    assert add_business_minutes(calendar, june(WED, 17), 45) == june(NEXT_MON, 9, 15)


def test_start_given_in_another_zone_means_the_same_instant() -> None:
    start = june(MON, 16, 30).astimezone(TOKYO)
    assert add_business_minutes(OFFICE, start, 120) == june(TUE, 10)


# --- zero, negative and invalid input ------------------------------------------------------


def test_zero_minutes_inside_hours_returns_start_in_utc() -> None:
    start = june(MON, 11, 15)
    due = add_business_minutes(OFFICE, start, 0)
    assert due == start
    assert_utc(due)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (june(MON, 8), june(MON, 9)),
        (june(MON, 17, 30), june(TUE, 9)),
        (june(FRI, 17, 30), june(NEXT_MON, 9)),
        (june(SAT, 9), june(NEXT_MON, 9)),
    ],
)
def test_zero_minutes_outside_hours_returns_next_opening(start: datetime, expected: datetime) -> None:
    assert add_business_minutes(OFFICE, start, 0) == expected


@pytest.mark.parametrize("minutes", [-1, -0.001, math.nan, math.inf, -math.inf])
def test_negative_or_non_finite_minutes_rejected(minutes: float) -> None:
    with pytest.raises(ValueError):
        add_business_minutes(OFFICE, june(MON, 10), minutes)


def test_naive_datetimes_rejected() -> None:
    naive = datetime(2024, 6, 3, 10)
    aware = june(MON, 10)
    with pytest.raises(ValueError):
        add_business_minutes(OFFICE, naive, 10)
    with pytest.raises(ValueError):
        business_minutes_between(OFFICE, naive, aware)
    with pytest.raises(ValueError):
        business_minutes_between(OFFICE, aware, naive)
    with pytest.raises(ValueError):
        is_open(OFFICE, naive)
    with pytest.raises(ValueError):
        next_opening(OFFICE, naive)


def test_calendar_without_working_days_raises_instead_of_looping() -> None:
    never = Calendar(PARIS, frozenset(), time(9), time(17))
    with pytest.raises(ValueError):
        add_business_minutes(never, june(MON, 10), 10)
    with pytest.raises(ValueError):
        next_opening(never, june(MON, 10))
    # Questions that need no future opening still have answers.
    assert not is_open(never, june(MON, 10))
    assert business_minutes_between(never, june(MON), june(NEXT_MON)) == 0


def test_holidays_covering_more_than_three_years_raise() -> None:
    first = date(2024, 6, 3)
    holidays = frozenset(first + timedelta(days=n) for n in range(4 * 366))
    calendar = Calendar(PARIS, WEEKDAYS, time(9), time(17), holidays=holidays)
    started = clock.perf_counter()
    with pytest.raises(ValueError):
        add_business_minutes(calendar, june(MON, 10), 1)
    with pytest.raises(ValueError):
        next_opening(calendar, june(MON, 10))
    assert clock.perf_counter() - started < 2


def test_holidays_shorter_than_the_search_cap_are_bridged() -> None:
    first = date(2024, 6, 3)
    holidays = frozenset(first + timedelta(days=n) for n in range(2 * 366))
    calendar = Calendar(PARIS, WEEKDAYS, time(9), time(17), holidays=holidays)
    opening = next_opening(calendar, june(MON, 10))
    assert opening.astimezone(PARIS).date() == date(2026, 6, 5)  # first weekday after the holidays
    assert opening.astimezone(PARIS).time() == time(9)


# --- is_open and next_opening --------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (june(MON, 8, 59), False),
        (june(MON, 9), True),
        (june(MON, 17, 29), True),
        (june(MON, 17, 30), False),
        (june(SAT, 12), False),
    ],
)
def test_is_open_opening_inclusive_closing_exclusive(moment: datetime, expected: bool) -> None:
    assert is_open(OFFICE, moment) is expected


def test_next_opening() -> None:
    inside = june(WED, 14, 5)
    assert next_opening(OFFICE, inside) == inside
    assert_utc(next_opening(OFFICE, inside))
    assert next_opening(OFFICE, june(WED, 6)) == june(WED, 9)
    assert next_opening(OFFICE, june(FRI, 17, 30)) == june(NEXT_MON, 9)
    assert_utc(next_opening(OFFICE, june(SAT, 1)))


# --- business_minutes_between ---------------------------------------------------------------


def test_between_is_zero_when_end_not_after_start() -> None:
    assert business_minutes_between(OFFICE, june(MON, 12), june(MON, 12)) == 0
    assert business_minutes_between(OFFICE, june(TUE, 12), june(MON, 12)) == 0


def test_between_counts_only_working_hours() -> None:
    assert business_minutes_between(OFFICE, june(MON, 16), june(TUE, 10)) == 90 + 60
    assert business_minutes_between(OFFICE, june(SAT, 0), june(NEXT_MON, 0)) == 0
    assert business_minutes_between(OFFICE, june(MON, 0), june(NEXT_MON, 0)) == 5 * OFFICE_DAY
    assert business_minutes_between(OFFICE, june(MON, 10), june(MON, 10, 0) + timedelta(seconds=90)) == 1.5


# --- daylight saving time -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "change_day"),
    [
        pytest.param(PARIS, date(2024, 3, 31), id="paris-spring-forward"),
        pytest.param(PARIS, date(2024, 10, 27), id="paris-fall-back"),
        pytest.param(NEW_YORK, date(2024, 3, 10), id="new-york-spring-forward"),
        pytest.param(NEW_YORK, date(2024, 11, 3), id="new-york-fall-back"),
    ],
)
def test_dst_change_at_night_leaves_a_full_working_day(tz: ZoneInfo, change_day: date) -> None:
    calendar = Calendar(tz, EVERY_DAY, time(9), time(17))
    midnight = datetime.combine(change_day, time(0), tzinfo=tz)
    next_midnight = datetime.combine(change_day + timedelta(days=1), time(0), tzinfo=tz)
    assert business_minutes_between(calendar, midnight, next_midnight) == 480
    due = add_business_minutes(calendar, midnight, 480)
    assert due == datetime.combine(change_day, time(17), tzinfo=tz)


@pytest.mark.parametrize(
    ("tz", "change_day", "expected"),
    [
        pytest.param(PARIS, date(2024, 3, 31), 300, id="paris-spring-forward"),
        pytest.param(PARIS, date(2024, 10, 27), 420, id="paris-fall-back"),
        pytest.param(NEW_YORK, date(2024, 3, 10), 300, id="new-york-spring-forward"),
        pytest.param(NEW_YORK, date(2024, 11, 3), 420, id="new-york-fall-back"),
    ],
)
def test_dst_change_inside_working_hours_counts_real_elapsed_time(
    tz: ZoneInfo, change_day: date, expected: int
) -> None:
    calendar = Calendar(tz, EVERY_DAY, time(0), time(6))
    midnight = datetime.combine(change_day, time(0), tzinfo=tz)
    assert business_minutes_between(calendar, midnight, midnight + timedelta(days=1)) == expected
    assert add_business_minutes(calendar, midnight, expected) == datetime.combine(change_day, time(6), tzinfo=tz)


def test_paris_spring_forward_over_a_weekend_keeps_local_opening_hours() -> None:
    # Friday is on winter time (UTC+1), Monday on summer time (UTC+2).
    due = add_business_minutes(OFFICE, paris(2024, 3, 29, 17), 90)
    assert due == paris(2024, 4, 1, 10)
    assert due == utc(2024, 4, 1, 8)


def test_paris_fall_back_over_a_weekend_keeps_local_opening_hours() -> None:
    due = add_business_minutes(OFFICE, paris(2024, 10, 25, 17), 90)
    assert due == paris(2024, 10, 28, 10)
    assert due == utc(2024, 10, 28, 9)


def test_new_york_friday_afternoon_to_monday_across_spring_forward() -> None:
    calendar = Calendar(NEW_YORK, WEEKDAYS, time(8), time(18))
    start = datetime(2024, 3, 8, 17, tzinfo=NEW_YORK)  # Friday, EST
    due = add_business_minutes(calendar, start, 120)
    assert due == datetime(2024, 3, 11, 9, tzinfo=NEW_YORK)  # Monday, EDT
    assert due == utc(2024, 3, 11, 13)


def test_non_existent_and_ambiguous_opening_times_use_fold_zero() -> None:
    # 02:30 does not exist on 31 March in Paris; the office opens when clocks reach it, at 03:30.
    calendar = Calendar(PARIS, EVERY_DAY, time(2, 30), time(10))
    assert next_opening(calendar, paris(2024, 3, 31, 0)) == utc(2024, 3, 31, 1, 30)
    assert business_minutes_between(calendar, paris(2024, 3, 31), paris(2024, 4, 1)) == 390
    # 02:30 happens twice on 27 October; the first occurrence (summer time) counts.
    assert next_opening(calendar, paris(2024, 10, 27, 0)) == utc(2024, 10, 27, 0, 30)
    assert business_minutes_between(calendar, paris(2024, 10, 27), paris(2024, 10, 28)) == 510
    assert is_open(calendar, paris(2024, 10, 27, 2, 45, fold=1))


# --- always open ------------------------------------------------------------------------------


def test_always_open_is_the_identity() -> None:
    calendar = Calendar.always_open()
    rng = random.Random(7)
    for _ in range(500):
        start = utc(2024, 1, 1) + timedelta(seconds=rng.uniform(0, 5 * 365 * 86400))
        minutes = rng.choice([0, 1, 59.5, 1440, 10_000, rng.uniform(0, 1_000_000)])
        due = add_business_minutes(calendar, start, minutes)
        assert due == start + timedelta(minutes=minutes)
        assert_utc(due)
    assert business_minutes_between(calendar, utc(2024, 3, 30), utc(2024, 4, 2)) == 3 * 1440


def test_always_open_midnight_is_open() -> None:
    calendar = Calendar.always_open()
    assert is_open(calendar, utc(2024, 6, 3))
    assert is_open(calendar, paris(2024, 3, 31, 3))
    assert next_opening(calendar, utc(2024, 6, 3)) == utc(2024, 6, 3)


def test_day_ending_at_midnight() -> None:
    evenings = Calendar(PARIS, EVERY_DAY, time(18), time(0))
    assert add_business_minutes(evenings, june(MON, 23), 90) == june(TUE, 18, 30)
    assert is_open(evenings, june(MON, 23, 59))
    assert not is_open(evenings, june(TUE, 0))
    assert business_minutes_between(evenings, june(MON), june(TUE)) == 360


# --- properties and performance ------------------------------------------------------------


PROPERTY_CALENDARS = [
    pytest.param(OFFICE, id="paris-office"),
    pytest.param(
        Calendar(
            PARIS,
            WEEKDAYS,
            time(9),
            time(17, 30),
            holidays=frozenset({date(2024, 4, 1), date(2024, 5, 1), date(2024, 12, 25), date(2025, 1, 1)}),
        ),
        id="paris-with-holidays",
    ),
    pytest.param(Calendar(NEW_YORK, frozenset(range(6)), time(8), time(18)), id="new-york-six-days"),
    pytest.param(Calendar(PARIS, EVERY_DAY, time(0), time(6)), id="paris-night-shift-over-dst"),
    pytest.param(Calendar(TOKYO, WEEKDAYS, time(9), time(0)), id="tokyo-until-midnight"),
    pytest.param(Calendar.always_open(), id="always-open"),
]


@pytest.mark.parametrize("calendar", PROPERTY_CALENDARS)
def test_between_inverts_add(calendar: Calendar) -> None:
    rng = random.Random(20240603)
    origin = utc(2024, 1, 1)
    for _ in range(300):
        start = origin + timedelta(seconds=rng.uniform(0, 730 * 86400))
        minutes = rng.choice([0.0, rng.uniform(0, 60), rng.uniform(0, 3_000), rng.uniform(0, 30_000)])
        due = add_business_minutes(calendar, start, minutes)
        assert due >= start
        assert business_minutes_between(calendar, start, due) == pytest.approx(minutes, abs=1e-6)
        # Adding more never lands earlier.
        assert add_business_minutes(calendar, start, minutes + 1) > due


@pytest.mark.parametrize("calendar", PROPERTY_CALENDARS)
def test_between_is_additive(calendar: Calendar) -> None:
    rng = random.Random(31)
    origin = utc(2024, 1, 1)
    for _ in range(200):
        a, b, c = sorted(origin + timedelta(seconds=rng.uniform(0, 400 * 86400)) for _ in range(3))
        whole = business_minutes_between(calendar, a, c)
        parts = business_minutes_between(calendar, a, b) + business_minutes_between(calendar, b, c)
        assert whole == pytest.approx(parts, abs=1e-6)


def test_long_spans_finish_fast() -> None:
    started = clock.perf_counter()
    due = add_business_minutes(OFFICE, june(MON, 9), 100_000)
    assert business_minutes_between(OFFICE, june(MON, 9), due) == 100_000
    ten_years = business_minutes_between(OFFICE, utc(2020, 1, 1), utc(2030, 1, 1))
    assert clock.perf_counter() - started < 1
    # 100,000 / 510 is 196 full days and 40 minutes: 39 weeks, one day, then 09:40.
    assert due == paris(2025, 3, 4, 9, 40)
    assert ten_years == pytest.approx(2609 * OFFICE_DAY)


# --- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("working_days", "day_start", "day_end"),
    [
        (WEEKDAYS, time(17), time(9)),
        (WEEKDAYS, time(9), time(9)),
        (frozenset({7}), time(9), time(17)),
        (frozenset({-1}), time(9), time(17)),
    ],
)
def test_invalid_calendars_rejected(working_days: frozenset[int], day_start: time, day_end: time) -> None:
    with pytest.raises(ValueError):
        Calendar(PARIS, working_days, day_start, day_end)


def test_calendar_freezes_its_collections() -> None:
    days = {0, 1, 2}
    calendar = Calendar(PARIS, days, time(9), time(17), holidays=[date(2024, 6, 4)])  # type: ignore[arg-type]
    days.add(5)
    assert calendar.working_days == frozenset({0, 1, 2})
    assert calendar.holidays == frozenset({date(2024, 6, 4)})
    twin = Calendar(PARIS, frozenset({0, 1, 2}), time(9), time(17), frozenset({date(2024, 6, 4)}))
    assert calendar == twin
    assert hash(calendar) == hash(twin)
