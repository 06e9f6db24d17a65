"""Read models of scheduling: a booking as the API shows it, its status derived at read time."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import User
from scheduling.lifecycle import effective_status
from scheduling.models import Booking, Service
from scheduling.schemas import BookingOut, PaymentStartOut


def booking_out(b: Booking, now: datetime, payment: PaymentStartOut | None = None) -> BookingOut:
    """Times in the booking's own zone; a lapsed hold reads as expired."""
    zone = ZoneInfo(b.time_zone)
    return BookingOut.of(
        b,
        number=f"RS-{b.number}",
        status=effective_status(b, now),
        starts_at=b.starts_at.astimezone(zone),
        ends_at=b.ends_at.astimezone(zone),
        payment=payment or msgspec.UNSET,
    )


async def names_of(session: AsyncSession, bookings: list[Booking]) -> dict[uuid.UUID, tuple[str, str]]:
    """Each booking's service name and engineer's name, in one statement."""
    if not bookings:
        return {}
    rows = await session.execute(
        sa.select(col(Booking.id), col(Service.name), col(User.full_name))
        .join(Service, col(Service.id) == col(Booking.service_id))
        .join(User, col(User.id) == col(Booking.engineer_id))
        .where(col(Booking.id).in_([b.id for b in bookings]))
    )
    return {booking_id: (service, engineer) for booking_id, service, engineer in rows}
