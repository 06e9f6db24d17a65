"""A payment's state from facts, so that Stripe's events give one end state in any order.

Facts: the amount a success event reported (``received_*``), whether a failure was seen, the highest
``amount_refunded`` Stripe reported, and the refunds Deskline owes or made. The status follows from
them alone:

- refunded in full (Stripe's figure or ours, whichever is larger) → ``refunded``;
- else a success for the exact amount and currency → ``succeeded``;
- else a failure seen → ``failed``;
- else it is still being paid (``requires_payment``, or ``creating``/``abandoned`` as the hold left it).

The booking follows the status: when a payment becomes paid the booking is confirmed (or, if its slot
is gone, the money is owed back); when it becomes refunded in full an active booking is cancelled
with the refund as the reason and its slot released. A partial refund keeps the booking.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from billing.models import Payment, PaymentStatus, Refund, RefundStatus
from scheduling import confirm_paid_booking, release_refunded_booking

UNSETTLED = (PaymentStatus.CREATING, PaymentStatus.REQUIRES_PAYMENT, PaymentStatus.ABANDONED)


@dataclass(frozen=True, slots=True)
class Settled:
    became_paid: bool
    became_refunded: bool


async def refunds_owed_or_made(session: AsyncSession, payment_id: uuid.UUID) -> int:
    """Deskline's own refunds of a payment that count: made, or owed and not yet confirmed."""
    total = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(col(Refund.amount_minor)), 0)).where(
            col(Refund.payment_id) == payment_id,
            col(Refund.status).in_((RefundStatus.PENDING, RefundStatus.SUCCEEDED)),
        )
    )
    return int(total or 0)


def mismatch_note(payment: Payment) -> str | None:
    if payment.received_minor is None or _paid_exactly(payment):
        return None
    return f"amount mismatch: received {payment.received_minor} {payment.received_currency or ''}".strip()


def _paid_exactly(payment: Payment) -> bool:
    return payment.received_minor == payment.amount_minor and payment.received_currency == payment.currency


def derived_status(payment: Payment) -> PaymentStatus:
    if payment.refunded_minor >= payment.amount_minor:
        return PaymentStatus.REFUNDED
    if _paid_exactly(payment):
        return PaymentStatus.SUCCEEDED
    if payment.failure_seen:
        return PaymentStatus.FAILED
    return payment.status if payment.status in UNSETTLED else PaymentStatus.REQUIRES_PAYMENT


async def settle(session: AsyncSession, payment: Payment, *, now: datetime) -> Settled:
    """Recompute the payment's refunded amount and status from its facts; say what changed."""
    before = payment.status
    ours = await refunds_owed_or_made(session, payment.id)
    payment.refunded_minor = min(payment.amount_minor, max(payment.stripe_refunded_minor, ours))
    payment.status = derived_status(payment)
    if (note := mismatch_note(payment)) is not None and not (payment.note or "").startswith(note):
        payment.note = note
    if payment.status != before:
        payment.updated_at = now
    await session.flush()
    return Settled(
        became_paid=before != PaymentStatus.SUCCEEDED and payment.status == PaymentStatus.SUCCEEDED,
        became_refunded=before != PaymentStatus.REFUNDED and payment.status == PaymentStatus.REFUNDED,
    )


REFUND_SLOT_TAKEN = (
    "refunded automatically: the hold lapsed and the slot was taken before the payment arrived"
)
REFUND_BOOKING_CANCELLED = "refunded automatically: the booking was cancelled before the payment arrived"


async def owe_refund(
    session: AsyncSession,
    payment: Payment,
    amount: int,
    reason: str,
    *,
    created_by: uuid.UUID | None,
    now: datetime,
) -> tuple[Refund, Settled]:
    """Record a refund as owed (pending): its amount counts as returned at once, so nothing can be
    refunded twice; Stripe is asked after the transaction commits, keyed by the refund's id."""
    row = Refund(
        payment_id=payment.id,
        amount_minor=amount,
        reason=reason[:500],
        status=RefundStatus.PENDING,
        created_by=created_by,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row, await settle(session, payment, now=now)


async def apply_to_booking(
    session: AsyncSession, payment: Payment, settled: Settled, *, now: datetime
) -> tuple[str, Refund | None]:
    """Make the booking follow its payment; return what was done and any refund now owed."""
    if settled.became_refunded:
        released = await release_refunded_booking(session, payment.booking_id, now=now)
        return ("refunded in full; booking cancelled" if released else "refunded in full"), None
    if not settled.became_paid:
        return "recorded", None
    refusal = await confirm_paid_booking(session, payment.booking_id, now=now)
    if refusal is None:
        return "booking confirmed", None
    reason = REFUND_BOOKING_CANCELLED if refusal == "cancelled" else REFUND_SLOT_TAKEN
    remaining = payment.amount_minor - payment.refunded_minor
    refund, _ = await owe_refund(session, payment, remaining, reason, created_by=None, now=now)
    payment.note = reason
    await session.flush()
    return "refunded: " + ("booking cancelled" if refusal == "cancelled" else "slot no longer free"), refund
