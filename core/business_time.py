"""Business-time arithmetic: opening hours in an IANA zone, minus holidays, exact across DST.

A calendar opens on each local date at its weekday's intervals (minutes of the local day,
``[start, end)``, several per day allowed) unless the date is a holiday. Instants are aware UTC.
Durations are exact ``timedelta``s of real elapsed time: on a day whose UTC offset changes, the
day's intervals are converted instant by instant; on every other day the wall-clock length is the
real length, which lets whole weeks be skipped at once. Cost is O(weeks + days at the ends +
holidays in range), never O(minutes).
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60
# How the API writes a week of opening hours (engineers, the regulation, SLA service calendars).
WEEKLY_HOURS = (
    'Opening intervals per weekday: keys "0" (Monday) to "6" (Sunday), each a list of ["HH:MM", "HH:MM"] '
    'intervals in the calendar\'s own zone ("24:00" ends a day); a weekday that is absent is closed.'
)
ZERO = timedelta(0)
HORIZON = timedelta(days=366 * 50)  # how far ahead add() and next_opening() look before giving up
ZERO_SENTINEL = timedelta(days=-99999)  # "not computed yet" in the offset memo
WEEK = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class OpeningInterval:
    weekday: int  # Monday = 0
    start_minute: int  # minutes after local midnight
    end_minute: int  # exclusive; 1440 = midnight at the end of the day

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError("weekday must be 0 (Monday) to 6 (Sunday)")
        if not 0 <= self.start_minute < self.end_minute <= MINUTES_PER_DAY:
            raise ValueError("an interval needs 0 <= start < end <= 1440 minutes")


@dataclass(frozen=True)
class BusinessCalendar:
    time_zone: str
    intervals: tuple[OpeningInterval, ...]
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        by_day = sorted(self.intervals, key=lambda i: (i.weekday, i.start_minute))
        for left, right in itertools.pairwise(by_day):
            if left.weekday == right.weekday and right.start_minute < left.end_minute:
                raise ValueError("opening intervals of one day must not overlap")
        if not self.intervals:
            raise ValueError("a business calendar needs at least one opening interval")

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @cached_property
    def _by_weekday(self) -> tuple[tuple[tuple[int, int], ...], ...]:
        days: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        for interval in self.intervals:
            days[interval.weekday].append((interval.start_minute, interval.end_minute))
        return tuple(tuple(sorted(d)) for d in days)

    @cached_property
    def _weekday_length(self) -> tuple[timedelta, ...]:
        return tuple(timedelta(minutes=sum(e - s for s, e in day)) for day in self._by_weekday)

    @cached_property
    def _week_length(self) -> timedelta:
        return sum(self._weekday_length, ZERO)

    @cached_property
    def _sorted_holidays(self) -> tuple[date, ...]:
        return tuple(sorted(self.holidays))

    # -- one local day ---------------------------------------------------------------------------

    @cached_property
    def _offsets(self) -> dict[date, timedelta | None]:
        return {}  # memo: UTC offset at each local midnight asked about

    def _midnight_offset(self, day: date) -> timedelta | None:
        found = self._offsets.get(day, ZERO_SENTINEL)
        if found is ZERO_SENTINEL:
            found = self._offsets[day] = datetime.combine(day, time(), tzinfo=self.zone).utcoffset()
        return found

    def _offset_changes(self, day: date) -> bool:
        """Whether the zone's UTC offset differs at this local midnight and the next."""
        return self._midnight_offset(day) != self._midnight_offset(day + timedelta(days=1))

    def _local_to_utc(self, day: date, minute: int) -> datetime:
        wall = datetime.combine(day, time(), tzinfo=self.zone) + timedelta(minutes=minute)
        return wall.astimezone(UTC)

    def day_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The UTC intervals during which the calendar is open on a local date."""
        if day in self.holidays:
            return []
        return [
            (self._local_to_utc(day, start), self._local_to_utc(day, end))
            for start, end in self._by_weekday[day.weekday()]
        ]

    def _day_length(self, day: date) -> timedelta:
        if day in self.holidays:
            return ZERO
        if self._offset_changes(day):
            return sum((end - start for start, end in self.day_intervals(day)), ZERO)
        return self._weekday_length[day.weekday()]

    def _holiday_length(self, first: date, last: date) -> timedelta:
        """Opening time that holidays in [first, last) remove (for weeks without offset changes)."""
        holidays = self._sorted_holidays
        lo, hi = bisect.bisect_left(holidays, first), bisect.bisect_left(holidays, last)
        return sum((self._weekday_length[d.weekday()] for d in holidays[lo:hi]), ZERO)

    def _week_is_plain(self, first: date) -> bool:
        """No UTC offset change from local midnight of ``first`` to seven days later."""
        offset = self._midnight_offset(first)
        return all(self._midnight_offset(first + timedelta(days=i)) == offset for i in range(1, 8))

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    # -- arithmetic ------------------------------------------------------------------------------

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant when ``duration`` of opening time has passed since ``start``.

        A zero duration returns ``start``; otherwise the result lies inside or at the end of an
        opening stretch (never in closed time after it).
        """
        if duration < ZERO:
            raise ValueError("duration must not be negative")
        start = _utc(start)
        if duration == ZERO:
            return start
        remaining = duration
        day = self.local_date(start)
        # The first (partial) day.
        for opens, closes in self.day_intervals(day):
            if closes <= start:
                continue
            begin = max(opens, start)
            if remaining <= closes - begin:
                return begin + remaining
            remaining -= closes - begin
        day += timedelta(days=1)
        horizon = day + HORIZON
        while day < horizon:
            # A whole week at once when it is plain and entirely consumed; else one day.
            if remaining > self._week_length and self._week_is_plain(day):
                length = self._week_length - self._holiday_length(day, day + WEEK)
                if remaining > length:
                    remaining -= length
                    day += WEEK
                    continue
            length = self._day_length(day)
            if remaining <= length:
                for opens, closes in self.day_intervals(day):
                    if remaining <= closes - opens:
                        return opens + remaining
                    remaining -= closes - opens
            remaining -= length
            day += timedelta(days=1)
        raise ValueError("the calendar does not open long enough within the horizon")

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Opening time between two instants (zero when end <= start)."""
        start, end = _utc(start), _utc(end)
        if end <= start:
            return ZERO
        first, last = self.local_date(start), self.local_date(end)
        if first == last:
            return _overlap(self.day_intervals(first), start, end)
        total = _overlap(self.day_intervals(first), start, end)
        day = first + timedelta(days=1)
        while day < last:
            if day + WEEK <= last and self._week_is_plain(day):
                total += self._week_length - self._holiday_length(day, day + WEEK)
                day += WEEK
            else:
                total += self._day_length(day)
                day += timedelta(days=1)
        return total + _overlap(self.day_intervals(last), start, end)

    def elapsed_minus_pauses(
        self, start: datetime, end: datetime, pauses: Iterable[tuple[datetime, datetime | None]]
    ) -> timedelta:
        """Opening time between two instants, not counting paused intervals (open pauses end at ``end``)."""
        return self.elapsed(start, end) - self.paused(start, end, pauses)

    def paused(
        self, start: datetime, end: datetime, pauses: Iterable[tuple[datetime, datetime | None]]
    ) -> timedelta:
        """Opening time inside the (merged) paused intervals, clipped to [start, end]."""
        return sum((self.elapsed(a, b) for a, b in _merge(pauses, start, end)), ZERO)

    def next_opening(self, moment: datetime) -> datetime:
        """``moment`` itself when open, else the next instant the calendar opens."""
        moment = _utc(moment)
        day = self.local_date(moment)
        for _ in range(HORIZON.days):
            for opens, closes in self.day_intervals(day):
                if closes > moment:
                    return max(opens, moment)
            day += timedelta(days=1)
        raise ValueError("the calendar does not open within the horizon")


def add_business_minutes(calendar: BusinessCalendar, start: datetime, minutes: int) -> datetime:
    return calendar.add(start, timedelta(minutes=minutes))


def business_minutes_between(
    calendar: BusinessCalendar,
    start: datetime,
    end: datetime,
    pauses: Iterable[tuple[datetime, datetime | None]] = (),
) -> int:
    """Whole business minutes between two instants, minus paused intervals."""
    return int(calendar.elapsed_minus_pauses(start, end, pauses) // timedelta(minutes=1))


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every instant must carry an offset")
    return moment.astimezone(UTC)


def _overlap(intervals: Sequence[tuple[datetime, datetime]], start: datetime, end: datetime) -> timedelta:
    total = ZERO
    for opens, closes in intervals:
        lo, hi = max(opens, start), min(closes, end)
        if hi > lo:
            total += hi - lo
    return total


def _merge(
    pauses: Iterable[tuple[datetime, datetime | None]], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    clipped = sorted((max(_utc(a), start), min(_utc(b) if b is not None else end, end)) for a, b in pauses)
    merged: list[tuple[datetime, datetime]] = []
    for lo, hi in clipped:
        if hi <= lo:
            continue
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def weekly(
    time_zone: str,
    hours: Mapping[int, Sequence[tuple[str, str]]],
    holidays: Iterable[date] = (),
) -> BusinessCalendar:
    """Build a calendar from ``{weekday: [("09:00", "18:00"), ...]}``."""
    intervals = tuple(
        OpeningInterval(weekday, _minute_of(start), _minute_of(end))
        for weekday, spans in hours.items()
        for start, end in spans
    )
    return BusinessCalendar(time_zone=time_zone, intervals=intervals, holidays=frozenset(holidays))


def _minute_of(text: str) -> int:
    hours, _, minutes = text.partition(":")
    value = int(hours) * 60 + int(minutes or 0)
    if not 0 <= value <= MINUTES_PER_DAY:
        raise ValueError(f"{text!r} is not a time of day between 00:00 and 24:00")
    return value


def from_weekly_hours(
    time_zone: str, weekly_hours: Mapping[str, Sequence[Sequence[str]]], holidays: Iterable[date] = ()
) -> BusinessCalendar:
    """Build a calendar from the stored JSON form ``{"0": [["09:00", "18:00"]], ...}`` (0 = Monday)."""
    hours: dict[int, list[tuple[str, str]]] = {}
    for day, spans in weekly_hours.items():
        if not day.isdigit() or not 0 <= int(day) <= 6:
            raise ValueError(f"weekday {day!r} must be 0 (Monday) to 6 (Sunday)")
        hours[int(day)] = [(span[0], span[1]) for span in spans]
    return weekly(time_zone, hours, holidays)
