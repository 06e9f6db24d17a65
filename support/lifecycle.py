"""Ticket lifecycle: which moves exist, who may make them, and what each move does to the clock."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from accounts import Actor
from core.errors import FieldProblem, InvalidInput, PermissionDenied
from support import notices
from support.errors import IllegalTransition
from support.intake import intake_completed, missing_items
from support.lines import line_of
from support.models import (
    BASIC,
    RegulationVersion,
    Ticket,
    TicketEvent,
    TicketMessage,
    TicketPause,
    TicketStatus,
    WaitingReason,
)
from support.parties import is_support_staff, load_ticket, party_of, require_contact
from support.schemas import TransitionIn
from support.tickets import check_revision, end_pause, record_staff_reply, touch_ticket

S = TicketStatus
STAFF, CUSTOMER = "staff", "customer"
BOTH = frozenset({STAFF, CUSTOMER})

# from -> to -> who may move it
ALLOWED: dict[TicketStatus, dict[TicketStatus, frozenset[str]]] = {
    S.AWAITING_CUSTOMER: {
        S.NEW: frozenset({STAFF}),  # staff accept an incomplete intake
        S.IN_PROGRESS: BOTH,  # the requested information was provided
        S.RESOLVED: frozenset({STAFF}),
        S.CLOSED: BOTH,
    },
    S.NEW: {
        S.IN_PROGRESS: frozenset({STAFF}),
        S.AWAITING_CUSTOMER: frozenset({STAFF}),
        S.RESOLVED: frozenset({STAFF}),
        S.CLOSED: frozenset({CUSTOMER}),
    },
    S.IN_PROGRESS: {
        S.AWAITING_CUSTOMER: frozenset({STAFF}),
        S.RESOLVED: frozenset({STAFF}),
        S.CLOSED: frozenset({CUSTOMER}),
    },
    S.RESOLVED: {S.CLOSED: BOTH, S.IN_PROGRESS: BOTH},
    S.CLOSED: {S.IN_PROGRESS: BOTH},
}


async def transition_ticket(
    session: AsyncSession,
    actor: Actor,
    ticket_id: uuid.UUID,
    data: TransitionIn,
    *,
    now: datetime,
    expected_revision: int | None = None,
    line: str = BASIC,
) -> Ticket:
    ticket = await load_ticket(session, actor, ticket_id, for_update=True, line=line)
    if not is_support_staff(actor):
        await require_contact(session, actor, ticket)
    check_revision(ticket, expected_revision)
    source, target, party = ticket.status, data.to, party_of(actor)
    allowed = ALLOWED.get(source, {}).get(target)
    if allowed is None:
        raise IllegalTransition(
            f"A ticket cannot go from {source} to {target}.",
            allowed=sorted(t.value for t, who in ALLOWED.get(source, {}).items() if party in who),
        )
    if party not in allowed:  # the move exists, but not for this caller's role: a refusal, not a conflict
        who = " or ".join(sorted(allowed))
        raise PermissionDenied(f"Only {who} may move a ticket from {source} to {target}.")
    await _apply(session, actor, ticket, data, now=now)
    await line_of(ticket).after_transition(session, ticket, source, now)
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            occurred_at=now,
            actor_id=actor.id,
            kind="status_changed",
            data={"from": source.value, "to": ticket.status.value, "reason": data.reason},
        )
    )
    touch_ticket(ticket, now)
    await session.flush()
    return ticket


async def _apply(
    session: AsyncSession,
    actor: Actor,
    ticket: Ticket,
    data: TransitionIn,
    *,
    now: datetime,
) -> None:
    source, target = ticket.status, data.to
    waiting_for_intake = source == S.AWAITING_CUSTOMER and ticket.waiting_reason == WaitingReason.INTAKE
    if target == S.NEW:
        if not waiting_for_intake:
            raise IllegalTransition("Only a ticket waiting for its intake can be accepted as new.")
        regulation = await session.get(RegulationVersion, ticket.regulation_id)
        assert regulation is not None, "only basic tickets wait for an intake"
        missing = await missing_items(session, ticket, regulation)
        completed = await intake_completed(
            session, ticket, regulation, now=now, actor_id=actor.id, accepted_missing=missing
        )
        session.add(completed)
        await notices.clock_started(session, ticket, now=now)
        return
    if target == S.AWAITING_CUSTOMER:
        if not data.message:
            raise InvalidInput(
                "Say what information is needed.", errors=[FieldProblem("message", "required")]
            )
        _say(session, ticket, actor, data.message, now)
        await record_staff_reply(session, ticket, now=now)
        await notices.ticket_waiting(session, ticket, data.message, now=now)
        session.add(TicketPause(ticket_id=ticket.id, started_at=now))
        ticket.status, ticket.waiting_reason, ticket.was_paused_for_information = (
            target,
            WaitingReason.INFO_REQUESTED,
            True,
        )
        return
    if target == S.IN_PROGRESS and waiting_for_intake:
        raise IllegalTransition(
            "The intake is incomplete: provide the missing items, or staff accept it as new."
        )
    if data.message:
        _say(session, ticket, actor, data.message, now)
        if is_support_staff(actor):
            await record_staff_reply(session, ticket, now=now)
    await end_pause(session, ticket, now=now)
    ticket.waiting_reason = None
    if target == S.RESOLVED:
        ticket.resolved_at = now
    elif target == S.CLOSED:
        ticket.closed_at = now
    elif source in {S.RESOLVED, S.CLOSED}:  # reopened
        ticket.resolved_at = ticket.closed_at = None
        ticket.updates_counted_from = now
        if ticket.intake_completed_at is None:
            ticket.status, ticket.waiting_reason = S.AWAITING_CUSTOMER, WaitingReason.INTAKE
            return
    ticket.status = target


def _say(session: AsyncSession, ticket: Ticket, actor: Actor, body: str, now: datetime) -> None:
    kind = "staff" if is_support_staff(actor) else "customer"
    session.add(
        TicketMessage(ticket_id=ticket.id, author_id=actor.id, author_kind=kind, body=body, created_at=now)
    )
