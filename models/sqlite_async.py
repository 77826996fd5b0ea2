"""SQLite over aiosqlite with one thread hand-off per statement.

aiosqlite runs each call on its ``sqlite3`` connection in the connection's own thread, and
SQLAlchemy's adapter makes four such calls per statement (open a cursor, execute, fetch the
rows, close the cursor) and one more per ``COMMIT``, even when nothing was written. A hand-off
costs from tens of microseconds to half a millisecond on a busy virtual machine, which made
them the largest single cost of an update (``python -m bench``).

This adapter keeps SQLAlchemy's aiosqlite dialect, its thread and its error handling, and
changes two things:

- a statement is one call in aiosqlite's thread: a ``sqlite3`` cursor executes it, the rows
  are fetched and the cursor closed there, and what SQLAlchemy reads afterwards (description,
  row count, last row id) comes back with the rows;
- ``COMMIT``/``ROLLBACK`` skip the hand-off when the connection has no open transaction
  (``sqlite3`` begins one only before a write, so a read-only update has nothing to end). The
  flag is read in the thread, after every statement, from ``sqlite3.Connection.in_transaction``.

:func:`models.db.create_engine` passes it as the engine's DBAPI module (``module=``); the URL
stays ``sqlite+aiosqlite://…``.

**Short reads in the event loop's thread.** On a virtual machine the hand-off itself (waking
aiosqlite's thread, then the event loop through its self-pipe) costs more than the statements a
bot sends most: ~250 µs of CPU against ~30 µs for reading a card by its key (``python -m
bench``). So a ``SELECT`` runs first in the calling thread, under a progress handler that
interrupts it after :data:`IN_LOOP_SECONDS`; an interrupted one runs again in aiosqlite's thread,
as every statement did before. Interrupting a ``SELECT`` ends that statement only (SQLite rolls a
transaction back only for an interrupted write), so running it again is safe. Writes, and
anything that may wait for a lock, always go to the thread: in WAL mode a reader does not wait
for writers (only, briefly, in the cases SQLite's WAL documentation lists: another process
recovering a crashed database, or closing the database's last connection). The loop is thus
blocked at most ``IN_LOOP_SECONDS`` per statement. A statement is never run in the loop while
one of this connection's calls is still in the thread (a cancelled caller leaves it running
there); ``sqlite3`` is serialized (``threadsafety`` 3) in any case.
"""

from __future__ import annotations

import collections
import sqlite3
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import aiosqlite
from sqlalchemy import Executable, Row, StaticPool, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.engine import URL
from sqlalchemy.engine import Connection as SyncConnection
from sqlalchemy.exc import OperationalError
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

Outcome = tuple[Any, list[Any], int, int | None, bool]
AnyRow = Row[*tuple[Any, ...]]  # a row of any columns


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> Outcome:
    """In aiosqlite's thread: the whole statement, from cursor to rows."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid, connection.in_transaction
    finally:
        cursor.close()


# How long a read may run in the event loop's thread before it is interrupted and handed to
# aiosqlite's thread instead; and how many SQLite VM steps between two looks at the clock.
IN_LOOP_SECONDS = 0.002
_PROGRESS_STEPS = 2000


def _is_read(operation: Any) -> bool:
    return isinstance(operation, str) and operation.lstrip()[:6].upper() == "SELECT"


class _Interrupted(Exception):
    """The read ran out of its time in the loop (it goes to the thread)."""


class Deadline:
    """While entered, SQLite interrupts the connection's statement once ``seconds`` have passed
    (``expired`` then tells that the error was this interruption)."""

    __slots__ = ("connection", "deadline", "expired")

    def __init__(self, connection: sqlite3.Connection, seconds: float) -> None:
        self.connection = connection
        self.deadline = time.perf_counter() + seconds
        self.expired = False

    def _past(self) -> bool:
        self.expired = time.perf_counter() > self.deadline
        return self.expired

    def __enter__(self) -> Deadline:
        self.connection.set_progress_handler(self._past, _PROGRESS_STEPS)
        return self

    def __exit__(self, *exc: object) -> None:
        self.connection.set_progress_handler(None, 0)


def _run_in_loop(connection: sqlite3.Connection, operation: str, parameters: Any) -> Outcome:
    with Deadline(connection, IN_LOOP_SECONDS) as deadline:
        try:
            return _run(connection, operation, parameters, False)
        except sqlite3.OperationalError:
            if deadline.expired:
                raise _Interrupted from None
            raise


def _marking_idle(adapt: OneHopConnection, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` for aiosqlite's thread, which marks the connection idle when it is done (even if
    the caller stopped waiting: a cancelled task leaves the call running)."""

    def run(*args: Any) -> Any:
        try:
            return fn(*args)
        finally:
            adapt.thread_busy = False

    return run


