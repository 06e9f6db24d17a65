"""Filing a free ticket: the busiest write of basic support, so it costs as few round trips as it can.

One statement reads every fact filing needs (may the caller file, their profile for the author
defaults, the regulation in force, the articles to suggest) and stores the ticket with its number, its
first timeline event, its suggestions and its receipt on PostgreSQL (data-modifying CTEs). SQLite has
no such statements: there the facts and the inserts that depend on them run as one call on the
connection's thread (``core.prepared``), inside the writer lock: the search beside the loop's other
work, and none of SQLAlchemy's per-statement machinery on the loop.
"""

from __future__ import annotations

import dataclasses
import functools
import sqlite3
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from accounts import (
    ANY_PURCHASE,
    CONTACT_USER,
    Actor,
    NoSupportContact,
    User,
    may_file_free_tickets,
    refuse_free_support_filer,
    support_contact,
    user_actor,
)
from core.counters import Counter
from core.db import assign, bound_columns, column_values, insert_into, new_row, table_of
from core.errors import Conflict
from core.outbox import OutboxEvent, completed_document, document_params
from core.prepared import Prepared, first_row, run_on_connection
from support import kb, notices
from support.intake import intake_completed, missing_items
from support.lines import line_of
from support.models import (
    BASIC,
    RegulationVersion,
    Ticket,
    TicketArticle,
    TicketEvent,
    TicketStatus,
    WaitingReason,
)
from support.regulation import current_regulation
from support.schemas import TicketIn

TICKET_COUNTER = "support_ticket"
FIRST_NUMBER = 1001
SUGGESTIONS = 3


@dataclass(frozen=True, slots=True)
class FiledTicket:
    """A ticket just filed, with what filing learnt: no query is needed to show it."""

    ticket: Ticket
    regulation: RegulationVersion
    missing: list[str]
    suggestions: list[kb.Suggestion]


async def create_ticket(
    session: AsyncSession, actor: Actor, data: TicketIn, *, now: datetime, channel: str = "api"
) -> FiledTicket:
    """File a free ticket: only the designated contact of an eligible organisation may.

    Missing evidence does not refuse the ticket: it waits for the customer with the clock stopped.
    """
    return await _file(session, actor, now=now, channel=channel, **msgspec.structs.asdict(data))


async def create_phone_ticket(
    session: AsyncSession, staff: Actor, organization_id: uuid.UUID, data: TicketIn, *, now: datetime
) -> FiledTicket:
    """Support staff enter a ticket the designated contact phoned in: it is filed as the contact's (the
    same eligibility, regulation and receipt as any ticket), on the phone channel, and the timeline says
    who entered it."""
    contact = await support_contact(session, organization_id)
    if contact is None:
        raise NoSupportContact("The organization has no designated support contact to file the call for.")
    filed = await _file(
        session, user_actor(contact[1]), now=now, channel="phone", **msgspec.structs.asdict(data)
    )
    session.add(
        TicketEvent(
            ticket_id=filed.ticket.id,
            occurred_at=now,
            actor_id=staff.id,
            kind="entered_by_staff",
            data={"channel": "phone"},
        )
    )
    await session.flush()
    return filed


async def create_email_ticket(
    session: AsyncSession, actor: Actor, *, subject: str, body: str, now: datetime
) -> FiledTicket:
    """A ticket from an e-mail: the structured intake fields start empty and count as missing."""
    return await _file(
        session,
        actor,
        now=now,
        channel="email",
        project_name=(subject or "(no subject)")[:200],
        description=body[:20_000],
        affected_applications="",
        steps_to_reproduce="",
        impact="",
        affected_employees=None,
        author_name=None,
        author_email=None,
        author_phone=None,
        exchange_archive_link=None,
    )


# The regulation versions this process last saw in force, per database. A version never changes once
# published, and every filing statement checks that it is still the one in force, so a version
# published by another process is noticed by the very next filing.
_in_force: weakref.WeakKeyDictionary[Engine, RegulationVersion] = weakref.WeakKeyDictionary()

CURRENT_REGULATION_ID = (
    sa.select(col(RegulationVersion.id))
    .order_by(col(RegulationVersion.version).desc())
    .limit(1)
    .scalar_subquery()
)


