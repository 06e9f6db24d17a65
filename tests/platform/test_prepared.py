"""Statements run with SQLAlchemy's execution left out (core.prepared): by hand on SQLite's connection
thread, and one statement's first row on either database (straight on asyncpg on PostgreSQL). They write
and read exactly what SQLAlchemy's own execution writes and reads, inside the session's transaction, and
fail with SQLAlchemy's errors."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.db import create_engine
from api.settings import load_settings
from core.db import column_values, core_execute, insert_into, table_of
from core.outbox import OutboxEvent, event_row
from core.prepared import Prepared, first_row, run_on_connection
from support.notices import TicketReceived

EVENTS = table_of(OutboxEvent)


@pytest.fixture
async def session(tmp_path: Path) -> AsyncIterator[AsyncSession]:
    engine = create_engine(load_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'prepared.db'}"))
    async with engine.begin() as connection:
        await connection.run_sync(EVENTS.create)
    async with async_sessionmaker(engine, expire_on_commit=False)() as session:
        yield session
    await engine.dispose()


def _event(number: str = "BS-1001") -> OutboxEvent:
    received = TicketReceived(
        ticket_id=str(uuid.uuid4()),
        number=number,
        line="basic",
        subject="Пробный проект",  # not ASCII: the JSON is written as SQLAlchemy writes it
        status="awaiting_customer",
        channel="api",
        missing=[],
        first_response_due_at=None,
    )
    now = datetime(2026, 12, 3, 9, 30, 15, 123456, tzinfo=UTC)
    return event_row(received, now=now, subject_id=uuid.uuid4())


def _insert(connection: sqlite3.Connection, prepared: Prepared, params: dict[str, Any]) -> None:
    connection.execute(prepared.sql, prepared.bind(params))


def _select(
    connection: sqlite3.Connection, prepared: Prepared, params: dict[str, Any]
) -> list[tuple[Any, ...]]:
    return [prepared.row(found) for found in connection.execute(prepared.sql, prepared.bind(params))]


async def test_a_prepared_insert_stores_what_sqlalchemy_stores(session: AsyncSession) -> None:
    ours, theirs = _event(), _event()
    prepared = Prepared.of(insert_into(OutboxEvent), session.get_bind().dialect)
    await run_on_connection(session, _insert, prepared, column_values(ours))
    await core_execute(session, insert_into(OutboxEvent), column_values(theirs))
    await session.commit()
    raw = (await session.execute(sa.text("SELECT * FROM core_outbox_event ORDER BY type, id"))).all()
    stored = {row.id: row for row in raw}
    mine, reference = stored[ours.id.hex], stored[theirs.id.hex]
    # Column by column the same text, the same kind of value, as SQLAlchemy wrote.
    for name in ("type", "version", "created_at", "deliver_after", "fanned_out_at"):
        assert getattr(mine, name) == getattr(reference, name), name
    assert mine.payload == reference.payload.replace(theirs.payload["ticket_id"], ours.payload["ticket_id"])
    loaded = await session.get(OutboxEvent, ours.id)
    assert loaded is not None
    assert (loaded.payload, loaded.created_at) == (ours.payload, ours.created_at)


async def test_prepared_rows_are_what_sqlalchemy_returns(session: AsyncSession) -> None:
    row = _event()
    await core_execute(session, insert_into(OutboxEvent), column_values(row))
    statement = sa.select(EVENTS.c.id, EVENTS.c.payload, EVENTS.c.created_at).where(
        EVENTS.c.subject_id == sa.bindparam("subject")
    )
    params = {"subject": row.subject_id}
    expected = [tuple(found) for found in (await session.execute(statement, params)).all()]
    prepared = Prepared.of(statement, session.get_bind().dialect)
    found = await run_on_connection(session, _select, prepared, params)
    assert found == expected == [(row.id, row.payload, row.created_at)]


async def test_a_parameter_the_statement_holds_may_be_left_out(session: AsyncSession) -> None:
    rows = [column_values(_event(f"BS-{n}")) for n in range(3)]
    await core_execute(session, insert_into(OutboxEvent), rows)
    statement = sa.select(EVENTS.c.type).limit(2)  # LIMIT is a bound parameter with its value
    prepared = Prepared.of(statement, session.get_bind().dialect)
    assert len(await run_on_connection(session, _select, prepared, {})) == 2


async def test_what_the_call_writes_rolls_back_with_the_sessions_transaction(session: AsyncSession) -> None:
    prepared = Prepared.of(insert_into(OutboxEvent), session.get_bind().dialect)
    await run_on_connection(session, _insert, prepared, column_values(_event()))
    await session.rollback()
    assert (await session.execute(sa.select(sa.func.count()).select_from(EVENTS))).scalar_one() == 0


async def test_the_databases_errors_come_back_as_sqlalchemys(session: AsyncSession) -> None:
    row = _event()
    await core_execute(session, insert_into(OutboxEvent), column_values(row))
    prepared = Prepared.of(insert_into(OutboxEvent), session.get_bind().dialect)
    with pytest.raises(sa.exc.IntegrityError) as raised:
        await run_on_connection(session, _insert, prepared, column_values(row))
    assert isinstance(raised.value.orig, sqlite3.IntegrityError)


def test_an_expanding_parameter_is_refused() -> None:
    statement = sa.select(EVENTS.c.id).where(EVENTS.c.type.in_(sa.bindparam("types", expanding=True)))
    with pytest.raises(TypeError, match="expanding"):
        Prepared.of(statement, sa.create_engine("sqlite://").dialect)


@pytest.fixture
async def any_session(database_url: str) -> AsyncIterator[AsyncSession]:
    """A session on a migrated, empty database of each backend."""
    engine = create_engine(load_settings(database_url=database_url))
    async with async_sessionmaker(engine, expire_on_commit=False)() as session:
        yield session
    await engine.dispose()


def _inserting(row: OutboxEvent) -> sa.Insert:
    return insert_into(OutboxEvent).returning(EVENTS.c.id, EVENTS.c.payload, EVENTS.c.created_at)


async def _count(session: AsyncSession) -> int:
    return (await session.execute(sa.select(sa.func.count()).select_from(EVENTS))).scalar_one()


async def test_first_row_is_the_row_sqlalchemy_returns(any_session: AsyncSession) -> None:
    row = _event()
    await core_execute(any_session, insert_into(OutboxEvent), column_values(row))
    statement = sa.select(EVENTS.c.id, EVENTS.c.payload, EVENTS.c.created_at, EVENTS.c.fanned_out_at).where(
        EVENTS.c.subject_id == sa.bindparam("subject")
    )
    params = {"subject": row.subject_id}
    expected = tuple((await any_session.execute(statement, params)).one())
    found = await first_row(any_session, statement, params)
    assert found == expected == (row.id, row.payload, row.created_at, None)


async def test_first_row_is_none_when_the_statement_answers_no_row(any_session: AsyncSession) -> None:
    statement = sa.select(EVENTS.c.id).where(EVENTS.c.subject_id == sa.bindparam("subject"))
    assert await first_row(any_session, statement, {"subject": uuid.uuid4()}) is None


async def test_first_row_takes_a_parameter_the_statement_holds_from_it(any_session: AsyncSession) -> None:
    rows = [column_values(_event(f"BS-{n}")) for n in range(3)]
    await core_execute(any_session, insert_into(OutboxEvent), rows)
    statement = sa.select(sa.func.count()).select_from(sa.select(EVENTS.c.id).limit(2).subquery())
    assert await first_row(any_session, statement, {}) == (2,)


async def test_first_row_as_the_first_statement_writes_in_the_sessions_transaction(
    any_session: AsyncSession,
) -> None:
    row = _event()
    assert await first_row(any_session, _inserting(row), column_values(row)) is not None
    assert await _count(any_session) == 1  # the session sees it: one transaction
    await any_session.rollback()
    assert await _count(any_session) == 0


async def test_first_row_sees_what_the_session_wrote_before_it(any_session: AsyncSession) -> None:
    row = _event()
    await core_execute(any_session, insert_into(OutboxEvent), column_values(row))
    statement = sa.select(EVENTS.c.type).where(EVENTS.c.id == sa.bindparam("id"))
    assert await first_row(any_session, statement, {"id": row.id}) == (row.type,)
    await any_session.commit()
    assert await _count(any_session) == 1


async def test_first_rows_errors_are_sqlalchemys_and_name_the_database_error(
    any_session: AsyncSession,
) -> None:
    row = _event()
    await core_execute(any_session, insert_into(OutboxEvent), column_values(row))
    with pytest.raises(sa.exc.IntegrityError) as raised:
        await first_row(any_session, _inserting(row), column_values(row))
    if any_session.get_bind().dialect.name == "postgresql":
        assert getattr(raised.value.orig, "sqlstate", None) == "23505"  # unique_violation
    else:
        assert isinstance(raised.value.orig, sqlite3.IntegrityError)
    await any_session.rollback()
    assert await _count(any_session) == 0


async def test_first_row_is_announced_to_sqlalchemys_statement_listeners(any_session: AsyncSession) -> None:
    seen: list[tuple[str, Any]] = []

    def listener(*args: Any) -> None:  # Any: SQLAlchemy's event arguments
        seen.append((args[2], args[3]))

    engine = any_session.get_bind()
    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        statement = sa.select(EVENTS.c.id).where(EVENTS.c.subject_id == sa.bindparam("subject"))
        subject = uuid.uuid4()
        await first_row(any_session, statement, {"subject": subject})
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    # After the BEGIN that SQLite's connection sends first (api.db), the statement with its one parameter.
    assert [sql for sql, _ in seen if not sql.startswith("BEGIN")] == [
        Prepared.of(statement, engine.dialect).sql
    ]
    assert len(seen[-1][1]) == 1
