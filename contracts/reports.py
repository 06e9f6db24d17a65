"""A contract's monthly report: per priority, the tickets opened, the timers that ended in the month
(met or breached, each breach with its overrun in business minutes), the session minutes used against
the included ones, and the service credits due. Aggregated in SQL over the ended timers
(``SlaOutcome``), each of which was measured when it stopped by the targets, calendar and priority in
force for its ticket then, so a month that spans an amendment, a priority change, a DST change or a
holiday needs no recomputation here.

Service credits: every breached timer is one breach; each costs the percentage of the monthly fee the
credit rule gives its priority, and the month's total is capped. The fee and the rule are those of the
version in force on the month's first day covered by the contract."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import msgspec
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import Actor
from contracts import terms as rules
from contracts.agreements import load_contract, local_today, version_in_force, versions_of
from contracts.models import ContractSession, SlaOutcome, SlaTicket
from contracts.schemas import Priority, ServiceCredits
from contracts.sessions import month_bounds
from core.errors import FieldProblem, InvalidInput
from scheduling import RELEASED, Booking
from support import Ticket, TicketStatus

TIMERS = ("first_response", "update", "resolution")
BREACH_BATCH = 1000


@dataclass
class Tally:
    met: int = 0
    breached: int = 0
    breach_minutes: int = 0


@dataclass
class PriorityLine:
    priority: str
    opened: int = 0
    open_now: int = 0
    timers: dict[str, Tally] = field(default_factory=lambda: {t: Tally() for t in TIMERS})


@dataclass(frozen=True)
class Breach:
    ticket: str
    priority: str
    timer: str
    due_at: datetime
    ended_at: datetime
    breach_minutes: int


@dataclass(frozen=True)
class Sessions:
    count: int
    included_minutes: int
    used_included_minutes: int
    overage_minutes: int
    overage_amount_minor: int


class Credits(msgspec.Struct, frozen=True, kw_only=True):
    """The month's service credits: each breach earns its priority's share of the monthly fee; the
    month's total is capped."""

    breaches: Annotated[int, msgspec.Meta(description="Breached timers that ended in the month")]
    earned_percent: Annotated[
        float, msgspec.Meta(description="The breaches' shares of the monthly fee added up, before the cap")
    ]
    cap_percent: Annotated[float, msgspec.Meta(description="The most a month's credits may come to")]
    percent: Annotated[
        float, msgspec.Meta(description="The share of the monthly fee credited: earned_percent after the cap")
    ]
    capped: Annotated[bool, msgspec.Meta(description="Whether the cap cut earned_percent down")]
    amount_minor: Annotated[
        int, msgspec.Meta(description="The credit in minor units: percent (after the cap) of the monthly fee")
    ]


@dataclass(frozen=True)
class Report:
    contract_id: uuid.UUID
    number: str
    period: str
    time_zone: str
    contract_version: int
    currency: str
    monthly_fee_minor: int
    priorities: list[PriorityLine]
    breaches: list[Breach]
    sessions: Sessions
    credits: Credits


def month_span(period: str, *, source: str) -> tuple[date, date]:
    """The first day of the month ``period`` (YYYY-MM) and of the month after it. Years outside
    2000–2999 are refused: no contract runs then, and date arithmetic has its limits."""
    year, month = (int(part) for part in period.split("-"))
    if not 2000 <= year <= 2999 or not 1 <= month <= 12:
        raise InvalidInput(
            "The period is a month between 2000-01 and 2999-12.",
            errors=[FieldProblem("period", "not a month from 2000 to 2999", source)],
        )
    return date(year, month, 1), date(year + (month == 12), month % 12 + 1, 1)