async def _regulation_in_force(session: AsyncSession, *, now: datetime, reload: bool) -> RegulationVersion:
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    known = None if reload else _in_force.get(engine)
    if known is None:
        loaded = await current_regulation(session, now=now)
        # A copy no session owns: a rollback (of the default regulation created on first use, say)
        # cannot expire it, and a stale id is caught by the filing statement's check.
        known = RegulationVersion(**column_values(loaded))
        _in_force[engine] = known
    return known


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What the filing statement found and did: a number when the ticket was stored, else the facts
    that explain why not."""

    purchase: object
    contact: object
    regulation: object
    suggestions: list[kb.Suggestion]
    number: int | None
    author: tuple[str, str, str | None]


async def _file(
    session: AsyncSession,
    actor: Actor,
    *,
    now: datetime,
    channel: str,
    author_name: str | None,
    author_email: str | None,
    author_phone: str | None,
    **intake: Any,  # Any: validated intake fields of TicketIn
) -> FiledTicket:
    if not actor.is_customer or actor.organization_id is None:
        await refuse_free_support_filer(session, actor)
    words = kb.word_params(intake["description"], session.get_bind().dialect.name)
    regulation = await _regulation_in_force(session, now=now, reload=False)
    for attempt in range(2):
        ticket = new_row(
            Ticket,
            number=0,  # the database assigns it with the insert
            organization_id=actor.organization_id,
            filed_by=actor.id,
            regulation_id=regulation.id,
            status=TicketStatus.AWAITING_CUSTOMER,
            waiting_reason=WaitingReason.INTAKE,
            channel=channel,
            # Defaults from the caller's profile are filled in by the filing statement.
            author_name=author_name or "",
            author_email=author_email or "",
            author_phone=author_phone,
            created_at=now,
            updated_at=now,
            **intake,
        )
        created = new_row(
            TicketEvent,
            ticket_id=ticket.id,
            occurred_at=now,
            actor_id=actor.id,
            kind="created",
            data={"channel": channel},
        )
        # A ticket being filed has no attachment yet, so this asks the database nothing.
        missing = await missing_items(session, ticket, regulation, has_attachments=False)
        completed = (
            None
            if missing
            else await intake_completed(session, ticket, regulation, now=now, actor_id=actor.id)
        )
        # The receipt is written with the ticket (by the filing statement, or SQLite's filing call).
        receipt = notices.receipt(ticket, missing=missing, now=now)
        outcome = await _store(session, actor, ticket, created, regulation, words, receipt)
        if outcome.number is not None:
            name, email, phone = outcome.author
            # The row is session-less (new_row): its values are set as new_row set them.
            assign(ticket, number=outcome.number, author_name=name, author_email=email, author_phone=phone)
            if completed is not None:  # rare: a regulation that asks for no evidence
                session.add(completed)
            await notices.ticket_received(session, ticket, missing=missing, now=now, receipt_written=True)
            return FiledTicket(
                ticket=ticket, regulation=regulation, missing=missing, suggestions=outcome.suggestions
            )
        if not may_file_free_tickets(actor, outcome.purchase, outcome.contact):
            await refuse_free_support_filer(session, actor)
        if attempt == 0:  # another version was published since this process last looked: measure by it
            regulation = await _regulation_in_force(session, now=now, reload=True)
    raise Conflict("The support regulation changed while the ticket was being filed; file it again.")


async def _store(
    session: AsyncSession,
    actor: Actor,
    ticket: Ticket,
    created: TicketEvent,
    regulation: RegulationVersion,
    words: dict[str, str],
    receipt: OutboxEvent,
) -> _Outcome:
    """Store the ticket under the next number with its ``created`` event, its suggested articles and its
    ``receipt`` (numbered), if the caller may file and ``regulation`` is still the one in force: on
    PostgreSQL in one statement, on SQLite in one call on the connection's thread (``core.prepared``)."""
    dialect = session.get_bind().dialect
    params = column_values(ticket, prefix="t_") | column_values(created, prefix="e_") | words
    params |= {"org": actor.organization_id, "user": actor.id, "regulation": regulation.id, "n": SUGGESTIONS}
    params |= {"counter": TICKET_COUNTER, "first_number": FIRST_NUMBER}
    params |= document_params(receipt, prefix="r_") | {"r_number_prefix": f"{line_of(ticket).prefix}-"}
    nobody = _Outcome(None, None, None, [], None, ("", "", None))  # the caller's user row is gone
    if dialect.name == "postgresql":
        found = await first_row(session, _postgresql_filing(len(words)), params)
        if found is None:
            return nobody
        row = _Filed(*found)
        return _Outcome(
            purchase=row.purchase,
            contact=row.contact,
            regulation=row.regulation,
            suggestions=kb.suggestions_from(row.suggestions),
            number=row.number,
            author=(row.author_name or "", row.author_email or "", row.author_phone),
        )
    plan = _sqlite_plan(dialect, len(words))
    may_store = functools.partial(_may_store, actor, regulation.id)
    outcome = await run_on_connection(session, _store_on_sqlite, plan, params, may_store)
    return nobody if outcome is None else outcome


