"""What an SLA contract tells its customer, as events written to the outbox in the transaction of the
change: the contract taking effect, a timer that ended late (a breach, which earns the month's service
credit) and a month's report once the month is invoiced (its figures no longer change)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from contracts.models import Contract, SlaOutcome
from core.outbox import Event, emit
from support import Ticket, line_of


class ContractActivated(Event):
    type = "contract.activated"
    contract_id: str
    number: str
    starts_on: str
    ends_on: str


class ContractBreach(Event):
    type = "contract.breach"
    contract_id: str
    contract_number: str
    ticket_id: str
    ticket_number: str
    timer: str  # first_response | update | resolution
    priority: str
    due_at: str
    ended_at: str
    breach_minutes: int


class ContractReportReady(Event):
    type = "contract.report_ready"
    contract_id: str
    number: str
    period: str  # YYYY-MM
    breaches: int
    credit_minor: int
    currency: str
    report_path: str


async def _raise(session: AsyncSession, contract: Contract, event: Event, *, now: datetime) -> None:
    await emit(session, event, now=now, subject_id=contract.id, organization_id=contract.organization_id)


async def contract_activated(session: AsyncSession, contract: Contract, *, now: datetime) -> None:
    activated = ContractActivated(
        contract_id=str(contract.id),
        number=contract.number,
        starts_on=contract.starts_on.isoformat(),
        ends_on=contract.ends_on.isoformat(),
    )
    await _raise(session, contract, activated, now=now)


async def sla_breached(session: AsyncSession, ticket: Ticket, outcome: SlaOutcome, *, now: datetime) -> None:
    contract = await session.get(Contract, outcome.contract_id)
    assert contract is not None
    breach = ContractBreach(
        contract_id=str(contract.id),
        contract_number=contract.number,
        ticket_id=str(ticket.id),
        ticket_number=f"{line_of(ticket).prefix}-{ticket.number}",
        timer=outcome.timer,
        priority=outcome.priority,
        due_at=outcome.due_at.isoformat(),
        ended_at=outcome.ended_at.isoformat(),
        breach_minutes=outcome.breach_minutes,
    )
    await _raise(session, contract, breach, now=now)


async def report_ready(
    session: AsyncSession,
    contract: Contract,
    *,
    period: str,
    breaches: int,
    credit_minor: int,
    currency: str,
    now: datetime,
) -> None:
    ready = ContractReportReady(
        contract_id=str(contract.id),
        number=contract.number,
        period=period,
        breaches=breaches,
        credit_minor=credit_minor,
        currency=currency,
        report_path=f"/v1/contracts/{contract.id}/report?period={period}",
    )
    await _raise(session, contract, ready, now=now)