async def monthly_report(
    session: AsyncSession,
    actor: Actor,
    contract_id: uuid.UUID,
    period: str,
    *,
    now: datetime,
    with_breaches: bool = True,
) -> Report:
    """The month's report; ``with_breaches=False`` leaves its list of breaches empty (their number is in
    the tallies and the credits) for a caller that streams them (``breaches_of``)."""
    contract = await load_contract(session, actor, contract_id)
    versions = await versions_of(session, contract.id)
    latest = rules.loaded(versions[-1].terms)
    first, following = month_span(period, source="query")
    if first > local_today(latest, now):
        raise InvalidInput(
            "A report covers a month that has begun.",
            errors=[FieldProblem("period", "in the future", "query")],
        )
    if following <= contract.starts_on or first >= contract.ends_before or contract.activated_at is None:
        raise InvalidInput(
            "The contract was not in force in that month.",
            errors=[FieldProblem("period", "outside the contract", "query")],
        )
    version = version_in_force(versions, max(first, contract.starts_on))
    terms = rules.loaded(version.terms)
    assert terms.calendar is not None
    assert terms.service_credits is not None
    assert terms.monthly_fee_minor is not None
    zone = ZoneInfo(terms.calendar.time_zone)
    start, end = month_bounds(first, zone)

    lines = {p.value: PriorityLine(p.value) for p in Priority}
    tallies = await session.execute(
        sa.select(
            col(SlaOutcome.priority),
            col(SlaOutcome.timer),
            sa.func.count(),
            sa.func.sum(sa.case((col(SlaOutcome.breach_minutes) > 0, 1), else_=0)),
            sa.func.sum(col(SlaOutcome.breach_minutes)),
        )
        .where(col(SlaOutcome.contract_id) == contract.id, col(SlaOutcome.month) == period)
        .group_by(col(SlaOutcome.priority), col(SlaOutcome.timer))
    )
    for priority, timer, count, breached, minutes in tallies.all():
        tally = lines[priority].timers[timer]
        tally.breached, tally.breach_minutes = int(breached or 0), int(minutes or 0)
        tally.met = int(count) - tally.breached
    opened = await session.execute(
        sa.select(col(SlaTicket.priority), sa.func.count())
        .join(Ticket, col(Ticket.id) == col(SlaTicket.ticket_id))
        .where(
            col(SlaTicket.contract_id) == contract.id,
            col(Ticket.created_at) >= start,
            col(Ticket.created_at) < end,
        )
        .group_by(col(SlaTicket.priority))
    )
    for priority, count in opened.all():
        lines[priority].opened = int(count)
    still_open = await session.execute(
        sa.select(col(SlaTicket.priority), sa.func.count())
        .join(Ticket, col(Ticket.id) == col(SlaTicket.ticket_id))
        .where(
            col(SlaTicket.contract_id) == contract.id,
            col(Ticket.created_at) < end,
            col(Ticket.status).not_in([TicketStatus.RESOLVED, TicketStatus.CLOSED]),
        )
        .group_by(col(SlaTicket.priority))
    )
    for priority, count in still_open.all():
        lines[priority].open_now = int(count)
    breaches = []
    if with_breaches:  # at once (the JSON holds them all anyway); the CSV streams them
        found = await session.execute(_breaches_statement(contract.id, period))
        breaches = [Breach(f"SLA-{n}", p, t, due, ended, int(m)) for n, p, t, due, ended, m in found]
    used = (
        await session.execute(
            sa.select(
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(col(ContractSession.included_minutes)), 0),
                sa.func.coalesce(sa.func.sum(col(ContractSession.overage_minutes)), 0),
                sa.func.coalesce(
                    sa.func.sum(
                        sa.case((col(ContractSession.overage_minutes) > 0, col(Booking.price_minor)), else_=0)
                    ),
                    0,
                ),
            )
            .join(Booking, col(Booking.id) == col(ContractSession.booking_id))
            .where(
                col(ContractSession.contract_id) == contract.id,
                col(Booking.starts_at) >= start,
                col(Booking.starts_at) < end,
                col(Booking.status).not_in(RELEASED),
            )
        )
    ).one()
    credits = service_credits(
        lines.values(),
        terms.service_credits,
        monthly_fee_minor=terms.monthly_fee_minor,
        breaches=sum(t.breached for line in lines.values() for t in line.timers.values()),
    )
    return Report(
        contract_id=contract.id,
        number=contract.number,
        period=period,
        time_zone=terms.calendar.time_zone,
        contract_version=version.version,
        currency=terms.currency or "",
        monthly_fee_minor=terms.monthly_fee_minor,
        priorities=list(lines.values()),
        breaches=breaches,
        sessions=Sessions(
            count=int(used[0]),
            included_minutes=terms.included_session_minutes or 0,
            used_included_minutes=int(used[1]),
            overage_minutes=int(used[2]),
            overage_amount_minor=int(used[3]),
        ),
        credits=credits,
    )


async def breaches_of(session: AsyncSession, contract_id: uuid.UUID, period: str) -> AsyncIterator[Breach]:
    """The month's breaches in the order they ended, read in batches (a month of many breaches is never
    held whole: the CSV streams them)."""
    statement = _breaches_statement(contract_id, period).execution_options(yield_per=BREACH_BATCH)
    async for number, priority, timer, due_at, ended_at, minutes in await session.stream(statement):
        yield Breach(f"SLA-{number}", priority, timer, due_at, ended_at, int(minutes))


def _breaches_statement(
    contract_id: uuid.UUID, period: str
) -> sa.Select[int, str, str, datetime, datetime, int]:
    return (
        sa.select(
            col(Ticket.number),
            col(SlaOutcome.priority),
            col(SlaOutcome.timer),
            col(SlaOutcome.due_at),
            col(SlaOutcome.ended_at),
            col(SlaOutcome.breach_minutes),
        )
        .join(Ticket, col(Ticket.id) == col(SlaOutcome.ticket_id))
        .where(
            col(SlaOutcome.contract_id) == contract_id,
            col(SlaOutcome.month) == period,
            col(SlaOutcome.breach_minutes) > 0,
        )
        .order_by(col(SlaOutcome.ended_at), col(Ticket.number))
    )


def service_credits(
    lines: Iterable[PriorityLine], rule: ServiceCredits, *, monthly_fee_minor: int, breaches: int
) -> Credits:
    """Each breached timer costs its priority's percentage of the fee; the month's sum is capped."""
    earned = round(
        sum(
            rule.percent_per_breach.of(line.priority) * sum(t.breached for t in line.timers.values())
            for line in lines
        ),
        4,
    )
    applied = min(earned, rule.cap_percent)
    return Credits(
        breaches=breaches,
        earned_percent=earned,
        cap_percent=rule.cap_percent,
        percent=applied,
        capped=earned > rule.cap_percent,
        amount_minor=int(monthly_fee_minor * applied // 100),
    )
