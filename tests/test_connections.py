"""Database connections are held only while an update uses the database: before the bot talks to
Telegram, an update that only read (or has committed) gives its connection back to the pool
(bot/middlewares.ReleaseConnectionBeforeRequest, models/db.release_connection). Here the
pool has a single connection, and one resident's request to Telegram hangs while another
resident's update needs the database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.methods import SendMessage, TelegramMethod
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.callbacks import OpenMeasureCb
from models.db import create_engine, create_session_pool, release_connection
from models.entities import District, Follow, User
from models.reference import ensure_reference_data
from tests.conftest import onboard
from tests.harness import BotClient, RecordingSession, last_message
from tests.test_resident_browse import make_meeting


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(db_url, pool_size=1)
    async with create_session_pool(engine)() as session:
        await ensure_reference_data(session)
        await session.commit()
    yield engine
    await engine.dispose()


class HangingSession(RecordingSession):
    """Telegram takes its time with the messages sent to one chat, until let go."""

    def __init__(self) -> None:
        super().__init__()
        self.slow_chat: int | None = None
        self.arrived = asyncio.Event()
        self.let_go = asyncio.Event()

    async def make_request(
        self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None
    ) -> Any:
        if isinstance(method, SendMessage) and method.chat_id == self.slow_chat:
            self.arrived.set()
            await self.let_go.wait()
        return await super().make_request(bot, method, timeout)


@pytest.fixture
def bot_session() -> RecordingSession:
    return HangingSession()


async def test_a_slow_request_to_telegram_does_not_hold_the_only_connection(
    session: AsyncSession,
    make_client: Any,
    bot_session: HangingSession,
    engine: AsyncEngine,
) -> None:
    _meeting_id, ids = await make_meeting(session, measures=3, text="Сайран {n}")
    await session.commit()
    slow: BotClient = make_client(user_id=501)
    other: BotClient = make_client(user_id=502)
    await onboard(slow, "en")
    await onboard(other, "en")

    bot_session.slow_chat = slow.user_id
    card = asyncio.create_task(slow.press(OpenMeasureCb(id=ids[0]).pack()))
    await asyncio.wait_for(bot_session.arrived.wait(), 120)
    # The card was read; its message is on its way to Telegram, and the connection is free.
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    found = await asyncio.wait_for(other.send("Сайран"), 120)
    assert "found 3" in last_message(found).text
    bot_session.let_go.set()
    assert "Сайран 1" in last_message(await card).text


async def test_an_update_that_wrote_keeps_its_connection_until_it_ends(
    session_pool: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    async with session_pool() as session:
        district = (await session.execute(select(District).limit(1))).scalar_one()
        assert await release_connection(session)  # only read: released
        assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        assert district.slug  # still loaded, no query needed

        district.order += 1000  # changed in the session, not yet written
        assert not await release_connection(session)
        await session.flush()  # written, not committed: the database holds it
        assert not await release_connection(session)
        assert engine.pool.checkedout() == 1  # type: ignore[attr-defined]
        session.add(User(tg_id=77_001, full_name="Later"))
        await session.commit()
        assert not await release_connection(session)  # nothing held any more
    async with session_pool() as session:
        again = await session.get(District, district.id)
        assert again is not None and again.order == district.order
        count = await session.execute(select(func.count(User.id)).where(User.tg_id == 77_001))
        assert count.scalar_one() == 1


async def test_updates_that_read_or_write_leave_no_connection_and_keep_their_writes(
    client: BotClient, session: AsyncSession, engine: AsyncEngine
) -> None:
    """A card only reads; following a measure writes and commits before its answer. With the
    connection given back before each request to Telegram, nothing is left checked out and
    what was written is there."""
    _meeting_id, ids = await make_meeting(session, measures=1, text="Сайран {n}")
    await session.commit()
    await onboard(client, "en")
    card = last_message(await client.press(OpenMeasureCb(id=ids[0]).pack()))
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    answer = await client.click(card, "Follow")
    assert any("Unfollow" in b for m in answer for b in getattr(m, "buttons", []))
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    session.expire_all()
    follows = await session.execute(select(func.count(Follow.id)))
    assert follows.scalar_one() == 1


async def test_a_statement_that_writes_keeps_the_connection_as_a_flush_does(
    session_pool: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    async with session_pool() as session:
        await session.execute(update(District).values(order=District.order + 1000))
        assert not await release_connection(session)  # written by a statement, not a flush
        assert engine.pool.checkedout() == 1  # type: ignore[attr-defined]
        await session.rollback()
        await session.execute(select(District.id).limit(1))
        assert await release_connection(session)  # a new transaction that only read
    async with session_pool() as session:
        orders = (await session.execute(select(District.order))).scalars().all()
        assert max(orders) < 1000  # the rolled-back write is gone
