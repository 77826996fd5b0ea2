"""Questions raised orally at a meeting, registered by staff; and a meeting's agenda."""

from __future__ import annotations

from aiogram import F, Router, html
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import PlainText
from bot.forms import TextReplies, form_text
from bot.i18n import current_locale
from bot.keyboards.common import clamp_page
from bot.keyboards.moderation import (
    AGENDA_PAGE,
    ModAction,
    ModAgendaCb,
    ModCb,
    ModOralCb,
    OralOutcome,
    OralStep,
    agenda_keyboard,
    agenda_meeting_keyboard,
    meeting_label,
    oral_category_keyboard,
    oral_meeting_keyboard,
    oral_outcome_keyboard,
)
from bot.labels import question_label
from bot.replies import show
from handlers.admin.moderation import ModForm, leave_form, ref_of, render_queue, stale
from models import moderation as mod
from models.entities import Category, Meeting, QuestionStatus
from models.text import TextRule, truncate
from models.translation import N_

ORAL_TEXT = TextRule(maximum=mod.ORAL_TEXT_MAX)
ORAL_TEXT_REPLIES = TextReplies(
    empty=N_("The question cannot be empty. Please type it."),
    too_long=N_(
        "The question is too long ({length} characters; the limit is {limit}). "
        "Please shorten it and send it again."
    ),
)


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(oral_save_text, StateFilter(ModForm.oral_text), PlainText())
    r.message.register(oral_text_fallback, StateFilter(ModForm.oral_text))
    r.message.register(oral_outcome_fallback, StateFilter(ModForm.oral_outcome))
    r.callback_query.register(oral_choose_meeting, ModCb.filter(F.action == ModAction.ORAL))
    r.callback_query.register(oral_choose_category, ModOralCb.filter(F.step == OralStep.CATEGORY))
    r.callback_query.register(oral_ask_text, ModOralCb.filter(F.step == OralStep.TEXT))
    r.callback_query.register(
        oral_save, StateFilter(ModForm.oral_outcome), ModOralCb.filter(F.step == OralStep.OUTCOME)
    )
    r.callback_query.register(agenda_choose_meeting, ModCb.filter(F.action == ModAction.AGENDA))
    r.callback_query.register(show_agenda, ModAgendaCb.filter())
    return r


# --- oral questions --------------------------------------------------------------------------


async def oral_choose_meeting(
    query: CallbackQuery, session: AsyncSession, state: FSMContext
) -> None:
    await leave_form(state)
    meetings = await mod.recent_meetings(session)
    districts = await mod.districts_by_id(session)
    text = (
        _("🎤 A question raised orally at a meeting. Which meeting?")
        if meetings
        else _("There are no meetings yet; create one in the admin panel first.")
    )
    await show(query, text, oral_meeting_keyboard(meetings, districts, current_locale()))


