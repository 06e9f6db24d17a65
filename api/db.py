"""Database wiring: the async engine, SQLite pragmas, and one transaction per request.

The SQLAlchemy plugin (advanced-alchemy) owns the engine, the session maker and the session's life
in the request scope. The transaction boundary is our ``provide_db`` dependency rather than the
plugin's autocommit hook: that hook commits while the response is already on its way and only logs
a failed commit, whereas here a failed commit becomes an error response and nothing is reported as
done that was not.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import msgspec
from advanced_alchemy.extensions.litestar import SQLAlchemyAsyncConfig
from litestar.datastructures import State
from litestar.types import Scope
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

from api.settings import Settings
from api.sqlite_driver import one_hop_dbapi
from core.transactions import (
    SAFE_METHODS,
    SQLITE_BEGIN_OPTION,
    begin_request_transaction,
    forget_rollback_hooks,
    run_rollback_hooks,
)


def _json_text(value: Any) -> str:  # Any: a JSON column's value
    return msgspec.json.encode(value).decode()


# JSON columns (outbox documents, timeline data, suggestions read back) are encoded and decoded by msgspec
# rather than the standard library's json: the same documents, several times cheaper on every write.
JSON_CODECS: dict[str, Any] = {"json_serializer": _json_text, "json_deserializer": msgspec.json.decode}


def create_engine(settings: Settings, *, pool_size: int | None = None) -> AsyncEngine:
    """An engine for the configured URL; SQLite gets WAL, foreign keys and explicit BEGINs."""
    if not settings.is_sqlite:
        return create_async_engine(
            settings.database_url,
            **JSON_CODECS,
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
        **JSON_CODECS,
        echo=settings.database_echo,
        connect_args={"timeout": busy_ms / 1000},
        module=one_hop_dbapi(),  # one thread hop per statement (api/sqlite_driver.py)
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
