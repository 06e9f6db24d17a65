"""How a contract reads from outside: its derived status and the terms in force today, with history."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts.actor import Actor
from contracts import terms as rules
from contracts.agreements import in_force, local_today, status_of, version_in_force, versions_of
from contracts.documents import documents_of
from contracts.models import Contract, ContractVersion, SlaTicket
from contracts.schemas import ContractOut, DocumentOut, SlaEventOut, SlaMessageOut, SlaTicketOut, VersionOut
from contracts.sla import SlaLine, clock_of
from support.attachments import attachments_of
from support.models import Ticket, TicketEvent, TicketMessage
from support.parties import is_support_staff
from support.schemas import AttachmentOut
from support.views import attachment_out


def version_out(version: ContractVersion) -> VersionOut:
    return VersionOut(
        version=version.version,
        effective_from=version.effective_from,
        reason=version.reason,
        terms=version.terms,
        created_at=version.created_at,
    )


async def contract_out(session: AsyncSession, contract: Contract, *, now: datetime) -> ContractOut:
    versions = await versions_of(session, contract.id)
    today = local_today(rules.loaded(versions[-1].terms), now)
    current = version_in_force(versions, today)
    return ContractOut(
        id=contract.id,
        organization_id=contract.organization_id,
        number=contract.number,
        status=status_of(contract, today),
        in_force=in_force(contract, today),
        signed_on=contract.signed_on,
        starts_on=contract.starts_on,
        ends_on=contract.ends_on,
        terminated_on=contract.terminated_on,
        termination_reason=contract.termination_reason,
        revision=contract.revision,
        terms=current.terms,
        version_in_force=current.version,
        versions=[version_out(v) for v in versions],
        documents=[
            DocumentOut(
                id=d.id,
                filename=d.filename,
                content_type=d.content_type,
                size_bytes=d.size_bytes,
                sha256=d.sha256,
                created_at=d.created_at,
            )
            for d in await documents_of(session, contract.id)
        ],
        created_at=contract.created_at,
        updated_at=contract.updated_at,
        activated_at=contract.activated_at,
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
        files = [attachment_out(a) for a in await attachments_of(session, ticket.id)]
        staff = is_support_staff(actor)
        rows = await session.scalars(
            sa.select(TicketMessage)
            .where(col(TicketMessage.ticket_id) == ticket.id)
            .order_by(col(TicketMessage.created_at))
        )
        messages = [
            SlaMessageOut(
                id=m.id,
                author_id=m.author_id,
                author_kind=m.author_kind,
                body=m.body,
                internal=m.internal,
                created_at=m.created_at,
            )
            for m in rows.all()
            if staff or not m.internal
        ]
        if staff:
            events = await session.scalars(
                sa.select(TicketEvent)
                .where(col(TicketEvent.ticket_id) == ticket.id)
                .order_by(col(TicketEvent.occurred_at))
            )
            timeline = [
                SlaEventOut(occurred_at=e.occurred_at, kind=e.kind, actor_id=e.actor_id, data=e.data)
                for e in events.all()
            ]
    return SlaTicketOut(
        id=ticket.id,
        number=f"{SlaLine.prefix}-{ticket.number}",
        contract_id=sla.contract_id,
        organization_id=ticket.organization_id,
        filed_by=ticket.filed_by,
        status=ticket.status.value,
        subject=ticket.project_name,
        description=ticket.description,
        author_name=ticket.author_name,
        author_email=ticket.author_email,
        clock=await clock_of(session, ticket, sla, now=now),
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        resolved_at=ticket.resolved_at,
        closed_at=ticket.closed_at,
        revision=ticket.revision,
        messages=messages,
        attachments=files,
        timeline=timeline,
    )
