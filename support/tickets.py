"""Free tickets: filing, reading, completing the intake, and conversation."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import Actor, Role, User
from core.errors import Conflict, FieldProblem, InvalidInput, NotFound, PermissionDenied
from core.errors import check_revision as revision_checked
from core.pagination import Page, paginate
from support import kb, notices
from support.intake import complete_intake_if_ready, missing_items
from support.lines import line_of
from support.models import (
    BASIC,
    RegulationVersion,
    Ticket,
    TicketArticle,
    TicketEvent,
    TicketMessage,
    TicketPause,
    TicketStatus,
    WaitingReason,
)
from support.parties import SUPPORT_STAFF, is_support_staff, load_ticket, readable_tickets, require_contact
from support.schemas import MessageIn, TicketPatch

TICKET_COUNTER = "support_ticket"
SUGGESTIONS = 3
EDITABLE_FIELDS = (
    "author_name",
    "author_email",
    "author_phone",
    "exchange_archive_link",
    "affected_applications",
    "steps_to_reproduce",
    "impact",
    "affected_employees",
)


def ticket_label(number: int) -> str:
    return f"DL-{number}"


def check_revision(ticket: Ticket, expected: int | None) -> None:
    """Optimistic concurrency: an If-Match that names an older revision is refused."""
    revision_checked("ticket", ticket.revision, expected)


def touch_ticket(ticket: Ticket, now: datetime) -> None:
    ticket.updated_at = now
    ticket.revision += 1


async def list_tickets(
    session: AsyncSession,
    actor: Actor,
    *,
    limit: int,
    cursor: str | None,
    status: TicketStatus | None = None,
    organization_id: uuid.UUID | None = None,
) -> Page[Ticket]:
    statement = readable_tickets(actor)
    if organization_id is not None:
        statement = statement.where(col(Ticket.organization_id) == organization_id)
    if status is not None:
        statement = statement.where(col(Ticket.status) == status)
    return await paginate(session, statement, col(Ticket.id), limit=limit, cursor=cursor)


async def update_intake(
    session: AsyncSession,
    actor: Actor,
    ticket_id: uuid.UUID,
    data: TicketPatch,
    *,
    now: datetime,
    expected_revision: int | None = None,
) -> Ticket:
    """The contact completes the intake, or declares an item impossible to provide (with a reason)."""
    ticket = await load_ticket(session, actor, ticket_id, for_update=True)
    await require_contact(session, actor, ticket)
    check_revision(ticket, expected_revision)
    if ticket.status == TicketStatus.CLOSED:
        raise Conflict("The ticket is closed; reopen it first.")
    regulation = await session.get(RegulationVersion, ticket.regulation_id)
    assert regulation is not None, "a basic ticket keeps its regulation"
    for field in EDITABLE_FIELDS:
        value = getattr(data, field)
        if value is not msgspec.UNSET:
            setattr(ticket, field, value)
    if data.unavailable_items is not msgspec.UNSET:
        missing = await missing_items(session, ticket, regulation)
        wrong = [item for item in data.unavailable_items if item not in missing]
        if wrong:
            raise InvalidInput(
                "Only items that are still missing can be declared unavailable.",
                errors=[
                    FieldProblem(f"unavailable_items.{item}", "not a missing intake item") for item in wrong
                ],
            )
        ticket.unavailable_items = {**ticket.unavailable_items, **data.unavailable_items}
        session.add(
            TicketEvent(
                ticket_id=ticket.id,
                occurred_at=now,
                actor_id=actor.id,
                kind="declared_unavailable",
                data=dict(data.unavailable_items),
            )
        )
    touch_ticket(ticket, now)
    await complete_intake_if_ready(session, ticket, regulation, now=now, actor_id=actor.id)
    await session.flush()
    return ticket


async def add_message(
    session: AsyncSession,
    actor: Actor,
    ticket_id: uuid.UUID,
    data: MessageIn,
    *,
    now: datetime,
    author_kind: str | None = None,
    line: str = BASIC,
) -> TicketMessage:
    """A reply. Staff replies may be internal notes and may cite articles; the first public staff reply
    after the intake is complete is the first response. A customer reply ends an information pause."""
    ticket = await load_ticket(session, actor, ticket_id, for_update=True, line=line)
    staff = is_support_staff(actor)
    if not staff:
        await require_contact(session, actor, ticket)
        if data.internal or data.cited_articles:
            raise PermissionDenied("Internal notes and article citations are for support staff.")
    if ticket.status == TicketStatus.CLOSED:
        raise Conflict("The ticket is closed; reopen it to continue the conversation.")
    message = TicketMessage(
        ticket_id=ticket.id,
        author_id=actor.id,
        author_kind=author_kind or ("staff" if staff else "customer"),
        body=data.body,
        internal=data.internal,
        created_at=now,
    )
    session.add(message)
    if staff:
        for article in await kb.published_by_slugs(session, data.cited_articles):
            await session.merge(
                TicketArticle(ticket_id=ticket.id, article_id=article.id, relation="cited", created_at=now)
            )
        if not data.internal:
            await record_staff_reply(session, ticket, now=now)
            await notices.ticket_answered(session, ticket, data.body, now=now)
    else:
        await resume_after_information(session, ticket, now=now, actor_id=actor.id)
        await line_of(ticket).after_customer_message(session, ticket, now)
    touch_ticket(ticket, now)
    await session.flush()
    return message


async def record_session_proposal(
    session: AsyncSession,
    actor: Actor,
    ticket: Ticket,
    *,
    booking_id: uuid.UUID,
    starts_at: datetime,
    message: str | None,
    now: datetime,
) -> None:
    """Support booked a free remote session for the ticket: the customer is told (a public staff reply,
    so it answers the regulation's promise) and the timeline keeps the booking."""
    body = message or (
        f"We propose a remote session at {starts_at.isoformat()} at no charge. Please fill in the access "
        f"preconditions of booking {booking_id} before it starts."
    )
    session.add(
        TicketMessage(ticket_id=ticket.id, author_id=actor.id, author_kind="staff", body=body, created_at=now)
    )
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            occurred_at=now,
            actor_id=actor.id,
            kind="remote_session_proposed",
            data={"booking_id": str(booking_id), "starts_at": starts_at.isoformat()},
        )
    )
    await record_staff_reply(session, ticket, now=now)
    touch_ticket(ticket, now)
    await session.flush()


