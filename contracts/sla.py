"""SLA tickets: the ``sla`` line of the ticket engine (support/lines.py). Covered users of a contract in
force file them with a priority; they are measured on the contract's service calendar against the
priority's targets of the contract version in force when they opened.

The three timers, all in business minutes of that calendar and all paused while the ticket awaits
the customer:
- **first response**: from the opening (or the last priority change) to the first public staff reply;
- **update interval**: from the earliest customer message still awaiting an answer (after the first
  response: before it, the first-response target governs alone) to the next public staff reply; it
  does not run while no customer message awaits an answer;
- **resolution**: from the opening (or the last priority change) to the resolution.
A priority change restarts the targets still running from that moment with the new priority's full
targets (it is recorded on the timeline); a first response already given stays given.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import Actor, User, belongs_to
from contracts import notices as contract_notices
from contracts import terms as rules
from contracts.agreements import (
    in_force,
    load_contract,
    local_today,
    status_of,
    version_in_force,
    versions_of,
)
from contracts.breaches import overrun
from contracts.errors import ContractNotInForce, NotCovered
from contracts.models import Contract, ContractVersion, SlaOutcome, SlaTicket
from contracts.schemas import (
    Priority,
    PriorityChangeIn,
    SlaClockOut,
    SlaTicketIn,
    Terms,
    TimerOut,
)
from core.business_time import BusinessCalendar, from_weekly_hours
from core.counters import next_value
from core.errors import NotFound, PermissionDenied
from core.holidays import holidays_of
from core.pagination import Page, paginate
from support import (
    Ticket,
    TicketEvent,
    TicketStatus,
    is_support_staff,
    load_ticket,
    pauses_of_tickets,
    register_line,
    ticket_received,
    touch_ticket,
    watch_first_response,
)

SLA = "sla"
COUNTER = "contracts_sla_ticket"
FIRST_NUMBER = 1001
MINUTE = timedelta(minutes=1)


async def calendar_of(session: AsyncSession, terms: Terms) -> BusinessCalendar:
    assert terms.calendar is not None, "a contract in force has its service calendar"
    holidays = await holidays_of(session, terms.calendar.holiday_calendar)
    return from_weekly_hours(terms.calendar.time_zone, terms.calendar.weekly_hours, holidays)


async def _measured_by(session: AsyncSession, sla: SlaTicket) -> Terms:
    version = (
        await session.scalars(
            sa.select(ContractVersion).where(
                col(ContractVersion.contract_id) == sla.contract_id,
                col(ContractVersion.version) == sla.contract_version,
            )
        )
    ).one()
    return rules.loaded(version.terms)


async def _sla_of(session: AsyncSession, ticket: Ticket) -> SlaTicket:
    sla = await session.get(SlaTicket, ticket.id)
    assert sla is not None, "every ticket of the sla line has its SLA row"
    return sla


async def covered_why(session: AsyncSession, actor: Actor, contract: Contract, terms: Terms) -> str | None:
    """Why the actor is not covered by the contract, or None when covered."""
    if not belongs_to(actor, contract.organization_id):
        return "only users of the contract's organisation are covered"
    coverage = terms.coverage
    assert coverage is not None, "a contract in force has its coverage"
    if coverage.kind == "named" and actor.id not in coverage.user_ids:
        return "the contract covers named users, and you are not one of them"
    if coverage.kind == "seats":
        assert coverage.max_users is not None
        filers = set(
            (
                await session.scalars(
                    sa.select(col(Ticket.filed_by))
                    .join(SlaTicket, col(SlaTicket.ticket_id) == col(Ticket.id))
                    .where(col(SlaTicket.contract_id) == contract.id)
                    .distinct()
                )
            ).all()
        )
        if actor.id not in filers and len(filers) >= coverage.max_users:
            return f"all {coverage.max_users} seats of the contract are taken by other users"
    return None


class SlaLine:
    name = SLA
    prefix = "SLA"

    async def require_customer_party(self, session: AsyncSession, actor: Actor, ticket: Ticket) -> None:
        sla = await _sla_of(session, ticket)
        contract = await session.get(Contract, sla.contract_id)
        assert contract is not None
        why = await covered_why(session, actor, contract, await _measured_by(session, sla))
        if why is not None:
            raise NotCovered(f"You cannot act on this SLA ticket: {why}.")

    async def calendar(self, session: AsyncSession, ticket: Ticket) -> BusinessCalendar:
        return await calendar_of(session, await _measured_by(session, await _sla_of(session, ticket)))

    async def after_staff_reply(self, session: AsyncSession, ticket: Ticket, now: datetime) -> None:
        """The reply stops the first-response timer (the first public reply) or the update timer (the
        customer's waiting messages are answered): each ends as an outcome, met or breached, and a late
        update is also put on the timeline. The update timer then waits for the customer to write."""
        waiting_since = ticket.updates_counted_from
        ticket.updates_counted_from = None
        first_response = ticket.first_responded_at is None and ticket.intake_completed_at is not None
        if not first_response and waiting_since is None:
            return
        sla = await _sla_of(session, ticket)
        terms = await _measured_by(session, sla)
        calendar = await calendar_of(session, terms)
        if first_response:
            assert ticket.first_response_due_at is not None
            await _record(session, ticket, sla, calendar, "first_response", ticket.first_response_due_at, now)
            return
        assert waiting_since is not None
        due = calendar.add(waiting_since, _targets(terms, sla.priority).update)
        outcome = await _record(session, ticket, sla, calendar, "update", due, now)
        if outcome.breach_minutes:
            session.add(
                TicketEvent(
                    ticket_id=ticket.id,
                    occurred_at=now,
                    kind="update_breached",
                    data={
                        "due_at": due.isoformat(),
                        "breach_minutes": outcome.breach_minutes,
                        "priority": sla.priority,
                    },
                )
            )

    async def after_customer_message(self, session: AsyncSession, ticket: Ticket, now: datetime) -> None:
        del session
        if ticket.first_responded_at is not None and ticket.updates_counted_from is None:
            ticket.updates_counted_from = now

    async def after_transition(
        self, session: AsyncSession, ticket: Ticket, source: TicketStatus, now: datetime
    ) -> None:
        """Resolving (or closing unresolved) ends the resolution timer; reopening lets it run on."""
        done = {TicketStatus.RESOLVED, TicketStatus.CLOSED}
        if ticket.status in done and source not in done:
            sla = await _sla_of(session, ticket)
            terms = await _measured_by(session, sla)
            calendar = await calendar_of(session, terms)
            pauses = (await pauses_of_tickets(session, [ticket.id])).get(ticket.id, [])
            timer = _timer(
                calendar,
                target=_targets(terms, sla.priority).resolution,
                started=sla.timers_from,
                stopped=now,
                pauses=pauses,
                now=now,
            )
            assert timer.due_at is not None
            await _record(
                session, ticket, sla, calendar, "resolution", timer.due_at, now, breach=timer.breach_minutes
            )
        elif source in done and ticket.status not in done:
            await session.execute(
                sa.delete(SlaOutcome).where(
                    col(SlaOutcome.ticket_id) == ticket.id, col(SlaOutcome.timer) == "resolution"
                )
            )


async def _record(
    session: AsyncSession,
    ticket: Ticket,
    sla: SlaTicket,
    calendar: BusinessCalendar,
    timer: str,
    due: datetime,
    ended: datetime,
    *,
    breach: int | None = None,
) -> SlaOutcome:
    """An ended timer, with its overrun in business minutes (0 when met) and the month it ended in; a
    breach is told to the customer (``contract.breach``)."""
    if breach is None:
        breach = overrun(calendar, due, ended).minutes
    outcome = SlaOutcome(
        ticket_id=ticket.id,
        contract_id=sla.contract_id,
        priority=sla.priority,
        timer=timer,
        due_at=due,
        ended_at=ended,
        breach_minutes=breach,
        month=calendar.local_date(ended).strftime("%Y-%m"),
    )
    session.add(outcome)
    if breach:
        await contract_notices.sla_breached(session, ticket, outcome, now=ended)
    return outcome


register_line(SlaLine())


@dataclass(frozen=True, slots=True)
class Targets:
    first_response: timedelta
    update: timedelta
    resolution: timedelta


def _targets(terms: Terms, priority: str) -> Targets:
    assert terms.priorities is not None
    target = next(t for p, t in terms.priorities.items() if p.value == priority)
    return Targets(
        first_response=timedelta(minutes=target.first_response_minutes),
        update=timedelta(minutes=target.update_interval_minutes),
        resolution=timedelta(minutes=target.resolution_minutes),
    )


async def _contract_in_force(
    session: AsyncSession, actor: Actor, contract_id: uuid.UUID, now: datetime
) -> tuple[Contract, ContractVersion, Terms]:
    contract = await load_contract(session, actor, contract_id)
    versions = await versions_of(session, contract.id)
    today = local_today(rules.loaded(versions[-1].terms), now)
    if not in_force(contract, today):
        status = status_of(contract, today)
        when = (
            f"it starts on {contract.starts_on.isoformat()}"
            if status.value == "active"
            else f"it is {status}"
        )
        raise ContractNotInForce(f"The contract is not in force: {when}.", status=status.value)
    version = version_in_force(versions, today)
    return contract, version, rules.loaded(version.terms)


async def file_ticket(
    session: AsyncSession, actor: Actor, contract_id: uuid.UUID, data: SlaTicketIn, *, now: datetime
) -> Ticket:
    """A covered user files an SLA ticket; its first-response clock starts at once."""
    contract, version, terms = await _contract_in_force(session, actor, contract_id, now)
    why = await covered_why(session, actor, contract, terms)
    if why is not None:
        raise NotCovered(f"You are not covered by contract {contract.number}: {why}.")
    user = await session.get(User, actor.id)
    assert user is not None
    calendar = await calendar_of(session, terms)
    targets = _targets(terms, data.priority.value)
    ticket = Ticket(
        line=SLA,
        number=await next_value(session, COUNTER, start=FIRST_NUMBER - 1),
        organization_id=contract.organization_id,
        filed_by=actor.id,
        regulation_id=None,
        status=TicketStatus.NEW,
        channel="api",
        project_name=data.subject,
        author_name=user.full_name,
        author_email=user.email,
        author_phone=user.phone,
        description=data.description,
        affected_applications=data.affected_applications or "",
        impact=data.impact or "",
        created_at=now,
        updated_at=now,
        intake_completed_at=now,
        first_response_due_at=calendar.add(now, targets.first_response),
    )
    session.add(ticket)
    await session.flush()
    session.add(
        SlaTicket(
            ticket_id=ticket.id,
            contract_id=contract.id,
            contract_version=version.version,
            priority=data.priority.value,
            timers_from=now,
        )
    )
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            occurred_at=now,
            actor_id=actor.id,
            kind="created",
            data={"channel": "api", "priority": data.priority.value, "contract_version": version.version},
        )
    )
    await session.flush()
    await ticket_received(session, ticket, missing=[], now=now)
    return ticket


async def load_sla_ticket(
    session: AsyncSession,
    actor: Actor,
    contract_id: uuid.UUID,
    ticket_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> tuple[Ticket, SlaTicket]:
    await load_contract(session, actor, contract_id)
    ticket = await load_ticket(session, actor, ticket_id, for_update=for_update, line=SLA)
    sla = await _sla_of(session, ticket)
    if sla.contract_id != contract_id:
        raise NotFound("No ticket with this id under this contract.")
    return ticket, sla


async def list_tickets(
    session: AsyncSession, actor: Actor, contract_id: uuid.UUID, *, limit: int, cursor: str | None
) -> Page[Ticket]:
    await load_contract(session, actor, contract_id)
    statement = (
        sa.select(Ticket)
        .join(SlaTicket, col(SlaTicket.ticket_id) == col(Ticket.id))
        .where(col(SlaTicket.contract_id) == contract_id)
    )
    return await paginate(session, statement, col(Ticket.id), limit=limit, cursor=cursor)


async def change_priority(
    session: AsyncSession,
    actor: Actor,
    contract_id: uuid.UUID,
    ticket_id: uuid.UUID,
    data: PriorityChangeIn,
    *,
    now: datetime,
) -> Ticket:
    """Staff set a new priority: the targets still running restart now with the new priority's."""
    if not is_support_staff(actor):
        raise PermissionDenied("Only support staff change a ticket's priority.")
    ticket, sla = await load_sla_ticket(session, actor, contract_id, ticket_id, for_update=True)
    if ticket.status == TicketStatus.CLOSED:
        raise ContractNotInForce("The ticket is closed; reopen it to change its priority.")
    before = sla.priority
    terms = await _measured_by(session, sla)
    sla.priority, sla.timers_from = data.priority.value, now
    if ticket.first_responded_at is None:
        calendar = await calendar_of(session, terms)
        ticket.first_response_due_at = calendar.add(now, _targets(terms, sla.priority).first_response)
        await watch_first_response(session, ticket, now=now)
    session.add(
        TicketEvent(
            ticket_id=ticket.id,
            occurred_at=now,
            actor_id=actor.id,
            kind="priority_changed",
            data={"from": before, "to": sla.priority, "reason": data.reason},
        )
    )
    touch_ticket(ticket, now)
    await session.flush()
    return ticket


def _timer(
    calendar: BusinessCalendar,
    *,
    target: timedelta,
    started: datetime | None,
    stopped: datetime | None,
    pauses: list[tuple[datetime, datetime | None]],
    now: datetime,
) -> TimerOut:
    """A timer of ``target`` business time from ``started``, not counting paused time; its due time
    moves out by the paused time before it. Null due time: not started, or paused right now."""
    minutes = int(target // MINUTE)
    if started is None:
        return TimerOut(
            target_minutes=minutes,
            started_at=None,
            due_at=None,
            stopped_at=stopped,
            breached=False,
            breach_minutes=0,
        )
    relevant = [(a, b) for a, b in pauses if (b is None or b > started) and (stopped is None or a < stopped)]
    open_pause = any(b is None for _, b in relevant) and stopped is None
    due = calendar.add(started, target)
    for _ in range(len(relevant) + 1):  # each round adds the paused time the last due time passed over
        moved = calendar.add(started, target + calendar.paused(started, due, relevant))
        if moved == due:
            break
        due = moved
    late = overrun(calendar, due, stopped or now, relevant)
    return TimerOut(
        target_minutes=minutes,
        started_at=started,
        due_at=None if open_pause else due,
        stopped_at=stopped,
        breached=late.breached,
        breach_minutes=late.minutes,
    )


async def clock_of(session: AsyncSession, ticket: Ticket, sla: SlaTicket, *, now: datetime) -> SlaClockOut:
    [clock] = await clocks_of(session, [(ticket, sla)], now=now)
    return clock


async def clocks_of(
    session: AsyncSession, pairs: list[tuple[Ticket, SlaTicket]], *, now: datetime
) -> list[SlaClockOut]:
    """The clocks of many SLA tickets in a fixed number of queries: each contract version's terms and
    calendar read once, every ticket's pauses in one query (a queue of hundreds stays one page load)."""
    wanted = {(sla.contract_id, sla.contract_version) for _, sla in pairs}
    measured: dict[tuple[uuid.UUID, int], tuple[Terms, BusinessCalendar]] = {}
    if wanted:
        versions = await session.scalars(
            sa.select(ContractVersion).where(
                sa.tuple_(col(ContractVersion.contract_id), col(ContractVersion.version)).in_(list(wanted))
            )
        )
        calendars: dict[str, BusinessCalendar] = {}
        for version in versions.all():
            terms = rules.loaded(version.terms)
            key = msgspec.json.encode(terms.calendar).decode()
            if key not in calendars:
                calendars[key] = await calendar_of(session, terms)
            measured[(version.contract_id, version.version)] = (terms, calendars[key])
    pauses = await pauses_of_tickets(session, [ticket.id for ticket, _ in pairs])
    return [
        _measured_clock(
            ticket,
            sla,
            *measured[(sla.contract_id, sla.contract_version)],
            pauses.get(ticket.id, []),
            now=now,
        )
        for ticket, sla in pairs
    ]


def _measured_clock(
    ticket: Ticket,
    sla: SlaTicket,
    terms: Terms,
    calendar: BusinessCalendar,
    pauses: list[tuple[datetime, datetime | None]],
    *,
    now: datetime,
) -> SlaClockOut:
    """The three timers of an SLA ticket under its terms and calendar, derived at ``now``."""
    targets = _targets(terms, sla.priority)
    resolved = ticket.resolved_at or ticket.closed_at
    # The first response is never paused (asking the customer for anything is itself a public staff
    # reply), so its due time is the one stored at the opening or at the last priority change before it.
    due = ticket.first_response_due_at
    assert due is not None, "an SLA ticket's first response is due from its opening"
    answered = ticket.first_responded_at
    late = overrun(calendar, due, answered or now)
    first = TimerOut(
        target_minutes=int(targets.first_response // MINUTE),
        started_at=sla.timers_from if answered is None or answered > sla.timers_from else ticket.created_at,
        due_at=due,
        stopped_at=answered,
        breached=late.breached,
        breach_minutes=late.minutes,
    )
    update = _timer(
        calendar,
        target=targets.update,
        started=ticket.updates_counted_from if ticket.first_responded_at is not None else None,
        stopped=None,
        pauses=pauses,
        now=now,
    )
    resolution = _timer(
        calendar, target=targets.resolution, started=sla.timers_from, stopped=resolved, pauses=pauses, now=now
    )
    stopped_at = resolved or now
    return SlaClockOut(
        priority=Priority(sla.priority),
        contract_version=sla.contract_version,
        running=ticket.status in {TicketStatus.NEW, TicketStatus.IN_PROGRESS},
        paused_minutes=int(calendar.paused(ticket.created_at, stopped_at, pauses) // MINUTE),
        first_response=first,
        update=update,
        resolution=resolution,
    )
