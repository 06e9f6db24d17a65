"""What scheduling does when money moves (billing calls this; scheduling never imports billing)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import SYSTEM_ACTOR, record_audit
from scheduling import notices
from scheduling.bookings import expire_lapsed_holds
from scheduling.catalog import get_service
from scheduling.lifecycle import move
from scheduling.models import ACTIVE_BOOKING_STATES, CONFIRMED_ONWARDS, Booking, BookingStatus, BusyInterval
from scheduling.preconditions import missing_required

Refusal = Literal["cancelled", "slot_taken"]


async def confirm_paid_booking(
    session: AsyncSession, booking_id: uuid.UUID, *, now: datetime
) -> Refusal | None:
    """Confirm a paid booking; otherwise say why it cannot be (the caller refunds).

    A live hold simply becomes confirmed. A lapsed hold is confirmed only if nothing took the time
    since (the database's no-double-booking guarantee decides under a race). A cancelled booking
    (or one released because its payment could not start) is not brought back.
    """
    booking = await session.get(Booking, booking_id, with_for_update=True)
    if booking is None or booking.status == BookingStatus.CANCELLED:
        return "cancelled"
    if booking.status in CONFIRMED_ONWARDS:  # paid before: a repeated payment event changes nothing
        return None
    live = (
        booking.status == BookingStatus.PENDING_PAYMENT
        and booking.hold_expires_at is not None
        and booking.hold_expires_at > now
    )
    if not live:
        # Lapsed holds (this one included) stop counting before the slot is checked.
        await expire_lapsed_holds(session, now=now, engineer_ids=[booking.engineer_id])
        await session.refresh(booking)
        if await _slot_taken(session, booking):
            return "slot_taken"
    service = await get_service(session, booking.service_id)
    ready = not await missing_required(session, booking, service.checklist)
    move(booking, BookingStatus.READY if ready else BookingStatus.CONFIRMED)
    booking.hold_expires_at, booking.updated_at = None, now
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:  # a concurrent booking took the time a moment ago
        booking.status = BookingStatus.EXPIRED
        return "slot_taken"
    await notices.booking_confirmed(session, booking, now=now)
    return None


async def release_refunded_booking(session: AsyncSession, booking_id: uuid.UUID, *, now: datetime) -> bool:
    """The booking's money was returned in full: an active booking is cancelled with the refund as its
    reason and its slot released (a session already under way or over stays as it is)."""
    booking = await session.get(Booking, booking_id, with_for_update=True)
    if (
        booking is None
        or booking.status not in ACTIVE_BOOKING_STATES
        or booking.status == BookingStatus.IN_PROGRESS
    ):
        return False
    move(booking, BookingStatus.CANCELLED)
    booking.cancelled_at, booking.cancellation_refund = now, "full"
    booking.hold_expires_at = None
    booking.ics_sequence += 1
    booking.updated_at, booking.revision = now, booking.revision + 1
    await record_audit(
        session,
        SYSTEM_ACTOR,
        "booking_cancelled",
        subject_type="booking",
        subject_id=booking.id,
        organization_id=booking.organization_id,
        now=now,
        data={"refund": "full", "by": "refund"},
    )
    await session.flush()
    return True


async def release_unpaid_hold(
    session: AsyncSession, booking_id: uuid.UUID, *, forget: bool, now: datetime
) -> None:
    """The hold's payment could not start: free the slot at once. ``forget`` deletes the hold as if it
    never was (nothing about it left this system); otherwise it stays on record as expired."""
    booking = await session.get(Booking, booking_id, with_for_update=True)
    if booking is None or booking.status != BookingStatus.PENDING_PAYMENT:
        return
    if forget:
        await session.delete(booking)
    else:
        move(booking, BookingStatus.EXPIRED)
        booking.hold_expires_at, booking.updated_at = now, now
    await session.flush()


async def _slot_taken(session: AsyncSession, booking: Booking) -> bool:
    overlapping_booking = await session.scalar(
        sa.select(sa.func.count()).where(
            col(Booking.engineer_id) == booking.engineer_id,
            col(Booking.id) != booking.id,
            col(Booking.status).in_(ACTIVE_BOOKING_STATES),
            col(Booking.blocked_from) < booking.blocked_until,
            col(Booking.blocked_until) > booking.blocked_from,
        )
    )
    overlapping_busy = await session.scalar(
        sa.select(sa.func.count()).where(
            col(BusyInterval.engineer_id) == booking.engineer_id,
            col(BusyInterval.starts_at) < booking.blocked_until,
            col(BusyInterval.ends_at) > booking.blocked_from,
        )
    )
    return bool(overlapping_booking or overlapping_busy)
