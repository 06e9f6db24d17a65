"""Intake completeness: the clock starts only when everything the regulation requires is there."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from support import notices
from support.models import (
    Attachment,
    AttachmentKind,
    RegulationVersion,
    Ticket,
    TicketEvent,
    TicketStatus,
    WaitingReason,
)
from support.regulation import regulation_calendar

STRUCTURED_FIELDS = ("affected_applications", "steps_to_reproduce", "impact", "affected_employees")


async def missing_items(
    session: AsyncSession, ticket: Ticket, regulation: RegulationVersion, *, has_attachments: bool = True
) -> list[str]:
    """Required evidence not provided yet; empty once the intake is complete (or accepted as is).

    ``has_attachments=False`` is for a ticket being filed: it cannot have a file yet.
    """
    needs_file = ticket.intake_completed_at is None and "device_database" in regulation.required_items
    has_file = (
        needs_file
        and has_attachments
        and ticket.id in await tickets_with_device_database(session, [ticket.id])
    )
    return missing_from(ticket, regulation, has_device_database=has_file)


def missing_from(ticket: Ticket, regulation: RegulationVersion, *, has_device_database: bool) -> list[str]:
    """``missing_items`` when the caller already knows whether the device database was uploaded."""
    if ticket.intake_completed_at is not None:
        return []
    # Structured fields are required by the API; e-mail tickets start without them.
    missing = [field for field in STRUCTURED_FIELDS if getattr(ticket, field) in ("", None)]
    for item in regulation.required_items:
        if item == "exchange_archive_link" and not ticket.exchange_archive_link:
            missing.append(item)
        if item == "device_database" and not has_device_database:
            missing.append(item)
    return missing


async def tickets_with_device_database(session: AsyncSession, ticket_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these tickets have the device database attached, in one query."""
    rows = await session.scalars(
        sa.select(col(Attachment.ticket_id))
        .where(
            col(Attachment.ticket_id).in_(ticket_ids), col(Attachment.kind) == AttachmentKind.DEVICE_DATABASE
        )
        .distinct()
    )
    return set(rows.all())


async def intake_completed(
    session: AsyncSession,
    ticket: Ticket,
    regulation: RegulationVersion,
    *,
    now: datetime,
    actor_id: uuid.UUID | None,
    accepted_missing: list[str] | None = None,
) -> TicketEvent:
    """Start the ticket's clock and return the timeline event saying so, for the caller to store."""
    calendar = await regulation_calendar(session, regulation)
    ticket.intake_completed_at = now
    ticket.intake_month = now.astimezone(calendar.zone).strftime("%Y-%m")
    ticket.first_response_due_at = calendar.add(now, timedelta(minutes=regulation.first_response_minutes))
    ticket.status = TicketStatus.NEW
    ticket.waiting_reason = None
    return TicketEvent(
        ticket_id=ticket.id,
        occurred_at=now,
        actor_id=actor_id,
        kind="intake_completed",
        data={
            "accepted_missing": accepted_missing or [],
            "first_response_due_at": ticket.first_response_due_at.isoformat(),
        },
    )


async def complete_intake_if_ready(
    session: AsyncSession,
    ticket: Ticket,
    regulation: RegulationVersion,
    *,
    now: datetime,
    actor_id: uuid.UUID | None,
    has_attachments: bool = True,
) -> list[str]:
    """Start the clock if nothing is missing any more; return what is still missing."""
    if ticket.waiting_reason != WaitingReason.INTAKE:
        return []
    missing = await missing_items(session, ticket, regulation, has_attachments=has_attachments)
    if not missing:
        session.add(await intake_completed(session, ticket, regulation, now=now, actor_id=actor_id))
        await notices.clock_started(session, ticket, now=now)
    return missing
