"""Remote sessions under an SLA contract: booked without payment while the month's included minutes
last; beyond them the overage is charged like a paid session (the booking waits for its payment) or
refused, as the contract says. The month is the calendar month of the session's start in the
contract calendar's zone; a cancelled or expired session gives its minutes back."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import Actor
from contracts import terms as rules
from contracts.agreements import ONE_DAY, in_force, version_in_force, versions_of
from contracts.errors import ContractNotInForce, IncludedHoursExhausted, NotCovered
from contracts.models import Contract, ContractSession, ContractState
from contracts.schemas import Terms
from contracts.sla import covered_why
from core.errors import PermissionDenied
from scheduling import (
    RELEASED,
    Booking,
    BookingStatus,
    SchedulingPolicy,
    booking_confirmed,
    get_service,
    take_slot,
)


def month_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    first = date(day.year, day.month, 1)
    following = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return datetime.combine(first, time(), zone), datetime.combine(following, time(), zone)


async def used_minutes(session: AsyncSession, contract_id: uuid.UUID, start: datetime, end: datetime) -> int:
    """Included minutes the contract's sessions starting in [start, end) take (cancelled ones give back)."""
    total = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(col(ContractSession.included_minutes)), 0))
        .join(Booking, col(Booking.id) == col(ContractSession.booking_id))
        .where(
            col(ContractSession.contract_id) == contract_id,
            col(Booking.starts_at) >= start,
            col(Booking.starts_at) < end,
            col(Booking.status).not_in(RELEASED),
        )
    )
    return int(total or 0)


async def _contract_for(
    session: AsyncSession, actor: Actor, starts_at: datetime
) -> tuple[Contract, Terms, ZoneInfo, date]:
    """The organisation's contract in force on the session's day (in the contract calendar's zone),
    locked until the booking commits, so two sessions booked at once cannot both take the month's last
    included minutes."""
    if not actor.is_customer or actor.organization_id is None:
        raise PermissionDenied("Sessions under a contract are booked by the users it covers.")
    around = starts_at.astimezone(UTC).date()
    candidates = (
        await session.scalars(
            sa.select(Contract)
            .where(
                col(Contract.organization_id) == actor.organization_id,
                col(Contract.state) == ContractState.ACTIVE,
                col(Contract.starts_on) <= around + ONE_DAY,
                col(Contract.ends_before) > around - ONE_DAY,
            )
            .with_for_update()
        )
    ).all()
    for contract in candidates:
        versions = await versions_of(session, contract.id)
        latest = rules.loaded(versions[-1].terms)
        zone = ZoneInfo(latest.calendar.time_zone) if latest.calendar else ZoneInfo("UTC")
        day = starts_at.astimezone(zone).date()
        if in_force(contract, day):
            return contract, rules.loaded(version_in_force(versions, day).terms), zone, day
    raise ContractNotInForce("Your organisation has no SLA contract in force on the session's day.")


async def book_contract_session(
    session: AsyncSession,
    actor: Actor,
    *,
    service_id: uuid.UUID,
    starts_at: datetime,
    tz: str,
    policy: SchedulingPolicy,
    now: datetime,
) -> Booking:
    """Book a session under the caller's contract: confirmed at once while included minutes last, else
    a hold waiting for the overage payment (or a refusal when the contract refuses overage)."""
    service = await get_service(session, service_id, include_inactive=False)
    contract, terms, zone, day = await _contract_for(session, actor, starts_at)
    why = await covered_why(session, actor, contract, terms)
    if why is not None:
        raise NotCovered(f"You are not covered by contract {contract.number}: {why}.")
    assert terms.included_session_minutes is not None
    assert terms.overage is not None
    start, end = month_bounds(day, zone)
    used = await used_minutes(session, contract.id, start, end)
    duration = service.duration_minutes
    left = max(0, terms.included_session_minutes - used)
    included = min(duration, left)
    overage = duration - included
    if overage and terms.overage.mode == "refuse":
        raise IncludedHoursExhausted(
            f"The contract includes {terms.included_session_minutes} session minutes a month and "
            f"{used} are booked for {day:%Y-%m}; it refuses sessions beyond them.",
            included_minutes=terms.included_session_minutes,
            used_minutes=used,
        )
    rate = terms.overage.rate_minor_per_hour or 0
    booking = await take_slot(
        session,
        organization_id=contract.organization_id,
        booked_by=actor.id,
        service_id=service.id,
        starts_at=starts_at,
        tz=tz,
        funding="contract",
        policy=policy,
        now=now,
        confirmed=overage == 0,
        price_minor=(overage * rate + 59) // 60,  # the overage minutes at the hourly rate, rounded up
        currency=terms.currency,
    )
    session.add(
        ContractSession(
            booking_id=booking.id, contract_id=contract.id, included_minutes=included, overage_minutes=overage
        )
    )
    await session.flush()
    if booking.status == BookingStatus.CONFIRMED:
        await booking_confirmed(session, booking, now=now)
    return booking
