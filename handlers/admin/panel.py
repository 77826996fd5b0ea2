"""The admin panel: /admin, the menu button and the panel's home screen."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.callbacks import AdminCb, AdminSection
from bot.keyboards.admin import panel_keyboard
from bot.menu import MenuButton, MenuItem
from bot.replies import show


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(open_panel, Command("admin"))
    r.message.register(open_panel, MenuButton(MenuItem.ADMIN), StateFilter(None))
    r.callback_query.register(panel_home, AdminCb.filter(F.section == AdminSection.HOME))
    return r


def panel_text() -> str:
    return _(
        "🛠 <b>Admin panel</b>\n\n"
        "Meetings, action plans, announcements, departments, moderation of residents' "
        "questions, statistics and exports. Choose a section:"
    )


async def open_panel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(panel_text(), reply_markup=panel_keyboard())


async def panel_home(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await show(query, panel_text(), panel_keyboard())
