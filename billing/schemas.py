"""Request and response bodies of billing (v1)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from billing.models import Payment, PaymentStatus, Refund, RefundStatus
from core.money import PositiveMinorUnits
from core.views import View
from scheduling import PaymentStartOut

__all__ = ["PaymentOut", "PaymentStartOut", "RefundIn", "RefundOut", "WebhookAck"]


class RefundOut(View):
    id: uuid.UUID
    payment_id: uuid.UUID
    amount_minor: int
    currency: str
    reason: str
    status: RefundStatus
    stripe_refund_id: str | None
    last_error: str | None
    created_at: datetime
    refundable_minor: int

    @classmethod
    def from_model(cls, r: Refund, p: Payment) -> RefundOut:
        refundable = p.amount_minor - p.refunded_minor
        return cls.of(r, payment_id=p.id, currency=p.currency, refundable_minor=refundable)


class PaymentOut(View):
    id: uuid.UUID
    booking_id: uuid.UUID
    organization_id: uuid.UUID
    status: PaymentStatus
    amount_minor: int
    refunded_minor: int
    currency: str
    stripe_payment_intent_id: str | None
    note: str | None
    created_at: datetime
    refunds: list[RefundOut] = msgspec.field(default_factory=list)

    @classmethod
    def from_model(cls, p: Payment, refunds: list[Refund] | None = None) -> PaymentOut:
        return cls.of(p, refunds=[RefundOut.from_model(r, p) for r in refunds or []])


class RefundIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    amount_minor: PositiveMinorUnits
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class WebhookAck(msgspec.Struct, kw_only=True):
    received: bool
    outcome: str


class InvoiceLineOut(View):
    position: int
    description: str
    amount_minor: int


class InvoiceOut(View):
    """``status`` pending: recorded, not yet issued in Stripe (``last_error`` says why); issued: sent."""

    id: uuid.UUID
    number: str
    organization_id: uuid.UUID
    source: str
    source_id: uuid.UUID
    period: str
    currency: str
    total_minor: int
    status: str
    stripe_invoice_id: str | None
    last_error: str | None
    lines: list[InvoiceLineOut]
    created_at: datetime
    issued_at: datetime | None


class InvoiceRunIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    period: Annotated[str, msgspec.Meta(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="The month, YYYY-MM")]
