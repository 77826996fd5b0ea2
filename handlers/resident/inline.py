"""Inline mode: ``@bot words`` in any chat offers matching commitments as cards to share.

The «📤 Share» buttons of the bot put an exact query in the chat's input: ``m<id>`` (a
commitment), ``mt<id>`` (a meeting), ``d<slug>`` (a district); each answers that one card, with
a button that opens it in the bot through a deep link."""

from __future__ import annotations

import datetime as dt
import re

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
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.formatting import fmt_datetime
from bot.i18n import current_locale
from bot.keyboards.inline import (
    compact_card,
    compact_description,
    district_share,
    meeting_share,
    open_button,
    start_link,
)
from bot.keyboards.resident import WebLink, tally_line
from models import commitments
from models.clock import local_today
from models.commitments import MeasureRow
from models.entities import District, Meeting, User
from models.followers import followed_measures
from models.search import popular_measures, search_measures
from models.settings import Settings
from models.statuses import status_mark
from models.text import strip_controls, truncate

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


SHARED = re.compile(
    r"^(?:m(?P<measure>\d{1,9})|mt(?P<meeting>\d{1,9})|d(?P<district>[a-z0-9_-]{1,32}))$"
)


async def inline_search(
    inline_query: InlineQuery, session: AsyncSession, user: User, bot: Bot, settings: Settings
) -> None:
    locale = current_locale()
    today = local_today()
    offset = int(inline_query.offset) if inline_query.offset.isdigit() else 0
    words = strip_controls(inline_query.query).strip()
    next_offset = ""
    shared = SHARED.match(words)
    if shared is not None and not offset:
        me = await bot.me()
        await inline_query.answer(
            await _shared(session, shared, me.username, locale, today, settings),  # type: ignore[arg-type]
            cache_time=30,
            is_personal=True,
        )
        return
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
    results = [_measure_result(row, me.username, locale, today, settings) for row in rows]
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


def _measure_result(
    row: MeasureRow, username: str | None, locale: str, today: dt.date, settings: Settings
) -> InlineQueryResultArticle:
    opening = InlineKeyboardButton(
        text=_("📋 Open the full card"), url=start_link(username, f"m{row.id}")
    )
    return InlineQueryResultArticle(
        id=f"m{row.id}",
        title=truncate(f"{status_mark(row.status)} {row.text}", 120),
        description=compact_description(row, locale),
        input_message_content=InputTextMessageContent(
            message_text=compact_card(row, locale, today), parse_mode="HTML"
        ),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[[opening], *web_rows(settings, row.id)]),
    )


async def _shared(
    session: AsyncSession,
    shared: re.Match[str],
    username: str | None,
    locale: str,
    today: dt.date,
    settings: Settings,
) -> list[InlineQueryResultArticle]:
    """The one card a «📤 Share» button asked for (none when it no longer exists)."""
    if shared["measure"] is not None:
        found = await followed_measures(session, [int(shared["measure"])], today)
        return [
            _measure_result(item.row, username, locale, today, settings) for item in found.values()
        ]
    if shared["meeting"] is not None:
        meeting = await session.get(Meeting, int(shared["meeting"]))
        district = await session.get(District, meeting.district_id) if meeting else None
        if meeting is None or district is None:
            return []
        return [
            InlineQueryResultArticle(
                id=f"mt{meeting.id}",
                title=truncate(f"📅 {district.name(locale)}", 120),
                description=fmt_datetime(meeting.starts_at, locale),
                input_message_content=InputTextMessageContent(
                    message_text=meeting_share(meeting, district, locale), parse_mode="HTML"
                ),
                reply_markup=open_button(
                    _("📅 Open in the bot"), start_link(username, f"mt{meeting.id}")
                ),
            )
        ]
    district = (
        await session.execute(select(District).where(District.slug == shared["district"]))
    ).scalar_one_or_none()
    if district is None:
        return []
    summaries = await commitments.city_overview(session, today)
    tally = next((s.tally for s in summaries if s.district.id == district.id), None)
    return [
        InlineQueryResultArticle(
            id=f"d{district.slug}",
            title=truncate(f"🏙 {district.name(locale)}", 120),
            description=tally_line(tally) if tally is not None else "",
            input_message_content=InputTextMessageContent(
                message_text=district_share(district, tally, locale), parse_mode="HTML"
            ),
            reply_markup=open_button(
                _("🏙 Open in the bot"), start_link(username, f"d{district.slug}")
            ),
        )
    ]
