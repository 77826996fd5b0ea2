"""Meetings: the list by district, a meeting's card, editing it, cancelling it, its outcome."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from aiogram import F, Router, html
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import AdminCb, AdminSection
from bot.filters import Content
from bot.formatting import fmt_datetime, fmt_number
from bot.forms import TextReplies, form_text
from bot.i18n import current_locale
from bot.keyboards.admin import (
    MEETINGS_PER_PAGE,
    FormAction,
    MeetAction,
    MeetCb,
    MeetDistrictCb,
    MeetField,
    MeetFieldCb,
    MeetFormCb,
    cancel_confirm_keyboard,
    edit_fields_keyboard,
    form_button,
    form_districts_keyboard,
    meeting_card_keyboard,
    meeting_districts_keyboard,
    meeting_list_keyboard,
)
from bot.keyboards.common import clamp_page
from bot.replies import refuse, send_below, show
from models.clock import parse_local_datetime as parse_moment
from models.entities import OUTCOME_FIELDS, District, Meeting, MeetingStatus
from models.meetings import (
    MAX_OUTCOME_VALUE,
    MeetingEvent,
    get_meeting,
    list_meetings,
    plan_counts,
    slot_taken,
)
from models.text import TextRule
from models.translation import N_
from models.users import get_district, list_districts
from scheduler.notifications import followers as follower_news
from scheduler.notifications import meetings as notifications

MAX_URL = 500
# The meeting's free-text fields (one line each).
# A place or an akim's name of one or two characters is a slip of the finger, not a name.
PLACE = TextRule(minimum=3, maximum=500, one_line=True)
AKIM = TextRule(minimum=3, maximum=200, one_line=True)
MODERATOR = TextRule(maximum=300, one_line=True)
FIELD_REPLIES = TextReplies(
    too_long=N_("Please send a text of up to {limit} characters."),
    too_short=N_("That is too short. Characters needed at least: {min}."),
)


class MeetingForm(StatesGroup):
    district = State()
    starts_at = State()
    place = State()
    akim = State()
    moderator = State()
    stream = State()
    intake = State()
    preview = State()


class MeetingEdit(StatesGroup):
    value = State()


class OutcomeForm(StatesGroup):
    value = State()


MEETING_STATUS = {
    MeetingStatus.SCHEDULED: N_("scheduled"),
    MeetingStatus.HELD: N_("held"),
    MeetingStatus.CANCELLED: N_("cancelled"),
}
OUTCOME_LABELS = {
    "participants": N_("Participants"),
    "speakers": N_("Speakers"),
    "questions_raised": N_("Questions raised"),
    "answered_at_meeting": N_("Answered at the meeting"),
    "questions_done": N_("Questions resolved"),
    "questions_in_work": N_("Questions in work"),
}


def router() -> Router:
    r = Router(name=__name__)
    r.callback_query.register(
        meetings_districts, AdminCb.filter(F.section == AdminSection.MEETINGS)
    )
    r.callback_query.register(meetings_districts, MeetCb.filter(F.action == MeetAction.DISTRICTS))
    r.callback_query.register(meetings_list, MeetCb.filter(F.action == MeetAction.LIST))
    r.callback_query.register(meeting_open, MeetCb.filter(F.action == MeetAction.OPEN))
    r.callback_query.register(meeting_new, MeetCb.filter(F.action == MeetAction.NEW))
    r.callback_query.register(meeting_edit, MeetCb.filter(F.action == MeetAction.EDIT))
    r.callback_query.register(meeting_edit_field, MeetFieldCb.filter())
    r.callback_query.register(meeting_set_district, MeetDistrictCb.filter(F.meeting != 0))
    r.callback_query.register(
        meeting_edit_skip,
        MeetFormCb.filter(F.action == FormAction.SKIP),
        StateFilter(MeetingEdit.value),
    )
    r.callback_query.register(meeting_cancel_ask, MeetCb.filter(F.action == MeetAction.CANCEL))
    r.callback_query.register(meeting_cancel, MeetCb.filter(F.action == MeetAction.CANCEL_OK))
    r.callback_query.register(meeting_outcome, MeetCb.filter(F.action == MeetAction.OUTCOME))
    r.callback_query.register(
        meeting_outcome_keep,
        MeetFormCb.filter(F.action == FormAction.SKIP),
        StateFilter(OutcomeForm.value),
    )
    r.message.register(meeting_edit_value, StateFilter(MeetingEdit.value), Content("text"))
    r.message.register(meeting_edit_unexpected, StateFilter(MeetingEdit.value))
    r.message.register(meeting_outcome_value, StateFilter(OutcomeForm.value), Content("text"))
    r.message.register(meeting_outcome_unexpected, StateFilter(OutcomeForm.value))
    return r


def valid_url(text: str) -> str | None:
    value = text.strip()
    if not value or len(value) > MAX_URL or any(c.isspace() for c in value):
        return None
    parts = urlsplit(value)
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc or "." not in parts.netloc:
        return None
    return value


BAD_URL = N_("This is not a web link. Send a link starting with http:// or https://, or skip.")


def check_intake(moment: dt.datetime | None, starts_at: dt.datetime) -> str | None:
    """A translated reason why this can't be the question deadline, or None."""
    if moment is None:
        return _(
            "I could not read this date. Send the date and time like "
            "<code>22.06.2022 18:00</code>, or skip."
        )
    if moment > starts_at:
        return _("The question deadline must be before the meeting starts ({start}).").format(
            start=fmt_datetime(starts_at, current_locale())
        )
    if moment <= dt.datetime.now(dt.UTC):
        return _("This moment has already passed. Send a later date and time, or skip.")
    return None


