"""What support tells, as events written to the outbox in the ticket's own transaction: the receipt
(number, what is missing, when the first response is due), each public answer, a request for
information, an explanation request, the first-response warnings to leads, and the answer to mail from
an unknown sender. Who receives each and how it reads is the notifications catalog's business."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core.outbox import Event, OutboxEvent, emit, event_row
from support.lines import line_of
from support.models import Ticket

WARN_BEFORE = timedelta(hours=1)


class TicketFacts(Event):
    ticket_id: str
    number: str  # DL-1042, SLA-1001
    line: str  # basic | sla
    subject: str
    status: str


class TicketReceived(TicketFacts):
    type = "ticket.received"
    channel: str
    missing: list[str]
    first_response_due_at: str | None


class TicketClockStarted(TicketFacts):
    """The intake became complete after the filing (an upload, an edit, or support accepting it): the
    first-response clock runs from now."""

    type = "ticket.clock_started"
    first_response_due_at: str


class TicketMessage(TicketFacts):
    message: str


class TicketAnswered(TicketMessage):
    type = "ticket.answered"


class TicketWaitingForCustomer(TicketMessage):
    type = "ticket.waiting_for_customer"


class ExplanationRequested(TicketFacts):
    type = "ticket.explanation_requested"
    reason: str


class FirstResponseDeadline(TicketFacts):
    first_response_due_at: str


class FirstResponseDueSoon(FirstResponseDeadline):
    type = "ticket.first_response_due_soon"


class FirstResponseBreached(FirstResponseDeadline):
    type = "ticket.first_response_breached"


class EmailRejected(Event):
    type = "email.rejected"
    sender: str
    subject: str
    reason: str


def _facts(ticket: Ticket) -> dict[str, str]:
    return {
        "ticket_id": str(ticket.id),
        "number": f"{line_of(ticket).prefix}-{ticket.number}",
        "line": ticket.line,
        "subject": ticket.project_name,
        "status": ticket.status.value,
    }


async def _raise(
    session: AsyncSession, ticket: Ticket, event: Event, *, now: datetime, **when: datetime
) -> None:
    await emit(session, event, now=now, subject_id=ticket.id, organization_id=ticket.organization_id, **when)


def receipt(ticket: Ticket, *, missing: list[str], now: datetime) -> OutboxEvent:
    """The receipt's outbox row, for the statement that files the ticket to write with it: the ticket has
    no number yet, so that statement sets the document's ``number`` (see ``ticket_received``)."""
    return event_row(
        _received(ticket, missing), now=now, subject_id=ticket.id, organization_id=ticket.organization_id
    )


async def ticket_received(
    session: AsyncSession, ticket: Ticket, *, missing: list[str], now: datetime, receipt_written: bool = False
) -> None:
    """Every ticket, however it came in, is acknowledged to its author at once. ``receipt_written``: the
    filing statement wrote the ``receipt`` row itself."""
    if not receipt_written:
        await _raise(session, ticket, _received(ticket, missing), now=now)
    await watch_first_response(session, ticket, now=now)


def _received(ticket: Ticket, missing: list[str]) -> TicketReceived:
    due = ticket.first_response_due_at
    return TicketReceived(
        **_facts(ticket),
        channel=ticket.channel,
        missing=missing,
        first_response_due_at=due.isoformat() if due else None,
    )


async def clock_started(session: AsyncSession, ticket: Ticket, *, now: datetime) -> None:
    """The author is told when the clock starts after the filing, with the first-response due time;
    the leads' warnings are set."""
    due = ticket.first_response_due_at
    assert due is not None, "the clock starts with a due time"
    await _raise(
        session, ticket, TicketClockStarted(**_facts(ticket), first_response_due_at=due.isoformat()), now=now
    )
    await watch_first_response(session, ticket, now=now)


async def watch_first_response(session: AsyncSession, ticket: Ticket, *, now: datetime) -> None:
    """The leads are warned an hour before a first response falls due, and told when it is breached;
    both are dropped once the ticket is answered (or its due time moved): ``warning_still_due``."""
    due = ticket.first_response_due_at
    if due is None:
        return
    facts = {**_facts(ticket), "first_response_due_at": due.isoformat()}
    for warning, when in ((FirstResponseDueSoon, due - WARN_BEFORE), (FirstResponseBreached, due)):
        if when > now:
            await _raise(session, ticket, warning(**facts), now=now, deliver_after=when)


async def warning_still_due(session: AsyncSession, event: OutboxEvent) -> str | None:
    """Why a first-response warning no longer holds (answered, or the due time moved), or None."""
    ticket = await session.get(Ticket, event.subject_id)
    due = datetime.fromisoformat(str(event.payload["first_response_due_at"]))
    if ticket is None or ticket.first_responded_at is not None or ticket.first_response_due_at != due:
        return "the ticket was answered, or its due time moved, since the warning was made"
    return None


async def ticket_answered(session: AsyncSession, ticket: Ticket, body: str, *, now: datetime) -> None:
    await _raise(session, ticket, TicketAnswered(**_facts(ticket), message=body), now=now)


async def ticket_waiting(session: AsyncSession, ticket: Ticket, body: str, *, now: datetime) -> None:
    await _raise(session, ticket, TicketWaitingForCustomer(**_facts(ticket), message=body), now=now)


async def explanation_requested(session: AsyncSession, ticket: Ticket, reason: str, *, now: datetime) -> None:
    """The contact asks why the first response came late: every support lead is told."""
    await _raise(session, ticket, ExplanationRequested(**_facts(ticket), reason=reason), now=now)


async def email_rejected(session: AsyncSession, *, sender: str, subject: str, now: datetime) -> None:
    """Mail from an address no active user has is answered with why, and what to do."""
    await emit(session, EmailRejected(sender=sender, subject=subject, reason="unknown_sender"), now=now)
