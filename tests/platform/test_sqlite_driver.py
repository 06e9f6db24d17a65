"""The SQLite engine's driver: each statement is one call on aiosqlite's thread, and answers what
SQLAlchemy's own adapter answers (rows, row counts, errors); a commit or rollback with no transaction
open (the pool's reset of a connection given back) is no call at all, and a transaction's BEGIN goes
with its first statement."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from api.db import create_engine
from api.settings import load_settings

THINGS = sa.table("things", sa.column("id", sa.Integer), sa.column("name", sa.String))


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(load_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}"))
    async with engine.begin() as connection:
        await connection.execute(sa.text("CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as connection:
        yield connection


class _CountingQueue:
    """Stands in for aiosqlite's queue to its connection's thread, counting what is put on it."""

    def __init__(self, queue: Any) -> None:
        self.queue, self.calls = queue, 0

    def put_nowait(self, item: Any) -> None:
        self.calls += 1
        self.queue.put_nowait(item)


@asynccontextmanager
async def _counting(connection: AsyncConnection) -> AsyncIterator[_CountingQueue]:
    """Counts the calls queued for the connection's thread while the block runs."""
    driver: Any = (await connection.get_raw_connection()).driver_connection  # Any: aiosqlite's
    queue = driver._tx
    driver._tx = counting = _CountingQueue(queue)
    try:
        yield counting
    finally:
        driver._tx = queue


async def _thread_calls(connection: AsyncConnection, statement: Any, params: Any = None) -> int:
    """How many calls a statement queues for the connection's thread."""
    async with _counting(connection) as counting:
        await connection.execute(statement, params)
    return counting.calls


async def _count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(sa.select(sa.func.count()).select_from(THINGS))).scalar_one())


async def test_a_statement_with_rows_is_one_call_on_the_connections_thread(
    connection: AsyncConnection,
) -> None:
    await connection.execute(sa.insert(THINGS), [{"name": "a"}, {"name": "b"}])
    assert await _thread_calls(connection, sa.select(THINGS)) == 1
    assert await _thread_calls(connection, sa.insert(THINGS).values(name="c")) == 1


async def test_rows_row_counts_and_returning_are_what_sqlalchemy_expects(connection: AsyncConnection) -> None:
    inserted = await connection.execute(sa.insert(THINGS).values(name="a").returning(THINGS.c.id))
    assert inserted.scalar_one() == 1
    many = await connection.execute(sa.insert(THINGS), [{"name": "b"}, {"name": "c"}])
    assert many.rowcount == 2
    updated = await connection.execute(
        sa.update(THINGS).where(THINGS.c.name != "a").values(name=THINGS.c.name + "!")
    )
    assert updated.rowcount == 2
    rows = (await connection.execute(sa.select(THINGS.c.name).order_by(THINGS.c.id))).scalars().all()
    assert rows == ["a", "b!", "c!"]
    assert (await connection.execute(sa.select(THINGS).where(THINGS.c.id == 99))).first() is None


async def test_a_constraint_violation_is_sqlalchemys_integrity_error(connection: AsyncConnection) -> None:
    await connection.execute(sa.insert(THINGS).values(name="a"))
    with pytest.raises(sa.exc.IntegrityError):
        await connection.execute(sa.insert(THINGS).values(name="a"))
    assert (await connection.execute(sa.select(sa.func.count()).select_from(THINGS))).scalar_one() == 1


async def test_streamed_results_still_stream(connection: AsyncConnection) -> None:
    await connection.execute(sa.insert(THINGS), [{"name": str(i)} for i in range(50)])
    result = await connection.stream(sa.select(THINGS.c.id).order_by(THINGS.c.id))
    seen = [row.id async for row in result]
    assert seen == list(range(1, 51))


async def test_a_connection_given_back_after_its_commit_costs_only_the_commit(engine: AsyncEngine) -> None:
    connection = await engine.connect()
    await connection.execute(sa.insert(THINGS).values(name="a"))
    async with _counting(connection) as counting:
        await connection.commit()
        await connection.close()  # back to the pool, which resets it with a rollback: nothing to undo
    assert counting.calls == 1
    assert await _count(engine) == 1


async def test_a_rollback_with_a_transaction_open_still_undoes_it(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(sa.insert(THINGS).values(name="a"))
        async with _counting(connection) as counting:
            await connection.rollback()
        assert counting.calls == 1
    assert await _count(engine) == 0


async def test_a_transaction_whose_statement_failed_is_still_rolled_back(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(sa.insert(THINGS).values(name="a"))
        with pytest.raises(sa.exc.IntegrityError):
            await connection.execute(sa.insert(THINGS).values(name="a"))
        await connection.rollback()
    assert await _count(engine) == 0


async def _sqlite_in_transaction(connection: AsyncConnection) -> bool:
    """Whether SQLite itself has a transaction open on this connection (asked on its thread)."""
    driver: Any = (await connection.get_raw_connection()).driver_connection  # Any: aiosqlite's
    return bool(await driver._execute(lambda: driver._conn.in_transaction))


async def test_a_transactions_begin_goes_with_its_first_statement_in_one_call(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        async with _counting(connection) as counting:
            await connection.execute(sa.insert(THINGS).values(name="a"))
        assert counting.calls == 1
        assert await _sqlite_in_transaction(connection)
        await connection.rollback()
    assert await _count(engine) == 0  # the insert was inside the transaction


async def test_a_streamed_first_statement_reads_inside_its_transaction(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        result = await connection.stream(sa.select(THINGS.c.id))
        assert [row async for row in result] == []
        assert await _sqlite_in_transaction(connection)


async def test_a_transaction_that_ends_before_any_statement_costs_no_call(engine: AsyncEngine) -> None:
    connection = await engine.connect()
    async with _counting(connection) as counting:
        await connection.begin()
        await connection.commit()
        await connection.close()
    assert counting.calls == 0
