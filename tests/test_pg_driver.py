"""The PostgreSQL driver (models/pg_async.py): a transaction begins at the first statement that
is more than a plain read, and from then on everything is inside it, as SQLAlchemy does it. And
the connections kept open for the reads every update runs (models/reads.ReadConnections).

Checked on the server itself: whether the backend has a transaction open (``pg_stat_activity``
seen from a second connection, ``now()`` frozen within a transaction) and which locks it holds.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, literal, select, text, update
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from models import commitments
from models.db import create_engine, create_session_pool
from models.entities import District, Measure
from models.measures import record_change
from models.pg_async import plain_read
from models.questions import _DUPLICATE
from models.reads import READER, ReadConnections, held_connection, read_connections, read_rows
from models.reference import ensure_reference_data
from models.search import _PAGE_ROWS, _PAGE_ROWS_ANY
from tests.test_resident_browse import make_meeting


@pytest.fixture
async def pg(postgres_database: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(postgres_database)
    async with create_session_pool(engine)() as session:
        await ensure_reference_data(session)  # the districts to read and lock
        await session.commit()
    yield engine
    await engine.dispose()


async def _driver(connection: AsyncConnection) -> Any:
    raw = await connection.get_raw_connection()
    return raw.driver_connection


async def _in_transaction(connection: AsyncConnection) -> bool:
    return bool((await _driver(connection)).is_in_transaction())


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT districts.id FROM districts WHERE districts.id = $1", True),
        ("  (SELECT 1) UNION (SELECT 2)", True),
        ("select count(*) from questions", True),
        ("SELECT districts.id FROM districts WHERE districts.id = $1 FOR UPDATE", False),
        ("SELECT id FROM notifications FOR UPDATE SKIP LOCKED", False),
        ("SELECT id FROM notifications FOR NO KEY UPDATE", False),
        ("SELECT id FROM notifications FOR SHARE", False),
        ("SELECT id FROM notifications FOR KEY SHARE", False),
        ("SELECT pg_advisory_xact_lock(1)", False),
        ("SELECT set_config('x.y', '1', true)", False),
        ("SELECT * INTO copy FROM districts", False),
        ("INSERT INTO districts (code) VALUES ($1)", False),
        ("UPDATE users SET locale = $1", False),
        ("WITH x AS (DELETE FROM follows RETURNING id) SELECT count(*) FROM x", False),
        ("SAVEPOINT sa_savepoint_1", False),
    ],
)
def test_what_counts_as_a_plain_read(sql: str, expected: bool) -> None:
    assert plain_read(sql) is expected


async def test_reads_run_without_a_transaction_and_a_write_opens_one(pg: AsyncEngine) -> None:
    async with pg.connect() as connection:
        assert (await connection.execute(select(District.id).limit(1))).all()
        assert not await _in_transaction(connection)  # no BEGIN, and no COMMIT to come
        await connection.execute(update(District).where(District.id == -1).values(order=1))
        assert await _in_transaction(connection)
        first = (await connection.execute(text("SELECT now()"))).scalar_one()
        second = (await connection.execute(text("SELECT now()"))).scalar_one()
        assert first == second  # the reads after the write are inside the same transaction
        await connection.commit()
        assert not await _in_transaction(connection)


async def test_a_rollback_undoes_every_write_after_earlier_reads(pg: AsyncEngine) -> None:
    async with pg.connect() as connection:
        before = (await connection.execute(select(District.order).limit(1))).scalar_one()
        await connection.execute(update(District).values(order=District.order + 1000))
        await connection.execute(update(District).values(order=District.order + 1000))
        assert (await connection.execute(select(District.order).limit(1))).scalar_one() == (
            before + 2000
        )  # a read sees its own transaction's writes
        await connection.rollback()
        after = (await connection.execute(select(District.order).limit(1))).scalar_one()
    assert after == before


async def test_select_for_update_opens_the_transaction_and_holds_the_lock(
    pg: AsyncEngine,
) -> None:
    async with pg.connect() as holder, pg.connect() as other:
        district_id = (await holder.execute(select(District.id).limit(1))).scalar_one()
        row = select(District.id).where(District.id == district_id)
        await holder.execute(row.with_for_update())
        assert await _in_transaction(holder)
        with pytest.raises(Exception, match="could not obtain lock"):
            await other.execute(row.with_for_update(nowait=True))
        await other.rollback()
        await holder.commit()
        locked = await other.execute(row.with_for_update(nowait=True))
        assert locked.scalar_one() == district_id
        await other.rollback()


async def test_a_savepoint_first_begins_the_transaction(pg: AsyncEngine) -> None:
    async with pg.connect() as connection:
        async with connection.begin_nested():
            await connection.execute(update(District).where(District.id == -1).values(order=1))
        assert await _in_transaction(connection)
        await connection.commit()


async def test_a_stricter_isolation_keeps_every_statement_in_the_transaction(
    pg: AsyncEngine,
) -> None:
    """REPEATABLE READ: one snapshot from the first statement on, so even the first read is
    inside the transaction (and the rows a later read sees are the first read's)."""
    async with pg.connect() as connection:
        strict = await connection.execution_options(isolation_level="REPEATABLE READ")
        await strict.execute(select(District.id).limit(1))
        assert await _in_transaction(strict)
        await strict.rollback()
    async with pg.connect() as connection:
        await connection.execution_options(isolation_level="READ COMMITTED")
        await connection.execute(select(District.id).limit(1))
        assert not await _in_transaction(connection)  # explicit READ COMMITTED: the same rule


async def test_errors_outside_a_transaction_leave_the_connection_usable(pg: AsyncEngine) -> None:
    async with pg.connect() as connection:
        with pytest.raises(Exception, match="division by zero"):
            await connection.execute(text("SELECT 1 / 0"))
        await connection.rollback()
        assert (await connection.execute(text("SELECT 2"))).scalar_one() == 2


async def _backend_pid(connection: AsyncConnection) -> int:
    return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _terminate(engine: AsyncEngine, pid: int) -> None:
    async with engine.connect() as admin:
        await admin.execute(text("SELECT pg_terminate_backend(:pid, 2000)"), {"pid": pid})


async def test_a_connection_the_server_ended_is_replaced_at_its_next_read(
    pg: AsyncEngine,
) -> None:
    """No pre-ping: the read is sent, fails on the closed connection, and is sent again on a new
    one, since no transaction was open. Nobody sees an error."""
    async with pg.connect() as connection:
        first = await _backend_pid(connection)
    await _terminate(pg, first)
    async with pg.connect() as connection:
        rows = (await connection.execute(select(District.id))).all()
        assert len(rows) == 8
        assert await _backend_pid(connection) != first


async def test_a_first_write_on_an_ended_connection_is_sent_again_once(pg: AsyncEngine) -> None:
    before = await _orders(pg)
    async with pg.connect() as connection:
        first = await _backend_pid(connection)
    await _terminate(pg, first)
    async with pg.connect() as connection:
        await connection.execute(update(District).values(order=District.order + 1000))
        await connection.commit()
    assert await _orders(pg) == [order + 1000 for order in before]  # once, not twice


async def test_a_connection_ended_inside_a_transaction_is_an_error_not_a_replay(
    pg: AsyncEngine,
) -> None:
    """After a write the transaction was on the server: sending the rest again on a new
    connection would lose the write, so the error is raised and nothing is committed."""
    before = await _orders(pg)
    async with pg.connect() as connection:
        await connection.execute(update(District).values(order=District.order + 1000))
        pid = await _backend_pid(connection)
        await _terminate(pg, pid)
        with pytest.raises(Exception, match="connection"):
            await connection.execute(select(District.id))
        await connection.rollback()
    assert await _orders(pg) == before


async def _orders(engine: AsyncEngine) -> list[int]:
    async with engine.connect() as connection:
        result = await connection.execute(select(District.order).order_by(District.id))
        return list(result.scalars())


_PID = text("SELECT pg_backend_pid() AS pid")
_DISTRICTS = select(District.id).order_by(District.id)
_ORDERS = select(District.order).order_by(District.id)


async def test_reads_for_updates_use_connections_kept_open_and_see_what_is_committed(
    pg: AsyncEngine,
) -> None:
    """models/reads.ReadConnections: an update that holds no connection reads on one kept open
    (taken once, in autocommit mode), sees another session's commit at once; an update that
    has written reads through its own transaction."""
    pool = create_session_pool(pg)
    readers = pool.kw["info"][READER]
    assert isinstance(readers, ReadConnections) and readers.size == 8
    async with pool() as session:
        pid = (await read_rows(session, _PID, {}))[0][0]
        assert held_connection(session.sync_session) is None  # the session took none
        assert (await read_rows(session, _PID, {}))[0][0] == pid  # the same one, kept
        assert pg.sync_engine.pool.checkedout() == 1  # type: ignore[attr-defined]
        before = [r[0] for r in await read_rows(session, _ORDERS, {})]
        async with pool() as writer:
            await writer.execute(update(District).values(order=District.order + 1000))
            await writer.commit()
        after = [r[0] for r in await read_rows(session, _ORDERS, {})]
        assert after == [o + 1000 for o in before]  # no snapshot kept by the read connection
        await session.execute(update(District).values(order=District.order + 1))
        mine = [r[0] for r in await read_rows(session, _ORDERS, {})]
        assert mine == [o + 1001 for o in before]  # its own write, read through its transaction
        assert (await read_rows(session, _PID, {}))[0][0] != pid
        await session.rollback()
    await pg.dispose()  # the kept connection goes back and is closed with the pool
    assert pg.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_read_connections_ended_or_failing_leave_reads_to_the_session(
    pg: AsyncEngine,
) -> None:
    pool = create_session_pool(pg)
    async with pool() as session:
        first = (await read_rows(session, _PID, {}))[0][0]
    await _terminate(pg, first)  # the server ends the kept connection: replaced in place
    async with pool() as session:
        assert (await read_rows(session, _PID, {}))[0][0] != first

    async def one() -> int:
        async with pool() as session:
            rows = await read_rows(session, _DISTRICTS, {})
            await asyncio.sleep(0)
            return len(rows)

    assert await asyncio.gather(*(one() for _ in range(20))) == [8] * 20  # 8 kept, shared
    async with pool() as session:
        with pytest.raises(ProgrammingError):  # a failing read fails through the session too
            await read_rows(session, text("SELECT nothing FROM nowhere"), {})
    async with pool() as session:
        assert len(await read_rows(session, _DISTRICTS, {})) == 8
    assert pg.sync_engine.pool.checkedout() <= 8  # type: ignore[attr-defined]


async def test_a_small_pool_keeps_no_connection_for_reads(postgres_database: str) -> None:
    engine = create_engine(postgres_database, pool_size=2)
    assert READER not in create_session_pool(engine).kw["info"]
    await engine.dispose()


async def test_reads_run_by_asyncpg_give_exactly_what_sqlalchemy_gives(pg: AsyncEngine) -> None:
    """The hot statements, compiled once and run by asyncpg on a kept connection, give the same
    rows as SQLAlchemy's own execution: every column converted by its type (timestamps in UTC,
    counts, names), the statements' own constants bound."""
    pool = create_session_pool(pg)
    async with pool() as session:
        _meeting_id, ids = await make_meeting(session, measures=3, departments=("УО", "УКС"))
        measure = await session.get(Measure, ids[1])
        assert measure is not None
        await record_change(session, measure, author_id=None, department_id=None, progress=40)
        await session.commit()
    readers = read_connections(pg)
    assert readers is not None
    cases: list[tuple[Any, dict[str, Any]]] = [
        (commitments._card_statement(p, q), {"measure_id": ids[1], "user_id": -1})
        for p in (False, True)
        for q in (False, True)
    ]
    cases.append((_DUPLICATE, {"author_id": 1, "text_hash": "nothing"}))
    stamps = []
    for statement, params in cases:
        async with pg.connect() as connection:
            expected = [tuple(row) for row in (await connection.execute(statement, params)).all()]
        got = await readers.rows(statement, params)
        assert got is not None and [tuple(row) for row in got] == expected
        stamps += [v for row in got for v in row if isinstance(v, dt.datetime)]
    assert stamps and all(stamp.tzinfo is not None for stamp in stamps)  # the latest update's
    assert all(readers._prepared[statement] is not None for statement, _ in cases)  # by asyncpg
    # A page of search results: the ids as one array, the same rows as the expanding IN.
    async with pg.connect() as connection:
        expected = sorted(tuple(r) for r in await connection.execute(_PAGE_ROWS, {"ids": ids}))
    page = await readers.rows(_PAGE_ROWS_ANY, {"ids": ids})
    assert page is not None and sorted(tuple(r) for r in page) == expected and len(expected) == 3
    assert readers._prepared[_PAGE_ROWS_ANY] is not None


async def test_reads_wait_for_a_kept_connection_and_a_cancelled_wait_loses_none(
    pg: AsyncEngine,
) -> None:
    """20 reads at once share the 8 kept connections (none goes through a session), and reads
    cancelled while waiting leave every connection to the others."""
    pool = create_session_pool(pg)
    readers = read_connections(pg)
    assert readers is not None
    ran: list[str] = []
    readers.listeners.append(ran.append)
    slow = select(func.pg_sleep(0.02).label("slept"), literal(1).label("one"))

    async def one() -> list[Any]:
        async with pool() as session:
            rows = await read_rows(session, slow, {})
            assert held_connection(session.sync_session) is None
            return [row[1] for row in rows]

    assert await asyncio.gather(*(one() for _ in range(20))) == [[1]] * 20
    assert len(ran) == 20 and readers._open <= 8
    assert pg.sync_engine.pool.checkedout() <= 8  # type: ignore[attr-defined]

    tasks = [asyncio.create_task(one()) for _ in range(14)]
    await asyncio.sleep(0.005)  # 8 reading, 6 waiting
    for task in tasks[-4:]:
        task.cancel()
    done = await asyncio.gather(*tasks, return_exceptions=True)
    assert [d for d in done if not isinstance(d, BaseException)] == [[1]] * 10
    assert len(readers._idle) == readers._open and not readers._waiters
