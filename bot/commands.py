"""The command menus shown by Telegram, and the bot's description and short description, set
once per language at start-up.

Three menus: residents' (every private chat), department groups' (every group chat: the
commands that work there) and the akimat staff's (the private chats of ``ADMIN_IDS``: the
residents' menu plus the admin commands). Admins granted from the command line see the
residents' menu; their commands work all the same.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    MenuButtonDefault,
    MenuButtonWebApp,
    WebAppInfo,
)
from aiogram.utils.i18n import I18n

from bot.i18n import SUPPORTED_LOCALES
from models.translation import N_

logger = logging.getLogger(__name__)

Scope = BotCommandScopeAllPrivateChats | BotCommandScopeAllGroupChats | BotCommandScopeChat

COMMANDS = (
    ("start", N_("Start and choose language and district")),
    ("menu", N_("Main menu")),
    ("find", N_("Search commitments")),
    ("ask", N_("Ask a question before the meeting")),
    ("myquestions", N_("My questions and their answers")),
    ("following", N_("What I follow")),
    ("settings", N_("Language, district, notifications")),
    ("mydata", N_("What the bot stores about me")),
    ("forget", N_("Delete my personal data")),
    ("cancel", N_("Stop filling in a form")),
    ("help", N_("How the bot works")),
)

GROUP_COMMANDS = (
    ("join", N_("Bind this group to a department (invitation code)")),
    ("measures", N_("The department's measures")),
    ("inbox", N_("Questions routed to the department")),
    ("leave", N_("Unbind this group from its department")),
)

ADMIN_COMMANDS = (
    ("admin", N_("Admin panel")),
    ("moderate", N_("Moderation queue")),
    ("stats", N_("Statistics")),
    ("export", N_("Export questions and measures")),
)


def bot_commands(
    i18n: I18n, locale: str, commands: Sequence[tuple[str, str]] = COMMANDS
) -> list[BotCommand]:
    return [
        BotCommand(command=name, description=i18n.gettext(text, locale=locale))
        for name, text in commands
    ]


async def set_commands(
    bot: Bot, i18n: I18n, default_locale: str, admin_ids: Iterable[int] = ()
) -> None:
    """Per-language command menus; a Bot API server that refuses them is logged and ignored."""
    menus: list[tuple[Scope, Sequence[tuple[str, str]]]] = [
        (BotCommandScopeAllPrivateChats(), COMMANDS),
        (BotCommandScopeAllGroupChats(), GROUP_COMMANDS),
    ]
    menus += [(BotCommandScopeChat(chat_id=i), COMMANDS + ADMIN_COMMANDS) for i in admin_ids]
    for scope, commands in menus:
        try:
            for locale in SUPPORTED_LOCALES:
                await bot.set_my_commands(
                    bot_commands(i18n, locale, commands),
                    scope=scope,
                    language_code=locale,
                )
            await bot.set_my_commands(
                bot_commands(i18n, default_locale, commands),
                scope=scope,
            )
        except TelegramAPIError as exc:  # e.g. an admin who never opened the bot
            logger.warning("The Bot API server refused set_my_commands for %s: %s", scope, exc)


MENU_BUTTON = N_("Commitments")


async def set_menu_button(
    bot: Bot, i18n: I18n, default_locale: str, public_url: str | None
) -> None:
    """With ``WEB_PUBLIC_URL`` the menu button of private chats opens the city overview as a
    Mini App (in the language Telegram's app asks for); without it, Telegram's default (the
    command list) is put back."""
    try:
        if public_url:
            await bot.set_chat_menu_button(
                menu_button=MenuButtonWebApp(
                    text=i18n.gettext(MENU_BUTTON, locale=default_locale),
                    web_app=WebAppInfo(url=f"{public_url}/"),  # the page follows the app's language
                )
            )
        else:
            await bot.set_chat_menu_button(menu_button=MenuButtonDefault())
    except TelegramAPIError as exc:
        logger.warning("The Bot API server refused set_chat_menu_button: %s", exc)


# What a newcomer's empty chat shows before /start (up to 512 characters), and the bot's profile
# and shared links (up to 120), in each language.
DESCRIPTION = N_(
    "Kezdesu keeps the promises of the Almaty akim's meetings with residents visible. "
    "Check what was promised in your district and whether it is done, follow a commitment "
    "to hear when it changes or is overdue, and ask a question before the next meeting. "
    "Russian, Kazakh and English. Press «Start»."
)
SHORT_DESCRIPTION = N_(
    "The akim's promises to Almaty residents: status, deadlines, questions before meetings."
)


async def set_descriptions(bot: Bot, i18n: I18n, default_locale: str) -> None:
    """The description and short description in each language (and the default); a Bot API
    server that refuses them is logged and ignored."""
    for locale in (*SUPPORTED_LOCALES, None):
        language = locale or default_locale
        try:
            await bot.set_my_description(
                description=i18n.gettext(DESCRIPTION, locale=language), language_code=locale
            )
            await bot.set_my_short_description(
                short_description=i18n.gettext(SHORT_DESCRIPTION, locale=language),
                language_code=locale,
            )
        except TelegramAPIError as exc:
            logger.warning("The Bot API server refused the bot's description (%s): %s", locale, exc)
