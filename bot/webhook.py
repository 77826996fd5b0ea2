"""Webhook mode: an aiohttp server that Telegram (through a reverse proxy) posts updates to.

Chosen when ``WEBHOOK_URL`` is set; long polling stays the default. Every request must carry
``X-Telegram-Bot-Api-Secret-Token`` equal to ``WEBHOOK_SECRET`` (401 otherwise, and the update is
not processed). ``GET /healthz`` answers 200 when the database (and Redis, when used) answer,
503 otherwise, for the process manager and the load balancer.

Several replicas can serve one webhook URL behind a load balancer: each sets the same webhook at
start and none deletes it on shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.settings import ConfigError, Settings

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
HEALTH_TIMEOUT_SECONDS = 3.0
# What Telegram accepts as a secret_token.
_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,256}")

DISPATCHER_KEY = web.AppKey("dispatcher", Dispatcher)
BOT_KEY = web.AppKey("bot", Bot)


def check_webhook_settings(settings: Settings) -> None:
    """Raise ConfigError (one line naming the setting) when webhook mode cannot work."""
    if not settings.webhook_url:
        return
    parts = urlsplit(settings.webhook_url)
    # Telegram posts only to HTTPS; a local Bot API server (TELEGRAM_API_URL) may use HTTP.
    schemes = {"https", "http"} if settings.telegram_api_url else {"https"}
    if parts.scheme not in schemes or not parts.hostname:
        raise ConfigError(
            "WEBHOOK_URL is invalid: must be a public https:// URL (Telegram posts only to HTTPS)"
        )
    if settings.webhook_secret is None or not settings.webhook_secret.get_secret_value():
        raise ConfigError(
            "WEBHOOK_SECRET is not set (required with WEBHOOK_URL; "
            "1-256 characters: letters, digits, _ and -)"
        )
    if not _SECRET_SHAPE.fullmatch(settings.webhook_secret.get_secret_value()):
        raise ConfigError(
            "WEBHOOK_SECRET is invalid: use 1-256 characters: letters, digits, _ and -"
        )
    if not settings.webhook_path.startswith("/") or settings.webhook_path == HEALTH_PATH:
        raise ConfigError(
            f"WEBHOOK_PATH is invalid: must start with / and differ from {HEALTH_PATH}"
        )


def public_webhook_url(settings: Settings) -> str:
    """WEBHOOK_URL as given; a bare host (no path) gets WEBHOOK_PATH appended."""
    assert settings.webhook_url
    parts = urlsplit(settings.webhook_url)
    if parts.path in {"", "/"}:
        parts = parts._replace(path=settings.webhook_path)
    return urlunsplit(parts)


def create_app(
    bot: Bot, dp: Dispatcher, settings: Settings, *, handle_in_background: bool = True
) -> web.Application:
    """The aiohttp application: the webhook route, the health check, start-up and shutdown.

    ``handle_in_background`` answers Telegram at once and processes the update in a task (what
    production wants: Telegram waits for no database); tests turn it off to await the handlers.
    """
    app = web.Application()
    app[DISPATCHER_KEY] = dp
    app[BOT_KEY] = bot
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    SimpleRequestHandler(
        dispatcher=dp,
        bot=bot,
        secret_token=secret,
        handle_in_background=handle_in_background,
    ).register(app, path=settings.webhook_path)
    app.router.add_get(HEALTH_PATH, healthz)
    setup_application(app, dp, bot=bot)  # dp startup/shutdown hooks (commands, scheduler)
    if settings.webhook_url:
        app.on_startup.append(_set_webhook)
    return app


async def _set_webhook(app: web.Application) -> None:
    dp = app[DISPATCHER_KEY]
    bot = app[BOT_KEY]
    settings: Settings = dp["settings"]
    url = public_webhook_url(settings)
    assert settings.webhook_secret is not None
    await bot.set_webhook(
        url,
        secret_token=settings.webhook_secret.get_secret_value(),
        allowed_updates=dp.resolve_used_update_types(),
        drop_pending_updates=False,
    )
    logger.info("Webhook set to %s", url)


async def check_health(dp: Dispatcher) -> dict[str, str]:
    """``{"database": "ok", "redis": "ok"}``, with the error's name where a check failed."""
    checks: dict[str, str] = {}
    pool: async_sessionmaker[AsyncSession] = dp["session_pool"]
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT_SECONDS), pool() as session:
            await session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
        checks["database"] = f"error: {type(exc).__name__}"
    redis = getattr(dp.storage, "redis", None)
    if redis is not None:
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT_SECONDS):
                await redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = f"error: {type(exc).__name__}"
    return checks


async def healthz(request: web.Request) -> web.Response:
    checks = await check_health(request.app[DISPATCHER_KEY])
    healthy = all(value == "ok" for value in checks.values())
    if not healthy:
        logger.warning("Health check failed: %s", checks)
    return web.json_response(
        {"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503
    )


async def run_webhook(bot: Bot, dp: Dispatcher, settings: Settings, **kwargs: Any) -> None:
    """Serve until SIGINT or SIGTERM, then shut down cleanly (dp shutdown, bot session)."""
    app = create_app(bot, dp, settings, **kwargs)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(sig, stop.set)
    try:
        site = web.TCPSite(runner, settings.webhook_host, settings.webhook_port)
        await site.start()
        logger.info(
            "Webhook server listening on %s:%s%s",
            settings.webhook_host,
            settings.webhook_port,
            settings.webhook_path,
        )
        await stop.wait()
        logger.info("Stopping the webhook server")
    finally:
        for sig in signals:
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(sig)
        await runner.cleanup()
