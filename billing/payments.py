"""Paying for a booking: one Stripe customer per organisation, one PaymentIntent per booking."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts.actor import Actor
from accounts.models import Organization
from billing.gateway import CreatedIntent, PaymentGateway
from billing.models import Payment, PaymentStatus, Refund, StripeCustomer
from core.db import dialect_insert
from core.ids import new_id
from core.pagination import Page, paginate
from scheduling.models import Booking


async def stripe_customer_for(
    session: AsyncSession, gateway: PaymentGateway, organization_id: uuid.UUID, *, now: datetime
) -> str:
    """The organisation's Stripe customer, created on first payment (the key makes a retry reuse it)."""
    known = await session.get(StripeCustomer, organization_id)
    if known is not None:
        return known.stripe_customer_id
    org = await session.get(Organization, organization_id)
    customer_id = await gateway.ensure_customer(
        organization_id=str(organization_id),
        name=org.name if org else str(organization_id),
        idempotency_key=f"deskline-customer-{organization_id}",
    )
    await session.execute(
        dialect_insert(session, StripeCustomer)
        .values(organization_id=organization_id, stripe_customer_id=customer_id, created_at=now)
        .on_conflict_do_nothing(index_elements=["organization_id"])
    )
    return customer_id


async def start_booking_payment(
    session: AsyncSession, gateway: PaymentGateway, booking: Booking, *, now: datetime
) -> tuple[Payment, CreatedIntent]:
    """A PaymentIntent for the booking's price; the portal confirms it with the client secret."""
    customer = await stripe_customer_for(session, gateway, booking.organization_id, now=now)
    payment_id = new_id()
    intent = await gateway.create_intent(
        amount=booking.price_minor,
        currency=booking.currency,
        customer=customer,
        metadata={"booking_id": str(booking.id), "payment_id": str(payment_id)},
        idempotency_key=f"deskline-payment-{payment_id}",
    )
    payment = Payment(
        id=payment_id,
        booking_id=booking.id,
        organization_id=booking.organization_id,
        amount_minor=booking.price_minor,
        currency=booking.currency,
        status=PaymentStatus.REQUIRES_PAYMENT,
        stripe_payment_intent_id=intent.id,
        created_at=now,
        updated_at=now,
    )
    session.add(payment)
    await session.flush()
    return payment, intent


async def refunds_of(session: AsyncSession, payment_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Refund]]:
    rows = await session.scalars(
        sa.select(Refund).where(col(Refund.payment_id).in_(payment_ids)).order_by(col(Refund.created_at))
    )
    found: dict[uuid.UUID, list[Refund]] = {i: [] for i in payment_ids}
    for row in rows.all():
        found[row.payment_id].append(row)
    return found


async def list_payments(
    session: AsyncSession, actor: Actor, *, limit: int, cursor: str | None
) -> Page[Payment]:
    """Customers see their organisation's payments; staff and integrations all."""
    statement = sa.select(Payment)
    if actor.is_customer:
        statement = statement.where(col(Payment.organization_id) == actor.organization_id)
    return await paginate(session, statement, col(Payment.id), limit=limit, cursor=cursor)
