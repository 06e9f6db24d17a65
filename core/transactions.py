"""Transactions on a request's (or a worker's) one session: opening them (SQLite writers serialised),
short units of work committed before anything outside is called, and hooks that undo side effects
outside the database when a transaction rolls back.

A request holds one pooled connection at a time and none while it calls an outside service: commit
what must be true, call out with no transaction open, then record the answer in the next unit.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

ROLLBACK_HOOKS = "deskline_on_rollback"
SQLITE_BEGIN_OPTION = "sqlite_begin"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def on_rollback(session: AsyncSession, undo: Callable[[], None]) -> None:
    """Run ``undo`` if this session's transaction rolls back (e.g. delete a file it stored)."""
    session.info.setdefault(ROLLBACK_HOOKS, []).append(undo)


def run_rollback_hooks(session: AsyncSession) -> None:
    for undo in reversed(session.info.pop(ROLLBACK_HOOKS, [])):
        undo()


def forget_rollback_hooks(session: AsyncSession) -> None:
    session.info.pop(ROLLBACK_HOOKS, None)


async def begin_request_transaction(session: AsyncSession, method: str, *, is_sqlite: bool) -> None:
    """Open the request's transaction; on SQLite, writers open it IMMEDIATE (serialised).

    Writers of this process also queue on an in-process lock before BEGIN IMMEDIATE: SQLite's own
    busy handler makes a waiting writer sleep and poll (up to 100 ms a nap), so under concurrent
    writes the database would sit idle between transactions; the lock hands it over at once.
    Writers of other processes still meet SQLite's busy timeout.
    """
    if session.in_transaction():
        return
    if is_sqlite and method not in SAFE_METHODS:
        lock = _writer_lock(session)
        await lock.acquire()
        session.info[_HELD_WRITER_LOCK] = lock
        try:
            await session.connection(execution_options={SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        except BaseException:
            _release_writer_lock(session.sync_session)
            raise
    else:
        await session.connection()


async def end_transaction(session: AsyncSession) -> None:
    """Commit what the request's transaction holds so far and give its connection back to the pool.

    Before a call to an outside service (Stripe, a calendar URL) or a long wait on the client (a
    streamed upload): the request then holds no connection, and on SQLite no write lock, meanwhile.
    """
    if session.in_transaction():
        await session.commit()
    forget_rollback_hooks(session)


@asynccontextmanager
async def unit_of_work(session: AsyncSession, *, is_sqlite: bool, write: bool = True) -> AsyncIterator[None]:
    """One short transaction on the request's own session, committed when the block ends.

    For requests that must commit a step before calling out: commit what must be true first, call
    out with no transaction open, then record the answer in the next unit. Never a second
    connection: the request's session ends its transaction before it begins the next one.
    """
    await end_transaction(session)
    await begin_request_transaction(session, "POST" if write else "GET", is_sqlite=is_sqlite)
    try:
        yield
    except BaseException:
        await session.rollback()
        run_rollback_hooks(session)
        raise
    await session.commit()
    forget_rollback_hooks(session)


_HELD_WRITER_LOCK = "sqlite_writer_lock"
# One writer queue per engine and event loop (an asyncio lock belongs to the loop that uses it).
_writer_locks: weakref.WeakKeyDictionary[Engine, tuple[asyncio.AbstractEventLoop, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _writer_lock(session: AsyncSession) -> asyncio.Lock:
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    loop = asyncio.get_running_loop()
    known = _writer_locks.get(engine)
    if known is None or known[0] is not loop:
        known = _writer_locks[engine] = (loop, asyncio.Lock())
    return known[1]


@event.listens_for(Session, "after_commit")
def _release_after_commit(session: Session) -> None:
    # As soon as SQLite has committed: the session gives its connection back to the pool only after
    # this, and the pool's reset of it (a rollback that finds nothing to undo) costs a loop turn that
    # no other writer need wait for.
    if session.get_nested_transaction() is None:  # the outermost transaction, not a savepoint
        _release_writer_lock(session)


@event.listens_for(Session, "after_transaction_end")
def _release_after_transaction(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction, not a savepoint
        _release_writer_lock(session)


def _release_writer_lock(session: Session) -> None:
    lock = session.info.pop(_HELD_WRITER_LOCK, None)
    if lock is not None:
        lock.release()
