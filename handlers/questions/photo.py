"""A photo with a question: optional, one per question, kept as Telegram's file id.

A resident may send it at any step before the question is sent (with the question as its caption
at the text step, or on its own), or add, replace or remove it from the preview («✏️ Change
something» → «📷 Photo»). A second photo is refused with the way to replace the first; voice
messages, videos, files and stickers get a clear answer at every step; nothing typed is lost.
"""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import current_locale
from bot.keyboards.questions import QFormCb, photo_keyboard
from bot.replies import refuse
from handlers.questions.form import (
    AskForm,
    nonce_ok,
    prompt_address,
    prompt_category,
    prompt_publicity,
    prompt_text,
    show_preview,
    stale_text,
)
from models.entities import User


def photo_file_id(message: Message) -> str:
    assert message.photo
    return message.photo[-1].file_id  # the largest size


def received_text() -> str:
    return _("📷 Photo received: it goes with your question (one photo per question).")


def one_photo_text() -> str:
    return _(
        "Only one photo can go with a question, and yours already has one; this one was not "
        "added. To replace it, press «✏️ Change something» → «📷 Photo» under the preview."
    )


def only_text_and_photo() -> str:
    return _(
        "Only text and one photo are accepted: voice messages, videos, files and stickers "
        "cannot be. Please write your question as text; you may add one photo."
    )


async def keep_photo(message: Message, state: FSMContext) -> bool:
    """Keep the message's photo unless the question has one; answers a second photo (once per
    album) and returns False."""
    data = await state.get_data()
    album = message.media_group_id
    if data.get("photo"):
        if album is None or data.get("album") != album:
            await state.update_data(album=album)
            await message.answer(one_photo_text())
        return False
    await state.update_data(photo=photo_file_id(message), album=album)
    return True


async def photo_at_a_step(
    message: Message, state: FSMContext, session: AsyncSession, user: User
) -> None:
    """A photo at the category, address, name or preview step: kept, and the step asked again."""
    if not await keep_photo(message, state):
        return
    await message.answer(received_text())
    locale = current_locale()
    match await state.get_state():
        case AskForm.category.state:
            await prompt_category(message, state, session, locale)
        case AskForm.text.state:
            await prompt_text(message, state)
        case AskForm.address.state:
            await prompt_address(message, state)
        case AskForm.publicity.state:
            await prompt_publicity(message, state, user)
        case _:
            await show_preview(message, state, session, user, locale)


async def prompt_photo(message: Message, state: FSMContext) -> None:
    """From the preview: add, replace or remove the photo."""
    data = await state.get_data()
    await state.set_state(AskForm.photo)
    if data.get("photo"):
        text = _("Your question has a photo. Send another photo to replace it, or remove it.")
    else:
        text = _("Send one photo of the problem (as a photo, not as a file).")
    await message.answer(text, reply_markup=photo_keyboard(data["f"], bool(data.get("photo"))))


async def photo_replaced(
    message: Message, state: FSMContext, session: AsyncSession, user: User
) -> None:
    """The photo step opened from the preview: a photo replaces the one kept."""
    await state.update_data(photo=photo_file_id(message), album=message.media_group_id)
    await message.answer(received_text())
    await show_preview(message, state, session, user, current_locale())


async def photo_step_fallback(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    await message.answer(
        _(
            "Only a photo is accepted here: send it as a photo (not as a file, video or voice "
            "message), or press «⬅️ Back to the preview»."
        ),
        reply_markup=photo_keyboard(data["f"], bool(data.get("photo"))),
    )


async def photo_removed(
    query: CallbackQuery,
    callback_data: QFormCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    callback_answer: CallbackAnswer,
) -> None:
    if not await nonce_ok(state, callback_data.f) or not isinstance(query.message, Message):
        refuse(callback_answer, stale_text())
        return
    await state.update_data(photo=None, album=None)
    await query.message.edit_text(_("The photo is removed from the question."))
    await show_preview(query.message, state, session, user, current_locale())


async def photo_back(
    query: CallbackQuery,
    callback_data: QFormCb,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    callback_answer: CallbackAnswer,
) -> None:
    if not await nonce_ok(state, callback_data.f) or not isinstance(query.message, Message):
        refuse(callback_answer, stale_text())
        return
    await query.message.edit_reply_markup(reply_markup=None)
    await show_preview(query.message, state, session, user, current_locale())
