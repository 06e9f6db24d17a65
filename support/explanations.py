"""Explanation requests: the customer's right to ask why the regulation's promise was not kept."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import Actor
from core.pagination import Page, paginate
from support import notices
from support.errors import ExplanationTooEarly
from support.models import ExplanationRequest, TicketEvent
from support.parties import load_ticket, require_contact


async def request_explanation(
    session: AsyncSession, actor: Actor, ticket_id: uuid.UUID, reason: str, *, now: datetime
) -> ExplanationRequest:
    """Allowed once the first-response deadline passed with no staff reply by then; refused before."""
    ticket = await load_ticket(session, actor, ticket_id)
    await require_contact(session, actor, ticket)
    due = ticket.first_response_due_at
    if due is None:
        raise ExplanationTooEarly("The intake is not complete, so the regulation's clock has not started.")
    responded = ticket.first_responded_at
    if responded is not None and responded <= due:
        raise ExplanationTooEarly(
            "Support answered within the regulation.", first_responded_at=responded.isoformat()
        )
    if now <= due:
        raise ExplanationTooEarly(
            f"The first response is due at {due.isoformat()}; an explanation can be requested after that.",
            first_response_due_at=due.isoformat(),
        )
    explanation = ExplanationRequest(
        ticket_id=ticket.id, requested_by=actor.id, reason=reason, created_at=now
    )
    session.add(explanation)
    session.add(
        TicketEvent(ticket_id=ticket.id, occurred_at=now, actor_id=actor.id, kind="explanation_requested")
    )
    await session.flush()
    await notices.explanation_requested(session, ticket, reason, now=now)
    return explanation


async def list_explanations(
    session: AsyncSession, *, limit: int, cursor: str | None
) -> Page[ExplanationRequest]:
    return await paginate(
        session, sa.select(ExplanationRequest), col(ExplanationRequest.id), limit=limit, cursor=cursor
    )
