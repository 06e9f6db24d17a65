"""Holiday calendars: named sets of non-working dates, imported from ICS or edited one by one.

Business-calendar data that every service line uses (the support regulation, engineers' hours, SLA
contracts' service calendars), so it lives in the shared kernel beside business time.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import icalendar
import recurring_ical_events
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from core.db import id_field, utc_field
from core.errors import FieldProblem, InvalidInput
from core.text import cleaned

MAX_ICS_BYTES = 2 * 1024 * 1024
MAX_HOLIDAYS_PER_IMPORT = 5000
RECURRENCE_YEARS = 3  # how far recurring holiday events are expanded from their first year


class Holiday(SQLModel, table=True):
    """A non-working date of a named holiday calendar (e.g. a national production calendar)."""

    __tablename__ = "core_holiday"
    __table_args__ = (sa.UniqueConstraint("calendar", "day", name="uq_core_holiday_calendar_day"),)

    id: uuid.UUID = id_field()
    calendar: str = Field(max_length=64, index=True)
    day: date
    name: str = Field(max_length=200)
    source: str = Field(max_length=200)
    created_at: datetime = utc_field()


@dataclass(frozen=True, slots=True)
class HolidayDate:
    day: date
    name: str


async def holidays_of(session: AsyncSession, calendar: str) -> frozenset[date]:
    rows = await session.scalars(sa.select(col(Holiday.day)).where(col(Holiday.calendar) == calendar))
    return frozenset(rows.all())


async def list_holidays(session: AsyncSession, calendar: str, *, year: int | None = None) -> list[Holiday]:
    statement = sa.select(Holiday).where(col(Holiday.calendar) == calendar).order_by(col(Holiday.day))
    if year is not None:
        statement = statement.where(
            col(Holiday.day) >= date(year, 1, 1), col(Holiday.day) < date(year + 1, 1, 1)
        )
    return list((await session.scalars(statement)).all())


def parse_holiday_ics(content: bytes) -> list[HolidayDate]:
    """Every date an ICS file marks as a holiday: all-day events (DTEND exclusive), recurrences expanded."""
    if len(content) > MAX_ICS_BYTES:
        raise InvalidInput(f"The calendar file is larger than {MAX_ICS_BYTES // 1024} KiB.")
    try:
        calendar = icalendar.Calendar.from_ical(content)
    except (ValueError, IndexError, KeyError) as exc:
        raise InvalidInput(
            "The file is not a valid iCalendar (RFC 5545) document.",
            errors=[FieldProblem("file", str(exc)[:200])],
        ) from exc
    events = list(calendar.walk("VEVENT"))
    if not events:
        raise InvalidInput("The calendar file contains no events.")
    starts = [_as_date(event.decoded("DTSTART")) for event in events if event.get("DTSTART") is not None]
    if not starts:
        raise InvalidInput("No event in the calendar file has a start date.")
    window_start = min(starts)
    window_end = date(window_start.year + RECURRENCE_YEARS, 12, 31)
    found: dict[date, str] = {}
    try:
        occurrences = recurring_ical_events.of(calendar).between(window_start, window_end + timedelta(days=1))
    except (ValueError, TypeError) as exc:
        raise InvalidInput("The calendar's recurrence rules could not be expanded.") from exc
    for occurrence in occurrences:
        first = _as_date(occurrence.decoded("DTSTART"))
        end_value = occurrence.get("DTEND")
        last = _as_date(occurrence.decoded("DTEND")) if end_value is not None else first + timedelta(days=1)
        name = cleaned(str(occurrence.get("SUMMARY", "Holiday"))).strip()[:200] or "Holiday"
        day = first
        while day < max(last, first + timedelta(days=1)):
            found.setdefault(day, name)
            day += timedelta(days=1)
            if len(found) > MAX_HOLIDAYS_PER_IMPORT:
                raise InvalidInput(f"The calendar marks more than {MAX_HOLIDAYS_PER_IMPORT} days.")
    return [HolidayDate(day, name) for day, name in sorted(found.items())]


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise InvalidInput("An event's date is neither a DATE nor a DATE-TIME.")


async def import_holidays(
    session: AsyncSession,
    calendar: str,
    holidays: Iterable[HolidayDate],
    *,
    source: str,
    now: datetime,
    replace: bool = False,
) -> list[Holiday]:
    """Add the dates to the calendar (existing dates keep their row); ``replace`` drops the others first."""
    items = list(holidays)
    if replace:
        await session.execute(sa.delete(Holiday).where(col(Holiday.calendar) == calendar))
    existing = {h.day: h for h in await list_holidays(session, calendar)}
    added = [
        Holiday(calendar=calendar, day=item.day, name=item.name, source=source, created_at=now)
        for item in items
        if item.day not in existing
    ]
    session.add_all(added)
    await session.flush()
    return await list_holidays(session, calendar)


async def remove_holiday(session: AsyncSession, calendar: str, day: date) -> bool:
    result = await session.execute(
        sa.delete(Holiday).where(col(Holiday.calendar) == calendar, col(Holiday.day) == day)
    )
    return bool(getattr(result, "rowcount", 0))
