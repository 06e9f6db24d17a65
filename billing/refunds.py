"""Refunds: by the cancellation policy, automatically when a paid slot is gone, or by staff.

Money is never counted twice: the refundable amount is what was paid minus what was refunded, the
payment row is locked while a refund is made, and every Stripe call carries the refund's own id as
its idempotency key.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import audit
from accounts.actor import Actor
from billing.gateway import PaymentGateway
from billing.models import Payment, PaymentStatus, Refund
from core.errors import Conflict, FieldProblem, InvalidInput, NotFound
from core.ids import new_id
from scheduling.models import Booking, BookingStatus


async def refund(
    session: AsyncSession,
    gateway: PaymentGateway,
    actor: Actor,
    payment: Payment,
    amount: int,
    reason: str,
    *,
    now: datetime,
) -> Refund:
    """Give back ``amount`` (≤ refundable) of a succeeded payment; audited."""
    if payment.status not in {PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED}:
        raise Conflict("Only a succeeded payment can be refunded.")
    refundable = payment.amount_minor - payment.refunded_minor
    if not 0 < amount <= refundable:
        raise InvalidInput(
            f"The amount must be between 1 and the refundable {refundable} {payment.currency} minor units.",
            errors=[FieldProblem("amount_minor", f"must be 1..{refundable}")],
            refundable_minor=refundable,
        )
    refund_id = new_id()
    stripe_id = await gateway.refund(
        payment_intent=payment.stripe_payment_intent_id,
        amount=amount,
        idempotency_key=f"deskline-refund-{refund_id}",
    )
    row = Refund(
        id=refund_id,
        payment_id=payment.id,
        amount_minor=amount,
        reason=reason,
        stripe_refund_id=stripe_id,
        created_by=None if actor.is_system else actor.id,
        created_at=now,
    )
    session.add(row)
    payment.refunded_minor += amount
    if payment.refunded_minor == payment.amount_minor:
        payment.status = PaymentStatus.REFUNDED
    payment.updated_at = now
    await session.flush()
    await audit.record(
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
    session: AsyncSession, gateway: PaymentGateway, actor: Actor, booking: Booking, *, now: datetime
) -> Refund | None:
    """Apply the refund the cancellation policy decided (``full`` or ``none``) to the booking's payment."""
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
    return await refund(session, gateway, actor, payment, remaining, reason, now=now)
