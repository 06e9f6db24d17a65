"""SQLAlchemy's aiosqlite adapter with one thread hop per statement instead of three or four.

aiosqlite runs every call on the connection's own thread and hands the result back to the event loop.
SQLAlchemy's adapter makes a statement four such calls (open a cursor, execute, fetch the rows, close
the cursor), and each hop waits for the event loop to come round again, which under load it does only
after other requests' work. On SQLite, whose writers hold the write lock meanwhile, those hops were
most of a short write transaction's length (issue 23's profile). Here a statement is one function run
on the connection's thread: execute, read the description, the rows, the row count and the last row
id, close; the adapter then serves them as a buffered cursor, exactly what SQLAlchemy's own buffered
cursor serves. Server-side (streaming) cursors keep SQLAlchemy's adapter.

Once a connection holds SQLite's write lock (its ``BEGIN IMMEDIATE`` has succeeded), its statements run
on the event loop's thread, with no hop, until it commits or rolls back. They cannot wait for a lock
there (the connection has the database's; readers never block in WAL mode), and they are a writer's
short statements; a hop, by contrast, costs a loop turn and a hand-over of the GIL, measured at
0.5 ms for a 16 µs lookup under load, and inside ``core.transactions``' writer lock every other writer
of the process waits for it. The ``BEGIN IMMEDIATE`` itself, and the ``COMMIT`` (which may checkpoint
the WAL, an fsync), stay on the thread, as does every statement of a transaction that has not taken
the write lock (a deferred one may wait in SQLite's busy handler, which must not stop the loop), and a
function given to ``call``: a unit of several statements (filing's search and inserts) whose SQLite
work then runs beside the loop's other work. So the connection is opened with ``check_same_thread``
off; it is still used by one caller at a time (the adapter's execute mutex, and SQLAlchemy's own use).

It reaches into aiosqlite's ``Connection._execute`` (queue a function for the connection's thread),
as SQLAlchemy's own adapter does with the queue behind it; ``tests/platform`` runs every database
test through it.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar, cast

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

T = TypeVar("T")

# Any below: DB-API parameters, descriptions and rows are untyped at this boundary.

# The BEGINs (api/db.py's begin event) after which the connection holds SQLite's write lock.
_WRITERS_BEGIN = frozenset({"BEGIN IMMEDIATE", "BEGIN EXCLUSIVE"})


def _run(
    connection: sqlite3.Connection, operation: str, parameters: Any, many: bool
) -> tuple[Any, list[Any] | None, int, int | None]:
    """On the connection's thread: the whole statement, rows included."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose every statement is one call on the connection's thread."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    _awaitable_cursor_close = False

    def __init__(self, adapt_connection: Any) -> None:  # Any: SQLAlchemy's adapted connection
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        pass  # rows are always fetched whole

    async def _async_soft_close(self) -> None:
        return None  # nothing stays open on the thread

    def close(self) -> None:
        self._rows.clear()

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        await self._call(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        await self._call(operation, seq_of_parameters, many=True)

    async def _call(self, operation: Any, parameters: Any, *, many: bool) -> None:
        connection = cast(aiosqlite.Connection, self._connection)
        adapted = cast(OneHopConnection, self._adapt_connection)
        async with adapted._execute_mutex:
            if adapted.holds_write_lock:  # no hop (module docstring)
                found = _run(connection._conn, operation, parameters, many)
            else:
                run: Any = connection._execute  # Any: aiosqlite leaves its queueing method untyped
                found = await run(_run, connection._conn, operation, parameters, many)
                adapted.holds_write_lock = operation in _WRITERS_BEGIN
        self._description, rows, self._rowcount, self._lastrowid = found
        self._rows = collections.deque(rows) if rows else collections.deque()

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None

    def nextset(self) -> None:
        return None


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("holds_write_lock",)
    _cursor_cls = OneHopCursor

    def __init__(self, dbapi: Any, connection: Any) -> None:  # Any: SQLAlchemy's protocol
        super().__init__(dbapi, connection)
        self.holds_write_lock = False  # a writer's BEGIN succeeded; no commit or rollback since

    def commit(self) -> None:
        self.holds_write_lock = False
        super().commit()

    def rollback(self) -> None:
        self.holds_write_lock = False
        super().rollback()

    async def call(self, function: Callable[..., T], *args: Any, as_a_statement: bool = False) -> T:
        """``function(connection, *args)`` on the connection's thread, in the connection's transaction:
        several statements for the price of one hop (``core.prepared.run_on_connection``), beside the
        loop's other work even in a writer's transaction. ``as_a_statement``: where a statement runs
        instead, i.e. on the loop's thread in a writer's transaction (a quick lookup,
        ``core.prepared.first_row``). What it raises is the sqlite3 module's own error; it runs nothing
        SQLAlchemy sees (no cursor events)."""
        async with self._execute_mutex:
            if as_a_statement and self.holds_write_lock:  # no hop (module docstring)
                return function(self._connection._conn, *args)
            run: Any = cast(aiosqlite.Connection, self._connection)._execute  # Any: as in OneHopCursor
            found = await run(function, self._connection._conn, *args)
        return cast(T, found)


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """Pass as ``module=`` to ``create_async_engine`` for a ``sqlite+aiosqlite`` URL."""

    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        # Used from the loop's thread too, never by two at once (module docstring).
        connection = aiosqlite.connect(*arg, **{**kw, "check_same_thread": False})
        connection._thread.daemon = True  # as SQLAlchemy's adapter: never keeps the process alive
        return OneHopConnection(self, cast(Any, await_(connection)))  # Any: SQLAlchemy's protocol


def one_hop_dbapi() -> OneHopDBAPI:
    return OneHopDBAPI(aiosqlite, sqlite3)
