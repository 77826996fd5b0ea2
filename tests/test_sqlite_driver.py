"""The SQLite adapter of ``models/sqlite_async.py``: short reads in the event loop's thread, one
hand-off to aiosqlite's thread per other statement, no ``COMMIT``/``ROLLBACK`` hand-off when
nothing was written, and otherwise exactly
the transactions of SQLAlchemy's own adapter (writes kept by a commit, dropped by a rollback,
savepoints, errors translated)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from models import sqlite_async
from models.db import create_engine, create_session_pool
from models.reads import READER, held_connection, read_rows
from models.sqlite_async import LoopReader, OneHopConnection


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncEngine:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.sqlite3'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
    return engine


async def _adapter(connection: object) -> OneHopConnection:
    raw = await connection.get_raw_connection()  # type: ignore[attr-defined]
    adapted = raw.dbapi_connection
    assert isinstance(adapted, OneHopConnection)
    return adapted


async def test_reads_leave_no_transaction_and_writes_are_committed(
    sqlite_engine: AsyncEngine,
) -> None:
    async with sqlite_engine.connect() as connection:
        adapter = await _adapter(connection)
        assert (await connection.execute(text("SELECT count(*) FROM t"))).scalar() == 0
        assert adapter.in_transaction is False  # the COMMIT below costs no hand-off
        await connection.commit()
        await connection.execute(text("INSERT INTO t (v) VALUES ('kept')"))
        assert adapter.in_transaction is True
        await connection.commit()
        assert adapter.in_transaction is False
        await connection.execute(text("INSERT INTO t (v) VALUES ('dropped')"))
        await connection.rollback()
    async with sqlite_engine.connect() as connection:
        rows = (await connection.execute(text("SELECT v FROM t ORDER BY id"))).scalars().all()
    assert rows == ["kept"]
    await sqlite_engine.dispose()


async def test_rows_descriptions_counts_and_savepoints(sqlite_engine: AsyncEngine) -> None:
    async with sqlite_engine.begin() as connection:
        inserted = await connection.execute(text("INSERT INTO t (v) VALUES ('a'), ('b'), ('c')"))
        assert inserted.rowcount == 3
        result = await connection.execute(text("SELECT id, v FROM t ORDER BY id"))
        assert list(result.keys()) == ["id", "v"]
        assert [tuple(row) for row in result] == [(1, "a"), (2, "b"), (3, "c")]
        updated = await connection.execute(text("UPDATE t SET v = v || '!' WHERE id > 1"))
        assert updated.rowcount == 2
        returned = await connection.execute(text("INSERT INTO t (v) VALUES ('d') RETURNING id"))
        assert returned.scalar() == 4
        savepoint = await connection.begin_nested()
        await connection.execute(text("INSERT INTO t (v) VALUES ('inner')"))
        await savepoint.rollback()
    async with sqlite_engine.connect() as connection:
        values = (await connection.execute(text("SELECT v FROM t ORDER BY id"))).scalars().all()
    assert values == ["a", "b!", "c!", "d"]
    await sqlite_engine.dispose()


async def test_errors_are_translated_and_the_connection_goes_on(sqlite_engine: AsyncEngine) -> None:
    async with sqlite_engine.connect() as connection:
        await connection.execute(text("INSERT INTO t (v) VALUES ('x')"))
        with pytest.raises(IntegrityError):
            await connection.execute(text("INSERT INTO t (v) VALUES ('x')"))
        await connection.rollback()
        with pytest.raises(OperationalError):
            await connection.execute(text("SELECT nothing FROM nowhere"))
        await connection.rollback()
        assert (await connection.execute(text("SELECT count(*) FROM t"))).scalar() == 0
    await sqlite_engine.dispose()


async def _thread_function(connection: object) -> None:
    """``tid()`` in SQL: the thread that runs the statement."""
    adapter = await _adapter(connection)
    sqlite_connection = adapter._connection._conn  # the sqlite3.Connection
    sqlite_connection.create_function("tid", 0, threading.get_ident)


async def test_short_reads_run_in_the_loop_thread_and_writes_in_aiosqlites(
    sqlite_engine: AsyncEngine,
) -> None:
    loop_thread = threading.get_ident()
    async with sqlite_engine.connect() as connection:
        await _thread_function(connection)
        assert (await connection.execute(text("SELECT tid()"))).scalar() == loop_thread
        await connection.execute(text("INSERT INTO t (v) SELECT tid()"))
        written = (await connection.execute(text("SELECT v FROM t"))).scalar()
        assert written is not None and int(written) != loop_thread  # aiosqlite's thread
        adapter = await _adapter(connection)
        assert adapter.in_transaction is True and adapter.thread_busy is False
        await connection.rollback()
        assert (await connection.execute(text("SELECT count(*) FROM t"))).scalar() == 0
    await sqlite_engine.dispose()


async def test_a_long_read_is_interrupted_in_the_loop_and_run_in_the_thread(
    sqlite_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_async, "IN_LOOP_SECONDS", 0.0005)
    count = (
        "SELECT tid(), (SELECT count(*) FROM (WITH RECURSIVE c(x) AS "
        "(SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) SELECT x FROM c))"
    )
    loop_thread = threading.get_ident()
    async with sqlite_engine.connect() as connection:
        await _thread_function(connection)
        await connection.execute(text("INSERT INTO t (v) VALUES ('inside')"))
        thread, counted = (await connection.execute(text(count))).one()
        assert counted == 300000 and thread != loop_thread
        # The interrupted read ended that statement only: the transaction goes on.
        assert (await connection.execute(text("SELECT tid()"))).scalar() == loop_thread
        await connection.commit()
    async with sqlite_engine.connect() as connection:
        assert (await connection.execute(text("SELECT v FROM t"))).scalars().all() == ["inside"]
    await sqlite_engine.dispose()


async def test_no_read_in_the_loop_while_a_call_is_still_in_the_thread(
    sqlite_engine: AsyncEngine,
) -> None:
    """A caller cancelled while its statement runs in the thread leaves the connection marked
    busy until the thread is done; reads meanwhile queue behind it in the thread."""
    loop_thread = threading.get_ident()
    async with sqlite_engine.connect() as connection:
        await _thread_function(connection)
        adapter = await _adapter(connection)
        adapter.thread_busy = True  # as a cancelled caller leaves it
        thread = (await connection.execute(text("SELECT tid()"))).scalar()
        assert thread != loop_thread and adapter.thread_busy is False
        assert (await connection.execute(text("SELECT tid()"))).scalar() == loop_thread
    await sqlite_engine.dispose()


async def test_reads_for_an_update_use_the_loop_reader_and_see_what_is_committed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'reader.sqlite3'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        await connection.execute(text("INSERT INTO t (v) VALUES ('first')"))
    pool = create_session_pool(engine)
    values = text("SELECT v FROM t ORDER BY id")
    reader = pool.kw["info"][READER]
    assert isinstance(reader, LoopReader)
    async with pool() as session:
        assert [r[0] for r in await read_rows(session, values, {})] == ["first"]
        assert held_connection(session.sync_session) is None  # no connection taken
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        # Another session commits: the next read sees it (no snapshot kept by the reader).
        async with pool() as writer:
            await writer.execute(text("INSERT INTO t (v) VALUES ('second')"))
            await writer.commit()
        assert [r[0] for r in await read_rows(session, values, {})] == ["first", "second"]
        # Once this session has written, its reads go through its own transaction.
        await session.execute(text("INSERT INTO t (v) VALUES ('mine, not committed')"))
        mine = [r[0] for r in await read_rows(session, values, {})]
        assert mine == ["first", "second", "mine, not committed"]
        assert reader.rows(values, {}) is not None and len(reader.rows(values, {}) or []) == 2
        await session.rollback()
    # The reader writes nothing, and a read past its time goes through the session instead.
    assert reader.rows(text("INSERT INTO t (v) VALUES ('x')"), {}) is None
    monkeypatch.setattr(sqlite_async, "IN_LOOP_SECONDS", 0.0)
    slow = text(
        "SELECT count(*) AS n FROM (WITH RECURSIVE c(x) AS "
        "(SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000) SELECT x FROM c)"
    )
    assert reader.rows(slow, {}) is None
    async with pool() as session:
        assert (await read_rows(session, slow, {}))[0][0] == 200000
        assert [r[0] for r in await read_rows(session, values, {})] == ["first", "second"]
    reader.close()
    await engine.dispose()
