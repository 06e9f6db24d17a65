"""The service lines that share the ticket engine. Basic support and SLA contracts file, converse,
attach, pause and resolve tickets through the same lifecycle; what differs is given by each line:
who on the customer's side may act, which business calendar the clocks run on, and what a reply
does to the update timer. Each line has its own queue and numbering (``Ticket.line``).

``support`` knows only its own line; ``contracts`` registers the SLA line when it is imported
(dependencies point from contracts to support, never back)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from accounts import Actor
from core.business_time import BusinessCalendar
from support.models import Ticket, TicketStatus


class TicketLine(Protocol):
    name: str
    prefix: str  # of the ticket's public number: DL-1042, SLA-1001

    async def require_customer_party(self, session: AsyncSession, actor: Actor, ticket: Ticket) -> None:
        """Refuse a customer who may not act on this ticket (support staff are never asked)."""

    async def calendar(self, session: AsyncSession, ticket: Ticket) -> BusinessCalendar:
        """The business calendar the ticket's clocks run on."""

    async def after_staff_reply(self, session: AsyncSession, ticket: Ticket, now: datetime) -> None:
        """What a public staff reply does to the update timer (and what it records)."""

    async def after_customer_message(self, session: AsyncSession, ticket: Ticket, now: datetime) -> None:
        """What a customer's message (one that does not end a pause) does to the update timer."""

    async def after_transition(
        self, session: AsyncSession, ticket: Ticket, source: TicketStatus, now: datetime
    ) -> None:
        """What a status change (resolving, closing, reopening) records for the line."""


LINES: dict[str, TicketLine] = {}


def register_line(line: TicketLine) -> None:
    LINES[line.name] = line


def line_of(ticket: Ticket) -> TicketLine:
    try:
        return LINES[ticket.line]
    except KeyError:
        raise LookupError(f"no ticket line {ticket.line!r} is registered") from None
