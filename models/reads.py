"""Reads that every resident's update runs, and the connection a session holds.

:func:`read_rows` runs a Core statement for an update: through the connection its session already
holds (a transaction of the update is open: it must see its own writes), else — on a SQLite
file — on the process's own read-only connection in the event loop's thread
(``models.sqlite_async.LoopReader``), else through the session, which takes a connection from
the pool (given back before the bot talks to Telegram, ``bot/middlewares.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from models.sqlite_async import AnyRow, LoopReader

LOOP_READER = "loop_reader"  # the pool's LoopReader, in its sessions' info (SQLite files)


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
    reader = session.info.get(LOOP_READER)
    if isinstance(reader, LoopReader) and held_connection(session.sync_session) is None:
        rows = reader.rows(statement, params)
        if rows is not None:
            return rows
    return (await (await session.connection()).execute(statement, params)).all()
