"""Deep links to share: ``/start d<slug>`` opens a district (its meetings and commitments, follow),
``/start mt<id>`` a meeting (an upcoming one: when, where, the livestream, ask, add to calendar;
a past one: its plan). A newcomer is then set up as by ``/start``; a link to something that no
longer exists says so. (``/start m<id>``, a commitment's card, is in ``card``.)"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import current_locale
from bot.keyboards.resident import MEASURES_PER_PAGE, MEETINGS_PER_PAGE, district_view, meeting_view
from handlers.common import start
from handlers.questions.meeting import meeting_card
from models import commitments
from models.base import utcnow
from models.clock import local_today
from models.entities import District, Meeting, MeetingStatus, User

DISTRICT_LINK = r"^d[a-z0-9_-]{1,32}$"
MEETING_LINK = r"^mt\d{1,9}$"


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(
        open_district_link, CommandStart(deep_link=True, magic=F.args.regexp(DISTRICT_LINK))
    )
    r.message.register(
        open_meeting_link, CommandStart(deep_link=True, magic=F.args.regexp(MEETING_LINK))
    )
    return r


async def _then_set_up(
    message: Message, session: AsyncSession, user: User, is_admin: bool, state: FSMContext
) -> None:
    if user.locale is None or user.district_id is None:
        await start(message, session, user, is_admin, state)


async def open_district_link(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    user: User,
    is_admin: bool,
    state: FSMContext,
) -> None:
    slug = (command.args or "d")[1:]
    district = (
        await session.execute(select(District).where(District.slug == slug))
    ).scalar_one_or_none()
    page = (
        await commitments.district_page(
            session, district.id, 0, MEETINGS_PER_PAGE, local_today(), user.id
        )
        if district is not None
        else None
    )
    if page is None:
        await message.answer(_("This link is out of date: there is no such district."))
    else:
        text, markup = district_view(page, current_locale())
        await message.answer(text, reply_markup=markup)
    await _then_set_up(message, session, user, is_admin, state)


async def open_meeting_link(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    user: User,
    is_admin: bool,
    state: FSMContext,
) -> None:
    meeting = await session.get(Meeting, int((command.args or "mt0")[2:]))
    district = await session.get(District, meeting.district_id) if meeting else None
    if meeting is None or district is None:
        await message.answer(_("This meeting no longer exists."))
    elif meeting.status == MeetingStatus.SCHEDULED and meeting.starts_at > utcnow():
        text, markup = await meeting_card(session, user, district, meeting, current_locale())
        await message.answer(text, reply_markup=markup)
    else:
        page = await commitments.meeting_page(
            session, meeting.id, 0, MEASURES_PER_PAGE, local_today()
        )
        assert page is not None
        text, markup = meeting_view(page, current_locale(), 0)
        await message.answer(text, reply_markup=markup)
    await _then_set_up(message, session, user, is_admin, state)
