""" "Already promised or asked?": once the question's text is written, the district's measures
and the meeting's accepted questions close to it (:mod:`models.similar`), with «🔔 Follow» and
«👍 Support» buttons. The resident can still send theirs: the form goes on below the list."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import current_locale
from bot.keyboards.questions import (
    QSimilarCb,
    SimilarKind,
    similar_keyboard,
    similar_lines,
)
from bot.replies import refuse
from handlers.questions.form import stale_text
from handlers.questions.support import support_refusal
from models.clock import local_today
from models.entities import Measure, Question, User
from models.follows import follow
from models.questions import (
    SUPPORT_MILESTONES,
    SupportResult,
    question_target,
    support,
    supported_ids,
)
from models.similar import similar_items
from scheduler.notifications import questions as notifications


async def show_similar(
    message: Message, state: FSMContext, session: AsyncSession, user: User, i18n: I18n
) -> None:
    """After the text step: the close items, if any (nothing is said when there are none)."""
    data = await state.get_data()
    district_id: int = data["district_id"]
    if "meeting_id" in data:  # where the question goes, noted when the form began
        meeting_id: int | None = data["meeting_id"]
    else:
        target = await question_target(session, district_id)
        meeting_id = target.meeting.id if target.meeting is not None else None
    similar = await similar_items(
        session, data["text"], district_id=district_id, meeting_id=meeting_id, today=local_today()
    )
    if not similar:
        return
    locale = current_locale()
    lines = [
        _("🔎 <b>Already promised or asked?</b>"),
        _(
            "These look close to your question: follow or support them to hear of them. You "
            "can still send yours: the form goes on below."
        ),
        "",
        *similar_lines(similar, locale, i18n),
    ]
    questions = [
        (q.ref or f"#{q.id}", q.id) for q in similar.questions if user.district_id == district_id
    ]
    markup = similar_keyboard([(r.number, r.id) for r in similar.measures], questions)
    await message.answer("\n".join(lines), reply_markup=markup)


async def similar_button(
    query: CallbackQuery,
    callback_data: QSimilarCb,
    session: AsyncSession,
    user: User,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    """«🔔 Follow» a close measure, or «👍 Support» a close question: once, from any step."""
    if callback_data.kind is SimilarKind.MEASURE:
        if await session.get(Measure, callback_data.id) is None:
            refuse(callback_answer, stale_text())
            return
        await follow(session, user.id, measure_id=callback_data.id)
        await session.commit()
        callback_answer.text = _(
            "You follow this commitment: the bot will tell you when it changes or slips."
        )
        return
    question = await session.get(Question, callback_data.id)
    if question is None:
        refuse(callback_answer, stale_text())
        return
    refusal = support_refusal(question, user)
    if refusal is not None:
        refuse(callback_answer, refusal)
        return
    if question.id not in await supported_ids(session, user.id, [question.id]):
        result = await support(session, question, user)
        if result is SupportResult.ADDED and question.supporters in SUPPORT_MILESTONES:
            await notifications.support_milestone(session, i18n, question, question.supporters)
        await session.commit()
    callback_answer.text = _("Thank you: you support this question.")
