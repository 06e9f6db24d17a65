"""What scheduling tells the customer who booked, written to the outbox in the booking's transaction:
the confirmation (the worker attaches the invite) and the cancellation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Organization, User
from core.outbox import Recipient, emit
from scheduling.models import Booking


async def _booker(session: AsyncSession, booking: Booking) -> list[Recipient]:
    user = await session.get(User, booking.booked_by)
    organization = await session.get(Organization, booking.organization_id)
    locale = organization.locale if organization is not None else "ru"
    return [Recipient(user.email, locale)] if user is not None else []


def _about(booking: Booking) -> dict[str, object]:
    return {
        "booking_id": str(booking.id),
        "number": f"RS-{booking.number}",
        "status": booking.status.value,
        "funding": booking.funding,
        "starts_at": booking.starts_at.isoformat(),
        "ends_at": booking.ends_at.isoformat(),
        "time_zone": booking.time_zone,
    }


async def booking_confirmed(session: AsyncSession, booking: Booking, *, now: datetime) -> None:
    await emit(
        session,
        "booking.confirmed",
        _about(booking),
        now=now,
        recipients=await _booker(session, booking),
        subject_id=booking.id,
        organization_id=booking.organization_id,
    )


async def booking_cancelled(session: AsyncSession, booking: Booking, *, now: datetime) -> None:
    await emit(
        session,
        "booking.cancelled",
        {**_about(booking), "refund": booking.cancellation_refund},
        now=now,
        recipients=await _booker(session, booking),
        subject_id=booking.id,
        organization_id=booking.organization_id,
    )
