"""The command menu shown by Telegram, set once per language at start-up."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats
from aiogram.utils.i18n import I18n

from bot.i18n import N_, SUPPORTED_LOCALES

logger = logging.getLogger(__name__)

COMMANDS = (
    ("start", N_("Start and choose language and district")),
    ("menu", N_("Main menu")),
    ("find", N_("Search commitments")),
    ("following", N_("What I follow")),
    ("settings", N_("Language, district, notifications")),
    ("mydata", N_("What the bot stores about me")),
    ("forget", N_("Delete my personal data")),
    ("cancel", N_("Stop filling in a form")),
    ("help", N_("How the bot works")),
)


def bot_commands(i18n: I18n, locale: str) -> list[BotCommand]:
    return [
        BotCommand(command=name, description=i18n.gettext(text, locale=locale))
        for name, text in COMMANDS
    ]


async def set_commands(bot: Bot, i18n: I18n, default_locale: str) -> None:
    """Per-language command menus; a Bot API server that refuses them is logged and ignored."""
    scope = BotCommandScopeAllPrivateChats()
    try:
        for locale in SUPPORTED_LOCALES:
            await bot.set_my_commands(bot_commands(i18n, locale), scope=scope, language_code=locale)
        await bot.set_my_commands(bot_commands(i18n, default_locale), scope=scope)
    except TelegramAPIError as exc:
        logger.warning("The Bot API server refused set_my_commands: %s", exc)
