"""Business-time arithmetic: opening hours in an IANA zone, minus holidays, exact across DST.

A calendar opens on each local date at its weekday's intervals (minutes of the local day,
``[start, end)``, several per day allowed) unless the date is a holiday. Instants are aware UTC.
Durations are exact ``timedelta``s of real elapsed time: each local day's intervals are converted
instant by instant on a day whose UTC offset changes, and on every other day the wall-clock length
is the real length. A calendar keeps, per local year, the running total of opening time at each
day's start (built once, shared by equal calendars): whole days between two instants cost one
subtraction and ``add()`` finds its day by bisection, so cost is O(years + the two end days),
never O(days or minutes).
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, lru_cache
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60
# How the API writes a week of opening hours (engineers, the regulation, SLA service calendars).
WEEKLY_HOURS = (
    'Opening intervals per weekday: keys "0" (Monday) to "6" (Sunday), each a list of ["HH:MM", "HH:MM"] '
    'intervals in the calendar\'s own zone ("24:00" ends a day); a weekday that is absent is closed.'
)
ZERO = timedelta(0)
HORIZON = timedelta(days=366 * 50)  # how far ahead add() and next_opening() look before giving up
MICROSECOND = timedelta(microseconds=1)


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

    # -- one local day ---------------------------------------------------------------------------

    def _local_to_utc(self, day: date, minute: int) -> datetime:
        wall = datetime.combine(day, time(), tzinfo=self.zone) + timedelta(minutes=minute)
        return wall.astimezone(UTC)

    def day_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The UTC intervals during which the calendar is open on a local date.

        An interval that lasts no real time (its wall-clock times fall in a spring-forward gap) is
        left out, so no day counts negative opening time.
        """
        if day in self.holidays:
            return []
        converted = (
            (self._local_to_utc(day, start), self._local_to_utc(day, end))
            for start, end in self._by_weekday[day.weekday()]
        )
        return [(opens, closes) for opens, closes in converted if closes > opens]

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    # -- whole days, from the per-year running totals --------------------------------------------

    @cached_property
    def _years(self) -> dict[int, _Year]:
        return {}  # this object's memo in front of the cache shared by equal calendars

    def _year(self, year: int) -> _Year:
        found = self._years.get(year)
        if found is None:
            found = self._years[year] = _year_of(self, year)
        return found

    def _year_holding(self, ordinal: int) -> _Year:
        """The local year that the day with this ordinal belongs to."""
        return self._year(date.fromordinal(ordinal).year)

    def _whole_days(self, first: int, last: int) -> int:
        """Opening microseconds of the local days with ordinals in ``[first, last)``."""
        total = 0
        while first < last:
            year = self._year_holding(first)
            end = min(last, year.end)
            total += year.running[end - year.first] - year.running[first - year.first]
            first = end
        return total

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
        # Whole days: the first whose running total reaches what remains.
        ordinal = day.toordinal() + 1
        horizon = ordinal + HORIZON.days
        left = remaining // MICROSECOND
        while ordinal < horizon:
            year = self._year_holding(ordinal)
            running = year.running
            target = running[ordinal - year.first] + left
            if target > running[-1]:
                left = target - running[-1]
                ordinal = year.end
                continue
            index = bisect.bisect_left(running, target, ordinal - year.first + 1) - 1
            if year.first + index >= horizon:
                break
            rest = timedelta(microseconds=target - running[index])
            for opens, closes in self.day_intervals(date.fromordinal(year.first + index)):
                if rest <= closes - opens:
                    return opens + rest
                rest -= closes - opens
            raise AssertionError("a day's opening time is the sum of its intervals")  # pragma: no cover
        raise ValueError("the calendar does not open long enough within the horizon")

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Opening time between two instants (zero when end <= start)."""
        start, end = _utc(start), _utc(end)
        if end <= start:
            return ZERO
        first, last = self.local_date(start), self.local_date(end)
        if first == last:
            return _overlap(self.day_intervals(first), start, end)
        between = self._whole_days(first.toordinal() + 1, last.toordinal())
        return (
            _overlap(self.day_intervals(first), start, end)
            + timedelta(microseconds=between)
            + _overlap(self.day_intervals(last), start, end)
        )

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


@dataclass(frozen=True, slots=True)
class _Year:
    """A local year's opening time as running totals: ``running[i]`` is the opening microseconds of
    the year's days before its ``i``-th (so ``running[-1]`` is the whole year's)."""

    first: int  # ordinal of January 1
    end: int  # ordinal of the next January 1
    running: list[int]


@lru_cache(maxsize=256)
def _year_of(calendar: BusinessCalendar, year: int) -> _Year:
    first, end = date(year, 1, 1).toordinal(), date(year + 1, 1, 1).toordinal()
    zone = calendar.zone
    midnight_offsets = [
        datetime.combine(date.fromordinal(ordinal), time(), tzinfo=zone).utcoffset()
        for ordinal in range(first, end + 1)
    ]
    weekday_length = [sum(e - s for s, e in day) * 60_000_000 for day in calendar._by_weekday]
    running = [0]
    for index in range(end - first):
        day = date.fromordinal(first + index)
        if day in calendar.holidays:
            length = 0
        elif midnight_offsets[index] != midnight_offsets[index + 1]:
            length = sum((closes - opens) // MICROSECOND for opens, closes in calendar.day_intervals(day))
        else:
            length = weekday_length[day.weekday()]
        running.append(running[-1] + length)
    return _Year(first, end, running)


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
