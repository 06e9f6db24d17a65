"""Tables of billing: Stripe customers, payments for bookings, received webhook events."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import enum_check, enum_field, id_field, utc_field, uuid_fk


class PaymentStatus(StrEnum):
    CREATING = "creating"  # recorded; its PaymentIntent is being created at Stripe
    REQUIRES_PAYMENT = "requires_payment"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"
    # Stripe did not answer while the intent was created: the hold was released, and an intent Stripe
    # may have made stays unpayable (its client secret never left Deskline).
    ABANDONED = "abandoned"


class RefundStatus(StrEnum):
    PENDING = "pending"  # owed and recorded; Stripe has not confirmed it yet (retried until it does)
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # Stripe refused it for good; the amount is refundable again


class StripeCustomer(SQLModel, table=True):
    """One Stripe customer per organisation, created once and reused."""

    __tablename__ = "billing_stripe_customer"

    organization_id: uuid.UUID = Field(foreign_key="accounts_organization.id", primary_key=True)
    stripe_customer_id: str = Field(max_length=255, unique=True)
    created_at: datetime = utc_field()


class Payment(SQLModel, table=True):
    """The money for one booking; amounts in minor units with their currency, never floats.

    Its status is derived from what Stripe reported (the ``received_*`` amount of a success, whether
    a failure was seen, the highest ``amount_refunded``) and from the refunds Deskline made, so the
    same events give the same status in whatever order they arrive.
    """

    __tablename__ = "billing_payment"
    __table_args__ = (
        enum_check("status", PaymentStatus),
        sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
        sa.CheckConstraint(
            "refunded_minor >= 0 AND refunded_minor <= amount_minor", name="refund_within_amount"
        ),
    )

    id: uuid.UUID = id_field()
    booking_id: uuid.UUID = Field(foreign_key="scheduling_booking.id", unique=True)
    organization_id: uuid.UUID = uuid_fk("accounts_organization.id")
    amount_minor: int = Field(sa_type=sa.BigInteger)
    currency: str = Field(max_length=3)
    status: PaymentStatus = enum_field(PaymentStatus, index=True)
    stripe_payment_intent_id: str | None = Field(default=None, max_length=255, unique=True)
    # The client secret Stripe.js needs, encrypted at rest: a portal that reloads gets it back.
    client_secret_encrypted: str | None = Field(default=None, sa_type=sa.Text)
    refunded_minor: int = Field(default=0, sa_type=sa.BigInteger)
    received_minor: int | None = Field(default=None, sa_type=sa.BigInteger)
    received_currency: str | None = Field(default=None, max_length=3)
    failure_seen: bool = Field(default=False)
    stripe_refunded_minor: int = Field(default=0, sa_type=sa.BigInteger)
    note: str | None = Field(default=None, max_length=500)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()


class WebhookEvent(SQLModel, table=True):
    """Every Stripe event id once: a replayed delivery is acknowledged and changes nothing."""

    __tablename__ = "billing_webhook_event"

    event_id: str = Field(primary_key=True, max_length=255)
    event_type: str = Field(max_length=100)
    object_id: str | None = Field(default=None, max_length=255, index=True)
    received_at: datetime = utc_field()
    outcome: str = Field(default="", max_length=200)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


class Refund(SQLModel, table=True):
    """Money given back: by cancellation policy, automatically, or by staff (partial allowed).

    Recorded as pending before Stripe is asked (the refund's id is the Stripe idempotency key), so a
    refund owed is never forgotten and never made twice.
    """

    __tablename__ = "billing_refund"
    __table_args__ = (
        sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
        enum_check("status", RefundStatus),
    )

    id: uuid.UUID = id_field()
    payment_id: uuid.UUID = uuid_fk("billing_payment.id")
    amount_minor: int = Field(sa_type=sa.BigInteger)
    reason: str = Field(max_length=500)
    status: RefundStatus = enum_field(RefundStatus, default=RefundStatus.SUCCEEDED, index=True)
    stripe_refund_id: str | None = Field(default=None, max_length=255)
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=500)
    created_by: uuid.UUID | None = Field(default=None)
    created_at: datetime = utc_field()


class InvoiceStatus(StrEnum):
    PENDING = "pending"  # recorded; not yet (fully) in Stripe
    ISSUED = "issued"  # finalised in Stripe and sent to the customer


class Invoice(SQLModel, table=True):
    """An invoice Deskline issues (the source of truth); Stripe gets the same lines. One per source and
    period: invoicing the same month again finds it instead of making another."""

    __tablename__ = "billing_invoice"
    __table_args__ = (
        enum_check("status", InvoiceStatus),
        sa.UniqueConstraint("source", "source_id", "period", name="uq_billing_invoice_source_period"),
    )

    id: uuid.UUID = id_field()
    number: str = Field(max_length=32, unique=True)
    organization_id: uuid.UUID = uuid_fk("accounts_organization.id")
    source: str = Field(max_length=32)  # what is invoiced: "contract"
    source_id: uuid.UUID
    period: str = Field(max_length=7)  # YYYY-MM
    currency: str = Field(max_length=3)
    total_minor: int = Field(sa_type=sa.BigInteger)
    status: InvoiceStatus = enum_field(InvoiceStatus, index=True)
    stripe_invoice_id: str | None = Field(default=None, max_length=255)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = utc_field()
    issued_at: datetime | None = utc_field(nullable=True)


class InvoiceLine(SQLModel, table=True):
    __tablename__ = "billing_invoice_line"
    __table_args__ = (sa.UniqueConstraint("invoice_id", "position", name="uq_billing_invoice_line_position"),)

    id: uuid.UUID = id_field()
    invoice_id: uuid.UUID = uuid_fk("billing_invoice.id", ondelete="CASCADE")
    position: int
    description: str = Field(max_length=500)
    amount_minor: int = Field(sa_type=sa.BigInteger)  # negative for credits
