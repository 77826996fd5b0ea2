"""Handlers of the admin area: the panel, meetings, action-plan import, announcements.

Only admins (``is_admin``: ``ADMIN_IDS`` or granted from the command line) reach these handlers:
every message handler is behind the router's ``IsAdmin`` filter, so to anyone else ``/admin``
is an unknown command; every callback handler is filtered by ``IsAdmin`` too and a non-admin's
press of any admin button gets a polite refusal (``refuse_non_admin``), with nothing changed.
The sections DEPARTMENTS, MODERATION, STATS and EXPORT are handled by their own areas.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import uuid
from typing import Any, Final
from urllib.parse import urlsplit

from aiogram import Bot, F, Router, html
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, Filter, StateFilter, or_f
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    Document,
    InlineKeyboardMarkup,
    Message,
    TelegramObject,
)
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n, get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import AdminCb, AdminSection
from bot.formatting import fmt_date, fmt_datetime, fmt_number
from bot.keyboards.admin import (
    ADMIN_CALLBACKS,
    MEETINGS_PER_PAGE,
    AnnounceAction,
    AnnounceCb,
    FormAction,
    ImportAction,
    ImportCb,
    MeetAction,
    MeetCb,
    MeetDistrictCb,
    MeetField,
    MeetFieldCb,
    MeetFormCb,
    announce_audience_keyboard,
    announce_confirm_keyboard,
    cancel_confirm_keyboard,
    edit_fields_keyboard,
    form_button,
    form_districts_keyboard,
    import_confirm_keyboard,
    import_targets_keyboard,
    meeting_card_keyboard,
    meeting_districts_keyboard,
    meeting_list_keyboard,
    panel_keyboard,
    preview_keyboard,
)
from bot.keyboards.builder import Keyboard
from bot.keyboards.common import clamp_page
from bot.menu import MenuButton, MenuItem
from bot.replies import refuse, show
from models.clock import parse_local_datetime as parse_moment
from models.clock import to_local
from models.entities import Department, District, Meeting, MeetingStatus, User
from models.importer import (
    MAX_FILE_SIZE,
    FileKind,
    FileProblem,
    PlanFileError,
    detect_kind,
    read_plan_file,
    template_file,
)
from models.meetings import (
    MAX_OUTCOME_VALUE,
    OUTCOME_FIELDS,
    MeetingEvent,
    get_meeting,
    list_meetings,
    notify_meeting_followers,
    plan_counts,
    slot_taken,
)
from models.plans import ApplyResult, ParsedPlan, PlanRow, RowProblem, apply_plan, parse_plan
from models.translation import N_
from models.users import get_district, list_districts
from scheduler.queue import enqueue

logger = logging.getLogger(__name__)

router: Final[Router] = Router(name=__name__)


class IsAdmin(Filter):
    """The caller is an admin (worked out per update by ``UpdateMiddleware``)."""

    async def __call__(self, event: TelegramObject, is_admin: bool = False) -> bool:
        return is_admin


router.message.filter(F.chat.type == "private", IsAdmin())

MAX_PLACE, MAX_AKIM, MAX_MODERATOR, MAX_URL = 500, 200, 300, 500
MAX_ANNOUNCEMENT = 3500
MAX_ANNOUNCEMENT_HTML = 3900
PREVIEW_LIMIT = 3600
MAX_ERRORS_SHOWN = 15


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


class ImportForm(StatesGroup):
    target = State()
    file = State()
    confirm = State()


class AnnounceForm(StatesGroup):
    audience = State()
    text = State()
    confirm = State()


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
ROW_PROBLEMS = {
    RowProblem.NO_MEASURE: N_("no measure text"),
    RowProblem.BAD_NUMBER: N_("the number is not a whole number"),
    RowProblem.NO_PROBLEM: N_("no problem issue above it (number and problem are empty)"),
    RowProblem.NUMBER_WITHOUT_TITLE: N_("a new number without the problem issue's text"),
    RowProblem.TOO_LONG: N_("a cell is too long"),
    RowProblem.NO_EXECUTORS: N_("no responsible executor"),
}
FILE_PROBLEMS = {
    FileProblem.NOT_TABLE: N_(
        "This is not a table I can read. Send the plan as a CSV, XLSX (Excel) or JSON file."
    ),
    FileProblem.EMPTY: N_("The file is empty: there are no rows of the plan in it."),
    FileProblem.TOO_LARGE: N_(
        "The file is larger than 5 MB. Remove pictures or split the plan and send it again."
    ),
    FileProblem.WRONG_COLUMNS: N_(
        "The table does not have the columns I need; missing: {missing}. The columns are: "
        "number, problem issue, planned measures, deadline, responsible executor (as in the "
        "template)."
    ),
    FileProblem.BROKEN: N_(
        "The file is damaged or is not really in the format its name says; I could not open it."
    ),
    FileProblem.ENCODING: N_(
        "I could not read the text of the file. Save the CSV in UTF-8 (in Excel: «CSV UTF-8») "
        "and send it again."
    ),
}
COLUMN_NAMES = {
    "number": N_("number"),
    "problem": N_("problem issue"),
    "measure": N_("planned measures"),
    "deadline": N_("deadline"),
    "executors": N_("responsible executor"),
}
SEND_FILE_AGAIN = N_("Send a corrected file, or /cancel to stop.")
ANNOUNCEMENT_HEADER = N_("📢 <b>Announcement from the akimat</b>")


def _locale(i18n: I18n) -> str:
    return str(i18n.current_locale)


async def _say(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Send a new message in the chat of the pressed button (a form step)."""
    if isinstance(query.message, Message):
        await query.message.answer(text, reply_markup=markup)
    elif query.bot is not None:
        await query.bot.send_message(query.from_user.id, text, reply_markup=markup)


