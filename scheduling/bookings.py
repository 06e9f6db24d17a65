"""Availability and holds: a slot is offered when a qualified engineer is free; a hold takes it.

No double booking: on PostgreSQL an exclusion constraint over (engineer, blocked range) for active
bookings refuses overlaps; on SQLite every writer holds the database's write lock, so the overlap
check and the insert are one serialised step. Expired holds never block: they are marked expired
in the same transaction before anything is checked.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import Actor, Role, scoped
from core.business_time import BusinessCalendar
from core.counters import next_value
from core.errors import FieldProblem, InvalidInput, NotFound, PermissionDenied
from core.pagination import Page, paginate
from scheduling import notices
from scheduling.availability import grid_points, merge, on_grid, opening_intervals, starts_between
from scheduling.blocked import blocked_by_engineer
from scheduling.catalog import get_service
from scheduling.engineers import qualified_engineers
from scheduling.errors import SlotNotOffered, SlotTaken
from scheduling.models import (
    ACTIVE_BOOKING_STATES,
    Booking,
    BookingStatus,
    Engineer,
    Service,
)

BOOKING_COUNTER = "scheduling_booking"
MAX_WINDOW = timedelta(days=62)
SUGGESTED_ALTERNATIVES = 5
ALTERNATIVES_HORIZONS = (timedelta(days=1), timedelta(days=14))


@dataclass(frozen=True, slots=True)
class SchedulingPolicy:
    grid: timedelta = timedelta(minutes=30)
    hold: timedelta = timedelta(minutes=15)


def zone_of(name: str, field: str = "tz") -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(
            f"{name!r} is not an IANA time zone.", errors=[FieldProblem(field, "unknown zone")]
        ) from exc


async def expire_lapsed_holds(
    session: AsyncSession, *, now: datetime, engineer_ids: list[uuid.UUID] | None = None
) -> None:
    """Holds past their expiry stop blocking (derived state made explicit where slots are taken)."""
    statement = sa.update(Booking).where(
        col(Booking.status) == BookingStatus.PENDING_PAYMENT, col(Booking.hold_expires_at) <= now
    )
    if engineer_ids is not None:
        statement = statement.where(col(Booking.engineer_id).in_(engineer_ids))
    await session.execute(statement.values(status=BookingStatus.EXPIRED, updated_at=now))


def _service_span(service: Service) -> tuple[timedelta, timedelta, timedelta]:
    return (
        timedelta(minutes=service.duration_minutes),
        timedelta(minutes=service.buffer_before_minutes),
        timedelta(minutes=service.buffer_after_minutes),
    )


async def free_ranges_by_engineer(
    session: AsyncSession,
    service: Service,
    engineers: list[tuple[Engineer, BusinessCalendar]],
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    remember: bool = False,
) -> dict[uuid.UUID, list[tuple[datetime, datetime]]]:
    """Per engineer, the closed ranges of instants at which the service could start (before the grid
    and the notice are applied): each engineer's opening intervals less what blocks them. With
    ``remember`` (read-only transactions only: scheduling/blocked.py) what blocks them may come from
    an earlier request of this process."""
    duration, before, after = _service_span(service)
    blocked = await blocked_by_engineer(
        session,
        [e.user_id for e, _ in engineers],
        start - duration - before - after,
        end + duration + before + after,
        remember=remember,
    )
    return {
        engineer.user_id: starts_between(
            opening_intervals(calendar, start, end + duration),
            blocked[engineer.user_id].forbidden_starts(now, duration=duration, before=before, after=after),
            duration,
        )
        for engineer, calendar in engineers
    }


def _on_grid(
    ranges: list[tuple[datetime, datetime]],
    service: Service,
    start: datetime,
    end: datetime,
    *,
    zone: ZoneInfo,
    policy: SchedulingPolicy,
    now: datetime,
) -> list[datetime]:
    not_before = max(now + timedelta(minutes=service.min_notice_minutes), start)
    return [s for s in grid_points(ranges, grid=policy.grid, zone=zone, not_before=not_before) if s < end]


async def free_starts_by_engineer(
    session: AsyncSession,
    service: Service,
    engineers: list[tuple[Engineer, BusinessCalendar]],
    start: datetime,
    end: datetime,
    *,
    zone: ZoneInfo,
    policy: SchedulingPolicy,
    now: datetime,
) -> dict[uuid.UUID, list[datetime]]:
    ranges = await free_ranges_by_engineer(session, service, engineers, start, end, now=now)
    return {
        engineer_id: _on_grid(found, service, start, end, zone=zone, policy=policy, now=now)
        for engineer_id, found in ranges.items()
    }


async def availability_of(
    session: AsyncSession,
    service_id: uuid.UUID,
    start: datetime,
    end: datetime,
    *,
    tz: str,
    policy: SchedulingPolicy,
    now: datetime,
) -> tuple[Service, list[datetime]]:
    """Start times in [start, end) at which at least one qualified engineer is free."""
    zone = zone_of(tz)
    if end <= start or end - start > MAX_WINDOW:
        raise InvalidInput(
            f"The window must be positive and at most {MAX_WINDOW.days} days.",
            errors=[FieldProblem("to", "invalid window")],
        )
    service = await get_service(session, service_id, include_inactive=False)
    engineers = await qualified_engineers(session, service.required_skills)
    by_engineer = await free_ranges_by_engineer(
        session, service, engineers, start, end, now=now, remember=True
    )
    # A start is offered when any engineer is free then: the union of everyone's ranges, put on the
    # grid once (not once per engineer and then deduplicated).
    anyone = merge(r for ranges in by_engineer.values() for r in ranges)
    return service, _on_grid(anyone, service, start, end, zone=zone, policy=policy, now=now)


async def create_hold(
    session: AsyncSession,
    actor: Actor,
    *,
    service_id: uuid.UUID,
    starts_at: datetime,
    tz: str,
    funding: str,
    policy: SchedulingPolicy,
    now: datetime,
) -> Booking:
    """Hold a slot for the caller's organisation with the least-booked free qualified engineer."""
    if not actor.is_customer or actor.organization_id is None:
        raise PermissionDenied("Bookings are made by users of a customer organization.")
    if funding != "payment":
        raise InvalidInput(
            "Customers book with funding=payment (or funding=contract under an SLA contract); support "
            "proposes sessions for free tickets.",
            errors=[FieldProblem("funding", "not available to this caller")],
        )
    return await take_slot(
        session,
        organization_id=actor.organization_id,
        booked_by=actor.id,
        service_id=service_id,
        starts_at=starts_at,
        tz=tz,
        funding=funding,
        policy=policy,
        now=now,
        confirmed=False,
    )


