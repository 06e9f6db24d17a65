"""Who is who on a ticket: support staff, the customers who may act on it, other readers; and basic
support's own line (its customers act through the organisation's designated contact)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import Actor, NotSupportContact, Role, scoped, support_contact
from core.business_time import BusinessCalendar
from core.errors import NotFound
from support.lines import line_of, register_line
from support.models import BASIC, RegulationVersion, Ticket, TicketStatus
from support.regulation import regulation_calendar

SUPPORT_STAFF = (Role.SUPPORT_ENGINEER, Role.SUPPORT_LEAD, Role.ADMIN)


def is_support_staff(actor: Actor) -> bool:
    return actor.has_role(*SUPPORT_STAFF)


def readable_tickets(actor: Actor, line: str | None = BASIC) -> sa.Select[Ticket]:
    """The tickets of ``line`` (None: of every line, the staff queue) the actor may read
    (accounts.tenancy): each line's operations see only their own queue, customers only their
    organisation's."""
    statement = sa.select(Ticket) if line is None else sa.select(Ticket).where(col(Ticket.line) == line)
    return scoped(statement, col(Ticket.organization_id), actor)


async def load_ticket(
    session: AsyncSession, actor: Actor, ticket_id: uuid.UUID, *, for_update: bool = False, line: str = BASIC
) -> Ticket:
    """A ticket of ``line`` the actor may read; another tenant's answers NotFound."""
    statement = readable_tickets(actor, line).where(col(Ticket.id) == ticket_id)
    ticket = (await session.scalars(statement.with_for_update() if for_update else statement)).first()
    if ticket is None:
        raise NotFound("No ticket with this id.")
    return ticket


async def require_contact(session: AsyncSession, actor: Actor, ticket: Ticket) -> None:
    """Customers act on a ticket as its line allows (basic support: the designated contact only)."""
    await line_of(ticket).require_customer_party(session, actor, ticket)


def party_of(actor: Actor) -> str:
    return "staff" if is_support_staff(actor) else "customer"


class BasicLine:
    """Free tickets: the designated contact acts; clocks run on the regulation the ticket opened
    under; the next update is due an interval after the last public staff reply."""

    name = BASIC
    prefix = "DL"

    async def require_customer_party(self, session: AsyncSession, actor: Actor, ticket: Ticket) -> None:
        contact = await support_contact(session, ticket.organization_id)
        if contact is None or contact[1].id != actor.id:
            raise NotSupportContact(
                "Only your organization's designated support contact can act on free tickets.",
            )

    async def calendar(self, session: AsyncSession, ticket: Ticket) -> BusinessCalendar:
        regulation = await session.get(RegulationVersion, ticket.regulation_id)
        assert regulation is not None, "a basic ticket keeps its regulation"
        return await regulation_calendar(session, regulation)

    async def after_staff_reply(self, session: AsyncSession, ticket: Ticket, now: datetime) -> None:
        ticket.updates_counted_from = now

    async def after_customer_message(self, session: AsyncSession, ticket: Ticket, now: datetime) -> None:
        del session, ticket, now  # a customer's message does not move basic support's update interval

    async def after_transition(
        self, session: AsyncSession, ticket: Ticket, source: TicketStatus, now: datetime
    ) -> None:
        del session, ticket, source, now  # basic support's statistics read the ticket itself


register_line(BasicLine())
