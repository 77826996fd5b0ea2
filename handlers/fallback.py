"""The last router: whatever nobody else handled gets a clear answer, never silence."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import ChatType, CommandLike
from bot.replies import refuse
from handlers.common import start
from models.entities import User


def router() -> Router:
    """Tried last; in groups, messages nobody handled get no answer."""
    r = Router(name=__name__)
    r.message.filter(ChatType("private"))
    r.message.register(start_with_unknown_payload, CommandStart())
    r.message.register(unexpected_in_form, ~StateFilter(None))
    r.message.register(unknown_command, CommandLike())
    r.message.register(unexpected_message)
    r.callback_query.register(stale_button)
    return r


async def start_with_unknown_payload(
    message: Message, session: AsyncSession, user: User, is_admin: bool, state: FSMContext
) -> None:
    """A deep link nobody recognised (old, mistyped): behave like a plain /start."""
    await start(message, session, user, is_admin, state)


async def stale_button(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    refuse(
        callback_answer,
        _("This button is out of date or no longer available. Please open the menu again."),
    )


async def unexpected_in_form(message: Message) -> None:
    await message.answer(
        _(
            "I did not expect that here; what you entered so far is kept. "
            "Please answer the last question above, or send /cancel to stop."
        )
    )


async def unknown_command(message: Message) -> None:
    await message.answer(_("I do not know this command. Send /help to see what I can do."))


async def unexpected_message(message: Message) -> None:
    await message.answer(
        _(
            "I understand text and the buttons below. Type a word to search the commitments, "
            "or open /menu."
        )
    )
