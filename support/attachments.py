"""Ticket attachments: stored files with their SHA-256, served back only to the ticket's parties."""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import Actor
from core.errors import NotFound
from core.storage import LocalStorage, StoredFile
from core.text import cleaned
from core.transactions import on_rollback
from support.errors import AttachmentRejected
from support.intake import complete_intake_if_ready
from support.models import BASIC, Attachment, AttachmentKind, RegulationVersion, TicketEvent, TicketStatus
from support.parties import is_support_staff, load_ticket, require_contact
from support.tickets import touch_ticket

UNSAFE = re.compile(r"[^\w.\- ()\[\]]+", re.UNICODE)


def sanitize_filename(name: str) -> str:
    """Keep only the last path component and harmless characters; never empty, never hidden."""
    base = unicodedata.normalize("NFC", name).replace("\\", "/").split("/")[-1]
    cleaned = UNSAFE.sub("_", base).strip(" .")[:200]
    return cleaned or "attachment"


async def attach_file(
    session: AsyncSession,
    actor: Actor,
    ticket_id: uuid.UUID,
    *,
    kind: AttachmentKind,
    filename: str,
    content_type: str,
    stored: StoredFile,
    storage: LocalStorage,
    now: datetime,
    line: str = BASIC,
) -> Attachment:
    """Record a stored upload on the ticket; if the transaction fails the file is deleted too."""
    on_rollback(session, lambda: storage.delete(stored.key))
    if stored.size_bytes == 0:
        raise AttachmentRejected("The file is empty.")
    ticket = await load_ticket(session, actor, ticket_id, for_update=True, line=line)
    if not is_support_staff(actor):
        await require_contact(session, actor, ticket)
    if ticket.status == TicketStatus.CLOSED:
        raise AttachmentRejected("The ticket is closed; reopen it first.")
    attachment = Attachment(
        ticket_id=ticket.id,
        kind=kind,
        filename=sanitize_filename(filename),
        content_type=cleaned(content_type)[:255] or "application/octet-stream",
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        storage_key=stored.key,
        uploaded_by=actor.id,
        created_at=now,
    )
    session.add(attachment)
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            occurred_at=now,
            actor_id=actor.id,
            kind="attachment_added",
            data={"kind": kind.value, "sha256": stored.sha256},
        )
    )
    await session.flush()
    if ticket.regulation_id is not None:  # a basic ticket may be waiting for this file to start its clock
        regulation = await session.get(RegulationVersion, ticket.regulation_id)
        assert regulation is not None
        await complete_intake_if_ready(session, ticket, regulation, now=now, actor_id=actor.id)
    touch_ticket(ticket, now)
    await session.flush()
    return attachment


async def get_attachment(
    session: AsyncSession, actor: Actor, ticket_id: uuid.UUID, attachment_id: uuid.UUID, *, line: str = BASIC
) -> Attachment:
    await load_ticket(session, actor, ticket_id, line=line)
    attachment = await session.get(Attachment, attachment_id)
    if attachment is None or attachment.ticket_id != ticket_id:
        raise NotFound("No attachment with this id on this ticket.")
    return attachment


async def attachments_of(session: AsyncSession, ticket_id: uuid.UUID) -> list[Attachment]:
    rows = await session.scalars(
        sa.select(Attachment)
        .where(col(Attachment.ticket_id) == ticket_id)
        .order_by(col(Attachment.created_at))
    )
    return list(rows.all())
