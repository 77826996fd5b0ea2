"""Residents check a "done": confirming it, or saying it is not done, with a comment or a photo."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import Content
from bot.forms import TextReplies, form_text
from bot.keyboards.department import (
    CheckCb,
    FormAct,
    FormCb,
    skip_keyboard,
)
from bot.replies import refuse
from handlers.department.base import DisputeForm, measure_title, typed_text
from handlers.resident.shared import MAX_ID, VALID_ID
from models import departments as deps
from models.entities import Measure, MeasureStatus, User
from models.settings import Settings
from models.text import TextRule
from models.translation import N_
from scheduler.notifications import measures as notifications

DISPUTE = TextRule(minimum=2, maximum=1000)  # what is not done
CAPTION = TextRule(minimum=0, maximum=1000)  # the same, as a photo's caption
CAPTION_REPLIES = TextReplies(
    too_long=N_("The caption is too long: {length} characters, the limit is {limit}.")
)

# Queued to other people: translated into each recipient's language.


def router() -> Router:
    r = Router(name=__name__)
    r.callback_query.register(check_answer, CheckCb.filter(VALID_ID & (F.u > 0) & (F.u <= MAX_ID)))
    r.callback_query.register(
        dispute_skip, StateFilter(DisputeForm.details), FormCb.filter(F.act == FormAct.SKIP)
    )
    r.message.register(dispute_photo, StateFilter(DisputeForm.details), Content("photo"))
    r.message.register(dispute_text, StateFilter(DisputeForm.details), Content("text"))
    r.message.register(dispute_invalid, StateFilter(DisputeForm.details))
    return r


async def check_answer(
    query: CallbackQuery,
    callback_data: CheckCb,
    session: AsyncSession,
    user: User | None,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    measure = await session.get(Measure, callback_data.id)
    latest = await deps.latest_done_update(session, callback_data.id) if measure else None
    if (
        user is None
        or measure is None
        or measure.status != MeasureStatus.DONE
        or latest is None
        or latest.id != callback_data.u
    ):
        refuse(callback_answer, _("This measure is no longer marked done. Thank you anyway!"))
        return
    if callback_data.ok:
        callback_answer.text = _("Thank you for confirming!")
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=None)
        return
    if await deps.has_disputed(session, measure.id, user.id, latest.id):
        refuse(callback_answer, _("You have already told us; the department and the akimat know."))
        return
    await state.set_state(DisputeForm.details)
    await state.update_data(measure_id=measure.id, update_id=latest.id)
    if isinstance(query.message, Message):
        await query.message.answer(
            _(
                "What is not done? Send a short comment or a photo (you can add a caption), "
                "or press «Send without a comment». Your name is not shown to anyone."
            ),
            reply_markup=skip_keyboard(_("Send without a comment")),
        )


async def _finish_dispute(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User | None,
    i18n: I18n,
    settings: Settings,
    comment: str,
    photo: str | None,
) -> None:
    data = await state.get_data()
    await state.clear()
    measure = await deps.load_measure(session, int(data.get("measure_id", 0)))
    if user is None or measure is None or measure.status != MeasureStatus.DONE:
        await message.answer(_("This measure is no longer marked done. Thank you anyway!"))
        return
    dispute = await deps.create_dispute(
        session, measure.id, user.id, int(data.get("update_id", 0)), comment, photo
    )
    if dispute is None:
        await message.answer(_("You have already told us; the department and the akimat know."))
        return
    await session.flush()
    count = await deps.open_dispute_count(session, measure.id)
    await notifications.measure_disputed(
        session,
        i18n,
        settings.admin_ids,
        measure,
        measure_title(measure),
        dispute.id,
        comment,
        photo,
        count,
    )
    await session.commit()
    await message.answer(
        _(
            "Thank you. The department and the akimat are told, and the card shows how many "
            "residents disagree. You will hear when the measure changes."
        )
    )


async def dispute_photo(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User | None,
    i18n: I18n,
    settings: Settings,
) -> None:
    assert message.photo is not None
    caption, error = form_text(message.caption, CAPTION, CAPTION_REPLIES)
    if error is not None:
        await message.answer(error)
        return
    await _finish_dispute(
        message, state, session, user, i18n, settings, caption, message.photo[-1].file_id
    )


async def dispute_text(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User | None,
    i18n: I18n,
    settings: Settings,
) -> None:
    text, error = typed_text(message, DISPUTE)
    if error is not None:
        await message.answer(error)
        return
    await _finish_dispute(message, state, session, user, i18n, settings, text, None)


async def dispute_skip(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User | None,
    i18n: I18n,
    settings: Settings,
) -> None:
    if isinstance(query.message, Message):
        await _finish_dispute(query.message, state, session, user, i18n, settings, "", None)


async def dispute_invalid(message: Message) -> None:
    await message.answer(
        _("Please send text or a photo, or press «Send without a comment»."),
        reply_markup=skip_keyboard(_("Send without a comment")),
    )
