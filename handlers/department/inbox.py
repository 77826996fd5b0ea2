"""The question inbox: residents' questions routed to the department; take, answer, return."""

from __future__ import annotations

from aiogram import F, Router, html
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.formatting import fmt_date, fmt_datetime
from bot.i18n import current_locale
from bot.keyboards.common import clamp_page, page_count
from bot.keyboards.department import (
    QUEUE_MARKS,
    InboxCb,
    Purpose,
    QuestionAct,
    QuestionCb,
    inbox_keyboard,
    pick_keyboard,
    question_keyboard,
)
from bot.replies import refuse
from handlers.department.base import (
    ANSWER,
    NOT_ALLOWED,
    NOT_FOUND,
    PER_PAGE,
    REASON,
    QuestionForm,
    is_group,
    may_view_department,
    prompt,
    show_or_send,
    typed_text,
    viewable_department,
    visible_departments,
)
from models import departments as deps
from models.claims import claim_question
from models.entities import Category, Department, DepartmentQueue, Question, User
from models.permissions import can_handle_question
from models.settings import Settings
from models.text import truncate
from models.translation import N_
from scheduler.notifications import questions as notifications

QUEUE_LABELS: dict[str, str] = {
    DepartmentQueue.NEW: N_("new"),
    DepartmentQueue.IN_WORK: N_("in work"),
    DepartmentQueue.ANSWERED: N_("answered"),
    DepartmentQueue.RETURNED: N_("returned to the akimat"),
}


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(inbox_command, Command("inbox"), StateFilter(None))
    r.callback_query.register(show_inbox, InboxCb.filter(F.q.in_(deps.INBOX_QUEUES)))
    r.callback_query.register(question_action, QuestionCb.filter())
    r.message.register(answer_text, StateFilter(QuestionForm.answer))
    r.message.register(return_reason, StateFilter(QuestionForm.reason))
    return r


async def inbox_command(message: Message, session: AsyncSession, user: User | None) -> None:
    mine = await visible_departments(session, message, user)
    if not mine:
        await message.answer(
            _("This group is not a chat of any department.")
            if is_group(message)
            else _("You are not a member of any department.")
        )
        return
    if len(mine) > 1:
        await message.answer(
            _("Choose the department:"),
            reply_markup=pick_keyboard(mine, Purpose.INBOX, current_locale()),
        )
        return
    text, markup = await _inbox_page(session, mine[0], DepartmentQueue.NEW, 0, current_locale())
    await message.answer(text, reply_markup=markup)


