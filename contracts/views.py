"""How a contract reads from outside: its derived status and the terms in force today, with history."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import Actor
from contracts import terms as rules
from contracts.agreements import in_force, local_today, status_of, version_in_force, versions_of
from contracts.documents import documents_of
from contracts.models import Contract, SlaTicket
from contracts.schemas import ContractOut, DocumentOut, SlaEventOut, SlaMessageOut, SlaTicketOut, VersionOut
from contracts.sla import SlaLine, clock_of
from support import AttachmentOut, Ticket, TicketEvent, TicketMessage, attachments_of, is_support_staff


async def contract_out(session: AsyncSession, contract: Contract, *, now: datetime) -> ContractOut:
    versions = await versions_of(session, contract.id)
    today = local_today(rules.loaded(versions[-1].terms), now)
    current = version_in_force(versions, today)
    return ContractOut.of(
        contract,
        status=status_of(contract, today),
        in_force=in_force(contract, today),
        terms=current.terms,
        version_in_force=current.version,
        versions=[VersionOut.of(v) for v in versions],
        documents=[DocumentOut.of(d) for d in await documents_of(session, contract.id)],
    )


async def sla_ticket_out(
    session: AsyncSession,
    actor: Actor,
    ticket: Ticket,
    sla: SlaTicket,
    *,
    now: datetime,
    detail: bool = False,
) -> SlaTicketOut:
    """An SLA ticket with its three timers; with ``detail`` its conversation (internal notes and the
    timeline for support staff only)."""
    messages: list[SlaMessageOut] = []
    timeline: list[SlaEventOut] = []
    files: list[AttachmentOut] = []
    if detail:
        files = [AttachmentOut.of(a) for a in await attachments_of(session, ticket.id)]
        staff = is_support_staff(actor)
        rows = await session.scalars(
            sa.select(TicketMessage)
            .where(col(TicketMessage.ticket_id) == ticket.id)
            .order_by(col(TicketMessage.created_at))
        )
        messages = [SlaMessageOut.of(m) for m in rows.all() if staff or not m.internal]
        if staff:
            events = await session.scalars(
                sa.select(TicketEvent)
                .where(col(TicketEvent.ticket_id) == ticket.id)
                .order_by(col(TicketEvent.occurred_at))
            )
            timeline = [SlaEventOut.of(e) for e in events.all()]
    return SlaTicketOut.of(
        ticket,
        number=f"{SlaLine.prefix}-{ticket.number}",
        contract_id=sla.contract_id,
        status=ticket.status.value,
        subject=ticket.project_name,
        clock=await clock_of(session, ticket, sla, now=now),
        messages=messages,
        attachments=files,
        timeline=timeline,
    )
