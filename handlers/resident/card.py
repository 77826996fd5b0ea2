"""A measure's card: from a list, from a notification (``OpenMeasureCb``), from a ``/start m<id>``
deep link; its history and photo proof."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import OpenMeasureCb
from bot.i18n import current_locale
from bot.keyboards.resident import (
    HISTORY_PER_PAGE,
    MEASURES_PER_PAGE,
    CardCb,
    CardNav,
    HistoryCb,
    ProofCb,
    Src,
    View,
    WebLink,
    history_view,
    render_card,
)
from bot.replies import refuse, show
from handlers.common import start
from handlers.resident.shared import MEASURE_GONE, VALID_ID, card_nav, page_moved
from models import commitments
from models.clock import local_today
from models.entities import Measure, User
from models.settings import Settings
from models.text import truncate


def router() -> Router:
    r = Router(name=__name__)
    r.message.register(
        open_card_from_link, CommandStart(deep_link=True, magic=F.args.regexp(r"^m\d{1,9}$"))
    )
    r.callback_query.register(show_card, CardCb.filter(VALID_ID))
    r.callback_query.register(open_card, OpenMeasureCb.filter(VALID_ID))
    r.callback_query.register(show_history, HistoryCb.filter(VALID_ID))
    r.callback_query.register(send_proof, ProofCb.filter(VALID_ID))
    return r


def chat_type_of(query: CallbackQuery) -> str | None:
    """The type of the chat a button was pressed in; None for an inline message."""
    return query.message.chat.type if query.message is not None else None


async def card_view(
    session: AsyncSession,
    user: User,
    is_admin: bool,
    measure_id: int,
    nav: CardNav,
    settings: Settings,
    chat_type: str | None,
) -> View | None:
    per_page = MEASURES_PER_PAGE if nav.src is Src.NONE else None
    card = await commitments.load_card(
        session, measure_id, user=user, is_admin=is_admin, per_page=per_page
    )
    if card is None:
        return None
    if nav.src is Src.NONE:  # the page of the plan it is on, loaded with the card
        nav = CardNav(Src.NONE, card.plan_page, 0)
    locale = current_locale()
    web = WebLink.for_measure(settings.web_public_url, measure_id, locale, chat_type)
    return render_card(card, locale, local_today(), nav, web)


async def show_card(
    query: CallbackQuery,
    callback_data: CardCb,
    session: AsyncSession,
    user: User,
    is_admin: bool,
    settings: Settings,
    callback_answer: CallbackAnswer,
) -> None:
    nav = card_nav(callback_data.src, callback_data.page, callback_data.dp)
    view = await card_view(
        session, user, is_admin, callback_data.id, nav, settings, chat_type_of(query)
    )
    if view is None:
        refuse(callback_answer, _(MEASURE_GONE))
        return
    await show(query, *view)


async def open_card(
    query: CallbackQuery,
    callback_data: OpenMeasureCb,
    session: AsyncSession,
    user: User,
    is_admin: bool,
    bot: Bot,
    settings: Settings,
    callback_answer: CallbackAnswer,
) -> None:
    """From a notification, reminder or another area's list: the card as a new message."""
    view = await card_view(
        session, user, is_admin, callback_data.id, CardNav(), settings, chat_type_of(query)
    )
    if view is None:
        refuse(callback_answer, _(MEASURE_GONE))
        return
    chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    text, markup = view
    await bot.send_message(chat_id, text, reply_markup=markup)


async def open_card_from_link(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    user: User,
    is_admin: bool,
    state: FSMContext,
    settings: Settings,
) -> None:
    """``/start m<id>``: a card shared through inline mode; newcomers are then set up."""
    measure_id = int((command.args or "m0")[1:])
    view = await card_view(
        session, user, is_admin, measure_id, CardNav(), settings, message.chat.type
    )
    if view is None:
        await message.answer(_("This commitment no longer exists."))
    else:
        text, markup = view
        await message.answer(text, reply_markup=markup)
    if user.locale is None or user.district_id is None:
        await start(message, session, user, is_admin, state)


async def show_history(
    query: CallbackQuery,
    callback_data: HistoryCb,
    session: AsyncSession,
    callback_answer: CallbackAnswer,
) -> None:
    history = await commitments.measure_history(
        session, callback_data.id, callback_data.hp, HISTORY_PER_PAGE
    )
    if history is None:
        refuse(callback_answer, _(MEASURE_GONE))
        return
    page_moved(callback_answer, callback_data.hp, history.page)
    nav = card_nav(callback_data.src, callback_data.page, callback_data.dp)
    text, markup = history_view(history, current_locale(), nav)
    await show(query, text, markup)


async def send_proof(
    query: CallbackQuery,
    callback_data: ProofCb,
    session: AsyncSession,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    measure = await session.get(Measure, callback_data.id)
    if measure is None:
        refuse(callback_answer, _(MEASURE_GONE))
        return
    if not measure.proof_photo_file_id:
        refuse(callback_answer, _("There is no photo proof for this commitment."))
        return
    chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    caption = _("📷 Proof: {measure}").format(measure=truncate(measure.text, 900))
    await bot.send_photo(chat_id, measure.proof_photo_file_id, caption=caption, parse_mode=None)