class _Filed(NamedTuple):
    """A row of ``_postgresql_filing``."""

    purchase: uuid.UUID | None
    contact: uuid.UUID | None
    regulation: uuid.UUID | None
    suggestions: list[dict[str, Any]] | None  # Any: decoded JSON
    number: int | None  # None, and no author, when nothing was stored
    author_name: str | None
    author_email: str | None
    author_phone: str | None


class _Facts(NamedTuple):
    """A row of ``_facts``."""

    purchase: uuid.UUID | None
    contact: uuid.UUID | None
    regulation: uuid.UUID | None
    full_name: str
    email: str
    phone: str | None
    suggestions: list[dict[str, Any]] | None  # Any: decoded JSON


def _may_store(actor: Actor, regulation_id: uuid.UUID, facts: _Facts) -> bool:
    """Whether the facts let the caller file under the regulation the ticket is measured by."""
    return may_file_free_tickets(actor, facts.purchase, facts.contact) and facts.regulation == regulation_id


@dataclass(frozen=True, slots=True)
class _SqlitePlan:
    """SQLite's filing statements, compiled once per word count, for ``_store_on_sqlite``."""

    facts: Prepared
    ticket: Prepared
    event: Prepared
    link: Prepared
    receipt: Prepared


@functools.lru_cache(maxsize=64)
def _sqlite_plan(dialect: Dialect, word_count: int) -> _SqlitePlan:
    ticket, event, receipt = _sqlite_filing()
    return _SqlitePlan(
        facts=Prepared.of(_facts(dialect.name, word_count), dialect),
        ticket=Prepared.of(ticket, dialect),
        event=Prepared.of(event, dialect),
        link=Prepared.of(insert_into(TicketArticle), dialect),
        receipt=Prepared.of(receipt, dialect),
    )


def _store_on_sqlite(
    connection: sqlite3.Connection,
    plan: _SqlitePlan,
    params: dict[str, Any],  # Any: statement parameters
    may_store: Callable[[_Facts], bool],
) -> _Outcome | None:
    """On the connection's thread, in the request's transaction (and SQLite's writer lock): the facts,
    and if they let the caller file, the ticket under the next number with its event, its suggested
    articles and its receipt. Answers what was found and done: None when the caller's user row is gone,
    no number when nothing was stored, else the number and the author stored (the one given, else the
    caller's profile)."""
    found = connection.execute(plan.facts.sql, plan.facts.bind(params)).fetchone()
    if found is None:
        return None
    facts = _Facts(*plan.facts.row(found))
    suggestions = kb.suggestions_from(facts.suggestions)
    outcome = _Outcome(facts.purchase, facts.contact, facts.regulation, suggestions, None, ("", "", None))
    if not may_store(facts):
        return outcome
    phone = params["t_author_phone"]
    author = (
        params["t_author_name"] or facts.full_name,
        params["t_author_email"] or facts.email,
        phone if phone is not None else facts.phone,
    )
    names = ("t_author_name", "t_author_email", "t_author_phone")
    ticket = plan.ticket.bind(params | dict(zip(names, author, strict=True)))
    number = int(connection.execute(plan.ticket.sql, ticket).fetchone()[0])
    connection.execute(plan.event.sql, plan.event.bind(params))
    links = [
        plan.link.bind(
            {"ticket_id": params["t_id"], "article_id": a.id, "relation": "suggested"}
            | {"created_at": params["t_created_at"]}
        )
        for a in suggestions
    ]
    if links:
        connection.executemany(plan.link.sql, links)
    receipt = plan.receipt.bind(params | {"r_number": str(number)})
    connection.execute(plan.receipt.sql, receipt)
    return dataclasses.replace(outcome, number=number, author=author)


@functools.lru_cache(maxsize=64)
def _facts(dialect: str, word_count: int) -> sa.Select[Any]:
    """What filing needs to know, in one statement: may the caller file (a purchase, the contact),
    their profile for the author defaults, the regulation in force, and the articles to suggest
    (as JSON). Parameters: org, user, and the words ``w0``… and ``n`` of the suggestion search."""
    if word_count:
        suggestions: Any = kb.suggestions_subquery(dialect, word_count)  # Any: a typed SQL expression
    else:
        suggestions = sa.cast(sa.null(), postgresql.JSON if dialect == "postgresql" else sa.JSON)
    return sa.select(
        ANY_PURCHASE.label("purchase"),
        CONTACT_USER.label("contact"),
        CURRENT_REGULATION_ID.label("regulation"),
        col(User.full_name).label("full_name"),
        col(User.email).label("email"),
        col(User.phone).label("phone"),
        suggestions.label("suggestions"),
    ).where(col(User.id) == sa.bindparam("user"))


