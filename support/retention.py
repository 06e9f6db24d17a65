"""Attachment retention: files of closed tickets are deleted after the regulation's retention period."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from support.models import Attachment, RegulationVersion, Ticket, TicketEvent


async def expired_attachments(session: AsyncSession, *, now: datetime) -> list[str]:
    """Remove the rows of attachments past retention and return their storage keys.

    The caller deletes the files after the transaction commits, so a failed commit loses nothing.
    Retention counts from the ticket's closing, by the regulation version the ticket runs under.
    """
    rows = (
        await session.execute(
            sa.select(Attachment, col(Ticket.closed_at), col(RegulationVersion.attachment_retention_days))
            .join(Ticket, col(Ticket.id) == col(Attachment.ticket_id))
            .join(RegulationVersion, col(RegulationVersion.id) == col(Ticket.regulation_id))
            .where(col(Ticket.closed_at).is_not(None))
        )
    ).all()
    expired = [
        a for a, closed_at, days in rows if closed_at is not None and closed_at + timedelta(days=days) < now
    ]
    for ticket_id in sorted({a.ticket_id for a in expired}):
        purged = [a.sha256 for a in expired if a.ticket_id == ticket_id]
        session.add(
            TicketEvent(
                ticket_id=ticket_id,
                occurred_at=now,
                kind="attachments_purged",
                data={"count": len(purged), "sha256": purged},
            )
        )
    for attachment in expired:
        await session.delete(attachment)
    await session.flush()
    return [a.storage_key for a in expired]
