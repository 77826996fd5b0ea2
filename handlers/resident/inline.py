"""Inline mode: ``@bot words`` in any chat offers matching commitments as cards to share."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQuery,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
)
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import current_locale
from bot.keyboards.inline import compact_card, compact_description
from bot.keyboards.resident import WebLink
from models.clock import local_today
from models.entities import User
from models.search import popular_measures, search_measures
from models.settings import Settings
from models.statuses import status_mark
from models.text import truncate

INLINE_PER_PAGE = 20


def router() -> Router:
    r = Router(name=__name__)
    r.inline_query.register(inline_search)
    return r


def web_rows(settings: Settings, measure_id: int) -> list[list[InlineKeyboardButton]]:
    """With WEB_PUBLIC_URL, a link to the measure's page (a shared message is read by anyone,
    so the page picks the reader's language; no Mini App buttons in inline messages)."""
    if not settings.web_public_url:
        return []
    return [[WebLink(f"{settings.web_public_url}/m/{measure_id}", mini_app=False).button()]]


async def inline_search(
    inline_query: InlineQuery, session: AsyncSession, user: User, bot: Bot, settings: Settings
) -> None:
    locale = current_locale()
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
                        [InlineKeyboardButton(text=_("📋 Open the full card"), url=link)],
                        *web_rows(settings, row.id),
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
