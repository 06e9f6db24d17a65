"""Read models: a ticket as each party may see it, with its clock derived at read time."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts.actor import Actor
from core.business_time import BusinessCalendar
from support.attachments import attachments_of
from support.clock import ClockView, clock_view, owes_update, pauses_of_tickets
from support.filing import FiledTicket
from support.intake import missing_from, tickets_with_device_database
from support.models import (
    Attachment,
    ExplanationRequest,
    KbArticle,
    RegulationVersion,
    Ticket,
    TicketArticle,
    TicketEvent,
    TicketMessage,
)
from support.parties import is_support_staff
from support.regulation import INTAKE_ITEMS, regulation_calendar
from support.schemas import (
    ArticleOut,
    ArticleRef,
    AttachmentOut,
    ClockOut,
    EventOut,
    ExplanationOut,
    MessageOut,
    RegulationOut,
    TicketOut,
    TicketSummaryOut,
)
from support.tickets import ticket_label


def regulation_out(regulation: RegulationVersion) -> RegulationOut:
    return RegulationOut(
        version=regulation.version,
        published_at=regulation.published_at,
        time_zone=regulation.time_zone,
        weekly_hours=regulation.weekly_hours,
        holiday_calendar=regulation.holiday_calendar,
        first_response_minutes=regulation.first_response_minutes,
        update_interval_minutes=regulation.update_interval_minutes,
        required_items=regulation.required_items,
        required_item_descriptions={
            k: INTAKE_ITEMS[k] for k in regulation.required_items if k in INTAKE_ITEMS
        },
        attachment_retention_days=regulation.attachment_retention_days,
        text=regulation.text,
    )


def article_out(article: KbArticle) -> ArticleOut:
    return ArticleOut(
        id=article.id,
        slug=article.slug,
        title=article.title,
        body=article.body,
        tags=article.tags,
        published=article.published,
        created_at=article.created_at,
        updated_at=article.updated_at,
    )


def _clock_out(view: ClockView) -> ClockOut:
    return ClockOut(
        running=view.running,
        first_response_due_at=view.first_response_due_at,
        first_responded_at=view.first_responded_at,
        first_response_business_minutes=view.first_response_business_minutes,
        paused_minutes=view.paused_minutes,
        breached=view.breached,
        next_update_due_at=view.next_update_due_at,
        update_overdue=view.update_overdue,
    )


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
        found.append((regulation, missing, _clock_out(view)))
    return found


async def ticket_summaries(
    session: AsyncSession, tickets: Sequence[Ticket], *, now: datetime
) -> list[TicketSummaryOut]:
    """A page of tickets with their clocks and missing items, in a fixed number of queries."""
    return [
        TicketSummaryOut(
            id=ticket.id,
            number=ticket_label(ticket.number),
            organization_id=ticket.organization_id,
            status=ticket.status,
            project_name=ticket.project_name,
            missing=missing,
            clock=clock,
            created_at=ticket.created_at,
        )
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
        suggested=[ArticleRef(slug=a.slug, title=a.title) for rel, a in articles if rel == "suggested"],
        cited=[ArticleRef(slug=a.slug, title=a.title) for rel, a in articles if rel == "cited"],
        messages=[message_out(m) for m in messages if staff or not m.internal],
        attachments=[attachment_out(a) for a in await attachments_of(session, ticket.id)],
        explanations=[explanation_out(e) for e in explanations],
        timeline=[
            EventOut(occurred_at=e.occurred_at, kind=e.kind, actor_id=e.actor_id, data=e.data) for e in events
        ],
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
    return TicketOut(
        id=ticket.id,
        number=ticket_label(ticket.number),
        organization_id=ticket.organization_id,
        filed_by=ticket.filed_by,
        status=ticket.status,
        waiting_reason=ticket.waiting_reason.value if ticket.waiting_reason else None,
        channel=ticket.channel,
        regulation_version=regulation.version,
        project_name=ticket.project_name,
        author_name=ticket.author_name,
        author_email=ticket.author_email,
        author_phone=ticket.author_phone,
        description=ticket.description,
        affected_applications=ticket.affected_applications,
        steps_to_reproduce=ticket.steps_to_reproduce,
        impact=ticket.impact,
        affected_employees=ticket.affected_employees,
        exchange_archive_link=ticket.exchange_archive_link,
        missing=missing,
        unavailable_items={k: str(v) for k, v in ticket.unavailable_items.items()},
        clock=clock,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        resolved_at=ticket.resolved_at,
        closed_at=ticket.closed_at,
        revision=ticket.revision,
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
        clock=_clock_out(view),
        suggested=[ArticleRef(slug=a.slug, title=a.title) for a in filed.suggestions],
    )


def message_out(m: TicketMessage) -> MessageOut:
    return MessageOut(
        id=m.id,
        author_id=m.author_id,
        author_kind=m.author_kind,
        body=m.body,
        internal=m.internal,
        created_at=m.created_at,
    )


def attachment_out(a: Attachment) -> AttachmentOut:
    return AttachmentOut(
        id=a.id,
        kind=a.kind,
        filename=a.filename,
        content_type=a.content_type,
        size_bytes=a.size_bytes,
        sha256=a.sha256,
        created_at=a.created_at,
    )


def explanation_out(e: ExplanationRequest) -> ExplanationOut:
    return ExplanationOut(
        id=e.id, ticket_id=e.ticket_id, requested_by=e.requested_by, reason=e.reason, created_at=e.created_at
    )
