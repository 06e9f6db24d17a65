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
from collections.abc import AsyncGenerator
from typing import Any

from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from litestar.datastructures import State
from litestar.types import Scope
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import Session, SessionTransaction

from api.settings import Settings
from core.transactions import forget_rollback_hooks, run_rollback_hooks

SQLITE_BEGIN_OPTION = "sqlite_begin"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def create_engine(settings: Settings) -> AsyncEngine:
    """An engine for the configured URL; SQLite gets WAL, foreign keys and explicit BEGINs."""
    if not settings.is_sqlite:
        return create_async_engine(settings.database_url, echo=settings.database_echo, pool_pre_ping=True)

    if (path := settings.sqlite_path) is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(
        settings.database_url,
        echo=settings.database_echo,
        connect_args={"timeout": 30},
    )
    _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: AsyncEngine) -> None:
    # Any: DB-API connection objects are untyped at this boundary.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module so BEGIN is ours to choose.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # Writers take the write lock up front: SQLite serialises them instead of failing a
        # deferred transaction that tries to upgrade from reading to writing.
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def create_alchemy_config(engine: AsyncEngine) -> SQLAlchemyAsyncConfig:
    return SQLAlchemyAsyncConfig(
        engine_instance=engine,
        session_dependency_key="plugin_db_session",
        session_config=_session_config(),
    )


def _session_config() -> Any:
    from advanced_alchemy.config.asyncio import AsyncSessionConfig

    return AsyncSessionConfig(expire_on_commit=False, autoflush=True)


def request_session(config: SQLAlchemyAsyncConfig, state: State, scope: Scope) -> AsyncSession:
    """The one session of this request (created on first use, shared by guards and handlers)."""
    return config.provide_session(state, scope)


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


_HELD_WRITER_LOCK = "sqlite_writer_lock"
_writer_locks: weakref.WeakKeyDictionary[Engine, asyncio.Lock] = weakref.WeakKeyDictionary()


def _writer_lock(session: AsyncSession) -> asyncio.Lock:
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    lock = _writer_locks.get(engine)
    if lock is None:
        lock = _writer_locks[engine] = asyncio.Lock()
    return lock


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
        session = request_session(config, state, scope)
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