# --- refusals and the panel --------------------------------------------------------------------


@router.callback_query(~IsAdmin(), or_f(*(cb.filter() for cb in ADMIN_CALLBACKS)))
async def refuse_non_admin(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    """An admin button pressed by someone who is not (or no longer) an admin."""
    refuse(callback_answer)


def panel_text() -> str:
    return _(
        "🛠 <b>Admin panel</b>\n\n"
        "Meetings, action plans, announcements, departments, moderation of residents' "
        "questions, statistics and exports. Choose a section:"
    )


@router.message(Command("admin"))
@router.message(MenuButton(MenuItem.ADMIN), StateFilter(None))
async def open_panel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(panel_text(), reply_markup=panel_keyboard())


@router.callback_query(IsAdmin(), AdminCb.filter(F.section == AdminSection.HOME))
async def panel_home(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await show(query, panel_text(), panel_keyboard())


# --- meetings: list and card -------------------------------------------------------------------


@router.callback_query(IsAdmin(), AdminCb.filter(F.section == AdminSection.MEETINGS))
@router.callback_query(IsAdmin(), MeetCb.filter(F.action == MeetAction.DISTRICTS))
async def meetings_districts(
    query: CallbackQuery, session: AsyncSession, state: FSMContext, i18n: I18n
) -> None:
    await state.clear()
    districts = await list_districts(session)
    await show(
        query,
        _("📅 <b>Meetings</b>\nChoose a district to see its meetings, or create a new one."),
        meeting_districts_keyboard(districts, _locale(i18n)),
    )


@router.callback_query(IsAdmin(), MeetCb.filter(F.action == MeetAction.LIST))
async def meetings_list(
    query: CallbackQuery,
    callback_data: MeetCb,
    session: AsyncSession,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    locale = _locale(i18n)
    district: District | None = None
    if callback_data.id:
        district = await get_district(session, callback_data.id)
        if district is None:
            callback_answer.text = _("This district no longer exists.")
            callback_answer.show_alert = True
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


async def _card(session: AsyncSession, meeting: Meeting, locale: str) -> str:
    problems, measures = await plan_counts(session, meeting.id)
    return meeting_card_text(meeting, locale, problems, measures)


async def _load_meeting(
    session: AsyncSession, meeting_id: int, callback_answer: CallbackAnswer
) -> Meeting | None:
    meeting = await get_meeting(session, meeting_id)
    if meeting is None:
        callback_answer.text = _("This meeting no longer exists.")
        callback_answer.show_alert = True
    return meeting


@router.callback_query(IsAdmin(), MeetCb.filter(F.action == MeetAction.OPEN))
async def meeting_open(
    query: CallbackQuery,
    callback_data: MeetCb,
    session: AsyncSession,
    state: FSMContext,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    meeting = await _load_meeting(session, callback_data.id, callback_answer)
    if meeting is None:
        return
    if await state.get_state() in {MeetingEdit.value.state, OutcomeForm.value.state}:
        await state.clear()
    await show(query, await _card(session, meeting, _locale(i18n)), meeting_card_keyboard(meeting))


# --- meetings: the creation form ---------------------------------------------------------------


@router.callback_query(IsAdmin(), MeetCb.filter(F.action == MeetAction.NEW))
async def meeting_new(
    query: CallbackQuery, session: AsyncSession, state: FSMContext, i18n: I18n
) -> None:
    await _start_meeting_form(query, session, state, i18n, then_import=False)


async def _start_meeting_form(
    query: CallbackQuery, session: AsyncSession, state: FSMContext, i18n: I18n, *, then_import: bool
) -> None:
    pending = (await state.get_data()).get("pending") if then_import else None
    await state.clear()
    await state.set_state(MeetingForm.district)
    await state.set_data({"then_import": then_import, "pending": pending})
    districts = await list_districts(session)
    await _say(
        query,
        _("➕ <b>New meeting</b>\nChoose the district (send /cancel to stop at any step):"),
        form_districts_keyboard(districts, _locale(i18n)),
    )


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


async def _ask_step(message: Message, state: FSMContext, step: State) -> None:
    await state.set_state(step)
    markup = form_button(FormAction.SKIP) if step.state in SKIPPABLE else None
    await message.answer(_(STEP_PROMPTS[str(step.state)]), reply_markup=markup)


@router.callback_query(IsAdmin(), MeetDistrictCb.filter(F.meeting == 0), MeetingForm.district)
async def form_district(
    query: CallbackQuery,
    callback_data: MeetDistrictCb,
    session: AsyncSession,
    state: FSMContext,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    district = await get_district(session, callback_data.district)
    if district is None or not isinstance(query.message, Message):
        callback_answer.text = _("This district no longer exists.")
        callback_answer.show_alert = True
        return
    await state.update_data(district_id=district.id)
    await show(
        query,
        _("District: {district}").format(district=html.quote(district.name(_locale(i18n)))),
        None,
    )
    await _ask_step(query.message, state, MeetingForm.starts_at)


@router.message(MeetingForm.district)
async def form_district_expected(message: Message, session: AsyncSession, i18n: I18n) -> None:
    districts = await list_districts(session)
    await message.answer(
        _("Please choose the district with the buttons:"),
        reply_markup=form_districts_keyboard(districts, _locale(i18n)),
    )


@router.message(MeetingForm.starts_at, F.text)
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


@router.callback_query(
    IsAdmin(), MeetFormCb.filter(F.action == FormAction.HELD), MeetingForm.starts_at
)
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


def _text_value(message: Message, limit: int) -> str | None:
    text = " ".join((message.text or "").split())
    return text if text and len(text) <= limit else None


TOO_LONG = N_("Please send a text of up to {limit} characters.")


@router.message(MeetingForm.place, F.text)
async def form_place(message: Message, state: FSMContext) -> None:
    value = _text_value(message, MAX_PLACE)
    if value is None:
        await message.answer(_(TOO_LONG).format(limit=MAX_PLACE))
        return
    await state.update_data(place=value)
    await _ask_step(message, state, MeetingForm.akim)


@router.message(MeetingForm.akim, F.text)
async def form_akim(message: Message, state: FSMContext) -> None:
    value = _text_value(message, MAX_AKIM)
    if value is None:
        await message.answer(_(TOO_LONG).format(limit=MAX_AKIM))
        return
    await state.update_data(akim=value)
    await _ask_step(message, state, MeetingForm.moderator)


@router.message(MeetingForm.moderator, F.text)
async def form_moderator(message: Message, state: FSMContext) -> None:
    value = _text_value(message, MAX_MODERATOR)
    if value is None:
        await message.answer(_(TOO_LONG).format(limit=MAX_MODERATOR))
        return
    await state.update_data(moderator=value)
    await _ask_step(message, state, MeetingForm.stream)


def valid_url(text: str) -> str | None:
    value = text.strip()
    if not value or len(value) > MAX_URL or any(c.isspace() for c in value):
        return None
    parts = urlsplit(value)
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc or "." not in parts.netloc:
        return None
    return value


BAD_URL = N_("This is not a web link. Send a link starting with http:// or https://, or skip.")


@router.message(MeetingForm.stream, F.text)
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


def check_intake(moment: dt.datetime | None, starts_at: dt.datetime) -> str | None:
    """A translated reason why this can't be the question deadline, or None."""
    if moment is None:
        return _(
            "I could not read this date. Send the date and time like "
            "<code>22.06.2022 18:00</code>, or skip."
        )
    if moment > starts_at:
        return _("The question deadline must be before the meeting starts ({start}).").format(
            start=fmt_datetime(starts_at, str(_locale_of_request()))
        )
    if moment <= dt.datetime.now(dt.UTC):
        return _("This moment has already passed. Send a later date and time, or skip.")
    return None


def _locale_of_request() -> str:
    return str(get_i18n().current_locale)


@router.message(MeetingForm.intake, F.text)
async def form_intake(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    moment = parse_moment(message.text or "")
    problem = check_intake(moment, dt.datetime.fromisoformat(data["starts_at"]))
    if problem is not None or moment is None:
        await message.answer(problem or "", reply_markup=form_button(FormAction.SKIP))
        return
    await state.update_data(intake=moment.isoformat())
    await _show_preview(message, state)


@router.callback_query(IsAdmin(), MeetFormCb.filter(F.action == FormAction.SKIP), MeetingForm())
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
    locale = _locale_of_request()
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


@router.callback_query(
    IsAdmin(), MeetFormCb.filter(F.action == FormAction.SAVE), MeetingForm.preview
)
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
        callback_answer.text = _(
            "This district already has a meeting at this time. Send another date and time."
        )
        callback_answer.show_alert = True
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
        notified = await notify_meeting_followers(
            session, i18n, meeting, district, MeetingEvent.CREATED
        )
    await session.commit()
    saved = await get_meeting(session, meeting.id)
    assert saved is not None
    await show(
        query, _("💾 Saved. Notices queued for {count} followers.").format(count=notified), None
    )
    if data.get("then_import"):
        await _begin_import(query, session, state, bot, i18n, user, saved)
        return
    await state.clear()
    await _say(query, await _card(session, saved, _locale(i18n)), meeting_card_keyboard(saved))


@router.callback_query(IsAdmin(), MeetFormCb.filter(F.action == FormAction.DISCARD))
async def form_discard(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await show(query, _("Discarded. Nothing was saved."), None)


@router.message(MeetingForm.preview)
async def form_preview_expected(message: Message) -> None:
    await message.answer(
        _("Press «Save» under the summary above, or /cancel to stop."),
    )


@router.message(MeetingForm())
async def form_unexpected(message: Message, state: FSMContext) -> None:
    """Anything but text in a text step: re-ask, keeping what was entered."""
    step = await state.get_state()
    prompt = STEP_PROMPTS.get(str(step))
    text = _("Please answer with text.")
    if prompt:
        text += "\n" + _(prompt)
    markup = form_button(FormAction.SKIP) if step in SKIPPABLE else None
    await message.answer(text, reply_markup=markup)


# --- meetings: editing, cancelling, outcome ------------------------------------------------------


@router.callback_query(IsAdmin(), MeetCb.filter(F.action == MeetAction.EDIT))
async def meeting_edit(
    query: CallbackQuery,
    callback_data: MeetCb,
    session: AsyncSession,
    callback_answer: CallbackAnswer,
) -> None:
    meeting = await _load_meeting(session, callback_data.id, callback_answer)
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


@router.callback_query(IsAdmin(), MeetFieldCb.filter())
async def meeting_edit_field(
    query: CallbackQuery,
    callback_data: MeetFieldCb,
    session: AsyncSession,
    state: FSMContext,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    meeting = await _load_meeting(session, callback_data.id, callback_answer)
    if meeting is None:
        return
    if callback_data.field is MeetField.DISTRICT:
        districts = await list_districts(session)
        await show(
            query,
            _("Choose the new district:"),
            form_districts_keyboard(districts, _locale(i18n), meeting.id),
        )
        return
    await state.set_state(MeetingEdit.value)
    await state.set_data({"meeting_id": meeting.id, "field": callback_data.field.value})
    markup = form_button(FormAction.SKIP) if callback_data.field in EDIT_SKIPPABLE else None
    await _say(query, _(EDIT_PROMPTS[callback_data.field]), markup)


@router.callback_query(IsAdmin(), MeetDistrictCb.filter(F.meeting != 0))
async def meeting_set_district(
    query: CallbackQuery,
    callback_data: MeetDistrictCb,
    session: AsyncSession,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    meeting = await _load_meeting(session, callback_data.meeting, callback_answer)
    district = await get_district(session, callback_data.district)
    if meeting is None or district is None:
        if meeting is not None:
            callback_answer.text = _("This district no longer exists.")
            callback_answer.show_alert = True
        return
    if district.id != meeting.district_id:
        if await slot_taken(session, district.id, meeting.starts_at, exclude_id=meeting.id):
            callback_answer.text = _("This district already has a meeting at this time.")
            callback_answer.show_alert = True
            return
        meeting.district_id = district.id
        await session.commit()
        meeting = await get_meeting(session, meeting.id)
        assert meeting is not None
    callback_answer.text = _("Saved.")
    await show(query, await _card(session, meeting, _locale(i18n)), meeting_card_keyboard(meeting))


async def _finish_edit(
    message: Message, session: AsyncSession, state: FSMContext, meeting: Meeting, i18n: I18n
) -> None:
    await state.clear()
    fresh = await get_meeting(session, meeting.id)
    assert fresh is not None
    await message.answer(
        _("💾 Saved.") + "\n\n" + await _card(session, fresh, _locale(i18n)),
        reply_markup=meeting_card_keyboard(fresh),
    )


@router.message(MeetingEdit.value, F.text)
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
        limits = {MeetField.PLACE: MAX_PLACE, MeetField.AKIM: MAX_AKIM}
        limit = limits.get(field, MAX_MODERATOR)
        value = _text_value(message, limit)
        if value is None:
            await message.answer(_(TOO_LONG).format(limit=limit), reply_markup=skip_markup)
            return
        attribute = {MeetField.PLACE: "place", MeetField.AKIM: "akim"}.get(field, "moderator")
        setattr(meeting, attribute, value)
    await session.commit()
    await _finish_edit(message, session, state, meeting, i18n)


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
            await notify_meeting_followers(
                session, i18n, meeting, meeting.district, MeetingEvent.MOVED, old_starts_at=old
            )
        await session.commit()
    await _finish_edit(message, session, state, meeting, i18n)


@router.callback_query(IsAdmin(), MeetFormCb.filter(F.action == FormAction.SKIP), MeetingEdit.value)
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
    if field is MeetField.MODERATOR:
        meeting.moderator = ""
    elif field is MeetField.STREAM:
        meeting.stream_url = ""
    else:
        meeting.intake_closes_at = None
    await session.commit()
    await show(query, _("Cleared."), None)
    await _finish_edit(query.message, session, state, meeting, i18n)


@router.message(MeetingEdit.value)
async def meeting_edit_unexpected(message: Message) -> None:
    await message.answer(
        _("Please answer with text, or send /cancel to leave the meeting unchanged.")
    )


@router.callback_query(IsAdmin(), MeetCb.filter(F.action == MeetAction.CANCEL))
async def meeting_cancel_ask(
    query: CallbackQuery,
    callback_data: MeetCb,
    session: AsyncSession,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    meeting = await _load_meeting(session, callback_data.id, callback_answer)
    if meeting is None:
        return
    if meeting.status != MeetingStatus.SCHEDULED:
        callback_answer.text = _("Only a scheduled meeting can be cancelled.")
        callback_answer.show_alert = True
        return
    await show(
        query,
        _("Cancel the meeting of {when}? Residents following the district will be told.").format(
            when=fmt_datetime(meeting.starts_at, _locale(i18n))
        ),
        cancel_confirm_keyboard(meeting.id),
    )


@router.callback_query(IsAdmin(), MeetCb.filter(F.action == MeetAction.CANCEL_OK))
async def meeting_cancel(
    query: CallbackQuery,
    callback_data: MeetCb,
    session: AsyncSession,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    meeting = await _load_meeting(session, callback_data.id, callback_answer)
    if meeting is None:
        return
    if meeting.status != MeetingStatus.SCHEDULED:
        callback_answer.text = _("Only a scheduled meeting can be cancelled.")
        callback_answer.show_alert = True
        return
    meeting.status = MeetingStatus.CANCELLED
    notified = await notify_meeting_followers(
        session, i18n, meeting, meeting.district, MeetingEvent.CANCELLED
    )
    await session.commit()
    callback_answer.text = _("The meeting is cancelled; {count} followers will be told.").format(
        count=notified
    )
    await show(query, await _card(session, meeting, _locale(i18n)), meeting_card_keyboard(meeting))


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


@router.callback_query(IsAdmin(), MeetCb.filter(F.action == MeetAction.OUTCOME))
async def meeting_outcome(
    query: CallbackQuery,
    callback_data: MeetCb,
    session: AsyncSession,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    meeting = await _load_meeting(session, callback_data.id, callback_answer)
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
    await session.commit()
    await _finish_edit(message, session, state, meeting, i18n)


@router.message(OutcomeForm.value, F.text)
async def meeting_outcome_value(
    message: Message, session: AsyncSession, state: FSMContext, i18n: I18n
) -> None:
    text = (message.text or "").strip().replace(" ", "").replace("\xa0", "")
    if not text.isdigit() or int(text) > MAX_OUTCOME_VALUE:
        await message.answer(_("Please send a whole number, 0 or more, for example 45."))
        return
    await _outcome_next(message, session, state, i18n, int(text))


@router.callback_query(IsAdmin(), MeetFormCb.filter(F.action == FormAction.SKIP), OutcomeForm.value)
async def meeting_outcome_keep(
    query: CallbackQuery, session: AsyncSession, state: FSMContext, i18n: I18n
) -> None:
    if isinstance(query.message, Message):
        await show(query, _("Kept."), None)
        await _outcome_next(query.message, session, state, i18n, None)


@router.message(OutcomeForm.value)
async def meeting_outcome_unexpected(message: Message) -> None:
    await message.answer(_("Please send a whole number, 0 or more, for example 45."))


# --- action-plan import ------------------------------------------------------------------------


@router.callback_query(IsAdmin(), AdminCb.filter(F.section == AdminSection.IMPORT))
async def import_start(
    query: CallbackQuery, session: AsyncSession, state: FSMContext, i18n: I18n
) -> None:
    await _import_targets(query, session, state, i18n, 0)


@router.callback_query(IsAdmin(), ImportCb.filter(F.action == ImportAction.TARGETS))
async def import_targets_page(
    query: CallbackQuery,
    callback_data: ImportCb,
    session: AsyncSession,
    state: FSMContext,
    i18n: I18n,
) -> None:
    await _import_targets(query, session, state, i18n, callback_data.page)


async def _import_targets(
    query: CallbackQuery, session: AsyncSession, state: FSMContext, i18n: I18n, page: int
) -> None:
    pending = None
    if await state.get_state() == ImportForm.target.state:
        pending = (await state.get_data()).get("pending")  # a file sent before choosing
    await state.clear()
    await state.set_state(ImportForm.target)
    await state.set_data({"pending": pending})
    await show(query, *await _targets_view(session, i18n, page, pending))


async def _targets_view(
    session: AsyncSession, i18n: I18n, page: int, pending: dict[str, Any] | None
) -> tuple[str, InlineKeyboardMarkup]:
    _first, total = await list_meetings(session, None, 0, 1)
    page = clamp_page(page, total, MEETINGS_PER_PAGE)
    meetings, total = await list_meetings(session, None, page, MEETINGS_PER_PAGE)
    if pending:
        text = _("📥 I got the file «{name}». Which meeting's action plan is it?").format(
            name=html.quote(pending.get("name") or "—")
        )
    else:
        text = _(
            "📥 <b>Import an action plan</b>\n"
            "Choose the meeting the plan belongs to (or create it), then send the file: CSV, "
            "XLSX or JSON, up to 5 MB, with the columns of the report's table: number, problem "
            "issue, planned measures, deadline, responsible executor. The template has them."
        )
    return text, import_targets_keyboard(meetings, page, total, _locale(i18n))


@router.callback_query(IsAdmin(), ImportCb.filter(F.action == ImportAction.NEW_MEETING))
async def import_new_meeting(
    query: CallbackQuery, session: AsyncSession, state: FSMContext, i18n: I18n
) -> None:
    await _start_meeting_form(query, session, state, i18n, then_import=True)


@router.callback_query(
    IsAdmin(),
    ImportCb.filter(F.action.in_({ImportAction.TEMPLATE_XLSX, ImportAction.TEMPLATE_CSV})),
)
async def import_template(
    query: CallbackQuery, callback_data: ImportCb, bot: Bot, i18n: I18n
) -> None:
    kind = FileKind.XLSX if callback_data.action is ImportAction.TEMPLATE_XLSX else FileKind.CSV
    name, content = template_file(kind, _locale(i18n))
    await bot.send_document(
        query.from_user.id,
        BufferedInputFile(content, filename=name),
        caption=_(
            "The action plan template. One row per measure; for further measures of the same "
            "problem issue leave the number and the problem empty. Executors are department "
            "codes as in the report (УЭиВ, УО и УКС); deadlines as written («4 квартал 2022 "
            "года», «31.08.2022»)."
        ),
    )


@router.callback_query(IsAdmin(), ImportCb.filter(F.action == ImportAction.PICK))
async def import_pick(
    query: CallbackQuery,
    callback_data: ImportCb,
    session: AsyncSession,
    state: FSMContext,
    bot: Bot,
    i18n: I18n,
    user: User,
    callback_answer: CallbackAnswer,
) -> None:
    meeting = await _load_meeting(session, callback_data.id, callback_answer)
    if meeting is None:
        return
    if await state.get_state() != ImportForm.target.state:
        await state.set_data({})  # an old list: no file is waiting
    await _begin_import(query, session, state, bot, i18n, user, meeting)


@router.callback_query(IsAdmin(), MeetCb.filter(F.action == MeetAction.IMPORT))
async def import_from_card(
    query: CallbackQuery,
    callback_data: MeetCb,
    session: AsyncSession,
    state: FSMContext,
    bot: Bot,
    i18n: I18n,
    user: User,
    callback_answer: CallbackAnswer,
) -> None:
    meeting = await _load_meeting(session, callback_data.id, callback_answer)
    if meeting is None:
        return
    await state.set_data({})
    await _begin_import(query, session, state, bot, i18n, user, meeting)


async def _begin_import(
    query: CallbackQuery,
    session: AsyncSession,
    state: FSMContext,
    bot: Bot,
    i18n: I18n,
    user: User,
    meeting: Meeting,
) -> None:
    pending = (await state.get_data()).get("pending")
    await state.set_state(ImportForm.file)
    await state.set_data({"meeting_id": meeting.id})
    if not isinstance(query.message, Message):
        return
    if pending:
        await _process_file(query.message, session, state, bot, i18n, user, pending)
        return
    await _say(
        query,
        _(
            "Meeting of {when}, {district}.\nNow send the action plan as a file (CSV, XLSX or "
            "JSON, up to 5 MB). /cancel to stop."
        ).format(
            when=fmt_datetime(meeting.starts_at, _locale(i18n)),
            district=html.quote(meeting.district.short(_locale(i18n))),
        ),
    )


def _file_info(document: Document) -> dict[str, Any]:
    return {
        "file_id": document.file_id,
        "name": document.file_name or "",
        "size": document.file_size,
        "mime": document.mime_type,
    }


@router.message(StateFilter(None, ImportForm.target), F.document)
async def import_document_first(
    message: Message, session: AsyncSession, state: FSMContext, i18n: I18n
) -> None:
    """An admin sends a file outside any form: treat it as a plan and ask for the meeting."""
    assert message.document is not None
    info = _file_info(message.document)
    problem = _quick_file_problem(info)
    if problem is not None:
        await message.answer(_file_problem_text(PlanFileError(problem)))
        return
    await state.set_state(ImportForm.target)
    await state.set_data({"pending": info})
    text, markup = await _targets_view(session, i18n, 0, info)
    await message.answer(text, reply_markup=markup)


@router.message(StateFilter(ImportForm.file, ImportForm.confirm), F.document)
async def import_document(
    message: Message,
    session: AsyncSession,
    state: FSMContext,
    bot: Bot,
    i18n: I18n,
    user: User,
) -> None:
    assert message.document is not None
    await state.set_state(ImportForm.file)  # a new file replaces a preview not yet confirmed
    await _process_file(message, session, state, bot, i18n, user, _file_info(message.document))


@router.message(StateFilter(ImportForm.file, ImportForm.confirm, ImportForm.target))
async def import_unexpected(message: Message, state: FSMContext) -> None:
    if await state.get_state() == ImportForm.target.state:
        await message.answer(_("Choose the meeting with the buttons above, or /cancel."))
        return
    await message.answer(
        _("Send the action plan as a file (CSV, XLSX or JSON, up to 5 MB), or /cancel to stop.")
    )


def _quick_file_problem(info: dict[str, Any]) -> FileProblem | None:
    """What can be told before downloading: the type and the size."""
    if detect_kind(info.get("name"), info.get("mime")) is None:
        return FileProblem.NOT_TABLE
    size = info.get("size")
    if size is not None and size > MAX_FILE_SIZE:
        return FileProblem.TOO_LARGE
    return None


def _file_problem_text(error: PlanFileError) -> str:
    text = _(FILE_PROBLEMS[error.problem])
    if error.problem is FileProblem.WRONG_COLUMNS:
        text = text.format(missing=", ".join(_(COLUMN_NAMES[c]) for c in error.missing) or "—")
    return text


async def _process_file(
    message: Message,
    session: AsyncSession,
    state: FSMContext,
    bot: Bot,
    i18n: I18n,
    user: User,
    info: dict[str, Any],
) -> None:
    data = await state.get_data()
    meeting = await get_meeting(session, int(data["meeting_id"]))
    if meeting is None:
        await state.clear()
        await message.answer(_("This meeting no longer exists."))
        return
    problem = _quick_file_problem(info)
    if problem is not None:
        await message.answer(_file_problem_text(PlanFileError(problem)) + "\n" + _(SEND_FILE_AGAIN))
        return
    try:
        buffer = await bot.download(info["file_id"], destination=io.BytesIO())
    except TelegramBadRequest as exc:  # "file is too big" and the like
        logger.warning("Could not download an import file: %s", exc.message)
        await message.answer(
            _file_problem_text(PlanFileError(FileProblem.TOO_LARGE)) + "\n" + _(SEND_FILE_AGAIN)
        )
        return
    content = buffer.getvalue() if isinstance(buffer, io.BytesIO) else b""
    try:
        rows = read_plan_file(info.get("name"), content, info.get("mime"))
    except PlanFileError as error:
        await message.answer(_file_problem_text(error) + "\n" + _(SEND_FILE_AGAIN))
        return
    plan = await _parse(session, meeting, rows)
    locale = _locale(i18n)
    if not plan.problems:
        await message.answer(
            "\n".join([_("I found no measures I could import in this file."), *_error_lines(plan)])
            + "\n\n"
            + _(SEND_FILE_AGAIN)
        )
        return
    dry = await _dry_run(session, meeting.id, plan, user.id)
    if not dry.changed:
        await message.answer(
            "\n".join(
                [
                    _(
                        "✅ This plan is already imported for this meeting: nothing would "
                        "change ({count} measures are the same)."
                    ).format(count=dry.measures_unchanged),
                    *_error_lines(plan),
                ]
            )
        )
        return
    token = uuid.uuid4().hex[:12]
    await state.set_state(ImportForm.confirm)
    await state.update_data(
        token=token,
        rows=[[r.row_no, r.number, r.problem, r.measure, r.deadline, r.executors] for r in rows],
    )
    await message.answer(
        render_import_preview(meeting, plan, dry, locale),
        reply_markup=import_confirm_keyboard(token),
    )


async def _parse(session: AsyncSession, meeting: Meeting, rows: list[PlanRow]) -> ParsedPlan:
    departments = list((await session.execute(select(Department))).scalars())
    return parse_plan(rows, to_local(meeting.starts_at).date(), departments)


async def _dry_run(
    session: AsyncSession, meeting_id: int, plan: ParsedPlan, author_id: int
) -> ApplyResult:
    """What applying would do, measured inside a savepoint that is rolled back."""
    savepoint = await session.begin_nested()
    try:
        return await apply_plan(session, meeting_id, plan, author_id=author_id)
    finally:
        await savepoint.rollback()


def _error_lines(plan: ParsedPlan) -> list[str]:
    if not plan.errors:
        return []
    lines = ["", _("<b>Rows I cannot read</b> (they will be left out):")]
    for error in plan.errors[:MAX_ERRORS_SHOWN]:
        lines.append(
            _("Row {row}: {reason}").format(row=error.row_no, reason=_(ROW_PROBLEMS[error.problem]))
        )
    if len(plan.errors) > MAX_ERRORS_SHOWN:
        lines.append(_("…and {count} more.").format(count=len(plan.errors) - MAX_ERRORS_SHOWN))
    return lines


def render_import_preview(meeting: Meeting, plan: ParsedPlan, dry: ApplyResult, locale: str) -> str:
    head = [
        _("📥 <b>Action plan preview</b>: meeting of {when}, {district}").format(
            when=fmt_datetime(meeting.starts_at, locale),
            district=html.quote(meeting.district.short(locale)),
        ),
        _("Problem issues: {problems}; measures: {measures}.").format(
            problems=len(plan.problems), measures=len(plan.measures)
        ),
        _(
            "New: {new_problems} problem issues, {new_measures} measures; changed measures: "
            "{updated}; unchanged: {unchanged}."
        ).format(
            new_problems=dry.problems_created,
            new_measures=dry.measures_created,
            updated=dry.measures_updated,
            unchanged=dry.measures_unchanged,
        ),
        "",
    ]
    body: list[str] = []
    undated: list[str] = []
    for problem in plan.problems:
        body.append(f"<b>{problem.number}. {html.quote(_short(problem.title, 120))}</b>")
        for measure in problem.measures:
            if measure.due_date is not None:
                due = fmt_date(measure.due_date, locale, "medium")
            else:
                due = _("no date")
                if measure.deadline_text:
                    undated.append(
                        _("Row {row}: «{text}»").format(
                            row=measure.row_no, text=html.quote(_short(measure.deadline_text, 80))
                        )
                    )
            codes = ", ".join(html.quote(c) for c in measure.executor_codes)
            body.append(f"  • {html.quote(_short(measure.text, 70))} — {due} · {codes}")
    tail: list[str] = []
    if plan.unknown_codes:
        tail += [
            "",
            _("<b>Unknown executor codes</b> (saved without a department): {codes}").format(
                codes=html.quote(", ".join(plan.unknown_codes))
            ),
        ]
    if undated:
        tail += ["", _("<b>Deadlines I could not read</b> (kept as written, no date):"), *undated]
    tail += _error_lines(plan)
    tail += ["", _("Import it? Nothing changes until you confirm.")]
    budget = PREVIEW_LIMIT - len("\n".join(head + tail))
    shown: list[str] = []
    for index, line in enumerate(body):
        if len("\n".join([*shown, line])) > budget:
            shown.append(_("…and {count} more lines.").format(count=len(body) - index))
            break
        shown.append(line)
    return "\n".join(head + shown + tail)


def _short(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


@router.callback_query(IsAdmin(), ImportCb.filter(F.action == ImportAction.CONFIRM))
async def import_confirm(
    query: CallbackQuery,
    callback_data: ImportCb,
    session: AsyncSession,
    state: FSMContext,
    user: User,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    data = await state.get_data()
    if (
        await state.get_state() != ImportForm.confirm.state
        or not callback_data.token
        or data.get("token") != callback_data.token
    ):
        callback_answer.text = _(
            "This preview is no longer current: it was imported or replaced. Nothing changed."
        )
        callback_answer.show_alert = True
        return
    meeting = await get_meeting(session, int(data["meeting_id"]))
    if meeting is None:
        await state.clear()
        callback_answer.text = _("This meeting no longer exists.")
        callback_answer.show_alert = True
        return
    rows = [PlanRow(int(r[0]), *(str(v) for v in r[1:])) for r in data["rows"]]
    plan = await _parse(session, meeting, rows)
    result = await apply_plan(session, meeting.id, plan, author_id=user.id)
    await session.commit()
    await state.clear()
    builder = Keyboard()
    builder.button(
        text=_("Open the meeting"), callback_data=MeetCb(action=MeetAction.OPEN, id=meeting.id)
    )
    await show(
        query,
        _(
            "✅ Imported: {problems} problem issues and {measures} measures added, {updated} "
            "measures updated (their history keeps the change), {unchanged} unchanged."
        ).format(
            problems=result.problems_created,
            measures=result.measures_created,
            updated=result.measures_updated,
            unchanged=result.measures_unchanged,
        ),
        builder.as_markup(),
    )


@router.callback_query(IsAdmin(), ImportCb.filter(F.action == ImportAction.DISCARD))
async def import_discard(query: CallbackQuery, state: FSMContext) -> None:
    if await state.get_state() == ImportForm.confirm.state:
        await state.set_state(ImportForm.file)
        await state.update_data(token=None, rows=None)
    await show(
        query,
        _("Discarded; nothing was imported. Send another file, or /cancel to stop."),
        None,
    )


# --- announcements -----------------------------------------------------------------------------


@router.callback_query(IsAdmin(), AdminCb.filter(F.section == AdminSection.ANNOUNCE))
async def announce_start(
    query: CallbackQuery, session: AsyncSession, state: FSMContext, i18n: I18n
) -> None:
    await state.clear()
    await state.set_state(AnnounceForm.audience)
    districts = await list_districts(session)
    await show(
        query,
        _("📢 <b>Announcement</b>\nWho should receive it?"),
        announce_audience_keyboard(districts, _locale(i18n)),
    )


def _audience_query(district_id: int | None) -> Any:
    query = select(User).where(User.reachable.is_(True))
    if district_id is not None:
        query = query.where(User.district_id == district_id)
    return query.order_by(User.id)


async def _audience_name(session: AsyncSession, district_id: int | None, locale: str) -> str:
    if district_id is None:
        return _("everyone")
    district = await get_district(session, district_id)
    return html.quote(district.name(locale)) if district else "—"


@router.callback_query(
    IsAdmin(), AnnounceCb.filter(F.action == AnnounceAction.AUDIENCE), AnnounceForm.audience
)
async def announce_audience(
    query: CallbackQuery,
    callback_data: AnnounceCb,
    session: AsyncSession,
    state: FSMContext,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    if callback_data.id and await get_district(session, callback_data.id) is None:
        callback_answer.text = _("This district no longer exists.")
        callback_answer.show_alert = True
        return
    await state.set_state(AnnounceForm.text)
    await state.set_data({"district_id": callback_data.id or None})
    await show(
        query,
        _(
            "Recipients: {audience}.\nSend the text of the announcement (up to {limit} "
            "characters). Bold and italics you apply in Telegram are kept."
        ).format(
            audience=await _audience_name(session, callback_data.id or None, _locale(i18n)),
            limit=MAX_ANNOUNCEMENT,
        ),
        None,
    )


@router.message(AnnounceForm.audience)
async def announce_audience_expected(message: Message) -> None:
    await message.answer(_("Choose the recipients with the buttons above, or /cancel."))


@router.message(AnnounceForm.text, F.text)
async def announce_text(
    message: Message, session: AsyncSession, state: FSMContext, i18n: I18n
) -> None:
    text = (message.text or "").strip()
    if not text or len(text) > MAX_ANNOUNCEMENT:
        await message.answer(
            _("The announcement must be up to {limit} characters; yours has {length}.").format(
                limit=MAX_ANNOUNCEMENT, length=len(text)
            )
        )
        return
    body = message.html_text  # the admin's own formatting, with everything else escaped
    if len(body) > MAX_ANNOUNCEMENT_HTML:  # escaping (& → &amp;) must not push it past 4096
        await message.answer(
            _("The announcement must be up to {limit} characters; yours has {length}.").format(
                limit=MAX_ANNOUNCEMENT, length=len(body)
            )
        )
        return
    data = await state.get_data()
    district_id = data.get("district_id")
    recipients = await _count(session, district_id)
    token = uuid.uuid4().hex[:12]
    await state.set_state(AnnounceForm.confirm)
    await state.update_data(body=body, token=token)
    await message.answer(
        _("<b>Preview</b>. Recipients: {audience}, {count} people.").format(
            audience=await _audience_name(session, district_id, _locale(i18n)), count=recipients
        )
        + "\n\n"
        + _(ANNOUNCEMENT_HEADER)
        + "\n\n"
        + body,
        reply_markup=announce_confirm_keyboard(token),
    )


async def _count(session: AsyncSession, district_id: int | None) -> int:
    query = select(func.count(User.id)).where(User.reachable.is_(True))
    if district_id is not None:
        query = query.where(User.district_id == district_id)
    return int((await session.execute(query)).scalar_one())


@router.message(AnnounceForm.text)
@router.message(AnnounceForm.confirm)
async def announce_unexpected(message: Message, state: FSMContext) -> None:
    if await state.get_state() == AnnounceForm.confirm.state:
        await message.answer(_("Press «Send» under the preview, or /cancel to stop."))
        return
    await message.answer(_("Please send the announcement as text, or /cancel to stop."))


@router.callback_query(IsAdmin(), AnnounceCb.filter(F.action == AnnounceAction.SEND))
async def announce_send(
    query: CallbackQuery,
    callback_data: AnnounceCb,
    session: AsyncSession,
    state: FSMContext,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    data = await state.get_data()
    if (
        await state.get_state() != AnnounceForm.confirm.state
        or not callback_data.token
        or data.get("token") != callback_data.token
    ):
        callback_answer.text = _("This announcement was already sent or discarded.")
        callback_answer.show_alert = True
        return
    district_id = data.get("district_id")
    queued = 0
    for recipient in (await session.execute(_audience_query(district_id))).scalars():
        locale = recipient.locale or i18n.default_locale
        queued += int(
            await enqueue(
                session,
                chat_id=recipient.tg_id,
                user_id=recipient.id,
                text=i18n.gettext(ANNOUNCEMENT_HEADER, locale=locale) + "\n\n" + data["body"],
                kind="announcement",
                dedup_key=f"announce:{callback_data.token}:{recipient.id}",
            )
        )
    await session.commit()
    await state.clear()
    await show(
        query,
        _("📨 The announcement is queued for {count} recipients.").format(count=queued),
        None,
    )


@router.callback_query(IsAdmin(), AnnounceCb.filter(F.action == AnnounceAction.DISCARD))
async def announce_discard(query: CallbackQuery, state: FSMContext) -> None:
    if str(await state.get_state()).startswith("AnnounceForm"):
        await state.clear()
    await show(query, _("Discarded. Nothing was sent."), None)


@router.callback_query(IsAdmin(), AnnounceCb.filter(F.action == AnnounceAction.AUDIENCE))
@router.callback_query(IsAdmin(), MeetDistrictCb.filter(F.meeting == 0))
@router.callback_query(IsAdmin(), MeetFormCb.filter())
async def form_button_out_of_place(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    """A button of a form that is over (saved, cancelled, or replaced by another)."""
    callback_answer.text = _("This form is closed. Open the admin panel to start again: /admin")
    callback_answer.show_alert = True
