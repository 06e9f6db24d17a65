"""Booking lifecycle: cancel (with the refund the policy decides), reschedule, start, complete, no-show."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from accounts import Actor, Role, record_audit
from core.errors import PermissionDenied
from scheduling import notices
from scheduling.bookings import SchedulingPolicy, get_booking, take_slot
from scheduling.catalog import get_service
from scheduling.errors import IllegalBookingTransition
from scheduling.models import CANCELLABLE, STARTABLE, TRANSITIONS, Booking, BookingStatus

B = BookingStatus
STAFF_ROLES = (Role.SUPPORT_ENGINEER, Role.SUPPORT_LEAD, Role.ADMIN)
START_EARLY = timedelta(minutes=15)


def move(booking: Booking, to: BookingStatus) -> None:
    """Change a booking's status as its lifecycle (scheduling.models.TRANSITIONS) allows."""
    if to not in TRANSITIONS[booking.status]:
        raise IllegalBookingTransition(f"A {booking.status} booking cannot become {to}.")
    booking.status = to


def _is_live_hold(booking: Booking, now: datetime) -> bool:
    return booking.status != B.PENDING_PAYMENT or (
        booking.hold_expires_at is not None and booking.hold_expires_at > now
    )


def effective_status(booking: Booking, now: datetime) -> BookingStatus:
    """A lapsed hold reads as expired even before anything wrote it down (no cron needed)."""
    return booking.status if _is_live_hold(booking, now) else B.EXPIRED


def _touch(booking: Booking, now: datetime) -> None:
    booking.updated_at = now
    booking.revision += 1


@dataclass(frozen=True, slots=True)
class CancellationTerms:
    """What cancelling now would refund: ``full`` or ``none``; a full refund is given up to
    ``full_refund_until`` (always, when staff cancel or the hold was never paid)."""

    refund: str
    full_refund_until: datetime
    by_staff: bool


async def cancellation_terms(
    session: AsyncSession, actor: Actor, booking_id: uuid.UUID, *, now: datetime
) -> tuple[Booking, CancellationTerms]:
    """The refund the policy gives if ``actor`` cancels now: what ``cancel`` records, asked first."""
    booking = await get_booking(session, actor, booking_id)
    if effective_status(booking, now) not in CANCELLABLE:
        raise IllegalBookingTransition(f"A {effective_status(booking, now)} booking cannot be cancelled.")
    staff = actor.has_role(*STAFF_ROLES)
    if not (staff or actor.is_customer):
        raise PermissionDenied("Only the customer or support staff cancel a booking.")
    service = await get_service(session, booking.service_id)
    until = booking.starts_at - timedelta(hours=service.full_refund_hours_before)
    full = staff or now <= until or booking.status == B.PENDING_PAYMENT
    return booking, CancellationTerms("full" if full else "none", until, staff)


async def cancel_booking(
    session: AsyncSession, actor: Actor, booking_id: uuid.UUID, *, now: datetime
) -> Booking:
    """Customers cancel their organisation's bookings, staff any. The policy decides the refund:
    full when cancelled early enough (or by staff), none after; the decision is recorded for billing."""
    booking, terms = await cancellation_terms(session, actor, booking_id, now=now)
    staff = terms.by_staff
    booking.cancellation_refund = terms.refund
    move(booking, B.CANCELLED)
    booking.cancelled_at, booking.cancelled_by = now, actor.id
    booking.ics_sequence += 1
    _touch(booking, now)
    await record_audit(
        session,
        actor,
        "booking_cancelled",
        subject_type="booking",
        subject_id=booking.id,
        organization_id=booking.organization_id,
        now=now,
        data={"refund": booking.cancellation_refund, "by": "staff" if staff else "customer"},
    )
    await notices.booking_cancelled(session, booking, now=now)
    await session.flush()
    return booking


