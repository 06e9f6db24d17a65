"""The staff queue: every open ticket of both lines (free tickets under the regulation, SLA tickets
under their contract) in one list, ordered by what falls due first, each with its live timers and the
intake items it still lacks; and the marker that tells a watching console the queue changed.

A queue is computed, not stored: each line's clock is derived at read time from the same stored
timestamps its own operations use, so the queue never disagrees with the ticket page."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col

from accounts import Actor, Organization, User
from contracts.models import SlaTicket
from contracts.schemas import QueueItemOut, TimerOut
from contracts.sla import SlaLine, clocks_of
from core.errors import PermissionDenied
from core.pagination import Page, check_limit, page_of
from support import (
    BASIC,
    QueueTimerOut,
    Ticket,
    TicketStatus,
    is_support_staff,
    queue_timers,
    readable_tickets,
)

OPEN = (TicketStatus.NEW, TicketStatus.IN_PROGRESS, TicketStatus.AWAITING_CUSTOMER)


@dataclass(frozen=True, slots=True)
class QueueFilter:
    line: str | None = None  # basic | sla
    priority: str | None = None  # an SLA priority (P1...); only SLA tickets have one
    organization_id: uuid.UUID | None = None
    assigned_to_me: bool = False
    unassigned: bool = False
    breached: bool | None = None


def _sla_timer(name: str, timer: TimerOut, *, paused: bool) -> QueueTimerOut:
    return QueueTimerOut(
        name=name,
        due_at=timer.due_at,
        stopped_at=timer.stopped_at,
        paused=paused and timer.stopped_at is None and timer.started_at is not None,
        breached=timer.breached,
        breach_minutes=timer.breach_minutes,
    )


def _next_due(timers: list[QueueTimerOut]) -> QueueTimerOut | None:
    """The running timer that falls due first (a breached one is already past its due time)."""
    running = [(t.due_at, t) for t in timers if t.due_at is not None and t.stopped_at is None]
    return min(running, key=lambda pair: pair[0], default=(None, None))[1]


async def work_queue(
    session: AsyncSession,
    actor: Actor,
    which: QueueFilter,
    *,
    limit: int,
    cursor: str | None,
    now: datetime,
) -> Page[QueueItemOut]:
    """Open tickets of both lines, the one falling due first first; paused and not yet started ones
    (nothing due) after them, oldest first. The cursor is a position in this order (the order moves as
    time passes, so a page boundary can shift by a ticket between reads)."""
    if not is_support_staff(actor):
        raise PermissionDenied("The queue is support staff's.")
    check_limit(limit)  # before the queue is read; the cursor is checked by page_of
    statement = (
        readable_tickets(actor, line=None)
        .add_columns(col(Organization.name), col(User.full_name), SlaTicket)
        .join(Organization, col(Organization.id) == col(Ticket.organization_id))
        .outerjoin(User, col(User.id) == col(Ticket.assignee_id))
        .outerjoin(SlaTicket, col(SlaTicket.ticket_id) == col(Ticket.id))
        .where(col(Ticket.status).in_(OPEN))
    )
    if which.line is not None:
        statement = statement.where(col(Ticket.line) == which.line)
    if which.priority is not None:
        statement = statement.where(col(SlaTicket.priority) == which.priority)
    if which.organization_id is not None:
        statement = statement.where(col(Ticket.organization_id) == which.organization_id)
    if which.assigned_to_me:
        statement = statement.where(col(Ticket.assignee_id) == actor.id)
    if which.unassigned:
        statement = statement.where(col(Ticket.assignee_id).is_(None))
    rows = (await session.execute(statement)).all()
    basic = [row[0] for row in rows if row[0].line == BASIC]
    basic_timers = dict(zip([t.id for t in basic], await queue_timers(session, basic, now=now), strict=True))
    covered = [(row[0], row[3]) for row in rows if row[3] is not None]
    clocks = dict(zip([t.id for t, _ in covered], await clocks_of(session, covered, now=now), strict=True))
    items: list[QueueItemOut] = []
    for ticket, organization_name, assignee_name, sla in rows:
        paused = ticket.status == TicketStatus.AWAITING_CUSTOMER
        if sla is None:
            missing, timers = basic_timers[ticket.id]
            number, priority = f"DL-{ticket.number}", None
        else:
            clock = clocks[ticket.id]
            missing, number, priority = [], f"{SlaLine.prefix}-{ticket.number}", sla.priority
            timers = [
                _sla_timer("first_response", clock.first_response, paused=False),
                _sla_timer("update", clock.update, paused=paused),
                _sla_timer("resolution", clock.resolution, paused=paused),
            ]
        due = _next_due(timers)
        items.append(
            QueueItemOut.of(
                ticket,
                number=number,
                subject=ticket.project_name,
                status=ticket.status.value,
                organization_name=organization_name,
                assignee_name=assignee_name,
                contract_id=sla.contract_id if sla is not None else None,
                priority=priority,
                missing=missing,
                paused=paused,
                next_due_at=due.due_at if due is not None else None,
                next_due_timer=due.name if due is not None else None,
                breached=any(t.breached for t in timers),
                breach_minutes=max((t.breach_minutes for t in timers), default=0),
                timers=timers,
            )
        )
    if which.breached is not None:
        items = [item for item in items if item.breached == which.breached]
    items.sort(key=lambda i: (i.next_due_at is None, i.next_due_at or i.created_at, i.created_at))
    return page_of(items, limit=limit, cursor=cursor)


async def queue_marker(connection: AsyncConnection) -> str:
    """Changes whenever a ticket is filed or changes (every change of a ticket moves its ``updated_at``
    and revision): the latest change time, one read of the index's end on a short connection of its
    own for each watcher's poll."""
    latest = await connection.scalar(sa.select(sa.func.max(col(Ticket.updated_at))))
    return latest.isoformat() if isinstance(latest, datetime) else str(latest or "-")