async def record_staff_reply(session: AsyncSession, ticket: Ticket, *, now: datetime) -> None:
    """A public staff reply: the first one after intake completion answers the promise of a first
    response; what it does to the update timer is the line's rule (support/lines.py)."""
    line = line_of(ticket)
    await line.after_staff_reply(session, ticket, now)
    if ticket.intake_completed_at is None or ticket.first_responded_at is not None:
        return
    calendar = await line.calendar(session, ticket)
    ticket.first_responded_at = now
    ticket.first_response_business_minutes = int(
        calendar.elapsed(ticket.intake_completed_at, now).total_seconds() // 60
    )
    if ticket.status == TicketStatus.NEW:
        ticket.status = TicketStatus.IN_PROGRESS
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            occurred_at=now,
            kind="first_response",
            data={"business_minutes": ticket.first_response_business_minutes},
        )
    )


async def resume_after_information(
    session: AsyncSession, ticket: Ticket, *, now: datetime, actor_id: uuid.UUID | None
) -> None:
    if (
        ticket.status == TicketStatus.AWAITING_CUSTOMER
        and ticket.waiting_reason == WaitingReason.INFO_REQUESTED
    ):
        await end_pause(session, ticket, now=now)
        ticket.status, ticket.waiting_reason = TicketStatus.IN_PROGRESS, None
        session.add(
            TicketEvent(
                ticket_id=ticket.id,
                occurred_at=now,
                actor_id=actor_id,
                kind="status_changed",
                data={"from": "awaiting_customer", "to": "in_progress", "reason": "customer replied"},
            )
        )


async def end_pause(session: AsyncSession, ticket: Ticket, *, now: datetime) -> None:
    """End an open pause for information, if any: it is support's turn again from now."""
    ended = await session.execute(
        sa.update(TicketPause)
        .where(col(TicketPause.ticket_id) == ticket.id, col(TicketPause.ended_at).is_(None))
        .values(ended_at=now)
    )
    if ended.rowcount:  # type: ignore[attr-defined]  # a CursorResult for an UPDATE
        ticket.updates_counted_from = now


async def assign_ticket(
    session: AsyncSession, actor: Actor, ticket_id: uuid.UUID, assignee_id: uuid.UUID | None, *, now: datetime
) -> Ticket:
    """Who works a ticket of any line. An engineer takes a ticket for themselves or gives back their
    own; leads and admins give any ticket to any active member of support staff. The change is on the
    ticket's timeline and moves it in every queue (its revision and change time)."""
    if not is_support_staff(actor):
        raise PermissionDenied("Only support staff work tickets.")
    statement = readable_tickets(actor, line=None).where(col(Ticket.id) == ticket_id)
    ticket = (await session.scalars(statement.with_for_update())).first()
    if ticket is None:
        raise NotFound("No ticket with this id.")
    if not actor.has_role(Role.SUPPORT_LEAD, Role.ADMIN):
        mine = {actor.id}
        if assignee_id not in mine | {None} or (assignee_id is None and ticket.assignee_id not in mine):
            raise PermissionDenied("An engineer takes tickets for themselves and gives back only their own.")
    if assignee_id is not None:
        user = await session.get(User, assignee_id)
        if user is None or not user.is_active or user.role not in SUPPORT_STAFF:
            raise InvalidInput(
                "The assignee must be an active member of support staff.",
                errors=[FieldProblem("assignee_id", "not an active member of support staff")],
            )
    if ticket.assignee_id == assignee_id:
        return ticket
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            occurred_at=now,
            actor_id=actor.id,
            kind="assigned",
            data={
                "from": str(ticket.assignee_id) if ticket.assignee_id else None,
                "to": str(assignee_id) if assignee_id else None,
            },
        )
    )
    ticket.assignee_id = assignee_id
    touch_ticket(ticket, now)
    await session.flush()
    return ticket
