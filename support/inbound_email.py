"""Inbound e-mail: a forwarded RFC 822 message becomes a ticket, or a message on the ticket it quotes."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import parseaddr

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import User, user_actor
from core.storage import LocalStorage, UploadTooLarge
from core.text import cleaned
from support import notices
from support.attachments import attach_file
from support.errors import InboundEmailRejected, UnknownSender
from support.filing import create_email_ticket
from support.models import BASIC, AttachmentKind, Ticket
from support.schemas import MessageIn
from support.tickets import add_message

TICKET_REFERENCE = re.compile(r"\bDL-(\d{1,9})\b")
DEVICE_DATABASE_SUFFIXES = (".db", ".sqlite", ".sqlite3", ".sdf")


@dataclass(frozen=True, slots=True)
class InboundResult:
    ticket: Ticket
    created: bool


def _parse(raw: bytes) -> EmailMessage:
    if not raw.strip():
        raise InboundEmailRejected("The message is empty.")
    message = email.message_from_bytes(raw, policy=email.policy.default)
    if not isinstance(message, EmailMessage) or message["From"] is None:
        raise InboundEmailRejected("The message has no From header; is it an RFC 822 message?")
    return message


def _text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()
    return content if isinstance(content, str) else ""


async def receive_email(
    session: AsyncSession, raw: bytes, *, storage: LocalStorage, max_attachment_bytes: int, now: datetime
) -> InboundResult:
    """Match the sender to a user; a subject quoting DL-<number> continues that ticket, else a new one."""
    message = _parse(raw)
    sender = cleaned(parseaddr(str(message["From"]))[1]).strip().lower()
    user = (
        (await session.scalars(sa.select(User).where(col(User.email) == sender))).first() if sender else None
    )
    if user is None or not user.is_active:
        if sender:
            subject = cleaned(str(message.get("Subject", ""))).strip()[:200]
            await notices.email_rejected(session, sender=sender, subject=subject, now=now)
        raise UnknownSender(f"No active user has the sender address {sender or '(none)'}.", sender=sender)
    actor = user_actor(user)
    # Mail is a document from outside: characters no text column may hold are dropped, not refused.
    subject = cleaned(str(message.get("Subject", ""))).strip()
    body = cleaned(_text_of(message)).strip() or "(the e-mail has no text)"
    reference = TICKET_REFERENCE.search(subject)
    ticket: Ticket | None = None
    if reference:
        ticket = (
            await session.scalars(
                sa.select(Ticket).where(
                    col(Ticket.line) == BASIC, col(Ticket.number) == int(reference.group(1))
                )
            )
        ).first()
    if ticket is not None and ticket.organization_id == user.organization_id:
        await add_message(
            session, actor, ticket.id, MessageIn(body=body[:20_000]), now=now, author_kind="email"
        )
        created = False
    else:
        ticket = (await create_email_ticket(session, actor, subject=subject, body=body, now=now)).ticket
        created = True
    for part in message.iter_attachments():
        filename = part.get_filename() or "attachment"
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes) or not payload:
            continue
        writer = storage.writer(max_attachment_bytes)
        try:
            writer.write(payload)
        except UploadTooLarge as exc:
            writer.abort()
            raise InboundEmailRejected(f"The attachment {filename!r} is larger than allowed.") from exc
        kind = (
            AttachmentKind.DEVICE_DATABASE
            if filename.lower().endswith(DEVICE_DATABASE_SUFFIXES)
            else AttachmentKind.OTHER
        )
        await attach_file(
            session,
            actor,
            ticket.id,
            kind=kind,
            filename=filename,
            content_type=part.get_content_type(),
            stored=writer.finish(),
            storage=storage,
            now=now,
        )
    return InboundResult(ticket=ticket, created=created)
