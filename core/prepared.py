"""Hot statements with SQLAlchemy's execution machinery left out, on both databases.

Each statement SQLAlchemy runs costs its execution machinery (compiled-cache lookup, parameter and
result set-up: about a tenth of a millisecond of the event loop's CPU) and, outside a writer's
transaction, a hop to aiosqlite's thread. A hot path can instead compile its Core statement once
(``Prepared``: its SQL, and SQLAlchemy's own bind and result processing, so the rows are exactly what
its execution would write and read) and run it on the session's connection, in its transaction:

- ``first_row``: one statement's first row; on PostgreSQL straight on asyncpg (SQLAlchemy's adapter
  still owns the transaction, and errors come back as SQLAlchemy's), on SQLite where the driver runs a
  statement (on the loop's thread in a writer's transaction, else one hop).
- ``run_on_connection`` (SQLite): several statements that depend on each other's answers (filing: read
  the facts and search the knowledge base, then insert under the next number) as one function on the
  connection's thread, the SQLite work (a full-text search) running beside the loop's other work.

``first_row`` announces its statement to SQLAlchemy's ``before_cursor_execute`` listeners (statement
counters see it); what ``run_on_connection`` runs is invisible to them, and a function run on SQLite's
thread is plain Python there, so it must not touch the session or await anything. Neither is echoed.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.compiler import SQLCompiler

T = TypeVar("T")

# Any below: bound values and row values are untyped at the DB-API boundary.


@dataclass(frozen=True, slots=True)
class Prepared:
    """A Core statement compiled once for a positional dialect: its SQL, how a parameter dictionary
    becomes its parameter list, and how its rows become what SQLAlchemy would return."""

    sql: str
    names: tuple[str, ...]
    defaults: dict[str, Any]  # Any: values the statement itself gives its parameters (a LIMIT)
    processors: tuple[Callable[[Any], Any] | None, ...]
    results: tuple[Callable[[Any], Any] | None, ...]

    @staticmethod
    def of(statement: sa.ClauseElement, dialect: Dialect) -> Prepared:
        return _prepare(statement, dialect)

    def bind(self, params: Mapping[str, Any]) -> list[Any]:
        """The parameter list for ``params`` (named as the statement's bound parameters; those with a
        value in the statement, such as a LIMIT, may be left out), converted as SQLAlchemy converts them."""
        defaults = self.defaults
        values = (params[name] if name in params else defaults[name] for name in self.names)
        return [
            value if process is None else process(value)
            for process, value in zip(self.processors, values, strict=True)
        ]

    def row(self, found: Sequence[Any]) -> tuple[Any, ...]:
        """A row as the driver returned it, converted as SQLAlchemy converts its columns."""
        return tuple(
            value if process is None else process(value)
            for process, value in zip(self.results, found, strict=True)
        )


@functools.lru_cache(maxsize=256)
def _prepare(statement: sa.ClauseElement, dialect: Dialect) -> Prepared:
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    names = compiled.positiontup
    if not compiled.positional or names is None or "POSTCOMPILE" in str(compiled):
        raise TypeError("Prepared statements need a positional dialect and no expanding parameters")
    binds = compiled.binds
    # What SQLAlchemy's construct_params gives a parameter the caller leaves out: a value bound in the
    # statement (the statement is compiled once, so it is this one's). A required one stays missing.
    defaults = {name: binds[name].effective_value for name in names if not binds[name].required}
    processors = tuple(_bind_processor(binds[name].type, dialect) for name in names)
    # The columns' types as SQLAlchemy's own result set-up reads them from the compiled statement (a
    # statement's ``exported_columns`` can be stale: an INSERT's is memoized, and ``returning()`` on a
    # copy of a used one keeps the empty collection).
    types = [entry.type for entry in compiled._result_columns]
    results = tuple(type_.dialect_impl(dialect).result_processor(dialect, None) for type_ in types)
    return Prepared(str(compiled), tuple(names), defaults, processors, results)


def _bind_processor(type_: sa.types.TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    return type_.dialect_impl(dialect).bind_processor(dialect)


async def run_on_connection(session: AsyncSession, function: Callable[..., T], *args: Any) -> T:
    """``function(connection, *args)`` with the sqlite3 connection of the session's transaction, on its
    thread, in one hop; the database's errors come back as SQLAlchemy's (``DBAPIError`` and its kinds),
    as a statement's would. Needs the SQLite engine of ``api.db`` (its driver's ``call``)."""
    return await _call(await _connection(session), function, args, as_a_statement=False)


async def _call(
    connection: Connection, function: Callable[..., T], args: tuple[Any, ...], *, as_a_statement: bool
) -> T:
    """``run_on_connection``; ``as_a_statement``: where the driver runs a statement (on the loop's
    thread in a writer's transaction, api/sqlite_driver.py), rather than always on the connection's."""
    call = getattr(connection.connection.dbapi_connection, "call", None)
    if call is None:
        raise TypeError("run_on_connection needs the SQLite driver of api.db (api/sqlite_driver.py)")
    try:
        found: T = await call(function, *args, as_a_statement=as_a_statement)
    except sqlite3.Error as error:
        raise sa.exc.DBAPIError.instance(None, None, error, sqlite3.Error) from error
    return found


async def first_row(
    session: AsyncSession, statement: sa.ClauseElement, params: Mapping[str, Any]
) -> tuple[Any, ...] | None:
    """The first row of ``statement`` (compiled once, see ``Prepared``) run with ``params`` on the
    session's connection, in its transaction, converted as SQLAlchemy converts its columns; None when
    it answers no row. Errors are SQLAlchemy's (``DBAPIError`` and its kinds), as an execution's."""
    sync = await _connection(session)
    dialect = sync.dialect
    prepared = Prepared.of(statement, dialect)
    arguments = prepared.bind(params)
    # Announced to SQLAlchemy's statement listeners, as its execution would (what they answer is not
    # used: a listener cannot rewrite a prepared statement); nothing to do when none listens.
    for listener in sync.dispatch.before_cursor_execute:
        listener(sync, None, prepared.sql, arguments, None, False)
    if dialect.name != "postgresql":
        found = await _call(sync, _first_on_sqlite, (prepared.sql, arguments), as_a_statement=True)
        return None if found is None else prepared.row(found)
    # The checked-out connection of the session's transaction (no I/O: it is open) is SQLAlchemy's
    # asyncpg adapter (Any: its attributes are not typed). What follows is what the adapter's cursor
    # does for a statement, minus SQLAlchemy's execution around it: take the adapter's statement lock,
    # begin the database transaction if this is its first statement, run the statement on asyncpg
    # (which prepares it once per connection). The adapter's private names are pinned by uv.lock and
    # covered by every PostgreSQL test that files a ticket or authenticates.
    adapted: Any = sync.connection.dbapi_connection
    async with adapted._execute_mutex:
        if adapted._transaction is None:
            await adapted._start_transaction()
        try:
            record = await adapted._connection.fetchrow(prepared.sql, *arguments)
        except Exception as error:
            _raise_translated(adapted, dialect, prepared.sql, arguments, error)
    return None if record is None else prepared.row(record)


async def _connection(session: AsyncSession) -> Connection:
    """The connection of the session's transaction, checked out (and the transaction begun) if it
    holds none yet."""
    held = _held_connection(session)
    if held is None:
        held = (await session.connection()).sync_connection
        assert held is not None  # just opened
    return held


def _held_connection(session: AsyncSession) -> Connection | None:
    """The open connection the session's transaction already holds; None when it holds none (or more
    than one). Read from the transaction itself: ``AsyncSession.connection()`` answers the same, but
    through SQLAlchemy's greenlet bridge, about 50 µs of the loop's CPU a call on a hot path."""
    transaction = session.sync_session.get_transaction()
    if transaction is None:
        return None
    # Keyed by engine and by connection, both naming the same entry (connection, transaction, ...).
    held = {id(entry[0]): entry[0] for entry in transaction._connections.values()}
    if len(held) != 1:
        return None
    connection: Connection = next(iter(held.values()))
    return None if connection.closed or connection.invalidated else connection


def _first_on_sqlite(connection: sqlite3.Connection, sql: str, arguments: list[Any]) -> Any:
    """On the connection's thread: the statement's first row, as the sqlite3 module returns it."""
    return connection.execute(sql, arguments).fetchone()


def _raise_translated(
    adapted: Any, dialect: Dialect, sql: str, arguments: list[Any], error: Exception
) -> NoReturn:
    """Raise ``error`` of asyncpg as SQLAlchemy would: the adapter's DB-API error wrapped in
    ``DBAPIError.instance`` (so an ``IntegrityError`` is one, and the SQLSTATE is on ``orig``)."""
    try:
        adapted._handle_exception(error)  # the adapter's own translation (always raises)
    except Exception as translated:
        raise sa.exc.DBAPIError.instance(sql, arguments, translated, dialect.loaded_dbapi.Error) from error
    raise AssertionError("the adapter translates every error by raising")  # pragma: no cover
