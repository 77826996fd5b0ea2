"""Callback data and keyboards of statistics (``st``) and exports (``ex``).

Both choose a scope the same way: a meeting, a district, this quarter, this year, all time, or
dates typed by the admin. A scope travels in the callback as ids and ``yyyymmdd`` integers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import StrEnum

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.keyboards.admin import back_to_panel_button
from bot.keyboards.builder import Keyboard
from bot.keyboards.moderation import meeting_label
from models.entities import District, Meeting
from models.stats import Scope, ScopeKind, date_to_int


class ReportAction(StrEnum):
    MENU = "mn"  # choose the kind of scope
    MEETINGS = "ml"  # list meetings
    DISTRICTS = "dl"  # list districts
    DATES = "dt"  # type the dates
    SHOW = "sh"  # stats: the report; exports: choose the format
    CHART = "ch"  # stats only
    XLSX = "xl"  # exports only
    CSV = "cs"  # exports only


class StatsCb(CallbackData, prefix="st"):
    action: ReportAction
    kind: ScopeKind = ScopeKind.ALL
    id: int = 0
    start: int = 0
    end: int = 0


class ExportCb(CallbackData, prefix="ex"):
    action: ReportAction
    kind: ScopeKind = ScopeKind.ALL
    id: int = 0
    start: int = 0
    end: int = 0


Factory = Callable[..., StatsCb | ExportCb]


def scope_data(factory: Factory, action: ReportAction, scope: Scope) -> StatsCb | ExportCb:
    return factory(
        action=action,
        kind=scope.kind,
        id=scope.id,
        start=date_to_int(scope.start) if scope.kind == ScopeKind.PERIOD else 0,
        end=date_to_int(scope.end) if scope.kind == ScopeKind.PERIOD else 0,
    )


def scope_menu_keyboard(factory: Factory) -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(text=_("📅 A meeting"), callback_data=factory(action=ReportAction.MEETINGS))
    builder.button(text=_("🏙 A district"), callback_data=factory(action=ReportAction.DISTRICTS))
    builder.button(
        text=_("This quarter"),
        callback_data=factory(action=ReportAction.SHOW, kind=ScopeKind.QUARTER),
    )
    builder.button(
        text=_("This year"), callback_data=factory(action=ReportAction.SHOW, kind=ScopeKind.YEAR)
    )
    builder.button(
        text=_("All time"), callback_data=factory(action=ReportAction.SHOW, kind=ScopeKind.ALL)
    )
    builder.button(text=_("✍️ Enter dates"), callback_data=factory(action=ReportAction.DATES))
    builder.adjust(2, 3, 1)
    builder.row(back_to_panel_button())
    return builder.as_markup()


def _back_to_menu(factory: Factory) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=_("◀️ Back"), callback_data=factory(action=ReportAction.MENU).pack()
    )


def meetings_keyboard(
    factory: Factory, meetings: Sequence[Meeting], districts: dict[int, District], locale: str
) -> InlineKeyboardMarkup:
    builder = Keyboard()
    for meeting in meetings:
        builder.button(
            text=meeting_label(meeting, districts, locale),
            callback_data=factory(action=ReportAction.SHOW, kind=ScopeKind.MEETING, id=meeting.id),
        )
    builder.adjust(1)
    builder.row(_back_to_menu(factory))
    return builder.as_markup()


def districts_keyboard(
    factory: Factory, districts: Sequence[District], locale: str
) -> InlineKeyboardMarkup:
    builder = Keyboard()
    for district in districts:
        builder.button(
            text=district.short(locale),
            callback_data=factory(
                action=ReportAction.SHOW, kind=ScopeKind.DISTRICT, id=district.id
            ),
        )
    builder.adjust(2)
    builder.row(_back_to_menu(factory))
    return builder.as_markup()


def report_keyboard(scope: Scope) -> InlineKeyboardMarkup:
    """Under a statistics message: the chart, the same scope's export, back."""
    builder = Keyboard()
    builder.button(text=_("📊 Chart"), callback_data=scope_data(StatsCb, ReportAction.CHART, scope))
    builder.button(text=_("⬇️ Export"), callback_data=scope_data(ExportCb, ReportAction.SHOW, scope))
    builder.adjust(2)
    builder.row(_back_to_menu(StatsCb))
    return builder.as_markup()


def format_keyboard(scope: Scope) -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.button(text=_("📗 XLSX"), callback_data=scope_data(ExportCb, ReportAction.XLSX, scope))
    builder.button(text=_("📄 CSV"), callback_data=scope_data(ExportCb, ReportAction.CSV, scope))
    builder.adjust(2)
    builder.row(_back_to_menu(ExportCb))
    return builder.as_markup()


def cancel_keyboard(factory: Factory) -> InlineKeyboardMarkup:
    builder = Keyboard()
    builder.row(_back_to_menu(factory))
    return builder.as_markup()
