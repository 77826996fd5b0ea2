"""Reads that every resident's update runs, and the connection a session holds.

:func:`read_rows` runs a Core statement for an update: through the connection its session already
holds (a transaction of the update is open: it must see its own writes); else on SQLite on the
process's own read-only connection in the event loop's thread
(``models.sqlite_async.LoopReader``), on PostgreSQL on one of a few pool connections kept open
for such reads (:class:`ReadConnections`); else through the session, which takes a connection
from the pool (given back before the bot talks to Telegram, ``bot/middlewares.py``). Taking a
connection through the session and giving it back cost more than these reads (``python -m
bench``).
"""

from __future__ import annotations

import asyncio
import collections
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import asyncpg
from sqlalchemy import Executable, Select
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.engine import Engine as SyncEngine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

from models.sqlite_async import LoopReader

# What asyncpg raises for a connection that broke or a statement that failed.
_DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError)

READER = "reader"  # the pool's reader in its sessions' info (LoopReader or ReadConnections)


class _Prepared:
    """A statement compiled once for asyncpg: its SQL, how to order and convert its parameters
    and how to convert its columns (each type's own processors, as SQLAlchemy applies them)."""

    __slots__ = ("binds", "compiled", "names", "results", "sql")

    def __init__(self, statement: Select[Any], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.compiled = compiled
        self.sql = compiled.string
        self.names = tuple(compiled.positiontup or ())
        self.binds = tuple(
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in self.names
        )
        self.results = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in statement.selected_columns
        )

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        values = self.compiled.construct_params(dict(params))
        return [
            value if process is None else process(value)
            for value, process in zip((values[n] for n in self.names), self.binds, strict=True)
        ]

    def row(self, record: Any) -> tuple[Any, ...]:
        return tuple(
            value if process is None or value is None else process(value)
            for value, process in zip(record, self.results, strict=True)
        )


class ReadConnections:
    """PostgreSQL: up to ``size`` connections of the engine's pool kept open for
    :func:`read_rows`. Each serves one read at a time; a read that finds them all busy waits for
    the first one free (a read takes a fraction of a millisecond, and going through a session
    costs more CPU than the wait: ``python -m bench`` with 16 updates in flight); when none is
    open and the pool has none to spare, it goes through its session. The statement, compiled
    once by SQLAlchemy, is run by asyncpg itself (SQLAlchemy's async layer around it, the greenlet
    and the adapted cursor, cost more than the read: ``python -m bench``), its values converted
    by their types' own processors; a statement with an expanding ``IN`` goes through
    SQLAlchemy on the same connection. A connection that fails (the server ended it, say) is
    dropped and the read goes through the session, which reconnects or reports the failure as
    any other. They are given back to the pool when the engine is disposed
    (``models.db.Engine.dispose``)."""

    def __init__(self, engine: AsyncEngine, size: int) -> None:
        self._engine = weakref.ref(engine)
        self.size = size
        self._idle: list[tuple[AsyncConnection, Any]] = []  # with its asyncpg connection
        self._waiters: collections.deque[asyncio.Future[tuple[AsyncConnection, Any] | None]] = (
            collections.deque()
        )
        self._open = 0
        self._prepared: dict[Executable, _Prepared | None] = {}
        # Called with the SQL of each statement asyncpg runs here (SQLAlchemy's events do not
        # see those): the tests count an update's statements with it.
        self.listeners: list[Callable[[str], None]] = []

    async def rows(
        self, statement: Executable, params: Mapping[str, Any]
    ) -> Sequence[Sequence[Any]] | None:
        taken = self._idle.pop() if self._idle else await self._connect()
        if taken is None and self._open > 0:
            taken = await self._wait()
        if taken is None:
            return None
        connection, driver = taken
        try:
            prepared = self._prepare(statement, connection.dialect)
            rows: Sequence[Sequence[Any]]
            if prepared is None:
                rows = (await connection.execute(statement, params)).all()
            else:
                for listener in self.listeners:
                    listener(prepared.sql)
                records = await driver.fetch(prepared.sql, *prepared.arguments(params))
                rows = [prepared.row(record) for record in records]
        except (DBAPIError, OSError, *_DRIVER_ERRORS):
            await self._drop(connection)
            return None
        except BaseException:  # cancelled mid-read: the connection's state is unknown
            self._closed_one()
            connection.sync_connection.invalidate()  # type: ignore[union-attr]
            raise
        self._give_back(taken)
        return rows

    async def _wait(self) -> tuple[AsyncConnection, Any] | None:
        """The next connection given back (None: the last one was dropped meanwhile)."""
        waiter: asyncio.Future[tuple[AsyncConnection, Any] | None]
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and (handed := waiter.result()):
                self._give_back(handed)  # handed over just as the reader was cancelled
            raise

    def _give_back(self, taken: tuple[AsyncConnection, Any]) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(taken)
                return
        self._idle.append(taken)

    def _closed_one(self) -> None:
        self._open -= 1
        if self._open == 0:  # nothing to wait for: the waiting reads go through their sessions
            while self._waiters:
                waiter = self._waiters.popleft()
                if not waiter.done():
                    waiter.set_result(None)

    def _prepare(self, statement: Executable, dialect: Dialect) -> _Prepared | None:
        if statement in self._prepared:
            return self._prepared[statement]
        prepared = None
        if isinstance(statement, Select):
            prepared = _Prepared(statement, dialect)
            if any(bind.expanding for bind in prepared.compiled.binds.values()):
                prepared = None
        if len(self._prepared) >= 64:  # the hot statements are built once; others pass by
            self._prepared.clear()
        self._prepared[statement] = prepared
        return prepared

    async def _connect(self) -> tuple[AsyncConnection, Any] | None:
        engine = self._engine()
        if engine is None or self._open >= self.size:
            return None
        pool = engine.sync_engine.pool
        if pool.checkedout() >= pool.size():  # type: ignore[attr-defined]
            return None  # never wait for a connection: the session's way is as good
        self._open += 1
        try:
            connection = await engine.connect()
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            driver = (await connection.get_raw_connection()).driver_connection
            return connection, driver
        except BaseException:
            self._open -= 1
            raise

    async def _drop(self, connection: AsyncConnection) -> None:
        self._closed_one()
        try:
            await connection.close()
        except (DBAPIError, OSError, *_DRIVER_ERRORS):
            connection.sync_connection.invalidate()  # type: ignore[union-attr]

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection, _driver in idle:
            await self._drop(connection)


