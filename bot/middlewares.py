"""Update middleware: one DB session, the caller's profile and role, and the single error path.

``UpdateMiddleware`` is the outer middleware of ``dp.update``; the i18n middleware then runs on
each event observer. Commit policy: the session is committed once after a handler returns;
handlers that announce "saved" commit themselves before sending the confirmation. The Bot's
request middleware gives an update's connection back to the pool before each request to Telegram
when the update has written nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject, Update
from aiogram.types import User as TgUser
from aiogram.utils.i18n import I18n
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import update_locale
from models.db import release_connection
from models.settings import Settings
from models.translation import N_
from models.users import get_or_create_user, get_user

logger = logging.getLogger(__name__)

APOLOGY = N_(
    "Sorry, something went wrong on our side. Nothing you entered was lost; "
    "please try again in a minute."
)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


# The update's database session and the task handling the update, for the Bot's request
# middleware below (a task started from a handler inherits the variable, not the session).
_update_session: ContextVar[tuple[AsyncSession, asyncio.Task[Any] | None] | None] = ContextVar(
    "update_session", default=None
)


class ReleaseConnectionBeforeRequest(BaseRequestMiddleware):
    """Before the bot talks to Telegram for an update, an update that has only read ends its
    transaction, so its database connection goes back to the pool
    (:func:`models.db.release_connection`): a request to Telegram takes tens to hundreds of
    milliseconds, the database work around it about a millisecond, so a few connections serve
    many updates in flight. An update that has written keeps its transaction until it ends."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        entry = _update_session.get()
        if entry is not None and entry[1] is asyncio.current_task():
            await release_connection(entry[0])
        return await make_request(bot, method)


def prepare_bot(bot: Bot) -> Bot:
    """What every Bot serving this Dispatcher needs (the production one and the tests')."""
    if not any(isinstance(m, ReleaseConnectionBeforeRequest) for m in bot.session.middleware[:]):
        bot.session.middleware(ReleaseConnectionBeforeRequest())
    return bot


class UpdateMiddleware(BaseMiddleware):
    """Everything an update needs before its handler, in one layer: a database session, the
    caller's profile and admin role, and the single error path.

    - One session per update, committed once after the handler returns (handlers that announce
      "saved" commit themselves first).
    - The profile is loaded (or created) once per update; the admin role is the profile's or
      ``ADMIN_IDS``.
    - A handler's exception is logged with its traceback, the session rolled back, and the user
      gets a translated apology; so does a failure to load the profile or to commit (the
      database unreachable for the moment): the next update retries.
    """

    def __init__(
        self, session_pool: async_sessionmaker[AsyncSession], settings: Settings, i18n: I18n
    ) -> None:
        self.session_pool = session_pool
        self.settings = settings
        self.i18n = i18n

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        data[REACHED_HANDLERS] = True
        try:
            async with self.session_pool() as session:
                data["session"] = session
                token = _update_session.set((session, asyncio.current_task()))
                try:
                    await self._load_user(session, data)
                    result = await self._handle(handler, event, data)
                finally:
                    _update_session.reset(token)
                if session.in_transaction():
                    await session.commit()
                return result
        except (SQLAlchemyError, OSError):
            logger.exception("Database unavailable while processing update %s", _update_id(event))
            data[OUTCOME] = "database_error"
            await self._apologise(event, data, self._locale(data))
            return None

    async def _load_user(self, session: AsyncSession, data: dict[str, Any]) -> None:
        tg_user: TgUser | None = data.get("event_from_user")
        data["user"] = None
        data["is_admin"] = False
        if tg_user is None or tg_user.is_bot:
            return
        user = await get_or_create_user(session, tg_user.id, tg_user.full_name, tg_user.username)
        chat = data.get("event_chat")
        if not user.reachable and chat is not None and chat.type == "private":
            # They write to the bot again (unblocked it): deliveries may resume.
            user.reachable = True
        data["user"] = user
        data["is_admin"] = user.is_admin or tg_user.id in self.settings.admin_ids

    async def _handle(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        try:
            return await handler(event, data)
        except Exception:
            logger.exception("Unhandled error while processing update %s", _update_id(event))
            data[OUTCOME] = "error"
            # Read the locale before the rollback expires the profile (a lazy load would need IO).
            locale = self._locale(data)
            await data["session"].rollback()
            await self._apologise(event, data, locale)
            return None

    def _locale(self, data: dict[str, Any]) -> str:
        return update_locale(data, self.i18n.default_locale)

    async def _apologise(self, event: TelegramObject, data: dict[str, Any], locale: str) -> None:
        await apologise(event, data, self.i18n, locale)


async def apologise(event: TelegramObject, data: dict[str, Any], i18n: I18n, locale: str) -> None:
    """The translated apology, to the person whose update could not be handled."""
    if not isinstance(event, Update):
        return
    bot: Bot = data["bot"]
    text = i18n.gettext(APOLOGY, locale=locale)
    try:
        if event.callback_query is not None:
            await bot.answer_callback_query(event.callback_query.id, text, show_alert=True)
        elif event.message is not None and event.message.chat.type == "private":
            await bot.send_message(event.message.chat.id, text)
    except Exception:
        logger.exception("Could not send the apology for update %s", event.update_id)


# How an update ended when not "ok" (error, database_error, storage_error), for the metrics
# (bot/observability.py): the layers below answer errors themselves, so nothing is raised.
OUTCOME = "kezdesu_outcome"

# Set by UpdateMiddleware when it starts: the update got past the FSM storage and its lock.
REACHED_HANDLERS = "kezdesu_reached_handlers"


class StorageGuardMiddleware(BaseMiddleware):
    """Outer ``dp.update`` middleware placed *before* aiogram's FSM middleware, which reads the
    state and takes the per-user lock (Redis when ``REDIS_URL`` is set). When that storage
    fails (Redis gone for the moment), the update never reaches ``UpdateMiddleware``; this layer
    logs one line and the person gets the translated apology instead of silence. The FSM state
    is left as it was (nothing is written after the failure).

    A failure after the handlers ran (releasing the lock) is logged only: the person has had
    the answer already. Handlers' own storage errors (``state.set_data`` …) are handled by
    ``UpdateMiddleware`` like any other error, so the database work is rolled back."""

    def __init__(self, session_pool: async_sessionmaker[AsyncSession], i18n: I18n) -> None:
        self.session_pool = session_pool
        self.i18n = i18n

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        try:
            return await handler(event, data)
        except Exception as exc:
            if data.get(REACHED_HANDLERS):
                # Releasing the lock or closing the state after the answer: nothing to tell.
                logger.exception("Error after update %s was handled", _update_id(event))
                data.setdefault(OUTCOME, "storage_error")
                return None
            logger.error(
                "State storage unavailable (REDIS_URL) for update %s: %s: %s",
                _update_id(event), type(exc).__name__, exc,
            )  # fmt: skip
            data[OUTCOME] = "storage_error"
            await apologise(event, data, self.i18n, await self._stored_locale(data))
            return None

    async def _stored_locale(self, data: dict[str, Any]) -> str:
        """The person's chosen language (one read, on this failure path only), else the hint."""
        tg_user: TgUser | None = data.get("event_from_user")
        if tg_user is not None:
            try:
                async with self.session_pool() as session:
                    user = await get_user(session, tg_user.id)
                if user is not None and user.locale:
                    return user.locale
            except (SQLAlchemyError, OSError):
                logger.warning("Could not read the locale of user %s", tg_user.id)
        return update_locale(data, self.i18n.default_locale)


def _update_id(event: TelegramObject) -> object:
    return event.update_id if isinstance(event, Update) else type(event).__name__
