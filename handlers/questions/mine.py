"""«My questions»: what the resident has sent, with statuses, answers and reasons."""

from __future__ import annotations

from aiogram import Router, html
from aiogram.filters import Command, StateFilter
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.formatting import fmt_date, fmt_datetime
from bot.i18n import current_locale
from bot.keyboards.common import clamp_page, page_count
from bot.keyboards.questions import QMyCb, my_questions_keyboard
from bot.labels import question_label
from bot.menu import MenuButton, MenuItem
from models.clock import to_local
from models.entities import QuestionStatus, User
from models.questions import categories_by_id, count_user_questions, meetings_by_id, user_questions
from models.text import truncate

MY_PER_PAGE = 5
# (question text, answer, reject reason) lengths on a "my questions" page, longest first.
MY_TRUNCATION = ((300, 600, 300), (200, 350, 150), (120, 200, 100))
PAGE_BUDGET = 3900  # characters of HTML; what the user sees is never longer


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(show_my_questions, Command("myquestions"), StateFilter(None))
    r.message.register(show_my_questions, MenuButton(MenuItem.MY_QUESTIONS), StateFilter(None))
    r.callback_query.register(page_my_questions, QMyCb.filter())
    return r


async def _my_questions_page(
    session: AsyncSession, user: User, page: int, i18n: I18n, locale: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    total = await count_user_questions(session, user.id)
    page = clamp_page(page, total, MY_PER_PAGE)
    items = await user_questions(session, user.id, offset=page * MY_PER_PAGE, limit=MY_PER_PAGE)
    if not items:
        return (
            _(
                "You have not sent any questions yet. Press «❓ Ask a question» to send one "
                "before the next meeting."
            ),
            None,
        )
    cats = await categories_by_id(session, {q.category_id for q in items})
    meetings = await meetings_by_id(
        session, {q.meeting_id for q in items if q.meeting_id is not None}
    )
    header = _("🗂 <b>My questions</b> ({count})").format(count=total)
    # Long texts, answers and reasons are cut shorter until the page fits one message.
    for text_max, answer_max, reason_max in MY_TRUNCATION:
        blocks = [header]
        for question in items:
            category = cats.get(question.category_id)
            head = " · ".join(
                [
                    f"<b>{html.quote(question.ref or f'#{question.id}')}</b>",
                    fmt_date(to_local(question.created_at).date(), locale, "medium"),
                    html.quote(category.short(locale)) if category else "—",
                ]
            )
            lines = [
                head,
                _("Status: {status}").format(status=question_label(i18n, question.status, locale)),
                f"<i>{html.quote(truncate(question.text, text_max))}</i>",
            ]
            meeting = meetings.get(question.meeting_id or 0)
            if meeting is not None:
                lines.append(
                    _("Meeting: {date}").format(date=fmt_datetime(meeting.starts_at, locale))
                )
            else:
                lines.append(_("Meeting: the district's next meeting"))
            if question.supporters:
                lines.append(_("Supported by: {count}").format(count=question.supporters))
            if question.status == QuestionStatus.REJECTED and question.reject_reason:
                lines.append(
                    _("Reason: {reason}").format(
                        reason=html.quote(truncate(question.reject_reason, reason_max))
                    )
                )
            if question.answer:
                lines.append(
                    _("Answer: {answer}").format(
                        answer=html.quote(truncate(question.answer, answer_max))
                    )
                )
            blocks.append("\n".join(lines))
        text = "\n\n".join(blocks)
        if len(text) <= PAGE_BUDGET:
            break
    markup = my_questions_keyboard(page, page_count(total, MY_PER_PAGE))
    return text, markup


async def show_my_questions(
    message: Message, session: AsyncSession, user: User, i18n: I18n
) -> None:
    text, markup = await _my_questions_page(session, user, 0, i18n, current_locale())
    await message.answer(text, reply_markup=markup)


async def page_my_questions(
    query: CallbackQuery, callback_data: QMyCb, session: AsyncSession, user: User, i18n: I18n
) -> None:
    if not isinstance(query.message, Message):
        return
    text, markup = await _my_questions_page(
        session, user, callback_data.page, i18n, current_locale()
    )
    await query.message.edit_text(text, reply_markup=markup)
