"""The main menu: a persistent reply keyboard whose labels are translated.

Handlers recognise a label in any of the three languages with ``MenuButton(item)``: a user who
switched language may still press a button of the old keyboard.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from aiogram.filters import Filter
from aiogram.types import KeyboardButton, Message, ReplyKeyboardMarkup
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.i18n import all_translations
from models.translation import N_


class MenuItem(StrEnum):
    COMMITMENTS = "commitments"
    ASK = "ask"
    NEXT_MEETING = "next_meeting"
    MY_QUESTIONS = "my_questions"
    FOLLOWING = "following"
    SETTINGS = "settings"
    HELP = "help"
    OUR_MEASURES = "our_measures"  # department members
    ADMIN = "admin"  # akimat staff


LABELS: dict[MenuItem, str] = {
    MenuItem.COMMITMENTS: N_("📋 Commitments"),
    MenuItem.ASK: N_("❓ Ask a question"),
    MenuItem.NEXT_MEETING: N_("📅 Next meeting"),
    MenuItem.MY_QUESTIONS: N_("🗂 My questions"),
    MenuItem.FOLLOWING: N_("🔔 Following"),
    MenuItem.SETTINGS: N_("⚙️ Settings"),
    MenuItem.HELP: N_("ℹ️ Help"),
    MenuItem.OUR_MEASURES: N_("🏢 Our measures"),
    MenuItem.ADMIN: N_("🛠 Admin panel"),
}

_cache: dict[tuple[int, MenuItem], frozenset[str]] = {}


def labels_for(i18n: I18n, item: MenuItem) -> frozenset[str]:
    key = (id(i18n), item)
    if key not in _cache:
        _cache[key] = all_translations(i18n, LABELS[item])
    return _cache[key]


def label(item: MenuItem) -> str:
    """The item's label in the current locale."""
    return _(LABELS[item])


class MenuButton(Filter):
    """Matches a message whose text is the label of one main-menu item (any language)."""

    def __init__(self, *items: MenuItem) -> None:
        self.items = items or tuple(MenuItem)

    async def __call__(self, message: Message, i18n: I18n) -> bool | dict[str, Any]:
        if not message.text:
            return False
        for item in self.items:
            if message.text in labels_for(i18n, item):
                return {"menu_item": item}
        return False


def main_menu(*, official: bool = False, admin: bool = False) -> ReplyKeyboardMarkup:
    rows = [
        [label(MenuItem.COMMITMENTS), label(MenuItem.NEXT_MEETING)],
        [label(MenuItem.ASK), label(MenuItem.MY_QUESTIONS)],
        [label(MenuItem.FOLLOWING), label(MenuItem.SETTINGS), label(MenuItem.HELP)],
    ]
    extra = []
    if official:
        extra.append(label(MenuItem.OUR_MEASURES))
    if admin:
        extra.append(label(MenuItem.ADMIN))
    if extra:
        rows.append(extra)
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=t) for t in row] for row in rows],
        resize_keyboard=True,
        is_persistent=True,
    )
