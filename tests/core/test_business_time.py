"""Business time: properties that must hold for any calendar, and the cases people get wrong."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core.business_time import (
    BusinessCalendar,
    OpeningInterval,
    add_business_minutes,
    business_minutes_between,
    weekly,
)

ZONES = ["Europe/Moscow", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "UTC"]
MINUTE = timedelta(minutes=1)


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    intervals = []
    for weekday in draw(st.sets(st.integers(0, 6), min_size=1, max_size=7)):
        cuts = sorted(draw(st.sets(st.integers(0, 96), min_size=2, max_size=6)))
        for start, end in zip(cuts[::2], cuts[1::2], strict=False):
            intervals.append(OpeningInterval(weekday, start * 15, end * 15))
    holidays = draw(st.frozensets(st.dates(date(2025, 12, 1), date(2027, 3, 1)), max_size=20))
    # At least four open hours a week, so ninety days of business time fit within the horizon.
    assume(sum(i.end_minute - i.start_minute for i in intervals) >= 240)
    return BusinessCalendar(
        time_zone=draw(st.sampled_from(ZONES)), intervals=tuple(intervals), holidays=holidays
    )


instants = st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 31), timezones=st.just(UTC))
durations = st.integers(0, 60 * 24 * 90).map(lambda m: timedelta(minutes=m))


@settings(max_examples=150, deadline=None)
@given(calendars(), instants, durations, durations)
def test_adding_in_two_steps_equals_adding_at_once(
    calendar: BusinessCalendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    assert calendar.add(calendar.add(start, first), second) == calendar.add(start, first + second)


@settings(max_examples=150, deadline=None)
@given(calendars(), instants, durations)
def test_elapsed_time_until_the_sum_is_the_duration(
    calendar: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    assert calendar.elapsed(start, calendar.add(start, duration)) == duration


@settings(max_examples=150, deadline=None)
@given(calendars(), instants, st.integers(0, 60 * 24 * 40), st.integers(0, 60 * 24 * 40))
def test_elapsed_is_additive_over_adjacent_ranges(
    calendar: BusinessCalendar, start: datetime, first: int, second: int
) -> None:
    middle, end = start + timedelta(minutes=first), start + timedelta(minutes=first + second)
    assert calendar.elapsed(start, end) == calendar.elapsed(start, middle) + calendar.elapsed(middle, end)


def _open_by_brute_force(calendar: BusinessCalendar, moment: datetime) -> bool:
    local = moment.astimezone(calendar.zone)
    day = local.date()
    if day in calendar.holidays:
        return False
    return any(opens <= moment < closes for opens, closes in calendar.day_intervals(day))


@settings(max_examples=40, deadline=None)
@given(calendars(), instants, st.integers(0, 60 * 24 * 4))
def test_elapsed_matches_counting_open_minutes_one_by_one(
    calendar: BusinessCalendar, start: datetime, span: int
) -> None:
    start = start.replace(second=0, microsecond=0)
    counted = sum(_open_by_brute_force(calendar, start + i * MINUTE) for i in range(span))
    assert calendar.elapsed(start, start + span * MINUTE) == counted * MINUTE


@settings(max_examples=100, deadline=None)
@given(calendars(), instants)
def test_next_opening_is_open_or_the_instant_itself(calendar: BusinessCalendar, moment: datetime) -> None:
    opening = calendar.next_opening(moment)
    assert opening >= moment
    assert calendar.elapsed(moment, opening) == timedelta(0)
    assert opening == moment or _open_by_brute_force(calendar, opening)


def _add_day_by_day(calendar: BusinessCalendar, start: datetime, duration: timedelta) -> datetime:
    """add() as the definition reads: walk the local days, spending opening time interval by interval."""
    if duration == timedelta(0):
        return start
    remaining, day = duration, calendar.local_date(start)
    while True:
        for opens, closes in calendar.day_intervals(day):
            if closes <= start:
                continue
            begin = max(opens, start)
            if remaining <= closes - begin:
                return begin + remaining
            remaining -= closes - begin
        day += timedelta(days=1)


def _elapsed_day_by_day(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    total, day = timedelta(0), calendar.local_date(start)
    while day <= calendar.local_date(end):
        for opens, closes in calendar.day_intervals(day):
            total += max(timedelta(0), min(closes, end) - max(opens, start))
        day += timedelta(days=1)
    return total


later_instants = st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC))


@settings(max_examples=100, deadline=None)
@given(calendars(), later_instants, st.integers(0, 120), st.integers(0, 60 * 24 * 7))
def test_adding_over_years_matches_walking_day_by_day(
    calendar: BusinessCalendar, start: datetime, weeks: int, minutes: int
) -> None:
    # Up to 120 weeks of the calendar's opening time: across several local years and their DST changes.
    week = sum((i.end_minute - i.start_minute for i in calendar.intervals), 0) * MINUTE
    duration = weeks * week + minutes * MINUTE
    assert calendar.add(start, duration) == _add_day_by_day(calendar, start, duration)


@settings(max_examples=100, deadline=None)
@given(calendars(), later_instants, st.integers(0, 60 * 24 * 900))
def test_elapsed_over_years_matches_walking_day_by_day(
    calendar: BusinessCalendar, start: datetime, span: int
) -> None:
    end = start + span * MINUTE
    assert calendar.elapsed(start, end) == _elapsed_day_by_day(calendar, start, end)


def test_equal_calendars_share_their_running_totals() -> None:
    hours = {d: [("09:00", "18:00")] for d in range(5)}
    one, other = weekly("Europe/Berlin", hours), weekly("Europe/Berlin", hours)
    monday = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)
    one.add(monday, timedelta(days=30))
    other.add(monday, timedelta(days=30))
    assert one._year(2026) is other._year(2026)


MOSCOW = weekly("Europe/Moscow", {d: [("09:00", "18:00")] for d in range(5)}, [date(2026, 1, 7)])


def test_adding_past_closing_continues_next_morning() -> None:
    friday_17 = datetime(2026, 1, 16, 14, 0, tzinfo=UTC)  # 17:00 Moscow
    assert add_business_minutes(MOSCOW, friday_17, 120) == datetime(
        2026, 1, 19, 7, 0, tzinfo=UTC
    )  # Mon 10:00


def test_holiday_is_skipped() -> None:
    tuesday_17 = datetime(2026, 1, 6, 14, 0, tzinfo=UTC)
    assert add_business_minutes(MOSCOW, tuesday_17, 120) == datetime(2026, 1, 8, 7, 0, tzinfo=UTC)


def test_spring_forward_hour_inside_opening_hours_is_not_counted() -> None:
    # Berlin skips 02:00-03:00 on 2026-03-29 (a Sunday); a 01:00-05:00 shift lasts three real hours.
    night = weekly("Europe/Berlin", {6: [("01:00", "05:00")]})
    opens = datetime(2026, 3, 29, 0, 0, tzinfo=UTC)  # 01:00 CET
    assert night.elapsed(opens, opens + timedelta(hours=5)) == timedelta(hours=3)
    assert night.add(opens, timedelta(hours=3)) == datetime(2026, 3, 29, 3, 0, tzinfo=UTC)  # 05:00 CEST


def test_fall_back_hour_inside_opening_hours_counts_twice() -> None:
    night = weekly("Europe/Berlin", {6: [("01:00", "05:00")]})
    opens = datetime(2026, 10, 24, 23, 0, tzinfo=UTC)  # 01:00 CEST on 2026-10-25
    assert night.elapsed(opens, opens + timedelta(hours=6)) == timedelta(hours=5)


def test_opening_hours_inside_the_spring_forward_gap_last_no_time() -> None:
    # 02:30-03:00 does not exist in Berlin on 2026-03-29; it must not count, and not negative either.
    gap = weekly("Europe/Berlin", {6: [("01:00", "02:00"), ("02:30", "03:00")]})
    saturday = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    assert gap.elapsed(saturday, saturday + timedelta(days=2)) == timedelta(hours=1)
    assert gap.add(saturday, timedelta(hours=1)) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 02:00 CET


def test_paused_intervals_are_subtracted_once_even_when_they_overlap() -> None:
    monday_9 = datetime(2026, 1, 12, 6, 0, tzinfo=UTC)
    pauses = [
        (monday_9 + timedelta(hours=1), monday_9 + timedelta(hours=3)),
        (monday_9 + timedelta(hours=2), monday_9 + timedelta(hours=4)),
    ]
    assert business_minutes_between(MOSCOW, monday_9, monday_9 + timedelta(hours=8), pauses) == 5 * 60


def test_open_pause_runs_until_the_end_instant() -> None:
    monday_9 = datetime(2026, 1, 12, 6, 0, tzinfo=UTC)
    pauses = [(monday_9 + timedelta(hours=2), None)]
    assert business_minutes_between(MOSCOW, monday_9, monday_9 + timedelta(hours=5), pauses) == 120


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        MOSCOW.add(datetime(2026, 1, 12, 9, 0), timedelta(minutes=1))


def test_overlapping_intervals_of_one_day_are_refused() -> None:
    with pytest.raises(ValueError, match="overlap"):
        weekly("UTC", {0: [("09:00", "12:00"), ("11:00", "13:00")]})
