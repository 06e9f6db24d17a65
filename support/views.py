"""Read models: a ticket as each party may see it, with its clock derived at read time."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import Actor
from core.business_time import BusinessCalendar
from support.attachments import attachments_of
from support.clock import clock_view, owes_update, pauses_of_tickets
from support.filing import FiledTicket
from support.intake import missing_from, tickets_with_device_database
from support.models import (
    ExplanationRequest,
    KbArticle,
    RegulationVersion,
    Ticket,
    TicketArticle,
    TicketEvent,
    TicketMessage,
    TicketStatus,
)
from support.parties import is_support_staff
from support.regulation import regulation_calendar
from support.schemas import (
    ArticleRef,
    AttachmentOut,
    ClockOut,
    EventOut,
    ExplanationOut,
    MessageOut,
    QueueTimerOut,
    TicketOut,
    TicketSummaryOut,
)
from support.tickets import ticket_label


async def _basics(
    session: AsyncSession, tickets: Sequence[Ticket], now: datetime
) -> list[tuple[RegulationVersion, list[str], ClockOut]]:
    """Each ticket's regulation, missing items and clock, in a fixed number of queries however many
    tickets there are (a page of the list, or the one ticket shown)."""
    ids = [t.id for t in tickets]
    wanted = {t.regulation_id for t in tickets if t.regulation_id is not None}
    regulations = {
        r.id: r
        for r in (
            await session.scalars(sa.select(RegulationVersion).where(col(RegulationVersion.id).in_(wanted)))
        ).all()
    }
    pauses = await pauses_of_tickets(session, ids)
    with_file = await tickets_with_device_database(session, ids)
    calendars: dict[uuid.UUID, BusinessCalendar] = {}
    found = []
    for ticket in tickets:
        assert ticket.regulation_id is not None, "basic support's views show basic tickets"
        regulation = regulations[ticket.regulation_id]
        # The calendar (and its holidays) matters only for paused time and the next update.
        calendar = None
        if ticket.id in pauses or owes_update(ticket):
            if regulation.id not in calendars:
                calendars[regulation.id] = await regulation_calendar(session, regulation)
            calendar = calendars[regulation.id]
        interval = timedelta(minutes=regulation.update_interval_minutes)
        view = clock_view(ticket, calendar, pauses.get(ticket.id, []), now=now, update_interval=interval)
        missing = missing_from(ticket, regulation, has_device_database=ticket.id in with_file)
        found.append((regulation, missing, ClockOut.of(view)))
    return found


def _late_minutes(calendar: BusinessCalendar, due: datetime, end: datetime) -> int:
    """Business minutes from ``due`` to ``end``, rounded up (0 when not late)."""
    if end <= due:
        return 0
    return math.ceil(calendar.elapsed_minus_pauses(due, end, ()) / timedelta(minutes=1))


async def queue_timers(
    session: AsyncSession, tickets: Sequence[Ticket], *, now: datetime
) -> list[tuple[list[str], list[QueueTimerOut]]]:
    """Each basic ticket's missing intake items and its timers as the staff queue shows them: the first
    response and, after it, the next update the regulation owes; how late each is in business minutes."""
    calendars: dict[uuid.UUID, BusinessCalendar] = {}
    found = []
    for ticket, (regulation, missing, clock) in zip(
        tickets, await _basics(session, tickets, now), strict=True
    ):
        paused = ticket.status == TicketStatus.AWAITING_CUSTOMER
        late_first = clock.breached and clock.first_response_due_at is not None
        late_update = clock.update_overdue and clock.next_update_due_at is not None
        if (late_first or late_update) and regulation.id not in calendars:
            calendars[regulation.id] = await regulation_calendar(session, regulation)
        calendar = calendars.get(regulation.id)
        due = clock.first_response_due_at
        timers = [
            QueueTimerOut(
                name="first_response",
                due_at=due,
                stopped_at=clock.first_responded_at,
                paused=paused and clock.first_responded_at is None,
                breached=clock.breached,
                breach_minutes=(
                    _late_minutes(calendar, due, clock.first_responded_at or now)
                    if late_first and calendar is not None and due is not None
                    else 0
                ),
            )
        ]
        if clock.first_responded_at is not None:
            owed = clock.next_update_due_at
            timers.append(
                QueueTimerOut(
                    name="update",
                    due_at=None if paused else owed,
                    stopped_at=None,
                    paused=paused,
                    breached=clock.update_overdue,
                    breach_minutes=(
                        _late_minutes(calendar, owed, now)
                        if late_update and calendar is not None and owed is not None
                        else 0
                    ),
                )
            )
        found.append((missing, timers))
    return found


async def ticket_summaries(
    session: AsyncSession, tickets: Sequence[Ticket], *, now: datetime
) -> list[TicketSummaryOut]:
    """A page of tickets with their clocks and missing items, in a fixed number of queries."""
    return [
        TicketSummaryOut.of(ticket, number=ticket_label(ticket.number), missing=missing, clock=clock)
        for ticket, (_, missing, clock) in zip(tickets, await _basics(session, tickets, now), strict=True)
    ]


async def ticket_detail(session: AsyncSession, actor: Actor, ticket: Ticket, *, now: datetime) -> TicketOut:
    """Everything about the ticket; internal notes and the timeline only for support staff."""
    [(regulation, missing, clock)] = await _basics(session, [ticket], now)
    staff = is_support_staff(actor)
    messages = (
        await session.scalars(
            sa.select(TicketMessage)
            .where(col(TicketMessage.ticket_id) == ticket.id)
            .order_by(col(TicketMessage.created_at))
        )
    ).all()
    articles = (
        await session.execute(
            sa.select(col(TicketArticle.relation), KbArticle)
            .join(KbArticle, col(KbArticle.id) == col(TicketArticle.article_id))
            .where(col(TicketArticle.ticket_id) == ticket.id)
            .order_by(col(KbArticle.slug))
        )
    ).all()
    explanations = (
        await session.scalars(
            sa.select(ExplanationRequest).where(col(ExplanationRequest.ticket_id) == ticket.id)
        )
    ).all()
    events = (
        (
            await session.scalars(
                sa.select(TicketEvent)
                .where(col(TicketEvent.ticket_id) == ticket.id)
                .order_by(col(TicketEvent.occurred_at))
            )
        ).all()
        if staff
        else []
    )
    return _ticket_out(
        ticket,
        regulation=regulation,
        missing=missing,
        clock=clock,
        suggested=[ArticleRef.of(a) for rel, a in articles if rel == "suggested"],
        cited=[ArticleRef.of(a) for rel, a in articles if rel == "cited"],
        messages=[MessageOut.of(m) for m in messages if staff or not m.internal],
        attachments=[AttachmentOut.of(a) for a in await attachments_of(session, ticket.id)],
        explanations=[ExplanationOut.of(e) for e in explanations],
        timeline=[EventOut.of(e) for e in events],
    )


def _ticket_out(
    ticket: Ticket,
    *,
    regulation: RegulationVersion,
    missing: list[str],
    clock: ClockOut,
    suggested: list[ArticleRef],
    cited: list[ArticleRef] | None = None,
    messages: list[MessageOut] | None = None,
    attachments: list[AttachmentOut] | None = None,
    explanations: list[ExplanationOut] | None = None,
    timeline: list[EventOut] | None = None,
) -> TicketOut:
    return TicketOut.of(
        ticket,
        number=ticket_label(ticket.number),
        waiting_reason=ticket.waiting_reason.value if ticket.waiting_reason else None,
        regulation_version=regulation.version,
        missing=missing,
        unavailable_items={k: str(v) for k, v in ticket.unavailable_items.items()},
        clock=clock,
        suggested_articles=suggested,
        cited_articles=cited or [],
        messages=messages or [],
        attachments=attachments or [],
        explanation_requests=explanations or [],
        timeline=timeline or [],
    )


def filed_ticket_view(actor: Actor, filed: FiledTicket, *, now: datetime) -> TicketOut:
    """A ticket just filed: everything is known from filing, so showing it costs no query."""
    ticket = filed.ticket
    view = clock_view(ticket, None, [], now=now)
    return _ticket_out(
        ticket,
        regulation=filed.regulation,
        missing=filed.missing,
        clock=ClockOut.of(view),
        suggested=[ArticleRef.of(a) for a in filed.suggestions],
    )
