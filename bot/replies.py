"""Answering a pressed button: the next screen in place or below, and one way to refuse."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from models.translation import N_

ADMIN_ONLY = N_("Sorry, this is only for akimat staff.")


async def show(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Navigation: edit the pressed message in place; send a new message where it cannot be
    edited (a photo, an inline message, a message too old to be known)."""
    message = query.message
    if isinstance(message, Message) and message.text is not None:
        try:
            await message.edit_text(text, reply_markup=markup)
        except TelegramBadRequest as error:
            # a double tap shows the same screen again: nothing to change, not an error
            if "message is not modified" not in error.message:
                raise
        return
    if query.bot is not None:
        chat_id = message.chat.id if message is not None else query.from_user.id
        await query.bot.send_message(chat_id, text, reply_markup=markup)


async def send_below(
    query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """A new message in the chat of the pressed button, below it (the next step of a form)."""
    if isinstance(query.message, Message):
        await query.message.answer(text, reply_markup=markup)
    elif query.bot is not None:
        await query.bot.send_message(query.from_user.id, text, reply_markup=markup)


def refuse(callback_answer: CallbackAnswer, text: str | None = None) -> None:
    """A polite alert for a button that changes nothing now: the caller may not use it, or what
    it names is gone or has moved on. ``text`` is translated already; the default is the admin
    area's refusal."""
    callback_answer.text = _(ADMIN_ONLY) if text is None else text
    callback_answer.show_alert = True
