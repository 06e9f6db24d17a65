"""What scheduling does when money arrives (billing calls this; scheduling never imports billing)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from scheduling.bookings import expire_lapsed_holds
from scheduling.catalog import get_service
from scheduling.models import ACTIVE_BOOKING_STATES, Booking, BookingStatus, BusyInterval
from scheduling.preconditions import missing_required


async def confirm_paid_booking(session: AsyncSession, booking_id: uuid.UUID, *, now: datetime) -> bool:
    """Confirm a paid booking; False when its slot is gone (the caller refunds).

    A live hold simply becomes confirmed. A lapsed hold is confirmed only if nothing took the time
    since (the database's no-double-booking guarantee decides under a race).
    """
    booking = await session.get(Booking, booking_id, with_for_update=True)
    if booking is None or booking.status == BookingStatus.CANCELLED:
        return False
    if booking.status in {
        BookingStatus.CONFIRMED,
        BookingStatus.READY,
        BookingStatus.IN_PROGRESS,
        BookingStatus.COMPLETED,
    }:
        return True
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
            return False
    service = await get_service(session, booking.service_id)
    booking.status = BookingStatus.CONFIRMED
    if not await missing_required(session, booking, service.checklist):
        booking.status = BookingStatus.READY
    booking.hold_expires_at, booking.updated_at = None, now
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:  # a concurrent booking took the time a moment ago
        booking.status = BookingStatus.EXPIRED
        return False
    return True


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
