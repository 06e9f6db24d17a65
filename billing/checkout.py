"""Starting the payment for a held booking, in three steps with no transaction open across Stripe.

1. ``prepare`` (in the transaction that holds the slot): record the payment as ``creating``, so no
   PaymentIntent can exist without a record of it; its id keys every Stripe call of this payment.
2. ``start`` (no transaction, no connection): create the organisation's Stripe customer if it has
   none yet, then the PaymentIntent, each with an idempotency key derived from our own records, so a
   retry (or a retry of the whole request) gets the same objects back.
3. ``record`` (a short transaction): keep the intent and its client secret (encrypted); or, when
   Stripe could not be reached, ``abandon``: a payment Stripe certainly never saw is deleted with its
   hold; one Stripe may have seen is kept as ``abandoned`` while its hold is released.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import Organization
from billing.gateway import CreatedIntent, PaymentGateway
from billing.models import Payment, PaymentStatus, StripeCustomer
from core.crypto import KeyRing
from core.db import dialect_insert
from core.errors import NotFound
from scheduling import Booking, BookingStatus, PaymentStartOut, booking_held


@dataclass(frozen=True, slots=True)
class PaymentPlan:
    """Everything the Stripe calls need, read before the transaction ends."""

    payment_id: uuid.UUID
    booking_id: uuid.UUID
    organization_id: uuid.UUID
    organization_name: str
    known_customer: str | None
    amount_minor: int
    currency: str


@dataclass(frozen=True, slots=True)
class StartedPayment:
    plan: PaymentPlan
    customer: str
    intent: CreatedIntent


async def prepare_checkout(session: AsyncSession, booking: Booking, *, now: datetime) -> PaymentPlan:
    """Record the booking's payment before anything is asked of Stripe."""
    payment = Payment(
        booking_id=booking.id,
        organization_id=booking.organization_id,
        amount_minor=booking.price_minor,
        currency=booking.currency,
        status=PaymentStatus.CREATING,
        created_at=now,
        updated_at=now,
    )
    session.add(payment)
    await session.flush()
    return await plan_of(session, payment)


async def plan_of(session: AsyncSession, payment: Payment) -> PaymentPlan:
    known = await session.get(StripeCustomer, payment.organization_id)
    org = await session.get(Organization, payment.organization_id)
    return PaymentPlan(
        payment_id=payment.id,
        booking_id=payment.booking_id,
        organization_id=payment.organization_id,
        organization_name=org.name if org else str(payment.organization_id),
        known_customer=known.stripe_customer_id if known else None,
        amount_minor=payment.amount_minor,
        currency=payment.currency,
    )


async def payment_of_booking(session: AsyncSession, booking_id: uuid.UUID) -> Payment | None:
    found: Payment | None = (
        await session.scalars(sa.select(Payment).where(col(Payment.booking_id) == booking_id))
    ).first()
    return found


async def start_checkout(gateway: PaymentGateway, plan: PaymentPlan) -> StartedPayment:
    """The Stripe side; call it with no transaction open. Raises PaymentProviderUnavailable."""
    customer = plan.known_customer or await gateway.ensure_customer(
        organization_id=str(plan.organization_id),
        name=plan.organization_name,
        idempotency_key=f"deskline-customer-{plan.organization_id}",
    )
    intent = await gateway.create_intent(
        amount=plan.amount_minor,
        currency=plan.currency,
        customer=customer,
        metadata={"booking_id": str(plan.booking_id), "payment_id": str(plan.payment_id)},
        idempotency_key=f"deskline-payment-{plan.payment_id}",
    )
    return StartedPayment(plan, customer, intent)


def _secret_context(payment_id: uuid.UUID) -> bytes:
    return f"payment-client-secret:{payment_id}".encode()


async def record_payment(
    session: AsyncSession, started: StartedPayment, keyring: KeyRing, *, now: datetime
) -> Payment:
    """Keep what Stripe answered: the organisation's customer and the payment's intent."""
    plan = started.plan
    await session.execute(
        dialect_insert(session, StripeCustomer)
        .values(organization_id=plan.organization_id, stripe_customer_id=started.customer, created_at=now)
        .on_conflict_do_nothing(index_elements=["organization_id"])
    )
    payment = await session.get(Payment, plan.payment_id, with_for_update=True)
    if payment is None:
        raise NotFound("The payment record is gone.")
    if payment.status == PaymentStatus.CREATING:
        payment.status = PaymentStatus.REQUIRES_PAYMENT
        booking = await session.get(Booking, payment.booking_id)
        if booking is not None and booking.status == BookingStatus.PENDING_PAYMENT:
            await booking_held(
                session, booking, amount_minor=payment.amount_minor, currency=payment.currency, now=now
            )
    payment.stripe_payment_intent_id = started.intent.id
    payment.client_secret_encrypted = keyring.encrypt(
        started.intent.client_secret.encode(), associated_data=_secret_context(payment.id)
    )
    payment.updated_at = now
    await session.flush()
    return payment


async def forget_customers(session: AsyncSession) -> int:
    """Forget every organisation's Stripe customer: for a Stripe that starts empty (the development
    stand-in keeps nothing across restarts), so the next payment creates the customer again."""
    result = await session.execute(sa.delete(StripeCustomer))
    return int(getattr(result, "rowcount", 0) or 0)


def client_secret(payment: Payment, keyring: KeyRing) -> str | None:
    if payment.client_secret_encrypted is None:
        return None
    return keyring.decrypt(
        payment.client_secret_encrypted, associated_data=_secret_context(payment.id)
    ).decode()


async def abandon_checkout(
    session: AsyncSession, payment_id: uuid.UUID, *, stripe_may_have_it: bool, reason: str, now: datetime
) -> bool:
    """The payment could not start. Returns whether the record was kept (Stripe may know it)."""
    payment = await session.get(Payment, payment_id, with_for_update=True)
    if payment is None or payment.status != PaymentStatus.CREATING:
        return payment is not None
    if not stripe_may_have_it:
        await session.delete(payment)
        await session.flush()
        return False
    payment.status, payment.note, payment.updated_at = PaymentStatus.ABANDONED, reason[:500], now
    await session.flush()
    return True


def payment_view(payment: Payment, keyring: KeyRing, *, with_secret: bool) -> PaymentStartOut:
    """The payment block of a booking; the client secret only to its customer while it is unpaid."""
    secret = client_secret(payment, keyring) if with_secret else None
    return PaymentStartOut(
        payment_id=payment.id,
        status=payment.status,
        payment_intent_id=payment.stripe_payment_intent_id,
        client_secret=secret if payment.status == PaymentStatus.REQUIRES_PAYMENT else None,
        amount_minor=payment.amount_minor,
        currency=payment.currency,
    )
