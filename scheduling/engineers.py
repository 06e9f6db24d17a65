"""Engineers' scheduling profiles: time zone, weekly hours, skills, holiday calendar."""

from __future__ import annotations

import functools
import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import Actor, Role, User
from core.business_time import BusinessCalendar, from_weekly_hours
from core.errors import FieldProblem, InvalidInput, NotFound, PermissionDenied
from core.holidays import holidays_of
from scheduling.models import Engineer
from scheduling.schemas import WorkingHoursIn


def engineer_calendar(engineer: Engineer, holidays: frozenset[date]) -> BusinessCalendar:
    """The engineer's calendar. Calendars are values: engineers with the same zone, hours and holidays
    share one, built once per process (with what it has computed already, e.g. its opening intervals)."""
    hours = tuple(
        sorted((day, tuple(tuple(span) for span in spans)) for day, spans in engineer.weekly_hours.items())
    )
    return _calendar(engineer.time_zone, hours, holidays)


@functools.lru_cache(maxsize=1024)
def _calendar(
    time_zone: str, hours: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...], holidays: frozenset[date]
) -> BusinessCalendar:
    return from_weekly_hours(time_zone, dict(hours), holidays)


def require_calendar_editor(actor: Actor, engineer_id: uuid.UUID) -> None:
    """Engineers manage their own calendar; the support lead or an admin manages anyone's."""
    if actor.id != engineer_id and not (actor.is_system or actor.has_role(Role.SUPPORT_LEAD, Role.ADMIN)):
        raise PermissionDenied(
            "Engineers manage their own calendar; the support lead or an admin manages anyone's."
        )


async def set_working_hours(
    session: AsyncSession, actor: Actor, engineer_id: uuid.UUID, data: WorkingHoursIn, *, now: datetime
) -> Engineer:
    """Create or replace an engineer's weekly hours, zone and skills."""
    user = await session.get(User, engineer_id)
    if user is None or user.role not in {Role.SUPPORT_ENGINEER, Role.SUPPORT_LEAD}:
        raise NotFound("No support engineer with this id.")
    require_calendar_editor(actor, engineer_id)
    problems = []
    try:
        ZoneInfo(data.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(FieldProblem("time_zone", "unknown IANA time zone"))
    hours = {day: [list(span) for span in spans] for day, spans in data.weekly_hours.items()}
    try:
        from_weekly_hours("UTC", hours)
    except (ValueError, TypeError) as exc:
        problems.append(FieldProblem("weekly_hours", str(exc)))
    if problems:
        raise InvalidInput("The working hours are not valid.", errors=problems)
    engineer = await session.get(Engineer, engineer_id)
    if engineer is None:
        engineer = Engineer(user_id=engineer_id, time_zone=data.time_zone, created_at=now, updated_at=now)
        session.add(engineer)
    engineer.time_zone = data.time_zone
    engineer.weekly_hours = hours
    engineer.skills = sorted(set(data.skills))
    engineer.holiday_calendar = data.holiday_calendar
    engineer.updated_at = now
    await session.flush()
    return engineer


async def get_engineer(session: AsyncSession, engineer_id: uuid.UUID) -> Engineer:
    engineer = await session.get(Engineer, engineer_id)
    if engineer is None:
        raise NotFound("This engineer has no working hours yet.")
    return engineer


async def qualified_engineers(
    session: AsyncSession, required_skills: list[str]
) -> list[tuple[Engineer, BusinessCalendar]]:
    """Active engineers having every required skill, each with their calendar (holidays included)."""
    rows = (
        await session.scalars(
            sa.select(Engineer)
            .join(User, col(User.id) == col(Engineer.user_id))
            .where(col(User.is_active))
            .order_by(col(Engineer.user_id))
        )
    ).all()
    holidays: dict[str, frozenset[date]] = {}
    result = []
    for engineer in rows:
        if not set(required_skills) <= set(engineer.skills) or not engineer.weekly_hours:
            continue
        if engineer.holiday_calendar not in holidays:
            holidays[engineer.holiday_calendar] = await holidays_of(session, engineer.holiday_calendar)
        result.append((engineer, engineer_calendar(engineer, holidays[engineer.holiday_calendar])))
    return result
