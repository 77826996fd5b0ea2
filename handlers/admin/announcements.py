"""Announcements: the audience (everyone or a district), the text, a preview, the queue."""

from __future__ import annotations

import uuid

from aiogram import F, Router, html
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import AdminCb, AdminSection
from bot.filters import Content
from bot.forms import TextReplies, form_text
from bot.i18n import current_locale
from bot.keyboards.admin import (
    AnnounceAction,
    AnnounceCb,
    announce_audience_keyboard,
    announce_confirm_keyboard,
)
from bot.replies import refuse, show
from models.entities import Announcement, User
from models.text import TextRule, strip_controls, truncate
from models.translation import N_
from models.users import get_district, list_districts
from scheduler.notifications.announcements import ANNOUNCEMENT_HEADER

ANNOUNCEMENT = TextRule(maximum=3500)
ANNOUNCEMENT_REPLIES = TextReplies(
    too_long=N_("The announcement must be up to {limit} characters; yours has {length}.")
)
MAX_ANNOUNCEMENT_HTML = 3900


class AnnounceForm(StatesGroup):
    audience = State()
    text = State()
    confirm = State()


def router() -> Router:
    r = Router(name=__name__)
    r.callback_query.register(announce_start, AdminCb.filter(F.section == AdminSection.ANNOUNCE))
    r.callback_query.register(
        announce_audience,
        AnnounceCb.filter(F.action == AnnounceAction.AUDIENCE),
        StateFilter(AnnounceForm.audience),
    )
    r.callback_query.register(announce_send, AnnounceCb.filter(F.action == AnnounceAction.SEND))
    r.callback_query.register(
        announce_discard, AnnounceCb.filter(F.action == AnnounceAction.DISCARD)
    )
    r.message.register(announce_audience_expected, StateFilter(AnnounceForm.audience))
    r.message.register(announce_text, StateFilter(AnnounceForm.text), Content("text"))
    r.message.register(announce_unexpected, StateFilter(AnnounceForm.text, AnnounceForm.confirm))
    return r


async def announce_start(query: CallbackQuery, session: AsyncSession, state: FSMContext) -> None:
    await state.clear()
    await state.set_state(AnnounceForm.audience)
    districts = await list_districts(session)
    await show(
        query,
        _("📢 <b>Announcement</b>\nWho should receive it?"),
        announce_audience_keyboard(districts, current_locale()),
    )


async def _audience_name(session: AsyncSession, district_id: int | None, locale: str) -> str:
    if district_id is None:
        return _("everyone")
    district = await get_district(session, district_id)
    return html.quote(district.name(locale)) if district else "—"


async def announce_audience(
    query: CallbackQuery,
    callback_data: AnnounceCb,
    session: AsyncSession,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    if callback_data.id and await get_district(session, callback_data.id) is None:
        refuse(callback_answer, _("This district no longer exists."))
        return
    await state.set_state(AnnounceForm.text)
    await state.set_data({"district_id": callback_data.id or None})
    await show(
        query,
        _(
            "Recipients: {audience}.\nSend the text of the announcement (up to {limit} "
            "characters). Bold and italics you apply in Telegram are kept."
        ).format(
            audience=await _audience_name(session, callback_data.id or None, current_locale()),
            limit=ANNOUNCEMENT.maximum,
        ),
        None,
    )


async def announce_audience_expected(message: Message) -> None:
    await message.answer(_("Choose the recipients with the buttons above, or /cancel."))


async def announce_text(message: Message, session: AsyncSession, state: FSMContext) -> None:
    plain, problem = form_text(message.text, ANNOUNCEMENT, ANNOUNCEMENT_REPLIES)
    if problem is not None:
        await message.answer(problem)
        return
    # the admin's own formatting, with everything else escaped
    body = strip_controls(message.html_text).strip()
    if len(body) > MAX_ANNOUNCEMENT_HTML:  # escaping (& → &amp;) must not push it past 4096
        await message.answer(
            _(ANNOUNCEMENT_REPLIES.too_long).format(limit=ANNOUNCEMENT.maximum, length=len(body))
        )
        return
    data = await state.get_data()
    district_id = data.get("district_id")
    recipients = await _count(session, district_id)
    token = uuid.uuid4().hex[:12]
    await state.set_state(AnnounceForm.confirm)
    await state.update_data(body=body, token=token, summary=truncate(" ".join(plain.split()), 80))
    await message.answer(
        _("<b>Preview</b>. Recipients: {audience}, {count} people.").format(
            audience=await _audience_name(session, district_id, current_locale()), count=recipients
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


async def announce_unexpected(message: Message, state: FSMContext) -> None:
    if await state.get_state() == AnnounceForm.confirm.state:
        await message.answer(_("Press «Send» under the preview, or /cancel to stop."))
        return
    await message.answer(_("Please send the announcement as text, or /cancel to stop."))


async def announce_send(
    query: CallbackQuery,
    callback_data: AnnounceCb,
    session: AsyncSession,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    data = await state.get_data()
    if (
        await state.get_state() != AnnounceForm.confirm.state
        or not callback_data.token
        or data.get("token") != callback_data.token
    ):
        refuse(callback_answer, _("This announcement was already sent or discarded."))
        return
    # Only recorded here: the announcements job queues the messages in batches and tells the
    # sender how delivery went (scheduler/announcements.py).
    district_id = data.get("district_id")
    session.add(
        Announcement(
            token=callback_data.token,
            author_chat_id=query.from_user.id,
            author_locale=current_locale(),
            district_id=district_id,
            body=data["body"],
            summary=str(data.get("summary", "")),
        )
    )
    await session.commit()
    await state.clear()
    await show(
        query,
        _(
            "📨 The announcement is being sent. Recipients: {count}. When every message has "
            "been tried, you will get a delivery report."
        ).format(count=await _count(session, district_id)),
        None,
    )


async def announce_discard(query: CallbackQuery, state: FSMContext) -> None:
    if str(await state.get_state()).startswith("AnnounceForm"):
        await state.clear()
    await show(query, _("Discarded. Nothing was sent."), None)
