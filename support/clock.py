"""The regulation clock of a ticket, derived from stored timestamps at read time (no cron)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from core.business_time import BusinessCalendar
from support.models import Ticket, TicketPause, TicketStatus


@dataclass(frozen=True, slots=True)
class ClockView:
    running: bool
    first_response_due_at: datetime | None
    first_responded_at: datetime | None
    first_response_business_minutes: int | None
    paused_minutes: int
    breached: bool
    next_update_due_at: datetime | None = None
    update_overdue: bool = False


async def pauses_of_tickets(
    session: AsyncSession, ticket_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[datetime, datetime | None]]]:
    """The pauses of several tickets in one query, each ticket's in order."""
    rows = await session.scalars(
        sa.select(TicketPause)
        .where(col(TicketPause.ticket_id).in_(ticket_ids))
        .order_by(col(TicketPause.ticket_id), col(TicketPause.started_at))
    )
    found: dict[uuid.UUID, list[tuple[datetime, datetime | None]]] = {}
    for pause in rows.all():
        found.setdefault(pause.ticket_id, []).append((pause.started_at, pause.ended_at))
    return found


def owes_update(ticket: Ticket) -> bool:
    """After the first response, support owes regular updates while the ticket is with support."""
    return (
        ticket.first_responded_at is not None
        and ticket.updates_counted_from is not None
        and ticket.status in {TicketStatus.NEW, TicketStatus.IN_PROGRESS}
    )


def clock_view(
    ticket: Ticket,
    calendar: BusinessCalendar | None,
    pauses: list[tuple[datetime, datetime | None]],
    *,
    now: datetime,
    update_interval: timedelta | None = None,
) -> ClockView:
    """Rule: the clock starts when the intake is complete, pauses while information is requested,
    and the first response is late when it came (or still has not come) after the due time.
    After it, the next update is due ``update_interval`` of business time after the last public
    staff reply (or the customer's answer to a question, or reopening)."""
    due = ticket.first_response_due_at
    started = ticket.intake_completed_at
    stopped = ticket.closed_at or ticket.resolved_at or now
    if pauses and (started is None or calendar is None):
        raise ValueError("paused time needs the started clock and its calendar")
    paused = calendar.paused(started, stopped, pauses) if pauses and started and calendar else timedelta(0)
    responded = ticket.first_responded_at
    breached = due is not None and (responded or now) > due
    running = started is not None and ticket.status in {TicketStatus.NEW, TicketStatus.IN_PROGRESS}
    next_update = None
    if update_interval is not None and owes_update(ticket):
        if calendar is None or ticket.updates_counted_from is None:
            raise ValueError("the update interval needs the regulation's calendar")
        next_update = calendar.add(ticket.updates_counted_from, update_interval)
    return ClockView(
        running=running,
        first_response_due_at=due,
        first_responded_at=responded,
        first_response_business_minutes=ticket.first_response_business_minutes,
        paused_minutes=int(paused // timedelta(minutes=1)),
        breached=breached,
        next_update_due_at=next_update,
        update_overdue=next_update is not None and now > next_update,
    )
