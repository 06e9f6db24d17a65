"""Who is told of an event, resolved when the worker fans it out (after the commit, off the request's
path): each catalog entry names one of these. Mail goes out in the recipient organisation's language."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import Organization, Role, User
from core.outbox import OutboxEvent
from notifications.delivery import Recipient
from scheduling import Booking
from support import Ticket

Audience = Callable[[AsyncSession, OutboxEvent], Awaitable[list[Recipient]]]
DEFAULT_LOCALE = "ru"


async def _words(session: AsyncSession, organization_id: uuid.UUID | None) -> tuple[str, str | None]:
    """The organisation's language and time zone (the vendor's defaults when there is none)."""
    organization = await session.get(Organization, organization_id) if organization_id else None
    if organization is None:
        return DEFAULT_LOCALE, None
    return organization.locale, organization.time_zone


async def ticket_author(session: AsyncSession, event: OutboxEvent) -> list[Recipient]:
    """The person who filed the ticket (or for whom it was filed), at the address on the ticket."""
    ticket = await session.get(Ticket, event.subject_id)
    if ticket is None or not ticket.author_email:
        return []
    locale, zone = await _words(session, ticket.organization_id)
    return [Recipient(ticket.author_email, locale, time_zone=zone)]


async def support_leads(session: AsyncSession, event: OutboxEvent) -> list[Recipient]:
    """Every active support lead (the vendor's staff read Russian)."""
    rows = await session.scalars(
        sa.select(col(User.email)).where(col(User.role) == Role.SUPPORT_LEAD, col(User.is_active))
    )
    return [Recipient(email, DEFAULT_LOCALE) for email in rows.all()]


async def booker(session: AsyncSession, event: OutboxEvent) -> list[Recipient]:
    """Whoever booked the session."""
    booking = await session.get(Booking, event.subject_id)
    user = await session.get(User, booking.booked_by) if booking is not None else None
    if booking is None or user is None:
        return []
    locale, zone = await _words(session, booking.organization_id)
    return [Recipient(user.email, locale, time_zone=zone)]


async def organisation_people(session: AsyncSession, event: OutboxEvent) -> list[Recipient]:
    """The organisation's customer admins; every active user of it when it has none."""
    locale, zone = await _words(session, event.organization_id)
    users = (
        await session.scalars(
            sa.select(User).where(col(User.organization_id) == event.organization_id, col(User.is_active))
        )
    ).all()
    admins = [u for u in users if u.role == Role.CUSTOMER_ADMIN]
    return [Recipient(u.email, locale, time_zone=zone) for u in (admins or users)]


async def sender(session: AsyncSession, event: OutboxEvent) -> list[Recipient]:
    """The address an e-mail came from (no user has it, so no organisation's language is known)."""
    del session
    return [Recipient(str(event.payload["sender"]), DEFAULT_LOCALE)]
