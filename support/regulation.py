"""The support regulation: published, versioned promises that every customer is measured against."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import Actor, record_audit
from core.business_time import BusinessCalendar, from_weekly_hours
from core.db import dialect_insert
from core.errors import Conflict, FieldProblem, InvalidInput
from core.holidays import holidays_of
from core.pagination import Page, paginate
from support.models import RegulationVersion

INTAKE_ITEMS = {
    "device_database": "the mobile-device database file (attachment of kind device_database)",
    "exchange_archive_link": "a link to the exchange-directory archive",
}
# What each intake item is called when a customer is told it is missing.
INTAKE_ITEM_NAMES = {
    "en": {
        "device_database": "the mobile-device database file",
        "exchange_archive_link": "a link to the exchange-directory archive",
    },
    "ru": {
        "device_database": "файл базы мобильных устройств",
        "exchange_archive_link": "ссылка на архив каталога обмена",
    },
}
DEFAULT_CALENDAR = "default"
DEFAULT_TEXT = (
    "Basic support is free for every company that bought the product, directly or through a partner. "
    "Tickets are filed by the company's designated support contact with a complete intake: project, "
    "description with affected applications, steps to reproduce and impact, number of affected employees, "
    "the mobile-device database file and a link to the exchange-directory archive. The first response "
    "comes within the published number of business hours after the intake is complete."
)


# The default regulation's id is fixed: a read that shows it before anything stored it names the same
# row that the first filing then stores.
DEFAULT_REGULATION_ID = uuid.UUID("0190c0de-0000-7000-8000-000000000001")


def _default_regulation(now: datetime) -> RegulationVersion:
    return RegulationVersion(
        id=DEFAULT_REGULATION_ID,
        version=1,
        published_at=now,
        time_zone="Europe/Moscow",
        weekly_hours={str(d): [["09:00", "18:00"]] for d in range(5)},
        holiday_calendar=DEFAULT_CALENDAR,
        first_response_minutes=8 * 60,
        update_interval_minutes=16 * 60,
        required_items=list(INTAKE_ITEMS),
        attachment_retention_days=180,
        text=DEFAULT_TEXT,
    )


async def current_regulation(
    session: AsyncSession, *, now: datetime, store: bool = True
) -> RegulationVersion:
    """The version in force; a new installation starts with the vendor's default regulation, stored by
    the first write that needs it (a read, ``store=False``, shows it and writes nothing: on SQLite a read
    that turned into a write would meet the worker's writes as "database is locked")."""
    latest = sa.select(RegulationVersion).order_by(col(RegulationVersion.version).desc()).limit(1)
    found = (await session.scalars(latest)).first()
    if found is not None:
        return found
    if not store:
        return _default_regulation(now)
    # Concurrent first requests may all get here: the first insert wins, the others do nothing. No
    # conflict target: the default has a fixed id, and a concurrent twin meets the primary key first.
    default = _default_regulation(now)
    values = {c.key: getattr(default, c.key) for c in sa.inspect(RegulationVersion).column_attrs}
    insert = dialect_insert(session, RegulationVersion).values(**values)
    await session.execute(insert.on_conflict_do_nothing())
    return (await session.scalars(latest)).one()


async def regulation_versions(
    session: AsyncSession, *, limit: int, cursor: str | None
) -> Page[RegulationVersion]:
    """Every published version, newest first (the default one appears once a ticket has stored it)."""
    return await paginate(
        session, sa.select(RegulationVersion), col(RegulationVersion.id), limit=limit, cursor=cursor
    )


def validate_regulation(
    time_zone: str, weekly_hours: dict[str, list[list[str]]], required_items: list[str]
) -> BusinessCalendar:
    problems = [
        FieldProblem("required_items", f"unknown intake item {item}")
        for item in required_items
        if item not in INTAKE_ITEMS
    ]
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(FieldProblem("time_zone", "unknown IANA time zone"))
    try:
        calendar = calendar_from(time_zone, weekly_hours, frozenset())
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        problems.append(FieldProblem("weekly_hours", str(exc)))
        calendar = None
    if problems or calendar is None:
        raise InvalidInput("The regulation is not valid.", errors=problems)
    return calendar


async def publish_regulation(
    session: AsyncSession,
    actor: Actor,
    *,
    now: datetime,
    **fields: Any,  # Any: validated schema fields
) -> RegulationVersion:
    """Publish a new version; tickets already running keep the version they started under."""
    current = await current_regulation(session, now=now)
    validate_regulation(fields["time_zone"], fields["weekly_hours"], fields["required_items"])
    regulation = RegulationVersion(
        version=current.version + 1, published_at=now, published_by=actor.id, **fields
    )
    session.add(regulation)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "Another version was published at the same moment; review it and publish again."
        ) from exc
    await record_audit(
        session,
        actor,
        "regulation_published",
        subject_type="regulation",
        subject_id=regulation.id,
        now=now,
        data={"version": regulation.version},
    )
    return regulation


def calendar_from(time_zone: str, weekly_hours: dict[str, Any], holidays: frozenset[Any]) -> BusinessCalendar:
    return from_weekly_hours(time_zone, weekly_hours, holidays)


async def regulation_calendar(session: AsyncSession, regulation: RegulationVersion) -> BusinessCalendar:
    """The regulation's opening hours with the holidays of its holiday calendar as they stand now."""
    holidays = await holidays_of(session, regulation.holiday_calendar)
    return calendar_from(regulation.time_zone, regulation.weekly_hours, holidays)


async def names_holiday_calendar(session: AsyncSession, calendar: str) -> bool:
    """Whether any published regulation version measures time by this holiday calendar (then its
    holidays are public: anyone may check a deadline)."""
    found = await session.scalar(
        sa.select(sa.literal(1)).where(col(RegulationVersion.holiday_calendar) == calendar).limit(1)
    )
    return found is not None or calendar == DEFAULT_CALENDAR
