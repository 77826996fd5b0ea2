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

import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

from models.sqlite_async import AnyRow, LoopReader

READER = "reader"  # the pool's reader in its sessions' info (LoopReader or ReadConnections)


class ReadConnections:
    """PostgreSQL: up to ``size`` connections of the engine's pool kept open, in autocommit mode,
    for :func:`read_rows`. Each serves one read at a time; a read that finds them all busy (or
    the pool without a connection to spare) goes through its session. A connection that fails is
    dropped (the read then goes through the session, which reports the failure as any other);
    one the server ended is replaced in place by ``models/pg_async``. They are given back to the
    pool when the engine is disposed (``models.db.Engine.dispose``)."""

    def __init__(self, engine: AsyncEngine, size: int) -> None:
        self._engine = weakref.ref(engine)
        self.size = size
        self._idle: list[AsyncConnection] = []
        self._open = 0

    async def rows(
        self, statement: Executable, params: Mapping[str, Any]
    ) -> Sequence[AnyRow] | None:
        connection = self._idle.pop() if self._idle else await self._connect()
        if connection is None:
            return None
        try:
            rows = (await connection.execute(statement, params)).all()
        except DBAPIError:
            await self._drop(connection)
            return None
        except BaseException:  # cancelled mid-read: the connection's state is unknown
            self._open -= 1
            connection.sync_connection.invalidate()  # type: ignore[union-attr]
            raise
        self._idle.append(connection)
        return rows

    async def _connect(self) -> AsyncConnection | None:
        engine = self._engine()
        pool = engine.sync_engine.pool if engine is not None else None
        if engine is None or self._open >= self.size or pool is None:
            return None
        if pool.checkedout() >= pool.size():  # type: ignore[attr-defined]
            return None  # never wait for a connection: the session's way is as good
        self._open += 1
        try:
            connection = await engine.connect()
            return await connection.execution_options(isolation_level="AUTOCOMMIT")
        except BaseException:
            self._open -= 1
            raise

    async def _drop(self, connection: AsyncConnection) -> None:
        self._open -= 1
        try:
            await connection.close()
        except DBAPIError:
            connection.sync_connection.invalidate()  # type: ignore[union-attr]

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await self._drop(connection)


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
) -> Sequence[AnyRow]:
    reader = session.info.get(READER)
    if reader is not None and held_connection(session.sync_session) is None:
        if isinstance(reader, LoopReader):
            rows = reader.rows(statement, params)
        elif isinstance(reader, ReadConnections):
            rows = await reader.rows(statement, params)
        else:
            rows = None
        if rows is not None:
            return rows
    return (await (await session.connection()).execute(statement, params)).all()