@functools.cache
def _sqlite_filing() -> tuple[sa.Insert, sa.Insert, sa.Insert]:
    """The ticket under the next number (returned), its ``created`` event, and its receipt: the
    document (bound as ``r_payload``) with its ``number`` set to ``r_number_prefix`` + ``r_number``."""
    receipt: dict[str, Any] = {**bound_columns(OutboxEvent, prefix="r_", exclude=("payload",))}  # Any: SQL
    number = sa.bindparam("r_number_prefix", type_=sa.Text()) + sa.bindparam("r_number", type_=sa.Text())
    receipt["payload"] = sa.func.json_set(sa.bindparam("r_payload", type_=sa.Text()), "$.number", number)
    return (
        sa.insert(table_of(Ticket))
        .values(
            bound_columns(Ticket, prefix="t_", exclude=("number",))
            | {
                "number": sa.select(
                    sa.func.coalesce(sa.func.max(table_of(Ticket).c.number), FIRST_NUMBER - 1) + 1
                )
                .where(table_of(Ticket).c.line == BASIC)
                .scalar_subquery()
            }
        )
        .returning(table_of(Ticket).c.number),
        sa.insert(table_of(TicketEvent)).values(bound_columns(TicketEvent, prefix="e_")),
        sa.insert(table_of(OutboxEvent)).values(receipt),
    )


@functools.lru_cache(maxsize=64)
def _postgresql_filing(word_count: int) -> sa.Select[Any]:
    """One statement: read the facts; if the caller may file under the expected regulation, take the
    next number and insert the ticket (author defaults from the profile), its ``created`` event and
    its suggested articles; answer the facts and what was stored."""
    counter, ticket = table_of(Counter), table_of(Ticket)
    facts = _facts("postgresql", word_count).cte("facts")
    may_file = sa.and_(
        facts.c.purchase.is_not(None),
        facts.c.contact == sa.bindparam("user"),
        facts.c.regulation == sa.bindparam("regulation"),
    )
    number = (
        postgresql.insert(counter)
        .from_select(
            ["name", "value"],
            sa.select(sa.bindparam("counter"), sa.bindparam("first_number"))
            .select_from(facts)
            .where(may_file),
        )
        .on_conflict_do_update(index_elements=["name"], set_={"value": counter.c.value + 1})
        .returning(counter.c.value)
        .cte("number")
    )
    authors = ("author_name", "author_email", "author_phone")
    columns = bound_columns(Ticket, prefix="t_", exclude=("number", *authors))
    profile = {"author_name": facts.c.full_name, "author_email": facts.c.email, "author_phone": facts.c.phone}
    given = bound_columns(Ticket, prefix="t_")
    defaults = [
        sa.func.coalesce(given["author_phone"], profile["author_phone"])
        if name == "author_phone"
        else sa.func.coalesce(sa.func.nullif(given[name], ""), profile[name])
        for name in authors
    ]
    new_ticket = (
        sa.insert(ticket)
        .from_select(
            [*columns, "number", *authors],
            sa.select(*columns.values(), number.c.value, *defaults)
            .select_from(number)
            .join(facts, sa.true()),
        )
        .returning(ticket.c.number, *(ticket.c[name] for name in authors))
        .cte("new_ticket")
    )
    event = bound_columns(TicketEvent, prefix="e_")
    created = (
        sa.insert(table_of(TicketEvent))
        .from_select(list(event), sa.select(*event.values()).select_from(new_ticket))
        .cte("created")
    )
    suggested = sa.func.json_array_elements(facts.c.suggestions).table_valued("value").render_derived()
    links = (
        sa.insert(table_of(TicketArticle))
        .from_select(
            ["ticket_id", "article_id", "relation", "created_at"],
            sa.select(
                columns["id"],
                sa.cast(suggested.c.value.op("->>")("id"), sa.Uuid()),
                sa.literal("suggested"),
                columns["created_at"],
            )
            .select_from(new_ticket)
            .join(facts, sa.true())
            .join(suggested, sa.true()),
        )
        .cte("links")
    )
    # The receipt (``notices.receipt``), its document given the number the ticket was just given.
    receipt: dict[str, sa.ColumnElement[Any]] = {
        **bound_columns(OutboxEvent, prefix="r_", exclude=("payload",))
    }
    number_text = sa.func.concat(sa.bindparam("r_number_prefix", type_=sa.Text()), new_ticket.c.number)
    receipt["payload"] = completed_document("r_", {"number": number_text})
    received = (
        sa.insert(table_of(OutboxEvent))
        .from_select(list(receipt), sa.select(*receipt.values()).select_from(new_ticket))
        .cte("received")
    )
    return (
        sa.select(
            facts.c.purchase,
            facts.c.contact,
            facts.c.regulation,
            facts.c.suggestions,
            new_ticket.c.number,
            *(new_ticket.c[name] for name in authors),
        )
        .select_from(facts.outerjoin(new_ticket, sa.true()))
        .add_cte(created, links, received)
    )
