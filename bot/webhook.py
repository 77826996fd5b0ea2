"""The process's one HTTP server (web/), and webhook mode on it.

The server runs in both modes (``WEB_HOST``/``WEB_PORT``; ``WEB_PORT=0`` switches it off when
polling): the public pages, the open data, the Mini App's actions and ``GET /healthz`` (200 when
the database, and Redis when used, answer; 503 otherwise). With ``WEBHOOK_URL`` set, Telegram
(through a reverse proxy) also posts updates to the path of ``WEBHOOK_URL`` on it (``WEBHOOK_PATH``
when ``WEBHOOK_URL`` is a bare host); every such request must
carry ``X-Telegram-Bot-Api-Secret-Token`` equal to ``WEBHOOK_SECRET`` (401 otherwise, and the
update is not processed). In polling mode there is no webhook route at all.

Several replicas can serve one webhook URL behind a load balancer: each sets the same webhook at
start and none deletes it on shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramUnauthorizedError
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web
from pydantic import ValidationError

from bot.observability import background_status, instrument_bot
from bot.storage import redis_of
from models.settings import ConfigError, Settings
from web.health import BACKGROUND, HEALTH_PATH, BackgroundStatus
from web.metrics import METRICS_PATH

logger = logging.getLogger(__name__)

# What Telegram accepts as a secret_token.
_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,256}")

# The web side's own paths (web/), which the webhook must not shadow.
SITE_PATHS = frozenset({"/", HEALTH_PATH, METRICS_PATH, "/departments"})
SITE_PREFIXES = ("/api/", "/open311/", "/app/", "/static/", "/m/", "/d/", "/meetings/")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
STORAGE_PING_SECONDS = 3.0

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
    path = webhook_route_path(settings)
    name = "WEBHOOK_PATH" if parts.path in {"", "/"} else "WEBHOOK_URL"
    if not path.startswith("/") or path in SITE_PATHS or path.startswith(SITE_PREFIXES):
        raise ConfigError(
            f"{name} is invalid: its path must start with / and differ from the site's pages "
            f"({HEALTH_PATH}, /, /api/…), such as /telegram/webhook"
        )
    if settings.web_port == 0:
        raise ConfigError(
            "WEB_PORT is invalid: webhook mode needs the web server (WEB_PORT=0 switches it off)"
        )


def webhook_route_path(settings: Settings) -> str:
    """Where the server takes Telegram's posts: the path of WEBHOOK_URL when it has one (the
    reverse proxy passes it through), WEBHOOK_PATH for a bare host."""
    assert settings.webhook_url
    path = urlsplit(settings.webhook_url).path
    return settings.webhook_path if path in {"", "/"} else path


def public_webhook_url(settings: Settings) -> str:
    """WEBHOOK_URL as given; a bare host (no path) gets WEBHOOK_PATH appended."""
    assert settings.webhook_url
    parts = urlsplit(settings.webhook_url)
    if parts.path in {"", "/"}:
        parts = parts._replace(path=settings.webhook_path)
    return urlunsplit(parts)


class WebhookHandler(SimpleRequestHandler):
    """aiogram's handler, with the request checked before anything is processed:

    - a wrong secret: 401 (as aiogram does);
    - a body that is not JSON, or JSON that is not an Update: 400 with one line, logged as a
      warning (no traceback, no task left failing in the background);
    - the state storage (Redis) not answering: 503, so Telegram delivers the update again later
      instead of the update being lost.
    """

    async def handle(self, request: web.Request) -> web.Response:
        bot = await self.resolve_bot(request)
        if not self.verify_secret(request.headers.get(SECRET_HEADER, ""), bot):
            return web.Response(text="Unauthorized", status=401)
        try:
            body = await request.json(loads=bot.session.json_loads)
        except ValueError:  # JSONDecodeError, UnicodeDecodeError
            return _bad_request("not JSON")
        try:
            Update.model_validate(body, context={"bot": bot})
        except ValidationError:
            return _bad_request("not a Telegram Update")
        if not await self._storage_answers():
            return web.Response(text="Service Unavailable: state storage", status=503)
        return await super().handle(request)

    async def _storage_answers(self) -> bool:
        settings: Settings = self.dispatcher["settings"]
        if not settings.redis_url:
            return True
        redis = redis_of(self.dispatcher.storage)
        if redis is None:
            return True
        try:
            async with asyncio.timeout(STORAGE_PING_SECONDS):
                await redis.ping()
        except Exception as exc:  # noqa: BLE001 - any failure: Telegram should retry later
            logger.error("State storage unavailable (REDIS_URL): %s: %s", type(exc).__name__, exc)
            return False
        return True


def _bad_request(reason: str) -> web.Response:
    logger.warning("Webhook request refused: the body is %s", reason)
    return web.Response(text=f"Bad Request: the body is {reason}", status=400)


def create_app(
    bot: Bot, dp: Dispatcher, settings: Settings, *, handle_in_background: bool = True
) -> web.Application:
    """The process's web application (web/), with the webhook route, start-up and shutdown in
    webhook mode.

    ``handle_in_background`` answers Telegram at once and processes the update in a task (what
    production wants: Telegram waits for no database); tests turn it off to await the handlers.
    """
    # The pages, the API and their templates are loaded by a process that serves them only
    # (not with WEB_PORT=0 in polling mode, nor by the command line): about 4 MiB.
    from web.app import create_web_app

    app = create_web_app(
        settings,
        dp["session_pool"],
        dp["i18n"],
        redis=getattr(dp.storage, "redis", None),
        metrics=dp["metrics"],
    )

    def background() -> BackgroundStatus | None:
        return background_status(dp)

    app[BACKGROUND] = background
    instrument_bot(bot, dp["metrics"])
    app[DISPATCHER_KEY] = dp
    app[BOT_KEY] = bot
    if settings.webhook_url:
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        WebhookHandler(
            dispatcher=dp,
            bot=bot,
            secret_token=secret,
            handle_in_background=handle_in_background,
        ).register(app, path=webhook_route_path(settings))
        setup_application(app, dp, bot=bot)  # dp startup/shutdown hooks (commands, scheduler)
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


@contextlib.asynccontextmanager
async def serving(app: web.Application, settings: Settings) -> AsyncIterator[None]:
    """The application listening on WEB_HOST:WEB_PORT while the block runs."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.web_host, settings.web_port)
        try:
            await site.start()
        except OSError as exc:
            raise ConfigError(
                f"WEB_PORT is invalid: cannot listen on {settings.web_host}:{settings.web_port} "
                f"({os.strerror(exc.errno) if exc.errno else exc})"
            ) from None
        logger.info("Web server listening on %s:%s", settings.web_host, settings.web_port)
        yield
    finally:
        await runner.cleanup()


