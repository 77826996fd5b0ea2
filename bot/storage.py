"""Where FSM state lives and how one user's updates are serialised.

One process (the default): state in memory, a per-user asyncio lock. Several replicas
(``REDIS_URL`` set): state and the per-user lock in Redis, so a form started on one replica
continues on another and two replicas never handle the same user's updates at the same time.
Keys carry the bot id (``kezdesu:<bot id>:<chat>:<user>:…``), so bots sharing a Redis never mix.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from sqlalchemy import NullPool, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from models.settings import ConfigError, Settings

KEY_PREFIX = "kezdesu"
# A replica that dies while holding a user's lock must not block that user for long.
LOCK_TIMEOUT_SECONDS = 60


def key_builder(prefix: str = KEY_PREFIX) -> DefaultKeyBuilder:
    return DefaultKeyBuilder(prefix=prefix, with_bot_id=True, with_destiny=True)


def create_storage(
    settings: Settings, *, prefix: str = KEY_PREFIX
) -> tuple[BaseStorage, BaseEventIsolation]:
    """FSM storage and event isolation for these settings (Redis when ``redis_url`` is set)."""
    if not settings.redis_url:
        return MemoryStorage(), SimpleEventIsolation()
    from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
    from redis.asyncio import Redis

    redis = Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=5,
        socket_timeout=10,
        health_check_interval=30,
        retry_on_timeout=True,
    )
    keys = key_builder(prefix)
    storage = RedisStorage(redis, key_builder=keys)
    isolation = RedisEventIsolation(
        redis,
        key_builder=keys,
        lock_kwargs={"timeout": LOCK_TIMEOUT_SECONDS, "blocking_timeout": LOCK_TIMEOUT_SECONDS},
    )
    return storage, isolation


STARTUP_CHECK_SECONDS = 10.0


def redis_of(storage: BaseStorage) -> Any | None:
    """The Redis client behind the FSM storage, or None in memory mode."""
    from aiogram.fsm.storage.redis import RedisStorage  # redis is installed with the bot

    return storage.redis if isinstance(storage, RedisStorage) else None


def safe_url(url: str) -> str:
    """A URL fit for a log line: the password replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + netloc))


async def check_storage(settings: Settings, storage: BaseStorage) -> None:
    """At start: raise ConfigError (one line naming REDIS_URL) when Redis does not answer, so
    the bot does not start and then fail every update."""
    if not settings.redis_url:
        return
    redis = redis_of(storage)
    if redis is None:
        return
    try:
        async with asyncio.timeout(STARTUP_CHECK_SECONDS):
            await redis.ping()
    except Exception as exc:  # noqa: BLE001 - any failure: the bot cannot work with this Redis
        await storage.close()
        reason = str(exc) or type(exc).__name__
        raise ConfigError(
            f"REDIS_URL is unreachable: {safe_url(settings.redis_url)} ({reason})"
        ) from None


# An arbitrary constant: the PostgreSQL advisory lock that serialises start-up work.
_STARTUP_LOCK_ID = 0x6B657A64  # "kezd"


@asynccontextmanager
async def startup_lock(database_url: str) -> AsyncIterator[None]:
    """Held while a process migrates and adds reference data, so replicas started together
    do it one after the other (PostgreSQL advisory lock; SQLite is one process anyway)."""
    if make_url(database_url).get_backend_name() != "postgresql":
        yield
        return
    engine = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _STARTUP_LOCK_ID})
            await connection.commit()
            try:
                yield
            finally:
                await connection.execute(
                    text("SELECT pg_advisory_unlock(:id)"), {"id": _STARTUP_LOCK_ID}
                )
                await connection.commit()
    finally:
        await engine.dispose()