async def _inbox_page(
    session: AsyncSession, department: Department, queue: DepartmentQueue, page: int, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    counts = await deps.inbox_counts(session, department.id)
    total = counts.get(queue.value, 0)
    page = clamp_page(page, total, PER_PAGE)
    questions = await deps.inbox_page(session, department.id, queue, page, PER_PAGE)
    lines = [
        _("<b>📥 Residents' questions: {department}</b>").format(
            department=html.quote(department.name(locale))
        ),
        " · ".join(
            f"{QUEUE_MARKS[q]} {_(QUEUE_LABELS[q])}: {counts[q.value]}"
            for q in (DepartmentQueue.NEW, DepartmentQueue.IN_WORK, DepartmentQueue.ANSWERED)
        ),
        "",
        f"<b>{QUEUE_MARKS[queue]} {_(QUEUE_LABELS[queue])}</b>",
    ]
    if not questions:
        lines.append(_("No questions here."))
    for question in questions:
        lines.append(
            f"• <b>{html.quote(question.ref or '#' + str(question.id))}</b> "
            f"{fmt_date(question.created_at.date(), locale, 'medium')}: "
            f"{html.quote(truncate(question.text, 160))}"
        )
    markup = inbox_keyboard(
        questions, department.id, queue, counts, page, page_count(total, PER_PAGE)
    )
    return "\n".join(lines), markup


async def show_inbox(
    query: CallbackQuery,
    callback_data: InboxCb,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    callback_answer: CallbackAnswer,
) -> None:
    department = await viewable_department(
        query, session, user, is_admin, callback_data.dep, callback_answer
    )
    if department is None:
        return
    text, markup = await _inbox_page(
        session, department, callback_data.q, callback_data.page, current_locale()
    )
    await show_or_send(query, text, markup)


async def _question_view(session: AsyncSession, question: Question, locale: str) -> str:
    category = await session.get(Category, question.category_id)
    lines = [
        _("<b>Question {ref}</b>").format(ref=html.quote(question.ref or f"#{question.id}")),
        _("📨 Received: {date}").format(date=fmt_datetime(question.created_at, locale)),
    ]
    if category is not None:
        lines.append(_("🏷 Category: {category}").format(category=html.quote(category.name(locale))))
    # Never a resident's Telegram identity; the name only when they chose to show it.
    author = question.author_name if question.show_name and question.author_name else None
    lines.append(
        _("From: {name}").format(name=html.quote(author)) if author else _("From: anonymous")
    )
    if question.address:
        lines.append(_("📍 Address: {address}").format(address=html.quote(question.address)))
    if question.supporters:
        lines.append(_("Residents who support it: {count}").format(count=question.supporters))
    if question.photo_file_id:
        lines.append(_("📷 A photo is attached."))
    lines += ["", f"<i>{html.quote(truncate(question.text, 2500))}</i>", ""]
    queue = question.department_queue or ""
    lines.append(_("In the inbox: {queue}").format(queue=_(QUEUE_LABELS.get(queue, queue))))
    if question.answer:
        lines.append(
            _("Answer: {answer}").format(answer=html.quote(truncate(question.answer, 1000)))
        )
    return "\n".join(lines)


async def _authorized_question(
    session: AsyncSession,
    question_id: int,
    user: User | None,
    is_admin: bool,
    chat_id: int,
    callback_answer: CallbackAnswer | None,
    *,
    view_only: bool = False,
) -> Question | None:
    question = await session.get(Question, question_id)
    if question is None or question.department_id is None or question.department_queue is None:
        if callback_answer is not None:
            refuse(callback_answer, _(NOT_FOUND))
        return None
    if view_only:
        allowed = await may_view_department(
            session, user, is_admin, chat_id, question.department_id
        )
    else:
        allowed = await can_handle_question(session, user, is_admin, question)
    if not allowed:
        if callback_answer is not None:
            refuse(callback_answer, _(NOT_ALLOWED))
        return None
    return question


async def question_action(
    query: CallbackQuery,
    callback_data: QuestionCb,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    if not isinstance(query.message, Message):
        return
    act = callback_data.act
    question = await _authorized_question(
        session,
        callback_data.id,
        user,
        is_admin,
        query.message.chat.id,
        callback_answer,
        view_only=act in (QuestionAct.VIEW, QuestionAct.PHOTO),
    )
    if question is None:
        return
    locale = current_locale()
    if act is QuestionAct.PHOTO:
        if not question.photo_file_id:
            refuse(callback_answer, _(NOT_FOUND))
            return
        await query.message.answer_photo(
            question.photo_file_id,
            caption=_("📷 Photo of the question {ref}").format(
                ref=html.quote(question.ref or f"#{question.id}")
            ),
        )
        return
    if act is QuestionAct.TAKE:
        if not deps.can_take(question) or not await claim_question(session, question):
            refuse(callback_answer, _("This question is no longer new."))
            return
        deps.take_question(question)
        await session.commit()
        callback_answer.text = _("Taken into work.")
    elif act in (QuestionAct.ANSWER, QuestionAct.RETURN):
        if not deps.can_answer(question):
            refuse(callback_answer, _("This question is already answered or returned."))
            return
        ref = html.quote(question.ref or f"#{question.id}")
        if act is QuestionAct.ANSWER:
            await state.set_state(QuestionForm.answer)
            text = _(
                "Write the answer to question {ref}. The resident receives it as you write it."
            ).format(ref=ref)
        else:
            await state.set_state(QuestionForm.reason)
            text = _(
                "Why should question {ref} go to another department? The akimat will reassign it."
            ).format(ref=ref)
        await state.update_data(question_id=question.id)
        await prompt(query.message, text + "\n" + _("/cancel to stop."))
        return
    await show_or_send(
        query, await _question_view(session, question, locale), question_keyboard(question)
    )


async def _form_question(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
) -> Question | None:
    data = await state.get_data()
    question = await _authorized_question(
        session, int(data.get("question_id", 0)), user, is_admin, message.chat.id, None
    )
    if question is None:
        await state.clear()
        await message.answer(_(NOT_ALLOWED))
        return None
    if not deps.can_answer(question) or not await claim_question(session, question):
        await state.clear()
        await message.answer(_("This question was answered or returned meanwhile."))
        return None
    return question


async def answer_text(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    i18n: I18n,
) -> None:
    text, error = typed_text(message, ANSWER)
    if error is not None:
        await message.answer(error + "\n" + _("Write the answer as text."))
        return
    question = await _form_question(message, state, session, user, is_admin)
    if question is None:
        return
    await state.clear()
    deps.answer_question(question, text)
    await session.flush()
    await notifications.question_news(session, i18n, question, event="answered")
    await session.commit()
    await message.answer(_("Answer saved; the resident will receive it."))
    await message.answer(
        await _question_view(session, question, current_locale()),
        reply_markup=question_keyboard(question),
    )


async def return_reason(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    user: User | None,
    is_admin: bool,
    i18n: I18n,
    settings: Settings,
) -> None:
    text, error = typed_text(message, REASON)
    if error is not None:
        await message.answer(error + "\n" + _("Write the reason as text."))
        return
    question = await _form_question(message, state, session, user, is_admin)
    if question is None:
        return
    await state.clear()
    department = await deps.get_department(session, question.department_id or 0)
    deps.return_question(question, text)
    await session.flush()
    await notifications.question_returned(
        session, i18n, settings.admin_ids, question, department, text
    )
    await session.commit()
    await message.answer(_("Returned to the akimat for reassignment. Thank you."))
