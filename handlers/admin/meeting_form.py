"""Creating a meeting: district, date and time, place, akim, moderator, stream, question deadline,
preview, save (and, from the import, on to the plan)."""

from __future__ import annotations

import datetime as dt

from aiogram import Bot, F, Router, html
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import Content
from bot.formatting import fmt_datetime
from bot.forms import form_text
from bot.i18n import current_locale
from bot.keyboards.admin import (
    FormAction,
    MeetDistrictCb,
    MeetFormCb,
    form_button,
    form_districts_keyboard,
    meeting_card_keyboard,
    preview_keyboard,
)
from bot.replies import refuse, send_below, show
from handlers.admin.meetings import (
    AKIM,
    BAD_URL,
    FIELD_REPLIES,
    MEETING_STATUS,
    MODERATOR,
    PLACE,
    MeetingForm,
    card_text,
    check_intake,
    valid_url,
)
from handlers.admin.plan_import import begin_import
from models.clock import parse_local_datetime as parse_moment
from models.entities import Meeting, MeetingStatus, User
from models.meetings import MeetingEvent, get_meeting, slot_taken
from models.translation import N_
from models.users import get_district, list_districts
from scheduler.notifications import meetings as notifications

STEP_PROMPTS = {
    MeetingForm.starts_at.state: N_(
        "Date and time of the meeting, Almaty time, for example <code>23.06.2022 15:00</code>:"
    ),
    MeetingForm.place.state: N_("Where does it take place? Send the venue and address:"),
    MeetingForm.akim.state: N_("Who holds the meeting? For example: Досаев Е. А."),
    MeetingForm.moderator.state: N_("Who moderates it? Send the name, or skip:"),
    MeetingForm.stream.state: N_(
        "Link to the live stream (starting with http:// or https://), or skip:"
    ),
    MeetingForm.intake.state: N_(
        "Until when does the bot accept residents' questions? Send a date and time like "
        "<code>22.06.2022 18:00</code> (before the start), or skip to accept them until the "
        "meeting starts:"
    ),
}
SKIPPABLE = {MeetingForm.moderator.state, MeetingForm.stream.state, MeetingForm.intake.state}


def router() -> Router:
    """The form's message steps take text only; anything else gets the step's prompt again."""
    r = Router(name=__name__)
    r.callback_query.register(
        form_district, MeetDistrictCb.filter(F.meeting == 0), StateFilter(MeetingForm.district)
    )
    r.callback_query.register(
        form_starts_at_held,
        MeetFormCb.filter(F.action == FormAction.HELD),
        StateFilter(MeetingForm.starts_at),
    )
    r.callback_query.register(
        form_skip, MeetFormCb.filter(F.action == FormAction.SKIP), StateFilter(MeetingForm)
    )
    r.callback_query.register(
        form_save, MeetFormCb.filter(F.action == FormAction.SAVE), StateFilter(MeetingForm.preview)
    )
    r.callback_query.register(form_discard, MeetFormCb.filter(F.action == FormAction.DISCARD))
    form = Router(name=f"{__name__}.form")
    form.message.filter(StateFilter(MeetingForm))
    form.message.register(form_district_expected, StateFilter(MeetingForm.district))
    form.message.register(form_starts_at, StateFilter(MeetingForm.starts_at), Content("text"))
    form.message.register(form_place, StateFilter(MeetingForm.place), Content("text"))
    form.message.register(form_akim, StateFilter(MeetingForm.akim), Content("text"))
    form.message.register(form_moderator, StateFilter(MeetingForm.moderator), Content("text"))
    form.message.register(form_stream, StateFilter(MeetingForm.stream), Content("text"))
    form.message.register(form_intake, StateFilter(MeetingForm.intake), Content("text"))
    form.message.register(form_preview_expected, StateFilter(MeetingForm.preview))
    form.message.register(form_unexpected)
    r.include_router(form)
    return r


async def _ask_step(message: Message, state: FSMContext, step: State) -> None:
    await state.set_state(step)
    markup = form_button(FormAction.SKIP) if step.state in SKIPPABLE else None
    await message.answer(_(STEP_PROMPTS[str(step.state)]), reply_markup=markup)


