"""What support tells a ticket's author, written to the outbox in the ticket's own transaction: the
receipt (number, what is missing, when the first response is due), each public answer, and a request
for information. The worker turns them into e-mail in the organisation's language."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts.models import Organization, User
from accounts.roles import Role
from core.outbox import Recipient, emit
from support.lines import line_of
from support.models import Ticket


async def _author(session: AsyncSession, ticket: Ticket) -> list[Recipient]:
    organization = await session.get(Organization, ticket.organization_id)
    locale = organization.locale if organization is not None else "ru"
    return [Recipient(ticket.author_email, locale)] if ticket.author_email else []


def _about(ticket: Ticket) -> dict[str, object]:
    return {
        "ticket_id": str(ticket.id),
        "number": f"{line_of(ticket).prefix}-{ticket.number}",
        "line": ticket.line,
        "subject": ticket.project_name,
        "status": ticket.status.value,
    }


async def ticket_received(
    session: AsyncSession, ticket: Ticket, *, missing: list[str], now: datetime
) -> None:
    """Every ticket, however it came in, is acknowledged to its author at once."""
    due = ticket.first_response_due_at
    await emit(
        session,
        "ticket.received",
        {
            **_about(ticket),
            "channel": ticket.channel,
            "missing": missing,
            "first_response_due_at": due.isoformat() if due else None,
        },
        now=now,
        recipients=await _author(session, ticket),
        subject_id=ticket.id,
        organization_id=ticket.organization_id,
    )
    await watch_first_response(session, ticket, now=now)


WARN_BEFORE = timedelta(hours=1)


async def watch_first_response(session: AsyncSession, ticket: Ticket, *, now: datetime) -> None:
    """The leads are warned an hour before a first response falls due, and told when it is breached;
    the worker drops both once the ticket is answered (or its due time moved)."""
    due = ticket.first_response_due_at
    if due is None:
        return
    leads = await _leads(session)
    facts = {**_about(ticket), "first_response_due_at": due.isoformat()}
    for event_type, when in (
        ("ticket.first_response_due_soon", due - WARN_BEFORE),
        ("ticket.first_response_breached", due),
    ):
        if when > now:
            await emit(
                session,
                event_type,
                facts,
                now=now,
                recipients=leads,
                subject_id=ticket.id,
                organization_id=ticket.organization_id,
                deliver_after=when,
            )


async def _leads(session: AsyncSession) -> list[Recipient]:
    rows = await session.scalars(
        sa.select(User).where(col(User.role) == Role.SUPPORT_LEAD, col(User.is_active))
    )
    return [Recipient(lead.email, "ru") for lead in rows.all()]


async def ticket_answered(session: AsyncSession, ticket: Ticket, body: str, *, now: datetime) -> None:
    await emit(
        session,
        "ticket.answered",
        {**_about(ticket), "message": body},
        now=now,
        recipients=await _author(session, ticket),
        subject_id=ticket.id,
        organization_id=ticket.organization_id,
    )


async def explanation_requested(session: AsyncSession, ticket: Ticket, reason: str, *, now: datetime) -> None:
    """The contact asks why the first response came late: every support lead is told."""
    await emit(
        session,
        "ticket.explanation_requested",
        {**_about(ticket), "reason": reason},
        now=now,
        recipients=await _leads(session),
        subject_id=ticket.id,
        organization_id=ticket.organization_id,
    )


async def ticket_waiting(session: AsyncSession, ticket: Ticket, body: str, *, now: datetime) -> None:
    await emit(
        session,
        "ticket.waiting_for_customer",
        {**_about(ticket), "message": body},
        now=now,
        recipients=await _author(session, ticket),
        subject_id=ticket.id,
        organization_id=ticket.organization_id,
    )