# --- meetings: list and card -------------------------------------------------------------------


async def meetings_districts(
    query: CallbackQuery, session: AsyncSession, state: FSMContext
) -> None:
    await state.clear()
    districts = await list_districts(session)
    await show(
        query,
        _("📅 <b>Meetings</b>\nChoose a district to see its meetings, or create a new one."),
        meeting_districts_keyboard(districts, current_locale()),
    )


async def meetings_list(
    query: CallbackQuery,
    callback_data: MeetCb,
    session: AsyncSession,
    callback_answer: CallbackAnswer,
) -> None:
    locale = current_locale()
    district: District | None = None
    if callback_data.id:
        district = await get_district(session, callback_data.id)
        if district is None:
            refuse(callback_answer, _("This district no longer exists."))
            return
    district_id = district.id if district else None
    _meetings, total = await list_meetings(session, district_id, 0, 1)
    page = clamp_page(callback_data.page, total, MEETINGS_PER_PAGE)
    meetings, total = await list_meetings(session, district_id, page, MEETINGS_PER_PAGE)
    title = html.quote(district.name(locale)) if district else _("All districts")
    if total:
        text = _("📅 <b>Meetings: {district}</b>\nNewest first; {count} in all.").format(
            district=title, count=fmt_number(total, locale)
        )
    else:
        text = _("📅 <b>Meetings: {district}</b>\nNo meetings yet.").format(district=title)
    await show(query, text, meeting_list_keyboard(meetings, callback_data.id, page, total, locale))


def _status_label(status: str) -> str:
    msgid = MEETING_STATUS.get(MeetingStatus(status)) if status in MEETING_STATUS else None
    return _(msgid) if msgid else status


def meeting_card_text(meeting: Meeting, locale: str, problems: int, measures: int) -> str:
    lines = [
        _("<b>Meeting #{id}</b> · {status}").format(
            id=meeting.id, status=_status_label(meeting.status)
        ),
        _("District: {district}").format(district=html.quote(meeting.district.name(locale))),
        _("When: {when}").format(when=fmt_datetime(meeting.starts_at, locale)),
        _("Where: {place}").format(place=html.quote(meeting.place) or "—"),
        _("Akim: {akim}").format(akim=html.quote(meeting.akim) or "—"),
        _("Moderator: {moderator}").format(moderator=html.quote(meeting.moderator) or "—"),
        _("Live stream: {url}").format(url=html.quote(meeting.stream_url) or "—"),
        _("Questions accepted until: {deadline}").format(
            deadline=fmt_datetime(meeting.intake_closes_at or meeting.starts_at, locale)
        ),
        _("Action plan: {problems} problem issues, {measures} measures").format(
            problems=problems, measures=measures
        ),
    ]
    figures = [
        f"{_(OUTCOME_LABELS[name])}: {fmt_number(value, locale)}"
        for name in OUTCOME_FIELDS
        if (value := getattr(meeting, name)) is not None
    ]
    if figures:
        lines.append("")
        lines.append(_("<b>Outcome</b>"))
        lines.extend(figures)
    return "\n".join(lines)


async def card_text(session: AsyncSession, meeting: Meeting, locale: str) -> str:
    problems, measures = await plan_counts(session, meeting.id)
    return meeting_card_text(meeting, locale, problems, measures)


