"""Payments as customers and staff read them, with their refunds."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import Actor, scoped
from billing.models import Payment, Refund
from core.pagination import Page, paginate


async def refunds_of(session: AsyncSession, payment_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Refund]]:
    rows = await session.scalars(
        sa.select(Refund).where(col(Refund.payment_id).in_(payment_ids)).order_by(col(Refund.created_at))
    )
    found: dict[uuid.UUID, list[Refund]] = {i: [] for i in payment_ids}
    for row in rows.all():
        found[row.payment_id].append(row)
    return found


async def list_payments(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    cursor: str | None,
    booking_id: uuid.UUID | None = None,
    organization_id: uuid.UUID | None = None,
) -> Page[Payment]:
    """Customers see their organisation's payments; staff and integrations all. Filtered by booking and
    (for staff) organisation."""
    statement = scoped(sa.select(Payment), col(Payment.organization_id), actor)
    if organization_id is not None:
        statement = statement.where(col(Payment.organization_id) == organization_id)
    if booking_id is not None:
        statement = statement.where(col(Payment.booking_id) == booking_id)
    return await paginate(session, statement, col(Payment.id), limit=limit, cursor=cursor)


async def payment_states(session: AsyncSession, booking_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Where each booking's card payment stands (bookings paid otherwise have none)."""
    if not booking_ids:
        return {}
    rows = await session.execute(
        sa.select(col(Payment.booking_id), col(Payment.status)).where(
            col(Payment.booking_id).in_(booking_ids)
        )
    )
    return {booking_id: str(status) for booking_id, status in rows}
