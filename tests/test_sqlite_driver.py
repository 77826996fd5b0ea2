"""The SQLite adapter of ``models/sqlite_async.py``: one hand-off to aiosqlite's thread per
statement, no ``COMMIT``/``ROLLBACK`` hand-off when nothing was written, and otherwise exactly
the transactions of SQLAlchemy's own adapter (writes kept by a commit, dropped by a rollback,
savepoints, errors translated)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from models.db import create_engine
from models.sqlite_async import OneHopConnection


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
