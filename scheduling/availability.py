"""Free start times: interval arithmetic per engineer, never a loop over minutes.

For a session of duration ``d`` with buffers ``before``/``after``, a start ``s`` is possible for an
engineer when ``[s, s + d)`` lies inside one opening interval and ``[s - before, s + d + after)``
overlaps no busy interval and no active booking. Each blocked interval ``[b1, b2)`` therefore forbids
the open range of starts ``(b1 - d - after, b2 + before)``; what is left of ``[o1, o2 - d]`` for each
opening interval is the set of allowed starts, which is then sampled on the grid.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable, Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.business_time import BusinessCalendar

Interval = tuple[datetime, datetime]


@functools.lru_cache(maxsize=512)
def opening_intervals(calendar: BusinessCalendar, start: datetime, end: datetime) -> tuple[Interval, ...]:
    """The calendar's opening intervals that intersect [start, end), clipped to it. Intervals that
    touch are one: a round-the-clock calendar is open across midnight, not twice until it.

    Computed once per calendar and window (a calendar is a value: engineers with the same hours, zone
    and holidays share it, and a window asked again, as a booking page does, is remembered)."""
    found: list[Interval] = []
    day = calendar.local_date(start) - timedelta(days=1)
    last = calendar.local_date(end) + timedelta(days=1)
    while day <= last:
        for opens, closes in calendar.day_intervals(day):
            lo, hi = max(opens, start), min(closes, end)
            if lo < hi:
                found.append((lo, hi))
        day += timedelta(days=1)
    return tuple(merge(found))


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1]:
            if hi > merged[-1][1]:
                merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return merged


def forbidden_starts(
    blocked: Iterable[Interval], *, duration: timedelta, before: timedelta, after: timedelta
) -> list[Interval]:
    """The merged open ranges of starts that the blocked intervals forbid (see the module rule)."""
    return merge((b1 - duration - after, b2 + before) for b1, b2 in blocked)


def starts_between(
    opening: Sequence[Interval], forbidden: Sequence[Interval], duration: timedelta
) -> list[Interval]:
    """Closed ranges ``[first, last]`` of starts inside the opening intervals and outside the forbidden
    ranges (merged and sorted, as ``forbidden_starts`` gives them)."""
    starts = [f for f, _ in forbidden]
    result: list[Interval] = []
    for o1, o2 in opening:
        first, last = o1, o2 - duration
        if last < first:
            continue
        # Only the forbidden ranges that can touch [first, last] matter: find them by bisection.
        index = max(bisect.bisect_left(starts, first) - 1, 0)
        cursor = first
        while index < len(forbidden) and cursor <= last:
            p, q = forbidden[index]
            if q <= cursor:
                index += 1
                continue
            if p >= last:
                break
            if p >= cursor:
                result.append((cursor, p))
            cursor = max(cursor, q)
            index += 1
        if cursor <= last:
            result.append((cursor, last))
    return result


def grid_points(
    ranges: Iterable[Interval], *, grid: timedelta, zone: ZoneInfo, not_before: datetime
) -> list[datetime]:
    """Start instants on the grid of the caller's local clock (00:00, 00:30, ...) inside the ranges."""
    points: list[datetime] = []
    for lo, hi in ranges:
        lo = max(lo, not_before)
        if lo > hi:
            continue
        local = lo.astimezone(zone)
        midnight = datetime.combine(local.date(), time(), tzinfo=zone)
        since_midnight = local - midnight
        steps = -(-since_midnight // grid)  # ceiling division of timedeltas
        candidate = (midnight + steps * grid).astimezone(lo.tzinfo)
        while candidate <= hi:
            points.append(candidate)
            candidate += grid
    return points


def on_grid(moment: datetime, *, grid: timedelta, zone: ZoneInfo) -> bool:
    local = moment.astimezone(zone)
    since_midnight = local - datetime.combine(local.date(), time(), tzinfo=zone)
    return since_midnight % grid == timedelta(0)
