"""Handlers of the resident area: browsing commitments (district → meetings → plan → card),
the card's history, proof and follow buttons, search (/find and plain text), /following, inline
mode, the ``/start m<id>`` deep link and the shared ``OpenMeasureCb`` ("open the card").

Navigation edits the message in place; a card opened from a notification, a reminder or a deep
link arrives as a new message. Stale or forged buttons (a measure that no longer exists, a page
out of range) get a polite answer and change nothing.
"""

from __future__ import annotations

from typing import Final

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQuery,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Message,
)
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n.context import get_i18n
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import OpenMeasureCb
from bot.keyboards.resident import (
    FOLLOWING_PER_PAGE,
    HISTORY_PER_PAGE,
    MEASURES_PER_PAGE,
    MEETINGS_PER_PAGE,
    SEARCH_PER_PAGE,
    CardCb,
    CardFollowCb,
    CardNav,
    DistrictFollowCb,
    DistrictPageCb,
    DistrictsCb,
    FollowingCb,
    FollowKind,
    HistoryCb,
    MeetingCb,
    OverviewCb,
    ProofCb,
    SearchCb,
    Src,
    UnfollowCb,
    View,
    compact_card,
    compact_description,
    district_view,
    districts_view,
    following_view,
    history_view,
    meeting_view,
    no_results_view,
    overview_view,
    render_card,
    search_view,
)
from bot.menu import MenuButton, MenuItem
from bot.replies import show
from handlers.common import start
from models import commitments
from models.clock import local_today
from models.entities import District, Measure, User
from models.follows import follow, unfollow
from models.search import popular_measures, search_measures
from models.statuses import status_mark
from models.text import truncate
from models.translation import N_

router: Final[Router] = Router(name=__name__)
router.message.filter(F.chat.type == "private")

# Ids are 32-bit in both databases: a forged larger one is a stale button (the fallback answers
# it), not a database error. Page numbers carried along for "back" are kept small.
MAX_ID = 2**31 - 1
MAX_PAGE = 9999
VALID_ID = (F.id > 0) & (F.id <= MAX_ID)
SEARCH_KEY = "resident_search"  # the last search query, kept in the FSM data (not a state)
INLINE_PER_PAGE = 20


def _locale(user: User | None) -> str:
    """The locale of this update: the profile's, else Telegram's hint (as the i18n middleware
    resolved it), so Babel dates always match the translated texts."""
    return str(get_i18n().current_locale or (user.locale if user else None) or "ru")


def _nav(src: Src, page: int, dp: int) -> CardNav:
    return CardNav(src, min(max(page, 0), MAX_PAGE), min(max(dp, 0), MAX_PAGE))


def _gone(callback_answer: CallbackAnswer, text: str) -> None:
    callback_answer.text = text
    callback_answer.show_alert = True


def _page_moved(callback_answer: CallbackAnswer, asked: int, shown: int) -> None:
    if asked != shown:
        callback_answer.text = _("That page no longer exists; here is page {page}.").format(
            page=shown + 1
        )


MEASURE_GONE = N_("This commitment no longer exists. Please open the list again.")


# --- browse ------------------------------------------------------------------------------------


@router.message(MenuButton(MenuItem.COMMITMENTS), StateFilter(None))
@router.message(Command("commitments"), StateFilter(None))
async def show_districts(message: Message, session: AsyncSession, user: User) -> None:
    summaries = await commitments.city_overview(session, local_today())
    text, markup = districts_view(summaries, user.district_id, _locale(user))
    await message.answer(text, reply_markup=markup)


@router.callback_query(DistrictsCb.filter())
async def back_to_districts(
    query: CallbackQuery, session: AsyncSession, user: User, bot: Bot
) -> None:
    summaries = await commitments.city_overview(session, local_today())
    text, markup = districts_view(summaries, user.district_id, _locale(user))
    await show(query, text, markup)


@router.callback_query(OverviewCb.filter())
async def show_overview(query: CallbackQuery, session: AsyncSession, user: User, bot: Bot) -> None:
    today = local_today()
    summaries = await commitments.city_overview(session, today)
    text, markup = overview_view(summaries, _locale(user), today)
    await show(query, text, markup)


