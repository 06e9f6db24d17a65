"""Busy time imported from ICS: recurring events expanded, each source replaced on re-import."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.counters import raise_to
from core.errors import FieldProblem
from scheduling.availability import merge
from scheduling.errors import CalendarImportFailed
from scheduling.models import WIDEST_BUSY_MINUTES, BusyInterval, BusySource, Engineer

MAX_ICS_BYTES = 5 * 1024 * 1024
MAX_INTERVALS = 50_000
HORIZON_BEFORE = timedelta(days=1)
HORIZON_AFTER = timedelta(days=400)  # recurring events are expanded this far ahead


def busy_intervals_from_ics(
    content: bytes, *, zone: ZoneInfo, now: datetime
) -> list[tuple[datetime, datetime]]:
    """Busy [start, end) instants of every event (TRANSPARENT ones and cancellations excluded)."""
    if len(content) > MAX_ICS_BYTES:
        raise CalendarImportFailed(f"The calendar file is larger than {MAX_ICS_BYTES // (1024 * 1024)} MiB.")
    try:
        calendar = icalendar.Calendar.from_ical(content)
        occurrences = recurring_ical_events.of(calendar).between(now - HORIZON_BEFORE, now + HORIZON_AFTER)
    except (ValueError, IndexError, KeyError, TypeError) as exc:
        raise CalendarImportFailed(
            "The file is not a valid iCalendar (RFC 5545) document.",
            errors=[FieldProblem("file", str(exc)[:200])],
        ) from exc
    intervals = []
    for event in occurrences:
        if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
            continue
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        start = _instant(event.decoded("DTSTART"), zone)
        end = _instant(event.decoded("DTEND"), zone) if event.get("DTEND") is not None else None
        if end is None:
            duration = event.decoded("DURATION") if event.get("DURATION") is not None else None
            end = start + (
                duration if isinstance(duration, timedelta) else timedelta(days=1 if _all_day(event) else 0)
            )
        if end > start:
            intervals.append((start, end))
        if len(intervals) > MAX_INTERVALS:
            raise CalendarImportFailed(f"The calendar expands to more than {MAX_INTERVALS} busy intervals.")
    return sorted(intervals)


def _all_day(event: icalendar.cal.Component) -> bool:
    value = event.decoded("DTSTART")
    return isinstance(value, date) and not isinstance(value, datetime)


def _instant(value: object, zone: ZoneInfo) -> datetime:
    """DATE-TIME with a zone as is; floating times and all-day DATEs in the engineer's zone."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=zone).astimezone(UTC)
    raise CalendarImportFailed("An event has a start that is neither a DATE nor a DATE-TIME.")


async def import_busy_calendar(
    session: AsyncSession,
    engineer: Engineer,
    *,
    name: str,
    content: bytes,
    now: datetime,
    url: str | None = None,
) -> BusySource:
    """Replace the busy intervals of this source (same name) with the file's events."""
    intervals = busy_intervals_from_ics(content, zone=ZoneInfo(engineer.time_zone), now=now)
    source = (
        await session.scalars(
            sa.select(BusySource).where(
                col(BusySource.engineer_id) == engineer.user_id, col(BusySource.name) == name
            )
        )
    ).first()
    if source is None:
        source = BusySource(engineer_id=engineer.user_id, name=name, url=url, imported_at=now)
        session.add(source)
        await session.flush()
    else:
        await session.execute(sa.delete(BusyInterval).where(col(BusyInterval.source_id) == source.id))
    source.imported_at, source.interval_count, source.url = now, len(intervals), url
    # Stored as their union: overlapping and touching events are one busy interval (what availability
    # reads is the union anyway; a crowded calendar stores a few intervals a day, not every event).
    intervals = merge(intervals)
    if intervals:
        longest = max(b - a for a, b in intervals)
        await raise_to(session, WIDEST_BUSY_MINUTES, -(-longest // timedelta(minutes=1)))
        await session.execute(
            sa.insert(BusyInterval),
            [
                {
                    "id": uuid.uuid4(),
                    "engineer_id": engineer.user_id,
                    "source_id": source.id,
                    "starts_at": a,
                    "ends_at": b,
                }
                for a, b in intervals
            ],
        )
    await session.flush()
    return source


async def list_sources(session: AsyncSession, engineer_id: uuid.UUID) -> list[BusySource]:
    rows = await session.scalars(
        sa.select(BusySource).where(col(BusySource.engineer_id) == engineer_id).order_by(col(BusySource.name))
    )
    return list(rows.all())


async def busy_between(
    session: AsyncSession,
    engineer_ids: list[uuid.UUID],
    start: datetime,
    end: datetime,
    *,
    longest: int | None,
) -> dict[uuid.UUID, list[tuple[datetime, datetime]]]:
    """Per engineer, the busy intervals overlapping [start, end). An interval overlapping the window
    begins at most ``longest`` minutes (the longest ever imported, WIDEST_BUSY_MINUTES) before it, so
    the scan is bounded on both sides (None: unknown, the scan is not bounded below)."""
    earliest = start - timedelta(minutes=longest) if longest is not None else None
    statement = sa.select(
        *raw_columns(BusyInterval.engineer_id, BusyInterval.starts_at, BusyInterval.ends_at)
    ).where(
        col(BusyInterval.engineer_id).in_(engineer_ids),
        col(BusyInterval.starts_at) < end,
        col(BusyInterval.starts_at) >= earliest if earliest is not None else sa.true(),
        col(BusyInterval.ends_at) > start,
    )
    found: dict[uuid.UUID, list[tuple[datetime, datetime]]] = {e: [] for e in engineer_ids}
    await add_scanned(session, found, statement)
    return found


def raw_columns(*columns: Any) -> list[sa.ColumnElement[Any]]:  # Any: model attributes
    """Columns read as the driver gives them (see ``add_intervals``): the hot availability scans read
    thousands of rows, and SQLAlchemy's per-value conversion (SQLite's datetime strings parsed by a
    regular expression, UUIDs built from hex) was most of their time."""
    return [sa.type_coerce(col(c), sa.String) for c in columns]


async def add_scanned(
    session: AsyncSession, found: dict[uuid.UUID, list[tuple[datetime, datetime]]], scan: sa.Select[Any]
) -> None:
    """Run a scan of ``raw_columns`` on the session's connection as a Core statement and add its rows
    (``add_intervals``). Not ``session.execute``: the ORM calls a Python processor for every column of
    every row, which was the largest part of an availability query (thousands of rows)."""
    connection = await session.connection()
    add_intervals(found, await connection.execute(scan))


def add_intervals(found: dict[uuid.UUID, list[tuple[datetime, datetime]]], rows: Iterable[Any]) -> None:
    """Append (engineer, start, end) rows read by ``raw_columns`` to each engineer's list: PostgreSQL's
    driver gives UUIDs and aware datetimes, SQLite gives hex text and UTC timestamps as text."""
    by_hex = {e.hex: found[e] for e in found}
    for engineer, a, b in rows:
        if isinstance(a, str):  # SQLite: "2026-03-02 06:00:00.000000", in UTC
            by_hex[engineer].append((fromisoformat(a + "+00:00"), fromisoformat(b + "+00:00")))
        else:
            found[engineer].append((a, b))


fromisoformat = datetime.fromisoformat