TELEGRAM_FIRST_RETRY_SECONDS = 1.0
TELEGRAM_MAX_RETRY_SECONDS = 60.0


async def wait_for_telegram(
    bot: Bot,
    settings: Settings,
    *,
    first_delay: float = TELEGRAM_FIRST_RETRY_SECONDS,
    max_delay: float = TELEGRAM_MAX_RETRY_SECONDS,
) -> None:
    """Ask the Bot API who the bot is until it answers: one line per failed attempt (no
    traceback), retried with a doubling delay capped at ``max_delay`` (Telegram or the network
    down at start, a wrong TELEGRAM_API_URL). A token Telegram refuses is a ConfigError."""
    server = (settings.telegram_api_url or "https://api.telegram.org").rstrip("/")
    delay = first_delay
    attempt = 0
    while True:
        attempt += 1
        try:
            await bot.get_me()
        except TelegramUnauthorizedError:
            raise ConfigError(
                "BOT_TOKEN is invalid: Telegram refused it (401 Unauthorized)"
            ) from None
        except Exception as exc:  # noqa: BLE001 - whatever it is, retrying is the answer
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            logger.warning(
                "Telegram Bot API is unreachable at %s (TELEGRAM_API_URL): %s; attempt %d, "
                "retrying in %.0f s",
                server, reason, attempt, delay,
            )  # fmt: skip
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)
            continue
        if attempt > 1:
            logger.warning("Telegram Bot API answered at %s after %d attempts", server, attempt)
        return


async def run_webhook(bot: Bot, dp: Dispatcher, settings: Settings, **kwargs: Any) -> None:
    """Serve until SIGINT or SIGTERM, then shut down cleanly (dp shutdown, bot session)."""
    await wait_for_telegram(bot, settings)  # before the app's start-up sets the webhook
    app = create_app(bot, dp, settings, **kwargs)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(sig, stop.set)
    try:
        async with serving(app, settings):
            logger.info("Webhook on %s", webhook_route_path(settings))
            await stop.wait()
            logger.info("Stopping the web server")
    finally:
        for sig in signals:
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(sig)


async def run_polling(bot: Bot, dp: Dispatcher, settings: Settings) -> None:
    """Long polling, with the web server beside it unless WEB_PORT=0."""
    logger.info("Starting long polling")
    if settings.web_port == 0:
        await wait_for_telegram(bot, settings)
        await dp.start_polling(bot, handle_signals=True, close_bot_session=True)
        return
    # The server first: a busy WEB_PORT stops the bot at once; /healthz answers meanwhile.
    async with serving(create_app(bot, dp, settings), settings):
        await wait_for_telegram(bot, settings)
        await dp.start_polling(bot, handle_signals=True, close_bot_session=True)