async def load_meeting(
    session: AsyncSession, meeting_id: int, callback_answer: CallbackAnswer
) -> Meeting | None:
    meeting = await get_meeting(session, meeting_id)
    if meeting is None:
        refuse(callback_answer, _("This meeting no longer exists."))
    return meeting


async def meeting_open(
    query: CallbackQuery,
    callback_data: MeetCb,
    session: AsyncSession,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    meeting = await load_meeting(session, callback_data.id, callback_answer)
    if meeting is None:
        return
    if await state.get_state() in {MeetingEdit.value.state, OutcomeForm.value.state}:
        await state.clear()
    await show(
        query, await card_text(session, meeting, current_locale()), meeting_card_keyboard(meeting)
    )


async def meeting_new(query: CallbackQuery, session: AsyncSession, state: FSMContext) -> None:
    await start_meeting_form(query, session, state, then_import=False)


async def start_meeting_form(
    query: CallbackQuery, session: AsyncSession, state: FSMContext, *, then_import: bool
) -> None:
    pending = (await state.get_data()).get("pending") if then_import else None
    await state.clear()
    await state.set_state(MeetingForm.district)
    await state.set_data({"then_import": then_import, "pending": pending})
    districts = await list_districts(session)
    await send_below(
        query,
        _("➕ <b>New meeting</b>\nChoose the district (send /cancel to stop at any step):"),
        form_districts_keyboard(districts, current_locale()),
    )


# --- meetings: editing, cancelling, outcome ------------------------------------------------------


async def meeting_edit(
    query: CallbackQuery,
    callback_data: MeetCb,
    session: AsyncSession,
    callback_answer: CallbackAnswer,
) -> None:
    meeting = await load_meeting(session, callback_data.id, callback_answer)
    if meeting is None:
        return
    await show(query, _("What do you want to change?"), edit_fields_keyboard(meeting.id))


EDIT_PROMPTS = {
    MeetField.STARTS: N_(
        "New date and time, Almaty time, for example <code>23.06.2022 15:00</code>:"
    ),
    MeetField.PLACE: N_("New venue and address:"),
    MeetField.AKIM: N_("Who holds the meeting?"),
    MeetField.MODERATOR: N_("Who moderates it? Send the name, or skip to clear it:"),
    MeetField.STREAM: N_(
        "Link to the live stream (http:// or https://), or skip to remove the link:"
    ),
    MeetField.INTAKE: N_(
        "Until when are questions accepted? Send a date and time before the start, or skip to "
        "accept them until the meeting starts:"
    ),
}
EDIT_SKIPPABLE = {MeetField.MODERATOR, MeetField.STREAM, MeetField.INTAKE}


async def meeting_edit_field(
    query: CallbackQuery,
    callback_data: MeetFieldCb,
    session: AsyncSession,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    meeting = await load_meeting(session, callback_data.id, callback_answer)
    if meeting is None:
        return
    if callback_data.field is MeetField.DISTRICT:
        districts = await list_districts(session)
        await show(
            query,
            _("Choose the new district:"),
            form_districts_keyboard(districts, current_locale(), meeting.id),
        )
        return
    await state.set_state(MeetingEdit.value)
    await state.set_data({"meeting_id": meeting.id, "field": callback_data.field.value})
    markup = form_button(FormAction.SKIP) if callback_data.field in EDIT_SKIPPABLE else None
    await send_below(query, _(EDIT_PROMPTS[callback_data.field]), markup)


async def meeting_set_district(
    query: CallbackQuery,
    callback_data: MeetDistrictCb,
    session: AsyncSession,
    callback_answer: CallbackAnswer,
) -> None:
    meeting = await load_meeting(session, callback_data.meeting, callback_answer)
    district = await get_district(session, callback_data.district)
    if meeting is None or district is None:
        if meeting is not None:
            refuse(callback_answer, _("This district no longer exists."))
        return
    if district.id != meeting.district_id:
        if await slot_taken(session, district.id, meeting.starts_at, exclude_id=meeting.id):
            refuse(callback_answer, _("This district already has a meeting at this time."))
            return
        meeting.district_id = district.id
        await session.commit()
        meeting = await get_meeting(session, meeting.id)
        assert meeting is not None
    callback_answer.text = _("Saved.")
    await show(
        query, await card_text(session, meeting, current_locale()), meeting_card_keyboard(meeting)
    )


async def _finish_edit(
    message: Message, session: AsyncSession, state: FSMContext, meeting: Meeting
) -> None:
    await state.clear()
    fresh = await get_meeting(session, meeting.id)
    assert fresh is not None
    await message.answer(
        _("💾 Saved.") + "\n\n" + await card_text(session, fresh, current_locale()),
        reply_markup=meeting_card_keyboard(fresh),
    )


async def meeting_edit_value(
    message: Message, session: AsyncSession, state: FSMContext, i18n: I18n
) -> None:
    data = await state.get_data()
    meeting = await get_meeting(session, int(data["meeting_id"]))
    if meeting is None:
        await state.clear()
        await message.answer(_("This meeting no longer exists."))
        return
    field = MeetField(data["field"])
    text = message.text or ""
    skip_markup = form_button(FormAction.SKIP) if field in EDIT_SKIPPABLE else None
    if field is MeetField.STARTS:
        await _edit_starts_at(message, session, state, meeting, i18n)
        return
    before = {name: getattr(meeting, name) for name in TOLD_FIELDS}
    if field is MeetField.INTAKE:
        moment = parse_moment(text)
        problem = check_intake(moment, meeting.starts_at)
        if problem is not None or moment is None:
            await message.answer(problem or "", reply_markup=skip_markup)
            return
        meeting.intake_closes_at = moment
    elif field is MeetField.STREAM:
        url = valid_url(text)
        if url is None:
            await message.answer(_(BAD_URL), reply_markup=skip_markup)
            return
        meeting.stream_url = url
    else:
        rule = {MeetField.PLACE: PLACE, MeetField.AKIM: AKIM}.get(field, MODERATOR)
        value, problem = form_text(message.text, rule, FIELD_REPLIES)
        if problem is not None:
            await message.answer(problem, reply_markup=skip_markup)
            return
        attribute = {MeetField.PLACE: "place", MeetField.AKIM: "akim"}.get(field, "moderator")
        setattr(meeting, attribute, value)
    await _tell_followers(session, i18n, meeting, before)
    await session.commit()
    await _finish_edit(message, session, state, meeting)


TOLD_FIELDS = ("place", "stream_url", "intake_closes_at")  # a new time: MeetingEvent.MOVED


async def _tell_followers(
    session: AsyncSession, i18n: I18n, meeting: Meeting, before: dict[str, object]
) -> None:
    """A scheduled meeting's place, stream link or question deadline changed: the district's
    followers hear old → new."""
    if meeting.status != MeetingStatus.SCHEDULED:
        return
    for name, old in before.items():
        if getattr(meeting, name) != old:
            await follower_news.meeting_edited(session, i18n, meeting, meeting.district, name, old)


async def _edit_starts_at(
    message: Message, session: AsyncSession, state: FSMContext, meeting: Meeting, i18n: I18n
) -> None:
    moment = parse_moment(message.text or "")
    if moment is None:
        await message.answer(
            _(
                "I could not read this date. Send the date and time like "
                "<code>23.06.2022 15:00</code> (day.month.year hours:minutes, Almaty time)."
            )
        )
        return
    if moment <= dt.datetime.now(dt.UTC) and meeting.status != MeetingStatus.HELD:
        await message.answer(
            _("This moment is in the past. Send a future date and time for the meeting.")
        )
        return
    if await slot_taken(session, meeting.district_id, moment, exclude_id=meeting.id):
        await message.answer(
            _("This district already has a meeting at this time. Send another date and time.")
        )
        return
    old = meeting.starts_at
    if moment != old:
        meeting.starts_at = moment
        if meeting.intake_closes_at is not None and meeting.intake_closes_at > moment:
            meeting.intake_closes_at = None  # questions are then accepted until the new start
        if meeting.status == MeetingStatus.SCHEDULED:
            await notifications.meeting_changed(
                session, i18n, meeting, meeting.district, MeetingEvent.MOVED, old_starts_at=old
            )
        await session.commit()
    await _finish_edit(message, session, state, meeting)


async def meeting_edit_skip(
    query: CallbackQuery,
    session: AsyncSession,
    state: FSMContext,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    data = await state.get_data()
    field = MeetField(data["field"])
    meeting = await get_meeting(session, int(data["meeting_id"]))
    if meeting is None or field not in EDIT_SKIPPABLE or not isinstance(query.message, Message):
        callback_answer.text = _("This step cannot be skipped.")
        return
    before = {name: getattr(meeting, name) for name in TOLD_FIELDS}
    if field is MeetField.MODERATOR:
        meeting.moderator = ""
    elif field is MeetField.STREAM:
        meeting.stream_url = ""
    else:
        meeting.intake_closes_at = None
    await _tell_followers(session, i18n, meeting, before)
    await session.commit()
    await show(query, _("Cleared."), None)
    await _finish_edit(query.message, session, state, meeting)


async def meeting_edit_unexpected(message: Message) -> None:
    await message.answer(
        _("Please answer with text, or send /cancel to leave the meeting unchanged.")
    )


async def meeting_cancel_ask(
    query: CallbackQuery,
    callback_data: MeetCb,
    session: AsyncSession,
    callback_answer: CallbackAnswer,
) -> None:
    meeting = await load_meeting(session, callback_data.id, callback_answer)
    if meeting is None:
        return
    if meeting.status != MeetingStatus.SCHEDULED:
        refuse(callback_answer, _("Only a scheduled meeting can be cancelled."))
        return
    await show(
        query,
        _("Cancel the meeting of {when}? Residents following the district will be told.").format(
            when=fmt_datetime(meeting.starts_at, current_locale())
        ),
        cancel_confirm_keyboard(meeting.id),
    )


async def meeting_cancel(
    query: CallbackQuery,
    callback_data: MeetCb,
    session: AsyncSession,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    meeting = await load_meeting(session, callback_data.id, callback_answer)
    if meeting is None:
        return
    if meeting.status != MeetingStatus.SCHEDULED:
        refuse(callback_answer, _("Only a scheduled meeting can be cancelled."))
        return
    meeting.status = MeetingStatus.CANCELLED
    notified = await notifications.meeting_changed(
        session, i18n, meeting, meeting.district, MeetingEvent.CANCELLED
    )
    await session.commit()
    callback_answer.text = _("The meeting is cancelled; {count} followers will be told.").format(
        count=notified
    )
    await show(
        query, await card_text(session, meeting, current_locale()), meeting_card_keyboard(meeting)
    )


async def _ask_outcome(message: Message, state: FSMContext, meeting: Meeting, index: int) -> None:
    name = OUTCOME_FIELDS[index]
    current = getattr(meeting, name)
    text = _("<b>Outcome of the meeting</b> ({step}/{steps})\n{label}:").format(
        step=index + 1, steps=len(OUTCOME_FIELDS), label=_(OUTCOME_LABELS[name])
    )
    markup = None
    if current is not None:
        text += "\n" + _("Now: {value}. Send a new number or keep it.").format(value=current)
        markup = form_button(FormAction.SKIP)
    await message.answer(text, reply_markup=markup)


async def meeting_outcome(
    query: CallbackQuery,
    callback_data: MeetCb,
    session: AsyncSession,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    meeting = await load_meeting(session, callback_data.id, callback_answer)
    if meeting is None or not isinstance(query.message, Message):
        return
    await state.set_state(OutcomeForm.value)
    await state.set_data({"meeting_id": meeting.id, "index": 0, "values": {}})
    await _ask_outcome(query.message, state, meeting, 0)


async def _outcome_next(
    message: Message,
    session: AsyncSession,
    state: FSMContext,
    i18n: I18n,
    value: int | None,
) -> None:
    data = await state.get_data()
    meeting = await get_meeting(session, int(data["meeting_id"]))
    if meeting is None:
        await state.clear()
        await message.answer(_("This meeting no longer exists."))
        return
    index = int(data["index"])
    values: dict[str, int | None] = dict(data["values"])
    values[OUTCOME_FIELDS[index]] = (
        value if value is not None else getattr(meeting, OUTCOME_FIELDS[index])
    )
    if index + 1 < len(OUTCOME_FIELDS):
        await state.update_data(index=index + 1, values=values)
        await _ask_outcome(message, state, meeting, index + 1)
        return
    for name, figure in values.items():
        setattr(meeting, name, figure)
    meeting.status = MeetingStatus.HELD
    await follower_news.outcome_recorded(session, i18n, meeting, meeting.district)
    await session.commit()
    await _finish_edit(message, session, state, meeting)


async def meeting_outcome_value(
    message: Message, session: AsyncSession, state: FSMContext, i18n: I18n
) -> None:
    text = (message.text or "").strip().replace(" ", "").replace("\xa0", "")
    if not text.isdigit() or int(text) > MAX_OUTCOME_VALUE:
        await message.answer(_("Please send a whole number, 0 or more, for example 45."))
        return
    await _outcome_next(message, session, state, i18n, int(text))


async def meeting_outcome_keep(
    query: CallbackQuery, session: AsyncSession, state: FSMContext, i18n: I18n
) -> None:
    if isinstance(query.message, Message):
        await show(query, _("Kept."), None)
        await _outcome_next(query.message, session, state, i18n, None)


async def meeting_outcome_unexpected(message: Message) -> None:
    await message.answer(_("Please send a whole number, 0 or more, for example 45."))