class _Finished:
    """What SQLAlchemy reads from a cursor after a statement, filled in from its outcome."""

    __slots__ = ("arraysize", "description", "lastrowid", "rowcount")

    def __init__(self) -> None:
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    def __init__(self, adapt_connection: AsyncAdapt_dbapi_connection) -> None:
        # No aiosqlite cursor (that would be a hand-off of its own): the statement makes one.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = _Finished()  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()

    async def _async_soft_close(self) -> None:
        return None  # nothing is left open in the thread

    def close(self) -> None:
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            return await_(self._in_thread(operation, parameters, many=False))
        except (sqlite3.Error, ValueError) as error:  # as SQLAlchemy's adapter translates them
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        try:
            return await_(self._in_thread(operation, seq_of_parameters, many=True))
        except (sqlite3.Error, ValueError) as error:  # as SQLAlchemy's adapter translates them
            self._adapt_connection._handle_exception(error)

    async def _in_thread(self, operation: Any, parameters: Any, *, many: bool) -> None:
        adapt = self._adapt_connection
        assert isinstance(adapt, OneHopConnection)
        outcome: Outcome | None = None
        if (
            not many
            and not adapt.thread_busy
            and not adapt._execute_mutex.locked()
            and _is_read(operation)
        ):
            try:
                outcome = _run_in_loop(self._connection._conn, operation, parameters)
            except _Interrupted:
                outcome = None  # a long read: the thread runs it
        if outcome is None:
            async with adapt._execute_mutex:
                adapt.thread_busy = True
                try:
                    outcome = await self._connection._execute(
                        _marking_idle(adapt, _run),
                        self._connection._conn,
                        operation,
                        parameters,
                        many,
                    )
                except BaseException:
                    adapt.in_transaction = True  # unknown now: the next COMMIT/ROLLBACK goes
                    raise
        description, rows, rowcount, lastrowid, adapt.in_transaction = outcome
        finished = self._cursor
        assert isinstance(finished, _Finished)
        finished.description = description
        finished.rowcount = rowcount
        finished.lastrowid = lastrowid
        self._rows.clear()
        self._rows.extend(rows)


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("in_transaction", "thread_busy")

    _cursor_cls = OneHopCursor

    def __init__(self, dbapi: Any, connection: Any) -> None:  # an aiosqlite.Connection
        super().__init__(dbapi, connection)
        self.in_transaction = True  # not known until the first statement
        # A call of ours is queued or running in aiosqlite's thread (no read in the loop then).
        self.thread_busy = False

    def commit(self) -> None:
        if self.in_transaction:
            self._in_thread_call(super().commit)
            self.in_transaction = False

    def rollback(self) -> None:
        if self.in_transaction:
            self._in_thread_call(super().rollback)
            self.in_transaction = False

    def _in_thread_call(self, call: Callable[[], None]) -> None:
        # If the caller is cancelled, the call may still be queued and the flag stays set: the
        # next statement of ours through the thread (queued after it) marks the connection idle.
        self.thread_busy = True
        call()
        self.thread_busy = False


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        connection = super().connect(*arg, **kw)
        return OneHopConnection(self, connection._connection)


def dbapi() -> OneHopDBAPI:
    return OneHopDBAPI(aiosqlite, sqlite3)


class LoopReader:
    """Reads of a SQLite database file in the event loop's thread, through SQLAlchemy Core on a
    read-only ``sqlite3`` connection of the process's own (no pool, no session, no greenlet).

    For the few statements every resident's update runs (``models.reads.read_rows``): taking a
    connection from the pool through the session and giving it back cost more than the read
    (``python -m bench``). The connection is in autocommit mode, so each statement sees what is
    committed when it starts, as a read through a session that has not written does. It
    waits for no lock (``timeout=0``; in WAL mode a reader has none to wait for) and runs at
    most :data:`IN_LOOP_SECONDS`: a read that is interrupted, or fails with any operational
    error, returns ``None`` and the caller reads through its session instead.
    """

    def __init__(self, url: URL) -> None:
        self.engine = create_sync_engine(
            url.set(drivername="sqlite"),
            poolclass=StaticPool,
            connect_args={"check_same_thread": False, "timeout": 0},
        )
        event.listen(self.engine, "connect", _read_only)
        self._connection: SyncConnection | None = None

    def _connect(self) -> SyncConnection:
        connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self._connection = connection
        return connection

    def rows(self, statement: Executable, params: Mapping[str, Any]) -> Sequence[AnyRow] | None:
        connection = self._connection or self._connect()
        raw = connection.connection.dbapi_connection
        assert isinstance(raw, sqlite3.Connection)
        with Deadline(raw, IN_LOOP_SECONDS):
            try:
                return connection.execute(statement, params).all()
            except OperationalError:
                connection.rollback()
                return None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self.engine.dispose()


def _read_only(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA query_only = ON")
