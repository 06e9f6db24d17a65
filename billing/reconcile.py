"""Reconciliation: our payments against Stripe's PaymentIntents, differences reported for people.

Our side is read first, in a transaction of its own; Stripe is then asked with none open.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from billing.errors import PaymentProviderUnavailable
from billing.gateway import PaymentGateway
from billing.models import Payment, PaymentStatus

# Which Stripe statuses agree with which of ours.
AGREEING = {
    PaymentStatus.REQUIRES_PAYMENT: {
        "requires_payment_method",
        "requires_confirmation",
        "requires_action",
        "processing",
    },
    PaymentStatus.FAILED: {"requires_payment_method", "canceled"},
    PaymentStatus.SUCCEEDED: {"succeeded"},
    PaymentStatus.REFUNDED: {"succeeded"},  # a refunded intent stays succeeded at Stripe
}


@dataclass(frozen=True, slots=True)
class OurPayment:
    payment_id: str
    payment_intent: str | None
    status: PaymentStatus
    amount_minor: int
    currency: str


@dataclass(frozen=True, slots=True)
class Difference:
    payment_id: str
    payment_intent: str
    ours: str
    stripe: str


async def our_payments(session: AsyncSession) -> list[OurPayment]:
    rows = await session.scalars(sa.select(Payment).order_by(col(Payment.created_at)))
    return [
        OurPayment(str(p.id), p.stripe_payment_intent_id, p.status, p.amount_minor, p.currency)
        for p in rows.all()
        if p.status != PaymentStatus.ABANDONED  # released on purpose; Stripe never handed it out
    ]


async def compare_with_stripe(payments: list[OurPayment], gateway: PaymentGateway) -> list[Difference]:
    """Compare every payment with Stripe (call with no transaction open); return what differs."""
    differences = []
    for payment in payments:
        ours = f"{payment.status.value} {payment.amount_minor} {payment.currency}"
        if payment.payment_intent is None:
            differences.append(
                Difference(
                    payment.payment_id, "", ours, "no intent recorded (the process stopped while creating it)"
                )
            )
            continue
        try:
            state = await gateway.intent_state(payment.payment_intent)
        except PaymentProviderUnavailable as exc:
            differences.append(
                Difference(payment.payment_id, payment.payment_intent, ours, f"unreadable: {exc.detail}")
            )
            continue
        theirs = f"{state.status} {state.amount} {state.currency}"
        if state.status not in AGREEING.get(payment.status, set()) or (state.amount, state.currency) != (
            payment.amount_minor,
            payment.currency,
        ):
            differences.append(Difference(payment.payment_id, payment.payment_intent, ours, theirs))
    return differences
