"""Registering a promise stated at a meeting that its published plan lacks (meeting card →
🗣): text → deadline as said (resolved against the meeting's date) → responsible departments
(codes, or none) → preview → save. Residents then see it with its mark, can follow it, and its
departments get reminders like for any measure."""

from __future__ import annotations

from aiogram import F, Router, html
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import Content
from bot.formatting import fmt_date
from bot.forms import TextReplies, form_text
from bot.i18n import current_locale
from bot.keyboards.admin import MeetAction, MeetCb, SpokenAction, SpokenFormCb, spoken_form_keyboard
from bot.replies import refuse, send_below, show
from models.entities import Department
from models.meetings import get_meeting
from models.plans import department_index, split_executors
from models.spoken import MAX_SPOKEN_DEADLINE, MAX_SPOKEN_TEXT, add_spoken_promise, resolve_deadline
from models.text import TextRule, fold
from models.translation import N_

TEXT = TextRule(minimum=10, maximum=MAX_SPOKEN_TEXT)
DEADLINE = TextRule(maximum=MAX_SPOKEN_DEADLINE, one_line=True)
CODES = TextRule(maximum=500)
TEXT_REPLIES = TextReplies(
    too_long=N_("The promise is too long: {count} characters, at most {max}. Please shorten it."),
    too_short=N_("Please describe the promise in at least {min} characters."),
)
DEADLINE_REPLIES = TextReplies(
    too_long=N_("Please send a deadline of up to {limit} characters."),
)
CODES_REPLIES = TextReplies(too_long=N_("Please send a text of up to {limit} characters."))


class SpokenForm(StatesGroup):
    text = State()
    deadline = State()
    departments = State()
    preview = State()


def router() -> Router:
    r = Router(name=__name__)
    r.callback_query.register(spoken_start, MeetCb.filter(F.action == MeetAction.SPOKEN))
    r.callback_query.register(
        spoken_skip,
        SpokenFormCb.filter(F.action == SpokenAction.SKIP),
        StateFilter(SpokenForm.deadline, SpokenForm.departments),
    )
    r.callback_query.register(
        spoken_save,
        SpokenFormCb.filter(F.action == SpokenAction.SAVE),
        StateFilter(SpokenForm.preview),
    )
    r.callback_query.register(
        spoken_discard,
        SpokenFormCb.filter(F.action == SpokenAction.DISCARD),
        StateFilter(SpokenForm),
    )
    r.message.register(spoken_text, StateFilter(SpokenForm.text), Content("text"))
    r.message.register(spoken_deadline, StateFilter(SpokenForm.deadline), Content("text"))
    r.message.register(spoken_departments, StateFilter(SpokenForm.departments), Content("text"))
    r.message.register(spoken_unexpected, StateFilter(SpokenForm))
    return r


PROMPTS = {
    SpokenForm.text.state: N_(
        "🗣 <b>A promise stated at the meeting</b>, not in the published plan.\n"
        "Send its text as said, for example «Реконструкция 415 м тепловых сетей» "
        "(send /cancel to stop at any step):"
    ),
    SpokenForm.deadline.state: N_(
        "The deadline as said, for example <code>до конца года</code> or "
        "<code>до 1 сентября текущего года</code> (read against the meeting's date), or skip "
        "if none was named:"
    ),
    SpokenForm.departments.state: N_(
        "The responsible departments' codes, for example <code>УЭиВ</code> or "
        "<code>УО и УКС</code>, or skip if none was named:"
    ),
}


async def _prompt(message: Message, state: FSMContext) -> None:
    current = await state.get_state()
    markup = None
    if current in {SpokenForm.deadline.state, SpokenForm.departments.state}:
        markup = spoken_form_keyboard(SpokenAction.SKIP)
    await message.answer(_(PROMPTS[str(current)]), reply_markup=markup)


