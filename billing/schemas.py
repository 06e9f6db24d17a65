"""Request and response bodies of billing (v1)."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from billing.models import Payment, PaymentStatus
from scheduling.schemas import PaymentStartOut

__all__ = ["PaymentOut", "PaymentStartOut", "WebhookAck"]


class PaymentOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    booking_id: uuid.UUID
    organization_id: uuid.UUID
    status: PaymentStatus
    amount_minor: int
    refunded_minor: int
    currency: str
    stripe_payment_intent_id: str
    note: str | None
    created_at: datetime

    @classmethod
    def build(cls, p: Payment) -> PaymentOut:
        return cls(
            id=p.id,
            booking_id=p.booking_id,
            organization_id=p.organization_id,
            status=p.status,
            amount_minor=p.amount_minor,
            refunded_minor=p.refunded_minor,
            currency=p.currency,
            stripe_payment_intent_id=p.stripe_payment_intent_id,
            note=p.note,
            created_at=p.created_at,
        )


class WebhookAck(msgspec.Struct, kw_only=True):
    received: bool
    outcome: str
