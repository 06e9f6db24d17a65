"""Reconciliation: our payments against Stripe's PaymentIntents, differences reported for people."""

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
class Difference:
    payment_id: str
    payment_intent: str
    ours: str
    stripe: str


async def reconcile(session: AsyncSession, gateway: PaymentGateway) -> tuple[int, list[Difference]]:
    """Compare every payment; return how many were checked and what differs (status or amount)."""
    payments = (await session.scalars(sa.select(Payment).order_by(col(Payment.created_at)))).all()
    differences = []
    for payment in payments:
        try:
            state = await gateway.intent_state(payment.stripe_payment_intent_id)
        except PaymentProviderUnavailable as exc:
            differences.append(
                Difference(
                    str(payment.id),
                    payment.stripe_payment_intent_id,
                    payment.status.value,
                    f"unreadable: {exc.detail}",
                )
            )
            continue
        ours = f"{payment.status.value} {payment.amount_minor} {payment.currency}"
        theirs = f"{state.status} {state.amount} {state.currency}"
        if state.status not in AGREEING[payment.status] or (state.amount, state.currency) != (
            payment.amount_minor,
            payment.currency,
        ):
            differences.append(Difference(str(payment.id), payment.stripe_payment_intent_id, ours, theirs))
    return len(payments), differences
