"""What blocks engineers over a window: busy time and live bookings, remembered between requests.

Reading it is most of an availability query: thousands of rows (two bookings a day and a few meetings
per engineer) fetched, parsed and merged for every request, while a booking page asks the same
window again and again and the rows rarely change. So what a scan found is remembered, keyed by the
engineer's revision (``BlockedRevision``): the database gives the engineer a new random revision
whenever any of their bookings or busy intervals is inserted, updated or deleted (triggers,
migration 0029), in the writer's transaction. A reader that reads revision R therefore reads rows
at least as new as the state R names, and what was scanned under R stays true until the revision
changes (random, not counted: a rolled-back writer's value is never given again).

Only a read-only transaction may remember (``remember=True``, the availability GET): a writer's
scan sees its own uncommitted rows. Holds are kept with their expiry and filtered by the time of
each request, so a hold lapsing is not a change that needs a scan. Windows are widened to whole hours,
so that windows starting at different minutes of an hour share what was scanned.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.counters import read
from scheduling.availability import Interval, forbidden_starts
from scheduling.busy import busy_between, fromisoformat, raw_columns
from scheduling.models import (
    ACTIVE_BOOKING_STATES,
    WIDEST_BOOKING_MINUTES,
    WIDEST_BUSY_MINUTES,
    BlockedRevision,
    Booking,
    BookingStatus,
)

REMEMBERED_WINDOWS = 1024  # (engineer, revision, window) entries kept by a process, least recent out
HOLD = str(BookingStatus.PENDING_PAYMENT)


@dataclass(frozen=True, slots=True)
class Blocked:
    """An engineer's blocked time over a window: busy time and bookings other than holds, and holds
    with their expiry (a hold blocks until it expires)."""

    fixed: tuple[Interval, ...]
    holds: tuple[tuple[datetime, datetime, datetime], ...]
    # The forbidden starts of the fixed part for a service's (duration, before, after): the same page
    # asked again costs a lookup, not a pass over every interval.
    forbidden: dict[tuple[timedelta, timedelta, timedelta], list[Interval]] = field(
        default_factory=dict, compare=False
    )

    def forbidden_starts(
        self, now: datetime, *, duration: timedelta, before: timedelta, after: timedelta
    ) -> list[Interval]:
        """``availability.forbidden_starts`` of what blocks at ``now``."""
        live = [(a, b) for a, b, expires in self.holds if expires > now]
        span = (duration, before, after)
        if live:
            return forbidden_starts([*self.fixed, *live], duration=duration, before=before, after=after)
        if span not in self.forbidden:
            self.forbidden[span] = forbidden_starts(self.fixed, duration=duration, before=before, after=after)
        return self.forbidden[span]


class _Remembered:
    """A bounded map, least recently used out (one event loop uses it: no lock)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[tuple[uuid.UUID, int, datetime, datetime], Blocked] = OrderedDict()

    def get(self, key: tuple[uuid.UUID, int, datetime, datetime]) -> Blocked | None:
        found = self.entries.get(key)
        if found is not None:
            self.entries.move_to_end(key)
        return found

    def put(self, key: tuple[uuid.UUID, int, datetime, datetime], value: Blocked) -> None:
        self.entries[key] = value
        self.entries.move_to_end(key)
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)

    def clear(self) -> None:
        self.entries.clear()


REMEMBERED = _Remembered(REMEMBERED_WINDOWS)


def _whole_hours(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    first = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    last = end.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return first, last if last == end else last + timedelta(hours=1)


async def blocked_by_engineer(
    session: AsyncSession, engineer_ids: list[uuid.UUID], start: datetime, end: datetime, *, remember: bool
) -> dict[uuid.UUID, Blocked]:
    """Per engineer, what blocks them over [start, end)."""
    if not remember:
        return await _scan(session, engineer_ids, start, end)
    start, end = _whole_hours(start, end)
    revisions = dict.fromkeys(engineer_ids, 0)  # no row yet: nothing written since the table was made
    found = await session.execute(
        sa.select(col(BlockedRevision.engineer_id), col(BlockedRevision.revision)).where(
            col(BlockedRevision.engineer_id).in_(engineer_ids)
        )
    )
    revisions.update({engineer: int(revision) for engineer, revision in found})
    known = {e: REMEMBERED.get((e, revisions[e], start, end)) for e in engineer_ids}
    missing = [e for e, blocked in known.items() if blocked is None]
    if missing:
        scanned = await _scan(session, missing, start, end)
        for e, blocked in scanned.items():
            REMEMBERED.put((e, revisions[e], start, end), blocked)
            known[e] = blocked
    return {e: blocked for e, blocked in known.items() if blocked is not None}


async def _scan(
    session: AsyncSession, engineer_ids: list[uuid.UUID], start: datetime, end: datetime
) -> dict[uuid.UUID, Blocked]:
    # A row overlapping the window began at most the widest span of its kind before it: the scans
    # cover the window, however long the history (both marks read in one statement).
    widest = await read(session, [WIDEST_BOOKING_MINUTES, WIDEST_BUSY_MINUTES])
    fixed = await busy_between(session, engineer_ids, start, end, longest=widest.get(WIDEST_BUSY_MINUTES))
    span = widest.get(WIDEST_BOOKING_MINUTES)
    begins_after = start - timedelta(minutes=span) if span is not None else None
    # The status is compared as an expression (``status || ''``), so no database reaches for the status
    # index: SQLite, without statistics, scanned every confirmed booking ever through it instead of
    # each engineer's range of the time index (50 ms with 220k bookings, for 1,300 rows).
    status = sa.type_coerce(col(Booking.status), sa.String).concat("")
    # A hold's expiry, NULL for any other booking (no status string per row); a hold without an
    # expiry never blocked.
    expires = sa.case((status == HOLD, sa.type_coerce(col(Booking.hold_expires_at), sa.String)))
    bookings = sa.select(
        *raw_columns(Booking.engineer_id, Booking.blocked_from, Booking.blocked_until), expires
    )
    bookings = bookings.where(
        col(Booking.engineer_id).in_(engineer_ids),
        status.in_([str(s) for s in ACTIVE_BOOKING_STATES]),
        sa.or_(status != HOLD, col(Booking.hold_expires_at).is_not(None)),
        col(Booking.blocked_from) < end,
        col(Booking.blocked_until) > start,
        col(Booking.blocked_from) >= begins_after if begins_after is not None else sa.true(),
    )
    held: dict[uuid.UUID, list[tuple[datetime, datetime, datetime]]] = {e: [] for e in engineer_ids}
    fixed_by_hex = {e.hex: fixed[e] for e in engineer_ids}
    held_by_hex = {e.hex: held[e] for e in engineer_ids}
    rows: Iterable[Any] = await (await session.connection()).execute(bookings)  # Any: raw driver values
    for engineer, a, b, until in rows:
        sqlite = isinstance(a, str)  # UTC text, as in ``add_intervals``
        if sqlite:
            a, b = fromisoformat(a + "+00:00"), fromisoformat(b + "+00:00")
        if until is None:
            (fixed_by_hex[engineer] if sqlite else fixed[engineer]).append((a, b))
        else:
            until = fromisoformat(until + "+00:00") if sqlite else until
            (held_by_hex[engineer] if sqlite else held[engineer]).append((a, b, until))
    return {e: Blocked(tuple(fixed[e]), tuple(held[e])) for e in engineer_ids}


def forget_everything() -> None:
    """Drop what this process remembers (benchmarks measure the scan this way)."""
    REMEMBERED.clear()
