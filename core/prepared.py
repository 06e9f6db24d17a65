"""Several SQLite statements in one call on the connection's thread.

Each statement SQLAlchemy runs costs its execution machinery (compiled-cache lookup, parameter and
result set-up: about a tenth of a millisecond of the event loop's CPU) and, outside a writer's
transaction, a hop to aiosqlite's thread. A hot write path whose statements depend on each other's
answers (filing: read the facts and search the knowledge base, then insert under the next number) can
instead run them all as one function on that thread (``run_on_connection``), in the session's
transaction, with statements compiled once (``Prepared``): SQLAlchemy's own bind and result processing
applied, so the rows are exactly what its execution would write and read, and the SQLite work (a
full-text search) runs beside the loop's other work.

What runs there is invisible to SQLAlchemy's cursor events (echo, statement counters); the function is
plain Python on another thread, so it must not touch the session or await anything.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
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
    compiled: SQLCompiler
    processors: tuple[Callable[[Any], Any] | None, ...]
    results: tuple[Callable[[Any], Any] | None, ...]

    @staticmethod
    def of(statement: sa.ClauseElement, dialect: Dialect) -> Prepared:
        return _prepare(statement, dialect)

    def bind(self, params: Mapping[str, Any]) -> list[Any]:
        """The parameter list for ``params`` (named as the statement's bound parameters; those with a
        value in the statement, such as a LIMIT, may be left out), converted as SQLAlchemy converts them."""
        values = self.compiled.construct_params(dict(params))
        assert values is not None  # None only for a statement with no parameters at all
        return [
            value if process is None else process(value)
            for process, value in zip(self.processors, (values[name] for name in self.names), strict=True)
        ]

    def row(self, found: Sequence[Any]) -> tuple[Any, ...]:
        """A row as the sqlite3 module returned it, converted as SQLAlchemy converts its columns."""
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
    processors = tuple(_bind_processor(binds[name].type, dialect) for name in names)
    columns = getattr(statement, "exported_columns", ())
    results = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns)
    return Prepared(str(compiled), tuple(names), compiled, processors, results)


def _bind_processor(type_: sa.types.TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    return type_.dialect_impl(dialect).bind_processor(dialect)


async def run_on_connection(session: AsyncSession, function: Callable[..., T], *args: Any) -> T:
    """``function(connection, *args)`` with the sqlite3 connection of the session's transaction, on its
    thread, in one hop; the database's errors come back as SQLAlchemy's (``DBAPIError`` and its kinds),
    as a statement's would. Needs the SQLite engine of ``api.db`` (its driver's ``call``)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    call = getattr(raw.dbapi_connection, "call", None)
    if call is None:
        raise TypeError("run_on_connection needs the SQLite driver of api.db (api/sqlite_driver.py)")
    try:
        found: T = await call(function, *args)
    except sqlite3.Error as error:
        raise sa.exc.DBAPIError.instance(None, None, error, sqlite3.Error) from error
    return found