async def form_district(
    query: CallbackQuery,
    callback_data: MeetDistrictCb,
    session: AsyncSession,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    district = await get_district(session, callback_data.district)
    if district is None or not isinstance(query.message, Message):
        refuse(callback_answer, _("This district no longer exists."))
        return
    await state.update_data(district_id=district.id)
    await show(
        query,
        _("District: {district}").format(district=html.quote(district.name(current_locale()))),
        None,
    )
    await _ask_step(query.message, state, MeetingForm.starts_at)


async def form_district_expected(message: Message, session: AsyncSession) -> None:
    districts = await list_districts(session)
    await message.answer(
        _("Please choose the district with the buttons:"),
        reply_markup=form_districts_keyboard(districts, current_locale()),
    )


async def form_starts_at(message: Message, session: AsyncSession, state: FSMContext) -> None:
    moment = parse_moment(message.text or "")
    if moment is None:
        await message.answer(
            _(
                "I could not read this date. Send the date and time like "
                "<code>23.06.2022 15:00</code> (day.month.year hours:minutes, Almaty time)."
            )
        )
        return
    data = await state.get_data()
    if await slot_taken(session, int(data["district_id"]), moment):
        await message.answer(
            _("This district already has a meeting at this time. Send another date and time.")
        )
        return
    await state.update_data(starts_at=moment.isoformat(), held=False)
    if moment <= dt.datetime.now(dt.UTC):
        await message.answer(
            _(
                "This moment is in the past. Send a future date and time, or, if you are "
                "recording a meeting that was already held, press the button."
            ),
            reply_markup=form_button(FormAction.HELD),
        )
        return
    await _ask_step(message, state, MeetingForm.place)


async def form_starts_at_held(
    query: CallbackQuery, state: FSMContext, callback_answer: CallbackAnswer
) -> None:
    data = await state.get_data()
    if not data.get("starts_at") or not isinstance(query.message, Message):
        callback_answer.text = _("Send the date and time first.")
        return
    await state.update_data(held=True)
    await show(query, _("Recording a meeting that was already held."), None)
    await _ask_step(query.message, state, MeetingForm.place)


async def form_place(message: Message, state: FSMContext) -> None:
    value, problem = form_text(message.text, PLACE, FIELD_REPLIES)
    if problem is not None:
        await message.answer(problem)
        return
    await state.update_data(place=value)
    await _ask_step(message, state, MeetingForm.akim)


async def form_akim(message: Message, state: FSMContext) -> None:
    value, problem = form_text(message.text, AKIM, FIELD_REPLIES)
    if problem is not None:
        await message.answer(problem)
        return
    await state.update_data(akim=value)
    await _ask_step(message, state, MeetingForm.moderator)


async def form_moderator(message: Message, state: FSMContext) -> None:
    value, problem = form_text(message.text, MODERATOR, FIELD_REPLIES)
    if problem is not None:
        await message.answer(problem)
        return
    await state.update_data(moderator=value)
    await _ask_step(message, state, MeetingForm.stream)


async def form_stream(message: Message, state: FSMContext) -> None:
    url = valid_url(message.text or "")
    if url is None:
        await message.answer(_(BAD_URL), reply_markup=form_button(FormAction.SKIP))
        return
    await state.update_data(stream_url=url)
    await _after_stream(message, state)


async def _after_stream(message: Message, state: FSMContext) -> None:
    if (await state.get_data()).get("held"):
        await _show_preview(message, state)  # no question intake for a meeting already held
        return
    await _ask_step(message, state, MeetingForm.intake)


async def form_intake(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    moment = parse_moment(message.text or "")
    problem = check_intake(moment, dt.datetime.fromisoformat(data["starts_at"]))
    if problem is not None or moment is None:
        await message.answer(problem or "", reply_markup=form_button(FormAction.SKIP))
        return
    await state.update_data(intake=moment.isoformat())
    await _show_preview(message, state)


async def form_skip(
    query: CallbackQuery, state: FSMContext, callback_answer: CallbackAnswer
) -> None:
    current = await state.get_state()
    if current not in SKIPPABLE or not isinstance(query.message, Message):
        callback_answer.text = _("This step cannot be skipped.")
        return
    await show(query, _("Skipped."), None)
    if current == MeetingForm.moderator.state:
        await state.update_data(moderator="")
        await _ask_step(query.message, state, MeetingForm.stream)
    elif current == MeetingForm.stream.state:
        await state.update_data(stream_url="")
        await _after_stream(query.message, state)
    else:
        await state.update_data(intake=None)
        await _show_preview(query.message, state)


async def _show_preview(message: Message, state: FSMContext) -> None:
    await state.set_state(MeetingForm.preview)
    data = await state.get_data()
    locale = current_locale()
    starts_at = dt.datetime.fromisoformat(data["starts_at"])
    intake = dt.datetime.fromisoformat(data["intake"]) if data.get("intake") else None
    lines = [
        _("<b>Check the new meeting</b>"),
        _("When: {when}").format(when=fmt_datetime(starts_at, locale)),
        _("Where: {place}").format(place=html.quote(data.get("place", ""))),
        _("Akim: {akim}").format(akim=html.quote(data.get("akim", ""))),
        _("Moderator: {moderator}").format(moderator=html.quote(data.get("moderator") or "—")),
        _("Live stream: {url}").format(url=html.quote(data.get("stream_url") or "—")),
    ]
    if data.get("held"):
        lines.append(_("Status: {status}").format(status=_(MEETING_STATUS[MeetingStatus.HELD])))
    else:
        lines.append(
            _("Questions accepted until: {deadline}").format(
                deadline=fmt_datetime(intake or starts_at, locale)
            )
        )
        lines.append(_("Residents following the district will be notified."))
    await message.answer("\n".join(lines), reply_markup=preview_keyboard())


async def form_save(
    query: CallbackQuery,
    session: AsyncSession,
    state: FSMContext,
    i18n: I18n,
    bot: Bot,
    user: User,
    callback_answer: CallbackAnswer,
) -> None:
    data = await state.get_data()
    district = await get_district(session, int(data["district_id"]))
    starts_at = dt.datetime.fromisoformat(data["starts_at"])
    if district is None or await slot_taken(session, district.id, starts_at):
        refuse(
            callback_answer,
            _("This district already has a meeting at this time. Send another date and time."),
        )
        if district is not None and isinstance(query.message, Message):
            await _ask_step(query.message, state, MeetingForm.starts_at)
        return
    held = bool(data.get("held"))
    meeting = Meeting(
        district_id=district.id,
        starts_at=starts_at,
        place=data.get("place", ""),
        akim=data.get("akim", ""),
        moderator=data.get("moderator") or "",
        stream_url=data.get("stream_url") or "",
        intake_closes_at=dt.datetime.fromisoformat(data["intake"]) if data.get("intake") else None,
        status=MeetingStatus.HELD if held else MeetingStatus.SCHEDULED,
    )
    session.add(meeting)
    await session.flush()
    notified = 0
    if not held:
        notified = await notifications.meeting_changed(
            session, i18n, meeting, district, MeetingEvent.CREATED
        )
    await session.commit()
    saved = await get_meeting(session, meeting.id)
    assert saved is not None
    await show(
        query, _("💾 Saved. Notices queued for {count} followers.").format(count=notified), None
    )
    if data.get("then_import"):
        await begin_import(query, session, state, bot, user, saved)
        return
    await state.clear()
    await send_below(
        query, await card_text(session, saved, current_locale()), meeting_card_keyboard(saved)
    )


async def form_discard(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await show(query, _("Discarded. Nothing was saved."), None)


async def form_preview_expected(message: Message) -> None:
    await message.answer(
        _("Press «Save» under the summary above, or /cancel to stop."),
    )


async def form_unexpected(message: Message, state: FSMContext) -> None:
    """Anything but text in a text step: re-ask, keeping what was entered."""
    step = await state.get_state()
    prompt = STEP_PROMPTS.get(str(step))
    text = _("Please answer with text.")
    if prompt:
        text += "\n" + _(prompt)
    markup = form_button(FormAction.SKIP) if step in SKIPPABLE else None
    await message.answer(text, reply_markup=markup)
