"""Fixtures: a real database (SQLite file, and PostgreSQL when reachable), the real Dispatcher
with all middlewares, and a recording Bot.

Every test that uses ``db_url`` runs once per backend: ``sqlite`` always, ``postgresql`` when
the server at ``TEST_POSTGRES_URL`` (default ``127.0.0.1:5432``, database ``test``) answers;
otherwise that half is skipped with the reason. Each test run creates its own PostgreSQL
database (so parallel runs do not collide) and drops it at the end.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import create_dispatcher
from bot.i18n import CatalogI18n, create_i18n
from models.base import Base
from models.db import create_engine, create_session_pool, migrate
from models.demo import load_demo
from models.reference import ensure_reference_data
from models.settings import Settings
from tests.harness import TOKEN, BotClient, RecordingSession, last_message, make_bot

PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ADMIN_ID = 900


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def postgres_available() -> bool:
    from sqlalchemy.engine import make_url

    url = make_url(PG_URL)
    return _reachable(url.host or "127.0.0.1", url.port or 5432)


def redis_available() -> bool:
    from urllib.parse import urlparse

    parsed = urlparse(REDIS_URL)
    return _reachable(parsed.hostname or "127.0.0.1", parsed.port or 6379)


async def _admin_execute(statement: str) -> None:
    engine = create_engine(PG_URL)
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text(statement))
    await engine.dispose()


async def _prepare(url: str) -> None:
    engine = create_engine(url)
    await migrate(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    asyncio.run(_prepare(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    if not postgres_available():
        pytest.skip(f"PostgreSQL is not reachable at {PG_URL} (set TEST_POSTGRES_URL)")
    from sqlalchemy.engine import make_url

    name = f"kezdesu_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin_execute(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        asyncio.run(_prepare(url))
        yield url
    finally:
        asyncio.run(_admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "kezdesu.sqlite3"
        shutil.copy(template, path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    asyncio.run(_truncate_all(url))
    return url


async def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    await engine.dispose()


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(db_url)
    pool = create_session_pool(engine)
    async with pool() as session:
        await ensure_reference_data(session)
        await session.commit()
    yield engine
    await engine.dispose()


@pytest.fixture
def session_pool(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_pool(engine)


@pytest.fixture
async def session(session_pool: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A separate session for the test's own checks of the database."""
    async with session_pool() as session:
        yield session


@pytest.fixture
async def demo(session_pool: async_sessionmaker[AsyncSession]) -> int:
    """Loads the seed's meeting and plan; returns the meeting id."""
    async with session_pool() as session:
        result = await load_demo(session)
        await session.commit()
    return result.meeting_id


@pytest.fixture(scope="session")
def i18n() -> CatalogI18n:
    return create_i18n("ru")


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(
        bot_token=TOKEN,  # type: ignore[arg-type]
        database_url=db_url,
        admin_ids=frozenset({ADMIN_ID}),
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def extra_workflow_data() -> dict[str, Any]:
    """Override in a test module to pass more workflow data to the Dispatcher."""
    return {}


@pytest.fixture
def dp(
    settings: Settings,
    session_pool: async_sessionmaker[AsyncSession],
    i18n: CatalogI18n,
    extra_workflow_data: dict[str, Any],
) -> Any:
    return create_dispatcher(settings, session_pool, i18n, **extra_workflow_data)


@pytest.fixture
def bot_session() -> RecordingSession:
    return RecordingSession()


@pytest.fixture
def bot(bot_session: RecordingSession) -> Any:
    return make_bot(bot_session)


@pytest.fixture
def make_client(dp: Any, bot: Any) -> Callable[..., BotClient]:
    def factory(**kwargs: Any) -> BotClient:
        return BotClient(dp=dp, bot=bot, **kwargs)

    return factory


@pytest.fixture
def client(make_client: Callable[..., BotClient]) -> BotClient:
    return make_client()


async def onboard(client: BotClient, locale: str = "ru", district: str = "Алмал") -> None:
    """Walk a new user through /start: language, then district (matched by button text)."""
    names = {"ru": "Русский", "kk": "Қазақша", "en": "English"}
    sent = await client.send("/start")
    sent = await client.click(last_message(sent), names[locale])
    district_names = {"Алмал": {"ru": "Алмал", "kk": "Алмал", "en": "Almaly"}}
    label = district_names.get(district, {}).get(locale, district)
    await client.click(last_message(sent), label)