async def create_support_session(
    session: AsyncSession,
    *,
    organization_id: uuid.UUID,
    booked_by: uuid.UUID,
    service_id: uuid.UUID,
    starts_at: datetime,
    tz: str,
    policy: SchedulingPolicy,
    now: datetime,
) -> Booking:
    """A session support proposes for a free ticket: no charge, confirmed at once."""
    booking = await take_slot(
        session,
        organization_id=organization_id,
        booked_by=booked_by,
        service_id=service_id,
        starts_at=starts_at,
        tz=tz,
        funding="support_ticket",
        policy=policy,
        now=now,
        confirmed=True,
    )
    await notices.booking_confirmed(session, booking, now=now)
    return booking


async def take_slot(
    session: AsyncSession,
    *,
    organization_id: uuid.UUID,
    booked_by: uuid.UUID,
    service_id: uuid.UUID,
    starts_at: datetime,
    tz: str,
    funding: str,
    policy: SchedulingPolicy,
    now: datetime,
    confirmed: bool,
    price_minor: int | None = None,
    currency: str | None = None,
) -> Booking:
    """Take a free slot with the least-booked qualified engineer: a hold, or a confirmed session. The
    price is the service's unless the caller sets one (support sessions are free; contract sessions
    cost only their overage)."""
    zone = zone_of(tz, "time_zone")
    service = await get_service(session, service_id, include_inactive=False)
    duration, before, after = _service_span(service)
    if starts_at < now + timedelta(minutes=service.min_notice_minutes):
        raise SlotNotOffered(
            f"Sessions start at least {service.min_notice_minutes} minutes from now.",
            errors=[FieldProblem("starts_at", "too soon or in the past")],
        )
    if not on_grid(starts_at, grid=policy.grid, zone=zone):
        raise SlotNotOffered(
            f"Sessions start on the {int(policy.grid.total_seconds() // 60)}-minute grid.",
            errors=[FieldProblem("starts_at", "off the grid")],
        )
    engineers = await qualified_engineers(session, service.required_skills)
    await expire_lapsed_holds(session, now=now, engineer_ids=[e.user_id for e, _ in engineers])
    free = await free_starts_by_engineer(
        session, service, engineers, starts_at, starts_at + policy.grid, zone=zone, policy=policy, now=now
    )
    candidates = [engineer_id for engineer_id, starts in free.items() if starts_at in starts]
    if not candidates and not any(
        _covers(opening_intervals(calendar, starts_at, starts_at + duration), starts_at, starts_at + duration)
        for _, calendar in engineers
    ):
        raise SlotNotOffered(
            "No qualified engineer works at that time (outside working hours or on a holiday).",
            errors=[FieldProblem("starts_at", "outside working hours")],
        )
    if not candidates:
        raise SlotTaken(
            "No engineer is free at that time.",
            next_free_slots=[
                s.astimezone(zone).isoformat()
                for s in await _next_slots(session, service, engineers, starts_at, zone, policy, now)
            ],
        )
    load = await _weekly_load(session, candidates, starts_at)
    for engineer_id in sorted(candidates, key=lambda e: (load[e], str(e))):
        booking = Booking(
            number=await next_value(session, BOOKING_COUNTER),
            service_id=service.id,
            organization_id=organization_id,
            booked_by=booked_by,
            engineer_id=engineer_id,
            status=BookingStatus.CONFIRMED if confirmed else BookingStatus.PENDING_PAYMENT,
            funding=funding,
            time_zone=tz,
            starts_at=starts_at,
            ends_at=starts_at + duration,
            blocked_from=starts_at - before,
            blocked_until=starts_at + duration + after,
            hold_expires_at=None if confirmed else now + policy.hold,
            price_minor=(0 if funding == "support_ticket" else service.price_minor)
            if price_minor is None
            else price_minor,
            currency=currency or service.currency,
            created_at=now,
            updated_at=now,
        )
        try:
            async with (
                session.begin_nested()
            ):  # a savepoint: an exclusion violation keeps the transaction usable
                session.add(booking)
                await session.flush()
        except IntegrityError:
            continue  # a concurrent request took this engineer's slot; try the next one
        return booking
    raise SlotTaken(
        "The slot was taken a moment ago.",
        next_free_slots=[
            s.astimezone(zone).isoformat()
            for s in await _next_slots(session, service, engineers, starts_at, zone, policy, now)
        ],
    )


