"""Keyboards of first contact and settings, and the shared pagination row."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.callbacks import DistrictCb, LangCb, Origin, SettingsAction, SettingsCb
from bot.i18n import LANGUAGE_NAMES
from bot.keyboards.builder import Keyboard
from models.entities import District


def language_keyboard(origin: Origin, selected: str | None) -> InlineKeyboardMarkup:
    builder = Keyboard()
    for code, name in LANGUAGE_NAMES.items():
        text = f"✅ {name}" if code == selected else name
        builder.button(text=text, callback_data=LangCb(code=code, origin=origin))
    builder.adjust(3)
    return builder.as_markup()


def district_keyboard(
    districts: Sequence[District], origin: Origin, locale: str, selected: int | None = None
) -> InlineKeyboardMarkup:
    builder = Keyboard()
    for district in districts:
        text = district.short(locale)
        if district.id == selected:
            text = f"✅ {text}"
        builder.button(text=text, callback_data=DistrictCb(id=district.id, origin=origin))
    builder.adjust(2)
    return builder.as_markup()


def settings_keyboard(night_pushes: bool, monthly_summary: bool = True) -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(text=_("🌐 Language"), callback_data=SettingsCb(action=SettingsAction.LANGUAGE))
    builder.button(text=_("🏙 District"), callback_data=SettingsCb(action=SettingsAction.DISTRICT))
    night = _("🌙 Night notifications: on") if night_pushes else _("🌙 Night notifications: off")
    builder.button(text=night, callback_data=SettingsCb(action=SettingsAction.NIGHT))
    summary = _("📋 Monthly summary: on") if monthly_summary else _("📋 Monthly summary: off")
    builder.button(text=summary, callback_data=SettingsCb(action=SettingsAction.SUMMARY))
    builder.button(text=_("✖️ Close"), callback_data=SettingsCb(action=SettingsAction.CLOSE))
    builder.adjust(2, 1, 1, 1)
    return builder.as_markup()


def pagination_row(
    page: int, pages: int, make: Callable[[int], CallbackData | str]
) -> list[InlineKeyboardButton]:
    """``◀️ 2/5 ▶️``; empty when everything fits on one page. Pages are 0-based. ``make`` gives
    a page's callback data (or its packed text)."""
    if pages <= 1:
        return []

    def data(p: int) -> str:
        made = make(p)
        return made if isinstance(made, str) else made.pack()

    row = []
    if page > 0:
        row.append(InlineKeyboardButton(text="◀️", callback_data=data(page - 1)))
    row.append(InlineKeyboardButton(text=f"{page + 1}/{pages}", callback_data=data(page)))
    if page < pages - 1:
        row.append(InlineKeyboardButton(text="▶️", callback_data=data(page + 1)))
    return row


def page_count(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


def clamp_page(page: int, total: int, per_page: int) -> int:
    """A page number from a (possibly stale or forged) button, kept inside the list."""
    return min(max(page, 0), page_count(total, per_page) - 1)
