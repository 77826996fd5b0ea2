"""Supporting other residents' questions for a meeting."""

from __future__ import annotations

from aiogram import F, Router, html
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.formatting import fmt_datetime
from bot.i18n import current_locale
from bot.keyboards.common import clamp_page, page_count
from bot.keyboards.questions import QSupportCb, SupportAction, support_keyboard
from bot.replies import refuse
from handlers.questions.form import stale_text
from models.entities import Meeting, Question, User
from models.questions import (
    SUPPORT_MILESTONES,
    SupportResult,
    can_support,
    categories_by_id,
    count_public,
    ranked_questions,
    support,
    supported_ids,
    unsupport,
)
from models.text import truncate
from scheduler.notifications import questions as notifications

SUPPORT_PER_PAGE = 5


def support_refusal(question: Question, user: User) -> str | None:
    """Why ``user`` may not support ``question`` (None: they may), in the current language."""
    refusal = can_support(question, user)
    if refusal is SupportResult.OWN:
        return _("You cannot support your own question.")
    if refusal is not None:
        return _(
            "Only residents of the district can support questions that moderators accepted "
            "for its meeting. Your district is set in ⚙️ Settings."
        )
    return None


def router() -> Router:
    r = Router(name=__name__)
    r.callback_query.register(list_supportable, QSupportCb.filter(F.action == SupportAction.LIST))
    r.callback_query.register(toggle_support, QSupportCb.filter(F.action == SupportAction.TOGGLE))
    return r


async def _support_page(
    session: AsyncSession, user: User, meeting: Meeting, page: int, locale: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    total = await count_public(session, meeting.id)
    page = clamp_page(page, total, SUPPORT_PER_PAGE)
    items = await ranked_questions(
        session, meeting.id, offset=page * SUPPORT_PER_PAGE, limit=SUPPORT_PER_PAGE
    )
    lines = [
        _("👍 <b>Residents' questions for the meeting on {date}</b>").format(
            date=fmt_datetime(meeting.starts_at, locale)
        ),
        _(
            "Support the questions that matter to you: one tap on its number, "
            "tap again to withdraw. The most supported go first."
        ),
    ]
    if not items:
        lines.append("")
        lines.append(_("No questions have been accepted for this meeting yet."))
        return "\n".join(lines), None
    cats = await categories_by_id(session, {q.category_id for q in items})
    numbered = list(enumerate(items, start=page * SUPPORT_PER_PAGE + 1))
    for number, question in numbered:
        category = cats.get(question.category_id)
        lines.append("")
        lines.append(
            f"<b>{number}.</b> "
            + html.quote(category.short(locale) if category else "—")
            + f" · 👍 {question.supporters}"
        )
        lines.append(html.quote(truncate(question.text, 500)))
        if question.show_name and question.author_name:
            lines.append(
                _("Asked by {name}").format(name=html.quote(truncate(question.author_name, 60)))
            )
        if question.author_id == user.id:
            lines.append(_("(your question)"))
    mine = await supported_ids(session, user.id, [q.id for q in items])
    markup = support_keyboard(
        meeting.id, page, page_count(total, SUPPORT_PER_PAGE), numbered, mine, user.id
    )
    return "\n".join(lines), markup


async def list_supportable(
    query: CallbackQuery,
    callback_data: QSupportCb,
    session: AsyncSession,
    user: User,
    callback_answer: CallbackAnswer,
) -> None:
    meeting = await session.get(Meeting, callback_data.meeting)
    if meeting is None or not isinstance(query.message, Message):
        refuse(callback_answer, stale_text())
        return
    text, markup = await _support_page(session, user, meeting, callback_data.page, current_locale())
    await query.message.edit_text(text, reply_markup=markup)


async def toggle_support(
    query: CallbackQuery,
    callback_data: QSupportCb,
    session: AsyncSession,
    user: User,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    question = await session.get(Question, callback_data.q)
    meeting = await session.get(Meeting, callback_data.meeting)
    if question is None or meeting is None or question.meeting_id != meeting.id:
        refuse(callback_answer, stale_text())
        return
    refusal = support_refusal(question, user)
    if refusal is not None:
        refuse(callback_answer, refusal)
        return
    already = question.id in await supported_ids(session, user.id, [question.id])
    result = await unsupport(session, question, user) if already else None
    if result is None:
        result = await support(session, question, user)
        if result is SupportResult.ADDED and question.supporters in SUPPORT_MILESTONES:
            await notifications.support_milestone(session, i18n, question, question.supporters)
    await session.commit()
    if result is SupportResult.REMOVED:
        callback_answer.text = _("Support withdrawn.")
    else:
        callback_answer.text = _("Thank you: you support this question.")
    if isinstance(query.message, Message):
        text, markup = await _support_page(
            session, user, meeting, callback_data.page, current_locale()
        )
        await query.message.edit_text(text, reply_markup=markup)
