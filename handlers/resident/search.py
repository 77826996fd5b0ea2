"""Search: /find, plain text typed at the main menu, and the pages of results."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import PlainText
from bot.i18n import current_locale
from bot.keyboards.resident import SEARCH_PER_PAGE, SearchCb, View
from bot.keyboards.search import no_results_view, search_view
from bot.menu import MenuButton
from bot.replies import refuse, show
from handlers.resident.shared import page_moved
from models.clock import local_today
from models.entities import User
from models.search import search_measures
from models.text import strip_controls, truncate

SEARCH_KEY = "resident_search"  # the last search query, kept in the FSM data (not a state)


def router() -> Router:
    """The plain-text search takes any text at the main menu: it must come after every other
    text handler of every area (``handlers.get_routers``)."""
    r = Router(name=__name__)
    r.message.register(find_command, Command("find", "search"), StateFilter(None))
    r.message.register(search_plain_text, StateFilter(None), PlainText(), ~MenuButton())
    r.callback_query.register(page_search, SearchCb.filter())
    return r


async def _search(
    session: AsyncSession, user: User, query_text: str, page: int
) -> tuple[int, View]:
    result = await search_measures(
        session,
        query_text,
        district_id=user.district_id,
        page=page,
        per_page=SEARCH_PER_PAGE,
        today=local_today(),
    )
    if not result.total:
        return 0, no_results_view(query_text, result.suggestions)
    view = search_view(result, query_text, current_locale(), user.district_id is not None)
    return result.page, view


async def run_search(
    message: Message, session: AsyncSession, user: User, state: FSMContext, text: str
) -> None:
    text = strip_controls(text)
    if not text.strip() or not any(len(w) >= 2 for w in text.split()):
        await message.answer(
            _(
                "Type what to look for after /find, for example <code>/find Сайран</code>, "
                "or just send the words: a street, a place, a school number."
            )
        )
        return
    query_text = truncate(" ".join(text.split()), 200)
    await state.update_data({SEARCH_KEY: query_text})
    _page, (reply, markup) = await _search(session, user, query_text, 0)
    await message.answer(reply, reply_markup=markup)


async def find_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    user: User,
    state: FSMContext,
) -> None:
    await run_search(message, session, user, state, command.args or "")


async def page_search(
    query: CallbackQuery,
    callback_data: SearchCb,
    session: AsyncSession,
    user: User,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    query_text = (await state.get_data()).get(SEARCH_KEY)
    if not query_text:
        refuse(callback_answer, _("This search has expired. Please type the words again."))
        return
    shown, view = await _search(session, user, str(query_text), callback_data.page)
    page_moved(callback_answer, callback_data.page, shown)
    await show(query, *view)


async def search_plain_text(
    message: Message, session: AsyncSession, user: User, state: FSMContext
) -> None:
    """Plain text typed at the main menu is a search."""
    await run_search(message, session, user, state, message.text or "")
