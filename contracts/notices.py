"""What an SLA contract tells its customer, written to the outbox in the transaction of the change: a
timer that ended late (a breach, which earns the month's service credit) and a month's report once
the month is invoiced (its figures no longer change)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from accounts.recipients import organisation_recipients
from contracts.models import Contract, SlaOutcome
from contracts.reports import Report
from core.outbox import emit
from support.lines import line_of
from support.models import Ticket


async def sla_breached(session: AsyncSession, ticket: Ticket, outcome: SlaOutcome, *, now: datetime) -> None:
    contract = await session.get(Contract, outcome.contract_id)
    assert contract is not None
    await emit(
        session,
        "contract.breach",
        {
            "contract_id": str(contract.id),
            "contract_number": contract.number,
            "ticket_id": str(ticket.id),
            "ticket_number": f"{line_of(ticket).prefix}-{ticket.number}",
            "timer": outcome.timer,
            "priority": outcome.priority,
            "due_at": outcome.due_at.isoformat(),
            "ended_at": outcome.ended_at.isoformat(),
            "breach_minutes": outcome.breach_minutes,
        },
        now=now,
        recipients=await organisation_recipients(session, contract.organization_id),
        subject_id=contract.id,
        organization_id=contract.organization_id,
    )


async def report_ready(session: AsyncSession, contract: Contract, report: Report, *, now: datetime) -> None:
    await emit(
        session,
        "contract.report_ready",
        {
            "contract_id": str(contract.id),
            "number": contract.number,
            "period": report.period,
            "breaches": report.credits.breaches,
            "credit_minor": report.credits.amount_minor,
            "currency": report.currency,
            "report_path": f"/v1/contracts/{contract.id}/report?period={report.period}",
        },
        now=now,
        recipients=await organisation_recipients(session, contract.organization_id),
        subject_id=contract.id,
        organization_id=contract.organization_id,
    )