async def spoken_start(
    query: CallbackQuery,
    callback_data: MeetCb,
    session: AsyncSession,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    meeting = await get_meeting(session, callback_data.id)
    if meeting is None:
        refuse(callback_answer, _("This meeting no longer exists."))
        return
    await state.clear()
    await state.set_state(SpokenForm.text)
    await state.set_data({"meeting_id": meeting.id})
    await send_below(query, _(PROMPTS[SpokenForm.text.state]))


async def spoken_text(message: Message, state: FSMContext) -> None:
    text, problem = form_text(message.text, TEXT, TEXT_REPLIES)
    if problem is not None:
        await message.answer(problem)
        return
    await state.update_data(text=text)
    await state.set_state(SpokenForm.deadline)
    await _prompt(message, state)


async def spoken_deadline(message: Message, state: FSMContext) -> None:
    deadline, problem = form_text(message.text, DEADLINE, DEADLINE_REPLIES)
    if problem is not None:
        await message.answer(problem, reply_markup=spoken_form_keyboard(SpokenAction.SKIP))
        return
    await state.update_data(deadline=deadline)
    await state.set_state(SpokenForm.departments)
    await _prompt(message, state)


async def spoken_departments(message: Message, session: AsyncSession, state: FSMContext) -> None:
    raw, problem = form_text(message.text, CODES, CODES_REPLIES)
    if problem is not None:
        await message.answer(problem, reply_markup=spoken_form_keyboard(SpokenAction.SKIP))
        return
    departments = list((await session.execute(select(Department))).scalars())
    index = department_index(departments)
    codes = split_executors(raw)
    unknown = [code for code in codes if fold(code) not in index]
    if unknown or not codes:
        await message.answer(
            _("Unknown department codes: {codes}. Send known codes, or skip.").format(
                codes=html.quote(", ".join(unknown or [raw]))
            ),
            reply_markup=spoken_form_keyboard(SpokenAction.SKIP),
        )
        return
    ids = list(dict.fromkeys(index[fold(code)] for code in codes))
    await state.update_data(department_ids=ids)
    await _preview(message, session, state)


async def spoken_skip(
    query: CallbackQuery, session: AsyncSession, state: FSMContext, callback_answer: CallbackAnswer
) -> None:
    if not isinstance(query.message, Message):
        return
    if await state.get_state() == SpokenForm.deadline.state:
        await state.update_data(deadline="")
        await state.set_state(SpokenForm.departments)
        await show(query, _("Skipped."), None)
        await _prompt(query.message, state)
        return
    await state.update_data(department_ids=[])
    await show(query, _("Skipped."), None)
    await _preview(query.message, session, state)


async def _preview(message: Message, session: AsyncSession, state: FSMContext) -> None:
    data = await state.get_data()
    meeting = await get_meeting(session, int(data["meeting_id"]))
    if meeting is None:
        await state.clear()
        await message.answer(_("This meeting no longer exists."))
        return
    locale = current_locale()
    deadline = str(data.get("deadline", ""))
    due = resolve_deadline(deadline, meeting) if deadline else None
    ids = [int(i) for i in data.get("department_ids", [])]
    names = []
    if ids:
        found = await session.execute(select(Department).where(Department.id.in_(ids)))
        by_id = {d.id: d for d in found.scalars()}
        names = [by_id[i].short(locale) for i in ids if i in by_id]
    if not deadline:
        when = _("none named: it is never reminded")
    elif due is None:
        when = _("{deadline} (no date: it is never reminded)").format(deadline=html.quote(deadline))
    else:
        when = f"{html.quote(deadline)} → {fmt_date(due, locale)}"
    lines = [
        _("🗣 <b>Preview: a promise stated at the meeting</b>"),
        html.quote(str(data["text"])),
        _("Deadline: {deadline}").format(deadline=when),
        _("Responsible: {departments}").format(
            departments=html.quote(", ".join(names)) if names else _("none named")
        ),
    ]
    await state.set_state(SpokenForm.preview)
    await message.answer(
        "\n".join(lines),
        reply_markup=spoken_form_keyboard(SpokenAction.SAVE, SpokenAction.DISCARD),
    )


async def spoken_save(
    query: CallbackQuery, session: AsyncSession, state: FSMContext, callback_answer: CallbackAnswer
) -> None:
    data = await state.get_data()
    meeting = await get_meeting(session, int(data["meeting_id"]))
    await state.clear()
    if meeting is None:
        refuse(callback_answer, _("This meeting no longer exists."))
        return
    measure = await add_spoken_promise(
        session,
        meeting,
        str(data["text"]),
        str(data.get("deadline", "")),
        [int(i) for i in data.get("department_ids", [])],
    )
    await session.commit()
    callback_answer.text = _("Saved.")
    await show(
        query,
        _("💾 Saved: residents see it among the meeting's commitments (🗣{number}).").format(
            number=measure.position
        ),
        None,
    )


async def spoken_discard(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await show(query, _("Discarded."), None)


async def spoken_unexpected(message: Message, state: FSMContext) -> None:
    if await state.get_state() == SpokenForm.preview.state:
        await message.answer(
            _("Please press «Save» or «Discard» above."),
        )
        return
    await message.answer(_("Please answer with text."))
    await _prompt(message, state)
