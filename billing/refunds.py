"""Refunds: by the cancellation policy, automatically when a paid slot is gone, or by staff.

A refund is recorded as owed (pending) in the transaction that decides it; Stripe is asked once that
transaction has committed, with the refund's own id as the idempotency key, and the answer is
recorded in a short transaction of its own. Money is never counted twice: the refundable amount is
what was paid minus what was refunded or is owed, and the payment row is locked while a refund is
decided. A refund Stripe could not be asked for stays pending and is asked again later
(``deskline billing settle-refunds``); one Stripe refused for good is marked failed and its amount
becomes refundable again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import Actor, record_audit
from billing.errors import PaymentProviderUnavailable
from billing.gateway import PaymentGateway
from billing.models import Payment, PaymentStatus, Refund, RefundStatus
from billing.settlement import apply_to_booking, owe_refund, settle
from core.errors import Conflict, FieldProblem, InvalidInput, NotFound
from scheduling import Booking, BookingStatus, booking_refunded


async def refund_payment(
    session: AsyncSession,
    actor: Actor,
    payment: Payment,
    amount: int,
    reason: str,
    *,
    now: datetime,
) -> Refund:
    """Owe ``amount`` (≤ refundable) of a succeeded payment back to the customer; audited.

    A refund that completes the payment's return cancels its booking if the session has not begun.
    """
    if payment.status not in {PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED}:
        raise Conflict("Only a succeeded payment can be refunded.")
    refundable = payment.amount_minor - payment.refunded_minor
    if not 0 < amount <= refundable:
        raise InvalidInput(
            f"The amount must be between 1 and the refundable {refundable} {payment.currency} minor units.",
            errors=[FieldProblem("amount_minor", f"must be 1..{refundable}")],
            refundable_minor=refundable,
        )
    row, settled = await owe_refund(
        session, payment, amount, reason, created_by=None if actor.is_system else actor.id, now=now
    )
    await apply_to_booking(session, payment, settled, now=now)
    await record_audit(
        session,
        actor,
        "payment_refunded",
        subject_type="payment",
        subject_id=payment.id,
        organization_id=payment.organization_id,
        now=now,
        data={"amount_minor": amount, "currency": payment.currency, "reason": reason},
    )
    return row


async def locked_payment(session: AsyncSession, payment_id: uuid.UUID) -> Payment:
    payment = await session.get(Payment, payment_id, with_for_update=True)
    if payment is None:
        raise NotFound("No payment with this id.")
    return payment


async def refund_cancelled_booking(
    session: AsyncSession, actor: Actor, booking: Booking, *, now: datetime
) -> Refund | None:
    """Owe the refund the cancellation policy decided (``full`` or ``none``) on the booking's payment."""
    payment = (
        await session.scalars(
            sa.select(Payment).where(col(Payment.booking_id) == booking.id).with_for_update()
        )
    ).first()
    if payment is None or booking.cancellation_refund != "full" or payment.status != PaymentStatus.SUCCEEDED:
        return None
    remaining = payment.amount_minor - payment.refunded_minor
    if remaining <= 0:
        return None
    engineer_absent = booking.status == BookingStatus.NO_SHOW
    reason = "engineer did not show: full refund" if engineer_absent else "cancelled: full refund by policy"
    return await refund_payment(session, actor, payment, remaining, reason, now=now)


@dataclass(frozen=True, slots=True)
class RefundOrder:
    """What Stripe needs to make one owed refund, read before the transaction ends."""

    refund_id: uuid.UUID
    payment_intent: str
    amount_minor: int


async def order_for(session: AsyncSession, refund_id: uuid.UUID) -> RefundOrder | None:
    """The order for a refund still owed, or None when it was settled meanwhile."""
    row = (
        await session.execute(
            sa.select(Refund, col(Payment.stripe_payment_intent_id))
            .join(Payment, col(Payment.id) == col(Refund.payment_id))
            .where(col(Refund.id) == refund_id)
        )
    ).first()
    if row is None or row[0].status != RefundStatus.PENDING or row[1] is None:
        return None
    return RefundOrder(refund_id, row[1], row[0].amount_minor)


async def send_refund(gateway: PaymentGateway, order: RefundOrder) -> str:
    """Ask Stripe for the refund; call it with no transaction open."""
    return await gateway.refund(
        payment_intent=order.payment_intent,
        amount=order.amount_minor,
        idempotency_key=f"deskline-refund-{order.refund_id}",
    )


async def record_sent(
    session: AsyncSession, refund_id: uuid.UUID, stripe_refund_id: str, *, now: datetime
) -> None:
    """Stripe made the refund: it is recorded as made and the customer who booked is told."""
    row = await session.get(Refund, refund_id, with_for_update=True)
    if row is None or row.status != RefundStatus.PENDING:
        return
    row.status, row.stripe_refund_id, row.attempts = (
        RefundStatus.SUCCEEDED,
        stripe_refund_id,
        row.attempts + 1,
    )
    row.last_error = None
    await session.flush()
    payment = await session.get(Payment, row.payment_id)
    booking = await session.get(Booking, payment.booking_id) if payment is not None else None
    if payment is not None and booking is not None:
        await booking_refunded(
            session,
            booking,
            refund_id=str(row.id),
            amount_minor=row.amount_minor,
            currency=payment.currency,
            reason=row.reason,
            now=now,
        )


async def record_failure(
    session: AsyncSession, refund_id: uuid.UUID, error: PaymentProviderUnavailable, *, now: datetime
) -> Refund | None:
    """Stripe did not make the refund: refused for good → failed (refundable again); otherwise it
    stays owed and is asked for again later."""
    row = await session.get(Refund, refund_id, with_for_update=True)
    if row is None or row.status != RefundStatus.PENDING:
        return row
    row.attempts, row.last_error = row.attempts + 1, error.detail[:500]
    if error.definitive:
        row.status = RefundStatus.FAILED
        payment = await session.get(Payment, row.payment_id, with_for_update=True)
        assert payment is not None
        await session.flush()
        await settle(session, payment, now=now)
    await session.flush()
    return row


async def pending_refunds(session: AsyncSession, *, limit: int = 100) -> list[uuid.UUID]:
    rows = await session.scalars(
        sa.select(col(Refund.id))
        .where(col(Refund.status) == RefundStatus.PENDING)
        .order_by(col(Refund.created_at))
        .limit(limit)
    )
    return list(rows.all())


async def refund_with_payment(session: AsyncSession, refund_id: uuid.UUID) -> tuple[Refund, Payment]:
    row = await session.get(Refund, refund_id)
    if row is None:
        raise NotFound("No refund with this id.")
    payment = await session.get(Payment, row.payment_id)
    assert payment is not None
    return row, payment
