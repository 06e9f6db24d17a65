"""What scheduling tells the customer who booked, as events written to the outbox in the booking's
transaction: the hold waiting for payment, the confirmation (the worker attaches the invite) with its
reminders, a move, the cancellation and every refund Stripe made."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core.outbox import Event, OutboxEvent, emit
from scheduling.models import STARTABLE, Booking, BookingStatus

REMINDERS = (timedelta(hours=24), timedelta(hours=1))


class BookingFacts(Event):
    booking_id: str
    number: str  # RS-1001
    status: str
    funding: str
    starts_at: str
    ends_at: str
    time_zone: str


class BookingConfirmed(BookingFacts):
    type = "booking.confirmed"


class BookingRescheduled(BookingFacts):
    type = "booking.rescheduled"


class BookingReminder(BookingFacts):
    type = "booking.reminder"
    hours_before: int


class BookingCancelled(BookingFacts):
    type = "booking.cancelled"
    refund: str | None


class BookingHeld(BookingFacts):
    type = "booking.held"
    hold_expires_at: str
    amount_minor: int
    currency: str


class BookingRefunded(BookingFacts):
    type = "booking.refunded"
    refund_id: str
    amount_minor: int
    currency: str
    reason: str


def _facts(booking: Booking) -> dict[str, str]:
    return {
        "booking_id": str(booking.id),
        "number": f"RS-{booking.number}",
        "status": booking.status.value,
        "funding": booking.funding,
        "starts_at": booking.starts_at.isoformat(),
        "ends_at": booking.ends_at.isoformat(),
        "time_zone": booking.time_zone,
    }


async def _raise(
    session: AsyncSession,
    booking: Booking,
    event: Event,
    *,
    now: datetime,
    deliver_after: datetime | None = None,
) -> None:
    await emit(
        session,
        event,
        now=now,
        subject_id=booking.id,
        organization_id=booking.organization_id,
        deliver_after=deliver_after,
    )


async def booking_confirmed(session: AsyncSession, booking: Booking, *, now: datetime) -> None:
    await _raise(session, booking, BookingConfirmed(**_facts(booking)), now=now)
    await _reminders(session, booking, now=now)


async def _reminders(session: AsyncSession, booking: Booking, *, now: datetime) -> None:
    """24 h and 1 h before the session (those still ahead). A reminder names the start it was made for:
    it is dropped if the booking was cancelled or moved since (the move made new ones)."""
    for before in REMINDERS:
        due = booking.starts_at - before
        if due > now:
            reminder = BookingReminder(**_facts(booking), hours_before=int(before.total_seconds() // 3600))
            await _raise(session, booking, reminder, now=now, deliver_after=due)


async def reminder_still_due(session: AsyncSession, event: OutboxEvent) -> str | None:
    """Why a session reminder no longer holds (the session was cancelled or moved), or None."""
    booking = await session.get(Booking, event.subject_id)
    if (
        booking is None
        or booking.status not in STARTABLE
        or booking.starts_at != datetime.fromisoformat(str(event.payload["starts_at"]))
    ):
        return "the session was cancelled or moved since the reminder was made"
    return None


async def booking_rescheduled(session: AsyncSession, booking: Booking, *, now: datetime) -> None:
    await _raise(session, booking, BookingRescheduled(**_facts(booking)), now=now)
    if booking.status != BookingStatus.PENDING_PAYMENT:
        await _reminders(session, booking, now=now)


async def booking_cancelled(session: AsyncSession, booking: Booking, *, now: datetime) -> None:
    cancelled = BookingCancelled(**_facts(booking), refund=booking.cancellation_refund)
    await _raise(session, booking, cancelled, now=now)


async def booking_held(
    session: AsyncSession, booking: Booking, *, amount_minor: int, currency: str, now: datetime
) -> None:
    """The slot is held and its payment can be made (raised once Stripe has the payment, never for a
    hold released because Stripe could not start it)."""
    assert booking.hold_expires_at is not None
    held = BookingHeld(
        **_facts(booking),
        hold_expires_at=booking.hold_expires_at.isoformat(),
        amount_minor=amount_minor,
        currency=currency,
    )
    await _raise(session, booking, held, now=now)


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
    refunded = BookingRefunded(
        **_facts(booking), refund_id=refund_id, amount_minor=amount_minor, currency=currency, reason=reason
    )
    await _raise(session, booking, refunded, now=now)