async def oral_choose_category(
    query: CallbackQuery,
    callback_data: ModOralCb,
    session: AsyncSession,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    await leave_form(state)
    meeting = await session.get(Meeting, callback_data.meeting)
    if meeting is None:
        stale(callback_answer)
        return
    districts = await mod.districts_by_id(session)
    await show(
        query,
        _("🎤 {meeting}\nChoose the category:").format(
            meeting=html.quote(meeting_label(meeting, districts, current_locale()))
        ),
        oral_category_keyboard(meeting.id, await mod.categories(session), current_locale()),
    )


async def oral_ask_text(
    query: CallbackQuery,
    callback_data: ModOralCb,
    session: AsyncSession,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    meeting = await session.get(Meeting, callback_data.meeting)
    category = await session.get(Category, callback_data.cat)
    if meeting is None or category is None:
        stale(callback_answer)
        return
    await state.set_state(ModForm.oral_text)
    await state.set_data({"meeting_id": meeting.id, "category_id": category.id})
    await show(
        query,
        _("Type the question as it was raised (up to {limit} characters).").format(
            limit=mod.ORAL_TEXT_MAX
        ),
        None,
    )


async def oral_save_text(message: Message, state: FSMContext) -> None:
    text, problem = form_text(message.text, ORAL_TEXT, ORAL_TEXT_REPLIES)
    if problem is not None:
        await message.answer(problem)
        return
    data = await state.update_data(text=text)
    await state.set_state(ModForm.oral_outcome)
    await message.answer(
        _("What came of it?") + f"\n\n<i>{html.quote(truncate(text, 1500))}</i>",
        reply_markup=oral_outcome_keyboard(int(data["meeting_id"]), int(data["category_id"])),
    )


async def oral_text_fallback(message: Message) -> None:
    await message.answer(_("Please type the question as text, or send /cancel to stop."))


async def oral_save(
    query: CallbackQuery,
    callback_data: ModOralCb,
    session: AsyncSession,
    i18n: I18n,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    data = await state.get_data()
    meeting = await session.get(Meeting, int(data.get("meeting_id", 0)))
    category_id = int(data.get("category_id", 0))
    text = str(data.get("text", ""))
    if (
        meeting is None
        or meeting.id != callback_data.meeting
        or category_id != callback_data.cat
        or not text
        or callback_data.outcome == OralOutcome.NONE
    ):
        stale(callback_answer)
        return
    outcome = (
        QuestionStatus.ANSWERED_AT_MEETING
        if callback_data.outcome == OralOutcome.ANSWERED
        else QuestionStatus.IN_WORK
    )
    question = await mod.register_oral(session, meeting, category_id, text, outcome)
    await session.commit()
    await state.clear()
    callback_answer.text = _("Saved.")
    done = _("🎤 Registered as {ref}: {status}.").format(
        ref=ref_of(question), status=question_label(i18n, question.status)
    )
    queue_text, markup = await render_queue(session, 0, current_locale())
    await show(query, done + "\n\n" + queue_text, markup)


async def oral_outcome_fallback(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    await message.answer(
        _("Please choose what came of the question with a button."),
        reply_markup=oral_outcome_keyboard(
            int(data.get("meeting_id", 0)), int(data.get("category_id", 0))
        ),
    )


# --- agenda ----------------------------------------------------------------------------------


async def agenda_choose_meeting(
    query: CallbackQuery, session: AsyncSession, state: FSMContext
) -> None:
    await leave_form(state)
    meetings = await mod.recent_meetings(session)
    districts = await mod.districts_by_id(session)
    text = _("📋 Agenda of which meeting?") if meetings else _("There are no meetings yet.")
    await show(query, text, agenda_meeting_keyboard(meetings, districts, current_locale()))


async def show_agenda(
    query: CallbackQuery,
    callback_data: ModAgendaCb,
    session: AsyncSession,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    await leave_form(state)
    locale = current_locale()
    meeting = await session.get(Meeting, callback_data.meeting)
    if meeting is None:
        stale(callback_answer)
        return
    questions = list(await mod.agenda(session, meeting.id))
    page = clamp_page(callback_data.page, len(questions), AGENDA_PAGE)
    categories = {c.id: c for c in await mod.categories(session)}
    districts = await mod.districts_by_id(session)
    lines = [
        _("📋 <b>Agenda: {meeting}</b>").format(
            meeting=html.quote(meeting_label(meeting, districts, locale))
        ),
        _("Accepted questions, most supported first: {count}").format(count=len(questions)),
    ]
    start = page * AGENDA_PAGE
    for number, question in enumerate(questions[start : start + AGENDA_PAGE], start=start + 1):
        category = categories.get(question.category_id)
        lines.append("")
        lines.append(
            f"{number}. <b>{ref_of(question)}</b> · 👍 {question.supporters} · "
            f"{html.quote(category.short(locale) if category else '')}"
        )
        lines.append(f"<i>{html.quote(truncate(question.text, 250))}</i>")
    shown = questions[start : start + AGENDA_PAGE]
    markup = agenda_keyboard(meeting.id, page, len(questions), shown)
    await show(query, "\n".join(lines), markup)