# Each engine's reader, made with the engine (models.db.create_engine) and closed with it.
_READERS: weakref.WeakKeyDictionary[SyncEngine, LoopReader | ReadConnections] = (
    weakref.WeakKeyDictionary()
)


def keep_reader(engine: AsyncEngine, reader: LoopReader | ReadConnections) -> None:
    _READERS[engine.sync_engine] = reader


def engine_reader(engine: AsyncEngine) -> LoopReader | ReadConnections | None:
    """The reader of this engine's hot reads, if it has one."""
    return _READERS.get(engine.sync_engine)


def read_connections(engine: AsyncEngine) -> ReadConnections | None:
    """The connections this PostgreSQL engine keeps for reads, if any."""
    reader = engine_reader(engine)
    return reader if isinstance(reader, ReadConnections) else None


async def close_reader(engine: AsyncEngine) -> None:
    reader = engine_reader(engine)
    if isinstance(reader, LoopReader):
        reader.close()
    elif reader is not None:
        await reader.close()


def held_connection(session: Session) -> Connection | None:
    """The connection the session's transaction holds, if any (without taking one)."""
    transaction = session.get_transaction()
    if transaction is None:
        return None
    # SessionTransaction._connections: bind -> (Connection, Transaction, ...); no public view.
    for entry in transaction._connections.values():
        return entry[0]
    return None


async def read_rows(
    session: AsyncSession, statement: Executable, params: Mapping[str, Any]
) -> Sequence[Sequence[Any]]:
    """The rows (each a sequence of the statement's columns, by position)."""
    reader = session.info.get(READER)
    if reader is not None and held_connection(session.sync_session) is None:
        rows: Sequence[Sequence[Any]] | None
        if isinstance(reader, LoopReader):
            rows = reader.rows(statement, params)
        elif isinstance(reader, ReadConnections):
            rows = await reader.rows(statement, params)
        else:
            rows = None
        if rows is not None:
            return rows
    return (await (await session.connection()).execute(statement, params)).all()