async def reschedule_booking(
    session: AsyncSession,
    actor: Actor,
    booking_id: uuid.UUID,
    *,
    starts_at: datetime,
    policy: SchedulingPolicy,
    now: datetime,
) -> Booking:
    """Move to a new slot with the same guarantees: the new time is taken like a new hold, the old
    one is released in the same transaction; the invite keeps its UID and its SEQUENCE grows."""
    booking = await get_booking(session, actor, booking_id)
    status = effective_status(booking, now)
    if status not in CANCELLABLE:
        raise IllegalBookingTransition(f"A {status} booking cannot be rescheduled.")
    old_status, old_sequence = booking.status, booking.ics_sequence
    booking.status = B.CANCELLED  # release the old slot so the engine may pick the same engineer again
    await session.flush()
    moved = await take_slot(
        session,
        organization_id=booking.organization_id,
        booked_by=booking.booked_by,
        service_id=booking.service_id,
        starts_at=starts_at,
        tz=booking.time_zone,
        funding=booking.funding,
        policy=policy,
        now=now,
        confirmed=old_status != B.PENDING_PAYMENT,
    )
    engineer_id, hold_expires_at = moved.engineer_id, moved.hold_expires_at
    span = (moved.starts_at, moved.ends_at, moved.blocked_from, moved.blocked_until)
    await session.delete(moved)  # the probe hold goes before the booking takes its place
    await session.flush()
    booking.status, booking.engineer_id = old_status, engineer_id
    booking.starts_at, booking.ends_at, booking.blocked_from, booking.blocked_until = span
    if old_status == B.PENDING_PAYMENT:
        booking.hold_expires_at = hold_expires_at
    booking.ics_sequence = old_sequence + 1
    _touch(booking, now)
    await session.flush()
    await notices.booking_rescheduled(session, booking, now=now)
    return booking


async def start_session(
    session: AsyncSession, actor: Actor, booking_id: uuid.UUID, *, now: datetime
) -> Booking:
    booking = await _own_session(session, actor, booking_id)
    if booking.status not in STARTABLE:
        raise IllegalBookingTransition(
            f"A {booking.status} booking cannot start (it must be confirmed and paid)."
        )
    if not booking.starts_at - START_EARLY <= now <= booking.ends_at:
        raise IllegalBookingTransition("A session starts from 15 minutes before its time until its end.")
    move(booking, B.IN_PROGRESS)
    booking.started_at = now
    _touch(booking, now)
    await session.flush()
    return booking


async def complete_booking(
    session: AsyncSession, actor: Actor, booking_id: uuid.UUID, report: str, *, now: datetime
) -> Booking:
    booking = await _own_session(session, actor, booking_id)
    if booking.status != B.IN_PROGRESS:
        raise IllegalBookingTransition("Only a session in progress can be completed.")
    move(booking, B.COMPLETED)
    booking.finished_at, booking.engineer_report = now, report
    _touch(booking, now)
    await session.flush()
    return booking


async def mark_no_show(
    session: AsyncSession, actor: Actor, booking_id: uuid.UUID, *, party: str = "customer", now: datetime
) -> Booking:
    """Recorded from the start time on. ``customer``: the engineer waited and nobody came (no refund).
    ``engineer``: the engineer did not come, reported by the customer or the support lead, and the
    customer is refunded in full."""
    if party == "engineer":
        booking = await get_booking(session, actor, booking_id)
        if not (actor.is_customer or actor.has_role(Role.SUPPORT_LEAD, Role.ADMIN)):
            raise PermissionDenied("The customer or the support lead reports an engineer's no-show.")
    else:
        booking = await _own_session(session, actor, booking_id)
    if booking.status not in STARTABLE or now < booking.starts_at:
        raise IllegalBookingTransition(
            "A no-show is recorded for a confirmed session once its time has come."
        )
    if party == "engineer":
        booking.cancellation_refund = "full"
        await record_audit(
            session,
            actor,
            "engineer_no_show",
            subject_type="booking",
            subject_id=booking.id,
            organization_id=booking.organization_id,
            now=now,
            data={"engineer_id": str(booking.engineer_id)},
        )
    move(booking, B.NO_SHOW)
    booking.finished_at = now
    _touch(booking, now)
    await session.flush()
    return booking


async def _own_session(session: AsyncSession, actor: Actor, booking_id: uuid.UUID) -> Booking:
    booking = await get_booking(session, actor, booking_id)
    if not (actor.id == booking.engineer_id or actor.has_role(Role.SUPPORT_LEAD, Role.ADMIN)):
        raise PermissionDenied("Only the assigned engineer (or the support lead) runs the session.")
    return booking
