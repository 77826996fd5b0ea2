"""The next meeting of the district: when and where; following the district; asking from it."""

from __future__ import annotations

from aiogram import F, Router, html
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.calendar import CalendarEvent, event_ics
from bot.formatting import district_args, fmt_datetime
from bot.i18n import current_locale
from bot.keyboards.questions import NextAction, QCalendarCb, QNextCb, next_meeting_keyboard
from bot.menu import MenuButton, MenuItem
from bot.replies import refuse
from handlers.common import ask_district
from handlers.questions.form import begin_form, stale_text
from handlers.resident.shared import MAX_ID
from models.base import utcnow
from models.entities import District, Meeting, MeetingStatus, User
from models.follows import follow, is_following
from models.questions import count_public, intake_deadline, next_meeting
from models.reference import district_placeholders
from models.settings import Settings


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(show_next_meeting, MenuButton(MenuItem.NEXT_MEETING), StateFilter(None))
    r.callback_query.register(follow_district, QNextCb.filter(F.action == NextAction.FOLLOW))
    r.callback_query.register(ask_from_card, QNextCb.filter(F.action == NextAction.ASK))
    r.callback_query.register(
        send_calendar, QCalendarCb.filter((F.meeting > 0) & (F.meeting <= MAX_ID))
    )
    return r


async def _next_meeting_card(
    session: AsyncSession, user: User, district: District, locale: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    meeting = await next_meeting(session, district.id)
    return await meeting_card(session, user, district, meeting, locale)


async def meeting_card(
    session: AsyncSession, user: User, district: District, meeting: Meeting | None, locale: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    """An upcoming meeting (None: none is scheduled): when, where, the livestream, until when
    questions are taken; ask, residents' questions, follow, add to calendar, share."""
    following = await is_following(session, user.id, district_id=district.id)
    if meeting is None:
        text = _(
            "📅 No meeting of the akim with residents of {district} is scheduled yet. "
            "You can still send a question: it will be kept for the next meeting."
        ).format(**district_args(district, locale))
        if not following:
            text += "\n\n" + _("Follow the district and the bot will tell you when one is set.")
        else:
            text += "\n\n" + _("You follow the district: the bot will tell you when one is set.")
        markup = next_meeting_keyboard(
            district.id, meeting_id=None, public_questions=0, following=following, can_ask=True
        )
        return text, markup
    lines = [
        _("📅 <b>Next meeting with residents of {district}</b>").format(
            **district_args(district, locale)
        ),
        _("When: {date}").format(date=fmt_datetime(meeting.starts_at, locale)),
    ]
    if meeting.place:
        lines.append(_("Where: {place}").format(place=html.quote(meeting.place)))
    if meeting.akim:
        lines.append(_("Akim: {akim}").format(akim=html.quote(meeting.akim)))
    if meeting.stream_url:
        lines.append(_("Livestream: {url}").format(url=html.quote(meeting.stream_url)))
    deadline = intake_deadline(meeting)
    if deadline > utcnow():
        lines.append(
            _("Questions are accepted until {deadline}.").format(
                deadline=fmt_datetime(deadline, locale)
            )
        )
    else:
        lines.append(
            _(
                "Questions for this meeting are no longer accepted; new ones are kept for the "
                "next meeting."
            )
        )
    public = await count_public(session, meeting.id)
    markup = next_meeting_keyboard(
        district.id,
        meeting_id=meeting.id,
        public_questions=public,
        following=following,
        can_ask=user.district_id == district.id,
    )
    return "\n".join(lines), markup


async def send_calendar(
    query: CallbackQuery,
    callback_data: QCalendarCb,
    session: AsyncSession,
    settings: Settings,
    callback_answer: CallbackAnswer,
) -> None:
    """ "Add to calendar": the meeting as an ``.ics`` file (Asia/Almaty, place, livestream)."""
    meeting = await session.get(Meeting, callback_data.meeting)
    if meeting is None or meeting.status != MeetingStatus.SCHEDULED:
        refuse(callback_answer, _("This meeting is no longer scheduled."))
        return
    district = await session.get(District, meeting.district_id)
    assert district is not None
    locale = current_locale()
    details = [_("Questions are accepted until {deadline}.").format(
        deadline=fmt_datetime(intake_deadline(meeting), locale)
    )]  # fmt: skip
    if meeting.stream_url:
        details.append(_("Livestream: {url}").format(url=meeting.stream_url))
    event = CalendarEvent(
        uid=f"meeting-{meeting.id}@kezdesu",
        summary=_("The akim's meeting with residents: {district}").format(
            district=district.name(locale)
        ),
        starts_at=meeting.starts_at,
        location=meeting.place,
        url=meeting.stream_url,
        description="\n".join(details),
    )
    content = event_ics(event, settings.tz, utcnow())
    chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    assert query.bot is not None
    await query.bot.send_document(
        chat_id,
        BufferedInputFile(content, filename=f"meeting-{meeting.id}.ics"),
        caption=_("🗓 Open the file to add the meeting to your calendar."),
    )


async def show_next_meeting(message: Message, session: AsyncSession, user: User) -> None:
    locale = current_locale()
    district = await session.get(District, user.district_id) if user.district_id else None
    if district is None:
        await ask_district(message, session, locale)
        return
    text, markup = await _next_meeting_card(session, user, district, locale)
    await message.answer(text, reply_markup=markup)


async def follow_district(
    query: CallbackQuery,
    callback_data: QNextCb,
    session: AsyncSession,
    user: User,
    callback_answer: CallbackAnswer,
) -> None:
    district = await session.get(District, callback_data.district)
    if district is None:
        refuse(callback_answer, stale_text())
        return
    await follow(session, user.id, district_id=district.id)
    await session.commit()
    locale = current_locale()
    callback_answer.text = _(
        "You follow {district}: the bot will tell you when a meeting is scheduled."
    ).format(**district_placeholders(district.code, locale, district.name(locale), escape=False))
    if isinstance(query.message, Message):
        text, markup = await _next_meeting_card(session, user, district, locale)
        await query.message.edit_text(text, reply_markup=markup)


async def ask_from_card(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    user: User,
    settings: Settings,
    callback_answer: CallbackAnswer,
) -> None:
    if await state.get_state() is not None:
        refuse(
            callback_answer,
            _("You are in the middle of filling in a form. Finish it, or send /cancel first."),
        )
        return
    if isinstance(query.message, Message):
        await begin_form(query.message, state, session, user, settings, current_locale())
