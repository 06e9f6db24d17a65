"""What scheduling tells the customer who booked, written to the outbox in the booking's transaction:
the hold waiting for payment, the confirmation (the worker attaches the invite) with its reminders, a
move, the cancellation and every refund Stripe made."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from accounts.models import Organization, User
from core.outbox import Recipient, emit
from scheduling.models import Booking, BookingStatus

REMINDERS = (timedelta(hours=24), timedelta(hours=1))


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
    recipients = await _booker(session, booking)
    await emit(
        session,
        "booking.confirmed",
        _about(booking),
        now=now,
        recipients=recipients,
        subject_id=booking.id,
        organization_id=booking.organization_id,
    )
    await _reminders(session, booking, recipients, now=now)


async def _reminders(
    session: AsyncSession, booking: Booking, recipients: list[Recipient], *, now: datetime
) -> None:
    """24 h and 1 h before the session (those still ahead). A reminder names the start it was made for:
    the worker drops it if the booking was cancelled or moved since (the move made new ones)."""
    for before in REMINDERS:
        due = booking.starts_at - before
        if due > now:
            await emit(
                session,
                "booking.reminder",
                {**_about(booking), "hours_before": int(before.total_seconds() // 3600)},
                now=now,
                recipients=recipients,
                subject_id=booking.id,
                organization_id=booking.organization_id,
                deliver_after=due,
            )


async def booking_rescheduled(session: AsyncSession, booking: Booking, *, now: datetime) -> None:
    recipients = await _booker(session, booking)
    await emit(
        session,
        "booking.rescheduled",
        _about(booking),
        now=now,
        recipients=recipients,
        subject_id=booking.id,
        organization_id=booking.organization_id,
    )
    if booking.status != BookingStatus.PENDING_PAYMENT:
        await _reminders(session, booking, recipients, now=now)


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


async def booking_held(
    session: AsyncSession, booking: Booking, *, amount_minor: int, currency: str, now: datetime
) -> None:
    """The slot is held and its payment can be made (sent once Stripe has the payment, never for a
    hold released because Stripe could not start it)."""
    assert booking.hold_expires_at is not None
    await emit(
        session,
        "booking.held",
        {
            **_about(booking),
            "hold_expires_at": booking.hold_expires_at.isoformat(),
            "amount_minor": amount_minor,
            "currency": currency,
        },
        now=now,
        recipients=await _booker(session, booking),
        subject_id=booking.id,
        organization_id=booking.organization_id,
    )


async def booking_refunded(
    session: AsyncSession,
    booking: Booking,
    *,
    refund_id: str,
    amount_minor: int,
    currency: str,
    reason: str,
    now: datetime,
) -> None:
    """Stripe made a refund of the booking's payment (whatever asked for it: a cancellation, staff)."""
    await emit(
        session,
        "booking.refunded",
        {
            **_about(booking),
            "refund_id": refund_id,
            "amount_minor": amount_minor,
            "currency": currency,
            "reason": reason,
        },
        now=now,
        recipients=await _booker(session, booking),
        subject_id=booking.id,
        organization_id=booking.organization_id,
    )
