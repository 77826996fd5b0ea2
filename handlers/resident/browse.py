"""Browsing commitments: the city's districts, a district's meetings, a meeting's plan."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, StateFilter
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import current_locale
from bot.keyboards.resident import (
    MEASURES_PER_PAGE,
    MEETINGS_PER_PAGE,
    DistrictPageCb,
    DistrictsCb,
    MeetingCb,
    OverviewCb,
    Src,
    district_view,
    districts_view,
    meeting_view,
    overview_view,
)
from bot.menu import MenuButton, MenuItem
from bot.replies import refuse, show
from handlers.resident.shared import VALID_ID, card_nav, page_moved
from models import commitments
from models.clock import local_today
from models.entities import User


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(show_districts, Command("commitments"), StateFilter(None))
    r.message.register(show_districts, MenuButton(MenuItem.COMMITMENTS), StateFilter(None))
    r.callback_query.register(back_to_districts, DistrictsCb.filter())
    r.callback_query.register(show_overview, OverviewCb.filter())
    r.callback_query.register(show_district, DistrictPageCb.filter(VALID_ID))
    r.callback_query.register(show_meeting, MeetingCb.filter(VALID_ID))
    return r


async def show_districts(message: Message, session: AsyncSession, user: User) -> None:
    summaries = await commitments.city_overview(session, local_today())
    text, markup = districts_view(summaries, user.district_id, current_locale())
    await message.answer(text, reply_markup=markup)


async def back_to_districts(query: CallbackQuery, session: AsyncSession, user: User) -> None:
    summaries = await commitments.city_overview(session, local_today())
    text, markup = districts_view(summaries, user.district_id, current_locale())
    await show(query, text, markup)


async def show_overview(query: CallbackQuery, session: AsyncSession) -> None:
    today = local_today()
    summaries = await commitments.city_overview(session, today)
    text, markup = overview_view(summaries, current_locale(), today)
    await show(query, text, markup)


async def show_district(
    query: CallbackQuery,
    callback_data: DistrictPageCb,
    session: AsyncSession,
    user: User,
    callback_answer: CallbackAnswer,
) -> None:
    page = await commitments.district_page(
        session, callback_data.id, callback_data.page, MEETINGS_PER_PAGE, local_today(), user.id
    )
    if page is None:
        refuse(callback_answer, _("This district no longer exists. Please open the list again."))
        return
    page_moved(callback_answer, callback_data.page, page.page)
    text, markup = district_view(page, current_locale())
    await show(query, text, markup)


async def show_meeting(
    query: CallbackQuery,
    callback_data: MeetingCb,
    session: AsyncSession,
    callback_answer: CallbackAnswer,
) -> None:
    page = await commitments.meeting_page(
        session, callback_data.id, callback_data.page, MEASURES_PER_PAGE, local_today()
    )
    if page is None:
        refuse(callback_answer, _("This meeting no longer exists. Please open the list again."))
        return
    page_moved(callback_answer, callback_data.page, page.page)
    back = card_nav(Src.MEETING, 0, callback_data.dp).dp
    text, markup = meeting_view(page, current_locale(), back)
    await show(query, text, markup)