@router.callback_query(DistrictPageCb.filter(VALID_ID))
async def show_district(
    query: CallbackQuery,
    callback_data: DistrictPageCb,
    session: AsyncSession,
    user: User,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    page = await commitments.district_page(
        session, callback_data.id, callback_data.page, MEETINGS_PER_PAGE, local_today(), user.id
    )
    if page is None:
        _gone(callback_answer, _("This district no longer exists. Please open the list again."))
        return
    _page_moved(callback_answer, callback_data.page, page.page)
    text, markup = district_view(page, _locale(user))
    await show(query, text, markup)


@router.callback_query(MeetingCb.filter(VALID_ID))
async def show_meeting(
    query: CallbackQuery,
    callback_data: MeetingCb,
    session: AsyncSession,
    user: User,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    page = await commitments.meeting_page(
        session, callback_data.id, callback_data.page, MEASURES_PER_PAGE, local_today()
    )
    if page is None:
        _gone(callback_answer, _("This meeting no longer exists. Please open the list again."))
        return
    _page_moved(callback_answer, callback_data.page, page.page)
    text, markup = meeting_view(page, _locale(user), _nav(Src.MEETING, 0, callback_data.dp).dp)
    await show(query, text, markup)


# --- the card ----------------------------------------------------------------------------------


async def _card(
    session: AsyncSession, user: User, is_admin: bool, measure_id: int, nav: CardNav
) -> View | None:
    per_page = MEASURES_PER_PAGE if nav.src is Src.NONE else None
    card = await commitments.load_card(
        session, measure_id, user=user, is_admin=is_admin, per_page=per_page
    )
    if card is None:
        return None
    if nav.src is Src.NONE:  # the page of the plan it is on, loaded with the card
        nav = CardNav(Src.NONE, card.plan_page, 0)
    return render_card(card, _locale(user), local_today(), nav)


@router.callback_query(CardCb.filter(VALID_ID))
async def show_card(
    query: CallbackQuery,
    callback_data: CardCb,
    session: AsyncSession,
    user: User,
    is_admin: bool,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    nav = _nav(callback_data.src, callback_data.page, callback_data.dp)
    view = await _card(session, user, is_admin, callback_data.id, nav)
    if view is None:
        _gone(callback_answer, _(MEASURE_GONE))
        return
    await show(query, *view)


@router.callback_query(OpenMeasureCb.filter(VALID_ID))
async def open_card(
    query: CallbackQuery,
    callback_data: OpenMeasureCb,
    session: AsyncSession,
    user: User,
    is_admin: bool,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """From a notification, reminder or another area's list: the card as a new message."""
    view = await _card(session, user, is_admin, callback_data.id, CardNav())
    if view is None:
        _gone(callback_answer, _(MEASURE_GONE))
        return
    chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    text, markup = view
    await bot.send_message(chat_id, text, reply_markup=markup)


@router.message(CommandStart(deep_link=True, magic=F.args.regexp(r"^m\d{1,9}$")))
async def open_card_from_link(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    user: User,
    is_admin: bool,
    state: FSMContext,
) -> None:
    """``/start m<id>``: a card shared through inline mode; newcomers are then set up."""
    measure_id = int((command.args or "m0")[1:])
    view = await _card(session, user, is_admin, measure_id, CardNav())
    if view is None:
        await message.answer(_("This commitment no longer exists."))
    else:
        text, markup = view
        await message.answer(text, reply_markup=markup)
    if user.locale is None or user.district_id is None:
        await start(message, session, user, is_admin, state)


@router.callback_query(HistoryCb.filter(VALID_ID))
async def show_history(
    query: CallbackQuery,
    callback_data: HistoryCb,
    session: AsyncSession,
    user: User,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    history = await commitments.measure_history(
        session, callback_data.id, callback_data.hp, HISTORY_PER_PAGE
    )
    if history is None:
        _gone(callback_answer, _(MEASURE_GONE))
        return
    _page_moved(callback_answer, callback_data.hp, history.page)
    nav = _nav(callback_data.src, callback_data.page, callback_data.dp)
    text, markup = history_view(history, _locale(user), nav)
    await show(query, text, markup)


@router.callback_query(ProofCb.filter(VALID_ID))
async def send_proof(
    query: CallbackQuery,
    callback_data: ProofCb,
    session: AsyncSession,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    measure = await session.get(Measure, callback_data.id)
    if measure is None:
        _gone(callback_answer, _(MEASURE_GONE))
        return
    if not measure.proof_photo_file_id:
        _gone(callback_answer, _("There is no photo proof for this commitment."))
        return
    chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    caption = _("📷 Proof: {measure}").format(measure=truncate(measure.text, 900))
    await bot.send_photo(chat_id, measure.proof_photo_file_id, caption=caption, parse_mode=None)


# --- follows -----------------------------------------------------------------------------------


@router.callback_query(CardFollowCb.filter(VALID_ID))
async def toggle_measure_follow(
    query: CallbackQuery,
    callback_data: CardFollowCb,
    session: AsyncSession,
    user: User,
    is_admin: bool,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    if await session.get(Measure, callback_data.id) is None:
        _gone(callback_answer, _(MEASURE_GONE))
        return
    if callback_data.on:
        await follow(session, user.id, measure_id=callback_data.id)
        answer = _("🔔 You follow this commitment: you will hear when its status changes.")
    else:
        await unfollow(session, user.id, measure_id=callback_data.id)
        answer = _("🔕 You no longer follow this commitment.")
    await session.commit()
    callback_answer.text = answer
    nav = _nav(callback_data.src, callback_data.page, callback_data.dp)
    view = await _card(session, user, is_admin, callback_data.id, nav)
    if view is not None:
        await show(query, *view)


@router.callback_query(DistrictFollowCb.filter(VALID_ID))
async def toggle_district_follow(
    query: CallbackQuery,
    callback_data: DistrictFollowCb,
    session: AsyncSession,
    user: User,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    if await session.get(District, callback_data.id) is None:
        _gone(callback_answer, _("This district no longer exists. Please open the list again."))
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
        await show(query, *district_view(page, _locale(user)))


async def _following(session: AsyncSession, user: User, page: int) -> tuple[int, View]:
    data = await commitments.following_page(
        session, user.id, page, FOLLOWING_PER_PAGE, local_today()
    )
    return data.page, following_view(data, _locale(user))


@router.message(Command("following"), StateFilter(None))
@router.message(MenuButton(MenuItem.FOLLOWING), StateFilter(None))
async def show_following(message: Message, session: AsyncSession, user: User) -> None:
    _page, (text, markup) = await _following(session, user, 0)
    await message.answer(text, reply_markup=markup)


@router.callback_query(FollowingCb.filter())
async def page_following(
    query: CallbackQuery,
    callback_data: FollowingCb,
    session: AsyncSession,
    user: User,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    shown, view = await _following(session, user, callback_data.page)
    _page_moved(callback_answer, callback_data.page, shown)
    await show(query, *view)


@router.callback_query(UnfollowCb.filter(VALID_ID))
async def unfollow_from_list(
    query: CallbackQuery,
    callback_data: UnfollowCb,
    session: AsyncSession,
    user: User,
    bot: Bot,
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


# --- search ------------------------------------------------------------------------------------


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
    view = search_view(result, query_text, _locale(user), user.district_id is not None)
    return result.page, view


async def run_search(
    message: Message, session: AsyncSession, user: User, state: FSMContext, text: str
) -> None:
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


@router.message(Command("find", "search"), StateFilter(None))
async def find_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    user: User,
    state: FSMContext,
) -> None:
    await run_search(message, session, user, state, command.args or "")


@router.callback_query(SearchCb.filter())
async def page_search(
    query: CallbackQuery,
    callback_data: SearchCb,
    session: AsyncSession,
    user: User,
    state: FSMContext,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    query_text = (await state.get_data()).get(SEARCH_KEY)
    if not query_text:
        _gone(callback_answer, _("This search has expired. Please type the words again."))
        return
    shown, view = await _search(session, user, str(query_text), callback_data.page)
    _page_moved(callback_answer, callback_data.page, shown)
    await show(query, *view)


@router.message(StateFilter(None), F.text, ~F.text.startswith("/"), ~MenuButton())
async def search_plain_text(
    message: Message, session: AsyncSession, user: User, state: FSMContext
) -> None:
    """Plain text typed at the main menu is a search."""
    await run_search(message, session, user, state, message.text or "")


# --- inline mode -------------------------------------------------------------------------------


@router.inline_query()
async def inline_search(
    inline_query: InlineQuery, session: AsyncSession, user: User, bot: Bot
) -> None:
    locale = _locale(user)
    today = local_today()
    offset = int(inline_query.offset) if inline_query.offset.isdigit() else 0
    words = inline_query.query.strip()
    next_offset = ""
    if words:
        page = offset // INLINE_PER_PAGE
        result = await search_measures(
            session,
            words,
            district_id=user.district_id,
            page=page,
            per_page=INLINE_PER_PAGE,
            today=today,
        )
        rows = result.rows if result.page == page else []
        if (page + 1) * INLINE_PER_PAGE < result.total:
            next_offset = str((page + 1) * INLINE_PER_PAGE)
    else:
        rows = [] if offset else await popular_measures(
            session, district_id=user.district_id, limit=INLINE_PER_PAGE, today=today
        )  # fmt: skip
    me = await bot.me()
    results = []
    for row in rows:
        link = f"https://t.me/{me.username}?start=m{row.id}"
        results.append(
            InlineQueryResultArticle(
                id=f"m{row.id}",
                title=truncate(f"{status_mark(row.status)} {row.text}", 120),
                description=compact_description(row, locale),
                input_message_content=InputTextMessageContent(
                    message_text=compact_card(row, locale, today), parse_mode="HTML"
                ),
                reply_markup=InlineKeyboardMarkup(
                    inline_keyboard=[
                        [InlineKeyboardButton(text=_("📋 Open the full card"), url=link)]
                    ]
                ),
            )
        )
    button = None
    if not results and not offset:
        button = InlineQueryResultsButton(
            text=_("Nothing found: search in the bot"), start_parameter="find"
        )
    await inline_query.answer(
        results,  # type: ignore[arg-type]
        cache_time=30,
        is_personal=True,
        next_offset=next_offset,
        button=button,
    )