def _covers(intervals: Sequence[tuple[datetime, datetime]], start: datetime, end: datetime) -> bool:
    return any(lo <= start and end <= hi for lo, hi in intervals)


def readable_bookings(actor: Actor) -> sa.Select[Booking]:
    """The bookings the actor may see (accounts.tenancy): staff every one, customers their
    organisation's."""
    return scoped(sa.select(Booking), col(Booking.organization_id), actor)


async def get_booking(session: AsyncSession, actor: Actor, booking_id: uuid.UUID) -> Booking:
    """A booking the actor may see; another tenant's answers NotFound."""
    booking = (await session.scalars(readable_bookings(actor).where(col(Booking.id) == booking_id))).first()
    if booking is None:
        raise NotFound("No booking with this id.")
    return booking


async def list_bookings(
    session: AsyncSession, actor: Actor, *, limit: int, cursor: str | None
) -> Page[Booking]:
    """Customers see their organisation's bookings, engineers their own sessions, leads everything."""
    statement = readable_bookings(actor)
    if actor.has_role(Role.SUPPORT_ENGINEER):
        statement = statement.where(col(Booking.engineer_id) == actor.id)
    return await paginate(session, statement, col(Booking.id), limit=limit, cursor=cursor)


async def _weekly_load(
    session: AsyncSession, engineer_ids: list[uuid.UUID], moment: datetime
) -> dict[uuid.UUID, int]:
    week_start = moment - timedelta(days=moment.weekday())
    rows = await session.execute(
        sa.select(col(Booking.engineer_id), sa.func.count())
        .where(
            col(Booking.engineer_id).in_(engineer_ids),
            col(Booking.status).in_(ACTIVE_BOOKING_STATES),
            col(Booking.starts_at) >= week_start - timedelta(days=1),
            col(Booking.starts_at) < week_start + timedelta(days=8),
        )
        .group_by(col(Booking.engineer_id))
    )
    load: dict[uuid.UUID, int] = defaultdict(int)
    for engineer_id, count in rows:
        load[engineer_id] = int(count)
    return load


async def _next_slots(
    session: AsyncSession,
    service: Service,
    engineers: list[tuple[Engineer, BusinessCalendar]],
    after: datetime,
    zone: ZoneInfo,
    policy: SchedulingPolicy,
    now: datetime,
) -> list[datetime]:
    """The first few free starts after ``after``: the next day first, the next fortnight only if the
    day has too few (a refused hold under a burst should cost little)."""
    found: list[datetime] = []
    for horizon in ALTERNATIVES_HORIZONS:
        by_engineer = await free_starts_by_engineer(
            session, service, engineers, after, after + horizon, zone=zone, policy=policy, now=now
        )
        found = sorted({s for starts in by_engineer.values() for s in starts if s != after})
        if len(found) >= SUGGESTED_ALTERNATIVES:
            break
    return found[:SUGGESTED_ALTERNATIVES]
