"""Following a measure or a district, and /following: the list of what one follows."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, StateFilter
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import current_locale
from bot.keyboards.resident import (
    FOLLOWING_PER_PAGE,
    MEETINGS_PER_PAGE,
    CardFollowCb,
    DistrictFollowCb,
    FollowingCb,
    FollowKind,
    UnfollowCb,
    View,
    district_view,
    following_view,
)
from bot.menu import MenuButton, MenuItem
from bot.replies import refuse, show
from handlers.resident.card import card_view, chat_type_of
from handlers.resident.shared import MEASURE_GONE, VALID_ID, card_nav, page_moved
from models import commitments
from models.clock import local_today
from models.entities import District, Measure, User
from models.follows import follow, unfollow
from models.settings import Settings


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(show_following, Command("following"), StateFilter(None))
    r.message.register(show_following, MenuButton(MenuItem.FOLLOWING), StateFilter(None))
    r.callback_query.register(toggle_measure_follow, CardFollowCb.filter(VALID_ID))
    r.callback_query.register(toggle_district_follow, DistrictFollowCb.filter(VALID_ID))
    r.callback_query.register(page_following, FollowingCb.filter())
    r.callback_query.register(unfollow_from_list, UnfollowCb.filter(VALID_ID))
    return r


async def toggle_measure_follow(
    query: CallbackQuery,
    callback_data: CardFollowCb,
    session: AsyncSession,
    user: User,
    is_admin: bool,
    settings: Settings,
    callback_answer: CallbackAnswer,
) -> None:
    if await session.get(Measure, callback_data.id) is None:
        refuse(callback_answer, _(MEASURE_GONE))
        return
    if callback_data.on:
        await follow(session, user.id, measure_id=callback_data.id)
        answer = _("🔔 You follow this commitment: you will hear when its status changes.")
    else:
        await unfollow(session, user.id, measure_id=callback_data.id)
        answer = _("🔕 You no longer follow this commitment.")
    await session.commit()
    callback_answer.text = answer
    nav = card_nav(callback_data.src, callback_data.page, callback_data.dp)
    view = await card_view(
        session, user, is_admin, callback_data.id, nav, settings, chat_type_of(query)
    )
    if view is not None:
        await show(query, *view)


async def toggle_district_follow(
    query: CallbackQuery,
    callback_data: DistrictFollowCb,
    session: AsyncSession,
    user: User,
    callback_answer: CallbackAnswer,
) -> None:
    if await session.get(District, callback_data.id) is None:
        refuse(callback_answer, _("This district no longer exists. Please open the list again."))
        return
    if callback_data.on:
        await follow(session, user.id, district_id=callback_data.id)
        answer = _("🔔 You follow the district: you will hear about its meetings.")
    else:
        await unfollow(session, user.id, district_id=callback_data.id)
        answer = _("🔕 You no longer follow the district.")
    await session.commit()
    callback_answer.text = answer
    page = await commitments.district_page(
        session, callback_data.id, callback_data.page, MEETINGS_PER_PAGE, local_today(), user.id
    )
    if page is not None:
        await show(query, *district_view(page, current_locale()))


async def _following(session: AsyncSession, user: User, page: int) -> tuple[int, View]:
    data = await commitments.following_page(
        session, user.id, page, FOLLOWING_PER_PAGE, local_today()
    )
    return data.page, following_view(data, current_locale())


async def show_following(message: Message, session: AsyncSession, user: User) -> None:
    _page, (text, markup) = await _following(session, user, 0)
    await message.answer(text, reply_markup=markup)


async def page_following(
    query: CallbackQuery,
    callback_data: FollowingCb,
    session: AsyncSession,
    user: User,
    callback_answer: CallbackAnswer,
) -> None:
    shown, view = await _following(session, user, callback_data.page)
    page_moved(callback_answer, callback_data.page, shown)
    await show(query, *view)


async def unfollow_from_list(
    query: CallbackQuery,
    callback_data: UnfollowCb,
    session: AsyncSession,
    user: User,
    callback_answer: CallbackAnswer,
) -> None:
    if callback_data.kind is FollowKind.MEASURE:
        removed = await unfollow(session, user.id, measure_id=callback_data.id)
    else:
        removed = await unfollow(session, user.id, district_id=callback_data.id)
    await session.commit()
    callback_answer.text = (
        _("🔕 Unfollowed.") if removed else _("You were not following it any more.")
    )
    _shown, view = await _following(session, user, callback_data.page)
    await show(query, *view)
