"""The per-process cache of profiles (``models/profiles.py``): a change made through the pool is
seen by the next update at once; a change made by another process (here: another engine and
pool on the same database) within the cache's lifetime; an administrator's profile is never
cached."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from models.db import create_engine, create_session_pool
from models.entities import User
from models.profiles import ProfileCache, profile_cache
from tests.conftest import onboard
from tests.harness import BotClient, last_message


def _expire(cache: ProfileCache) -> None:
    """Move the cache's clock past its lifetime, as if ``ttl`` seconds had gone by."""
    ttl = cache.ttl
    cache.clock = lambda: time.monotonic() + ttl + 1


async def _elsewhere(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions of another process: their own engine, pool and caches."""
    return create_session_pool(create_engine(str(engine.url.render_as_string(False))))


async def test_a_profile_changed_through_the_bot_is_seen_at_once(
    session: AsyncSession, client: BotClient
) -> None:
    await onboard(client, "en")
    card = last_message(await client.send("⚙️ Settings"))
    assert "Language: English" in card.text
    cache = profile_cache(session)
    assert cache is not None and cache.get(client.user_id) is not None  # served from the cache
    sent = await client.click(card, "Language")
    await client.click(last_message(sent), "Қазақша")
    assert cache.get(client.user_id) is None
    assert "Тіл: Қазақша" in last_message(await client.send("⚙️ Settings")).text


async def test_a_profile_changed_by_another_process_is_seen_within_its_lifetime(
    engine: AsyncEngine, session: AsyncSession, client: BotClient
) -> None:
    await onboard(client, "en")
    assert "Language: English" in last_message(await client.send("⚙️ Settings")).text
    other = await _elsewhere(engine)
    async with other() as elsewhere:
        await elsewhere.execute(
            update(User).where(User.tg_id == client.user_id).values(locale="kk")
        )
        await elsewhere.commit()
    await other.kw["bind"].dispose()
    # this process still serves its cached profile ...
    assert "Language: English" in last_message(await client.send("⚙️ Settings")).text
    cache = profile_cache(session)
    assert cache is not None
    _expire(cache)
    # ... until it expires (PROFILE_CACHE_SECONDS)
    assert "Тіл: Қазақша" in last_message(await client.send("⚙️ Settings")).text


async def test_a_bulk_update_of_users_through_the_pool_empties_the_profile_cache(
    session: AsyncSession, client: BotClient
) -> None:
    """The delivery worker marks a blocked user unreachable with one UPDATE; when they write
    again, the bot must see the flag to set it back."""
    await onboard(client, "en")
    await client.send("/help")
    cache = profile_cache(session)
    assert cache is not None and len(cache) == 1
    await session.execute(update(User).where(User.tg_id == client.user_id).values(reachable=False))
    await session.commit()
    assert len(cache) == 0
    await client.send("/help")
    session.expire_all()
    user = (await session.execute(select(User).where(User.tg_id == client.user_id))).scalar_one()
    assert user.reachable


async def test_an_admin_profile_is_never_cached(
    session: AsyncSession, make_client: Callable[..., BotClient]
) -> None:
    staff = make_client(user_id=4343, language_code="en")
    await onboard(staff, "en")
    await session.execute(update(User).where(User.tg_id == 4343).values(is_admin=True))
    await session.commit()
    assert "Admin panel" in last_message(await staff.send("/admin")).text
    cache = profile_cache(session)
    assert cache is not None and cache.get(4343) is None
