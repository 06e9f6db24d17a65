"""Who is who on a ticket: support staff, the organisation's designated contact, other readers."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from accounts.actor import Actor
from accounts.eligibility import support_contact
from accounts.errors import NotSupportContact
from accounts.roles import Role
from core.errors import NotFound
from support.models import Ticket

SUPPORT_STAFF = (Role.SUPPORT_ENGINEER, Role.SUPPORT_LEAD, Role.ADMIN)


def is_support_staff(actor: Actor) -> bool:
    return actor.has_role(*SUPPORT_STAFF)


def may_read(actor: Actor, ticket: Ticket) -> bool:
    """Support staff, integrations reading support, and users of the ticket's organisation."""
    if is_support_staff(actor) or actor.kind == "client":
        return True
    return actor.is_customer and actor.organization_id == ticket.organization_id


async def load_ticket(
    session: AsyncSession, actor: Actor, ticket_id: uuid.UUID, *, for_update: bool = False
) -> Ticket:
    ticket = await session.get(Ticket, ticket_id, with_for_update=for_update)
    if ticket is None or not may_read(actor, ticket):
        raise NotFound("No ticket with this id.")
    return ticket


async def require_contact(session: AsyncSession, actor: Actor, ticket: Ticket) -> None:
    """Customers act on free tickets only through the organisation's current designated contact."""
    contact = await support_contact(session, ticket.organization_id)
    if contact is None or contact[1].id != actor.id:
        raise NotSupportContact(
            "Only your organization's designated support contact can act on free tickets.",
        )


def party_of(actor: Actor) -> str:
    return "staff" if is_support_staff(actor) else "customer"
