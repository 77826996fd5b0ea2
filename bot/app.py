"""Building the application: Bot, Dispatcher with middlewares and routers, database, run modes.

Nothing is created at import time; ``create_dispatcher`` is what the tests use too.
"""

from __future__ import annotations

import gc
import logging
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.utils.callback_answer import CallbackAnswerMiddleware
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.commands import set_commands, set_descriptions, set_menu_button
from bot.i18n import ProfileI18nMiddleware, create_i18n
from bot.logs import UpdateLogContext
from bot.middlewares import StorageGuardMiddleware, UpdateMiddleware, prepare_bot
from bot.observability import METRICS_KEY, UpdateMetricsMiddleware
from bot.storage import check_storage, create_storage, startup_lock
from bot.webhook import check_webhook_settings, run_polling, run_webhook
from handlers import get_routers
from models.db import create_engine, create_session_pool, migrate
from models.reference import ensure_reference_data
from models.settings import Settings
from scheduler.runtime import start_background, stop_background
from web.metrics import Metrics

logger = logging.getLogger(__name__)


def create_bot(settings: Settings) -> Bot:
    session = None
    if settings.telegram_api_url:
        session = AiohttpSession(
            api=TelegramAPIServer.from_base(settings.telegram_api_url.rstrip("/"))
        )
    bot = Bot(
        token=settings.token(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )
    return prepare_bot(bot)


def create_dispatcher(
    settings: Settings,
    session_pool: async_sessionmaker[AsyncSession],
    i18n: I18n | None = None,
    *,
    storage: BaseStorage | None = None,
    events_isolation: BaseEventIsolation | None = None,
    **workflow_data: Any,
) -> Dispatcher:
    i18n = i18n or create_i18n(settings.default_locale)
    metrics = workflow_data.pop(METRICS_KEY, None) or Metrics()
    if storage is None and events_isolation is None:
        # Memory by default; Redis when REDIS_URL is set (several replicas share forms and locks).
        storage, events_isolation = create_storage(settings)
    dp = Dispatcher(
        storage=storage or MemoryStorage(),
        events_isolation=events_isolation or SimpleEventIsolation(),
        settings=settings,
        session_pool=session_pool,
        i18n=i18n,
        metrics=metrics,
        **workflow_data,
    )
    dp.update.outer_middleware(UpdateLogContext())
    # Counts and times every update, whatever happens below (bot/observability.py).
    dp.update.outer_middleware(UpdateMetricsMiddleware(metrics))
    # The storage guard runs before aiogram's FSM middleware (state and the per-user lock), so a
    # storage failure is answered too: take the FSM middleware out, put the guard, put it back.
    dp.update.outer_middleware.unregister(dp.fsm)
    dp.update.outer_middleware(StorageGuardMiddleware(session_pool, i18n))
    dp.update.outer_middleware(dp.fsm)
    dp.update.outer_middleware(UpdateMiddleware(session_pool, settings, i18n))
    ProfileI18nMiddleware(i18n).setup(dp)
    dp.callback_query.middleware(CallbackAnswerMiddleware())
    dp.include_routers(*get_routers())  # new routers for each Dispatcher
    dp.startup.register(_on_startup)
    # The scheduler and the delivery worker live and die with the bot (scheduler/runtime.py).
    dp.startup.register(start_background)
    dp.shutdown.register(stop_background)
    return dp


async def _on_startup(bot: Bot, i18n: I18n, settings: Settings) -> None:
    await set_commands(bot, i18n, settings.default_locale, sorted(settings.admin_ids))
    await set_menu_button(bot, i18n, settings.default_locale, settings.web_public_url)
    await set_descriptions(bot, i18n, settings.default_locale)


async def prepare_database(
    settings: Settings,
) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession]]:
    """Engine and session pool, with migrations applied and reference data present."""
    engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
    await migrate(engine)
    pool = create_session_pool(engine)
    async with pool() as session:
        await ensure_reference_data(session)
        await session.commit()
    return engine, pool


def settle_heap() -> None:
    """Put what start-up made out of the garbage collector's way.

    Modules, routers, catalogs, the ORM's mappers: about 390,000 objects that live as long as
    the process. CPython's full collections walk all of them every time (about 0.3 s here, every
    thousand updates or so under load: 10-15 % of the process's time in ``python -m bench``).
    ``gc.freeze()`` moves everything alive now to a generation the collector leaves alone;
    objects made later are collected as before. The youngest generation is collected after
    10,000 allocations instead of 700: an update makes a few thousand objects that almost all
    die with it, and collecting them mid-update was 3-5 % of the CPU per update (``bench/``)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


async def run_bot(settings: Settings) -> None:
    """Long polling by default, webhook mode when WEBHOOK_URL is set; the web server (web/) in
    both, unless WEB_PORT=0 (polling only)."""
    if settings.webhook_url:
        check_webhook_settings(settings)  # one clear line before touching anything
    storage, isolation = create_storage(settings)
    await check_storage(settings, storage)  # one clear line when Redis does not answer
    # Replicas starting together migrate one after the other (a no-op on PostgreSQL's second).
    async with startup_lock(settings.database_url):
        engine, pool = await prepare_database(settings)
    bot = create_bot(settings)
    dp = create_dispatcher(settings, pool, storage=storage, events_isolation=isolation)
    settle_heap()
    try:
        if settings.webhook_url:
            await run_webhook(bot, dp, settings)
        else:
            await run_polling(bot, dp, settings)
    finally:
        await bot.session.close()  # already closed by polling; not when the server failed
        await engine.dispose()
