"""The SQLite engine's driver: each statement is one call on aiosqlite's thread, and answers what
SQLAlchemy's own adapter answers (rows, row counts, errors); a function runs there in one call; a
writer's statements, once it has SQLite's write lock, run on the loop's thread; a writer frees the
write lock as soon as it has committed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker

from api.db import create_engine
from api.settings import load_settings
from core.transactions import SQLITE_BEGIN_OPTION, _writer_lock, begin_request_transaction

THINGS = sa.table("things", sa.column("id", sa.Integer), sa.column("name", sa.String))


@pytest.fixture
async def connection(tmp_path: Path) -> AsyncIterator[AsyncConnection]:
    engine = create_engine(load_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}"))
    async with engine.connect() as connection:
        await connection.execute(sa.text("CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
        yield connection
    await engine.dispose()


class _CountingQueue:
    """Stands in for aiosqlite's queue to its connection's thread, counting what is put on it."""

    def __init__(self, queue: Any) -> None:
        self.queue, self.calls = queue, 0

    def put_nowait(self, item: Any) -> None:
        self.calls += 1
        self.queue.put_nowait(item)


@asynccontextmanager
async def _counting_calls(connection: AsyncConnection) -> AsyncIterator[_CountingQueue]:
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
    async with _counting_calls(connection) as counting:
        await connection.execute(statement, params)
    return counting.calls


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


def _count_things(connection: Any) -> int:  # Any: the sqlite3 connection, on its own thread
    return int(connection.execute("SELECT count(*) FROM things").fetchone()[0])


async def test_a_call_is_one_hop_in_the_connections_transaction(connection: AsyncConnection) -> None:
    await connection.execute(sa.insert(THINGS), [{"name": "a"}, {"name": "b"}])  # not committed
    adapted: Any = (await connection.get_raw_connection()).dbapi_connection  # Any: the driver's adapter
    async with _counting_calls(connection) as counting:
        assert await adapted.call(_count_things) == 2  # sees the transaction's own rows
    assert counting.calls == 1


async def test_a_call_as_a_statement_runs_where_a_writers_statements_run(connection: AsyncConnection) -> None:
    await _begin_writer(connection)
    await connection.execute(sa.insert(THINGS).values(name="a"))
    adapted: Any = (await connection.get_raw_connection()).dbapi_connection  # Any: the driver's adapter
    async with _counting_calls(connection) as counting:
        assert await adapted.call(_count_things, as_a_statement=True) == 1  # on the loop's thread
        assert await adapted.call(_count_things) == 1  # a plain call still hops
    assert counting.calls == 1


async def test_a_writer_hands_the_write_lock_on_before_its_connection_goes_back_to_the_pool(
    tmp_path: Path,
) -> None:
    # The pool's reset of a connection given back (a rollback that finds nothing to undo) is a loop
    # turn of its own on SQLite: no other writer waits for it.
    engine = create_engine(load_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'lock.db'}"))
    locked_at_reset: list[bool] = []
    try:
        async with async_sessionmaker(engine)() as session:
            await begin_request_transaction(session, "POST", is_sqlite=True)
            lock = _writer_lock(session)
            assert lock.locked()
            pool = engine.sync_engine.pool
            sa.event.listen(pool, "reset", lambda *_: locked_at_reset.append(lock.locked()))
            await session.execute(sa.text("CREATE TABLE t (x)"))
            await session.commit()
        assert locked_at_reset == [False]
    finally:
        await engine.dispose()


async def _begin_writer(connection: AsyncConnection) -> None:
    """Begin a writer's transaction as core.transactions does (BEGIN IMMEDIATE, from api/db.py)."""
    if connection.in_transaction():
        await connection.commit()
    await connection.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
    await connection.begin()


async def test_a_writers_statements_run_without_a_hop_until_it_commits(connection: AsyncConnection) -> None:
    await _begin_writer(connection)
    assert await _thread_calls(connection, sa.insert(THINGS).values(name="a")) == 0
    assert await _thread_calls(connection, sa.select(THINGS)) == 0
    await connection.commit()
    await connection.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
    await connection.begin()
    assert await _thread_calls(connection, sa.select(THINGS)) == 1  # a deferred transaction's: a hop
    assert (await connection.execute(sa.select(THINGS.c.name))).scalars().all() == ["a"]


async def test_a_writer_rolled_back_leaves_nothing_and_hops_again(connection: AsyncConnection) -> None:
    await _begin_writer(connection)
    await connection.execute(sa.insert(THINGS).values(name="a"))
    await connection.rollback()
    await connection.execution_options(**{SQLITE_BEGIN_OPTION: "DEFERRED"})
    await connection.begin()
    assert await _thread_calls(connection, sa.select(sa.func.count()).select_from(THINGS)) == 1
    assert (await connection.execute(sa.select(sa.func.count()).select_from(THINGS))).scalar_one() == 0


async def test_a_writer_waiting_for_the_write_lock_does_not_stop_the_loop(tmp_path: Path) -> None:
    # Another process's writer holds the lock: the waiting BEGIN IMMEDIATE waits in SQLite's busy
    # handler on its connection's thread, and the event loop goes on serving meanwhile.
    url = f"sqlite+aiosqlite:///{tmp_path / 'busy.db'}"
    holder = create_engine(load_settings(database_url=url))
    waiter = create_engine(load_settings(database_url=url))
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticking = asyncio.create_task(tick())
    try:
        async with holder.connect() as first, waiter.connect() as second:
            await _begin_writer(first)
            waiting = asyncio.create_task(_begin_writer(second))
            await asyncio.sleep(0.3)
            assert not waiting.done()
            assert ticks >= 10
            await first.commit()
            await waiting
            await second.rollback()
    finally:
        ticking.cancel()
        await holder.dispose()
        await waiter.dispose()
