"""Database wiring: the async engine, SQLite pragmas, and one transaction per request.

The SQLAlchemy plugin (advanced-alchemy) owns the engine, the session maker and the session's life
in the request scope. The transaction boundary is our ``provide_db`` dependency rather than the
plugin's autocommit hook: that hook commits while the response is already on its way and only logs
a failed commit, whereas here a failed commit becomes an error response and nothing is reported as
done that was not.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from litestar.datastructures import State
from litestar.types import Scope
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, SessionTransaction

from api.settings import Settings
from core.transactions import forget_rollback_hooks, run_rollback_hooks

SQLITE_BEGIN_OPTION = "sqlite_begin"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def create_engine(settings: Settings, *, pool_size: int | None = None) -> AsyncEngine:
    """An engine for the configured URL; SQLite gets WAL, foreign keys and explicit BEGINs."""
    if not settings.is_sqlite:
        return create_async_engine(
            settings.database_url,
            echo=settings.database_echo,
            pool_pre_ping=True,
            pool_size=pool_size or settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
            pool_timeout=settings.database_pool_timeout_seconds,
        )

    if (path := settings.sqlite_path) is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    busy_ms = settings.sqlite_busy_timeout_ms
    engine = create_async_engine(
        settings.database_url,
        echo=settings.database_echo,
        connect_args={"timeout": busy_ms / 1000},
        pool_size=pool_size or settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout_seconds,
    )
    _configure_sqlite(engine, busy_ms)
    return engine


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    # Any: DB-API connection objects are untyped at this boundary.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module so BEGIN is ours to choose.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # Writers take the write lock up front: SQLite serialises them instead of failing a
        # deferred transaction that tries to upgrade from reading to writing.
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


READ_ENGINE = "deskline_read_engine"


class RoutingSession(Session):
    """A request's session: reads of safe requests (GET, HEAD) use the read pool, everything else the
    write pool. A bulkhead: a burst of writes queueing for connections never makes reads (readiness
    probes, availability, lists) wait behind it. Still one connection per request."""

    def get_bind(self, mapper: Any = None, **kw: Any) -> Any:  # Any: SQLAlchemy's own signature
        reader: AsyncEngine | None = self.info.get(READ_ENGINE)
        if reader is not None:
            return reader.sync_engine
        return super().get_bind(mapper, **kw)


def create_alchemy_config(engine: AsyncEngine) -> SQLAlchemyAsyncConfig:
    config = SQLAlchemyAsyncConfig(
        engine_instance=engine,
        session_dependency_key="plugin_db_session",
        session_config=_session_config(),
        enable_file_object_listener=False,
        enable_touch_updated_timestamp_listener=False,
    )
    # The plugin gives its sessions a plain Session (for listeners we do not use): route instead.
    maker = config.create_session_maker()
    assert isinstance(maker, async_sessionmaker)
    maker.configure(sync_session_class=RoutingSession)
    return config


def _session_config() -> Any:
    from advanced_alchemy.config.asyncio import AsyncSessionConfig

    return AsyncSessionConfig(expire_on_commit=False, autoflush=True)


def request_session(
    config: SQLAlchemyAsyncConfig, state: State, scope: Scope, *, read_engine: AsyncEngine | None = None
) -> AsyncSession:
    """The one session of this request (created on first use, shared by guards and handlers); a safe
    request's session reads through ``read_engine``."""
    session = config.provide_session(state, scope)
    if read_engine is not None and scope.get("method", "GET") in SAFE_METHODS:
        session.info.setdefault(READ_ENGINE, read_engine)
    return session


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


@event.listens_for(Session, "after_transaction_end")
def _release_after_transaction(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction, not a savepoint
        _release_writer_lock(session)


def _release_writer_lock(session: Session) -> None:
    lock = session.info.pop(_HELD_WRITER_LOCK, None)
    if lock is not None:
        lock.release()


def db_provider(config: SQLAlchemyAsyncConfig, *, is_sqlite: bool) -> Any:
    """Build the ``db`` dependency: commit when the handler returns, roll back when it raises."""

    async def provide_db(state: State, scope: Scope) -> AsyncGenerator[AsyncSession, None]:
        session = request_session(config, state, scope, read_engine=state.ctx.read_engine)
        await begin_request_transaction(session, str(scope.get("method", "GET")), is_sqlite=is_sqlite)
        try:
            yield session
        except BaseException as exc:
            # Some refusals must keep what they did (e.g. revoking a reused refresh-token family).
            if getattr(exc, "commit_before_raising", False):
                await session.commit()
                forget_rollback_hooks(session)
            else:
                await session.rollback()
                run_rollback_hooks(session)
            raise
        try:
            await session.commit()
        except BaseException:
            run_rollback_hooks(session)
            raise
        forget_rollback_hooks(session)

    return provide_db
