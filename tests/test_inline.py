"""Inline mode: ``@bot words`` offers matching measures as articles to share; the article's
button opens the full card in the bot through the ``/start m<id>`` deep link."""

from __future__ import annotations

from collections.abc import Callable

from aiogram.types import InlineKeyboardMarkup, InlineQuery, InputTextMessageContent, Update
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.entities import Measure
from tests.conftest import onboard
from tests.harness import (
    BOT_USERNAME,
    BotClient,
    _update_ids,
    html_error,
    inline_answers,
    last_message,
)
from tests.test_resident_browse import make_meeting

SAIRAN = "механической очистке дна водохранилища «Сайран»"


async def test_inline_query_offers_measures_with_a_deep_link(
    make_client: Callable[..., BotClient], session: AsyncSession, demo: int
) -> None:
    client = make_client(user_id=6301, language_code="en")
    await onboard(client, "en")
    sent = await client.inline("сайран")
    answers = inline_answers(sent)
    assert len(answers) == 1
    answer = answers[0]
    assert answer.is_personal is True
    assert answer.cache_time is not None and answer.cache_time <= 60
    # the plan's measure, then the promise stated at the meeting (the Sayran surroundings)
    assert len(answer.results) == 2
    article = answer.results[0]
    sairan_id = (
        await session.execute(
            select(Measure.id).where(Measure.text.like("%дна водохранилища «Сайран»%"))
        )
    ).scalar_one()
    content = article.input_message_content  # type: ignore[union-attr]
    assert isinstance(content, InputTextMessageContent)
    assert SAIRAN in content.message_text
    assert "December 31, 2022" in content.message_text
    assert "Almaly" in content.message_text
    assert html_error(content.message_text) is None
    markup = article.reply_markup  # type: ignore[union-attr]
    assert isinstance(markup, InlineKeyboardMarkup)
    assert markup.inline_keyboard[0][0].url == f"https://t.me/{BOT_USERNAME}?start=m{sairan_id}"

    # an empty query offers the district's commitments; Kazakh comes from Telegram's language
    stranger = make_client(user_id=6302, language_code="kk")
    sent = await stranger.inline("")
    results = inline_answers(sent)[0].results
    assert len(results) == 20  # the first page of the district's 21 commitments
    content = results[0].input_message_content  # type: ignore[union-attr]
    assert isinstance(content, InputTextMessageContent)
    assert "Мерзімі" in content.message_text

    sent = await client.inline("зоопарк")
    empty = inline_answers(sent)[0]
    assert empty.results == []
    assert empty.button is not None

    # the deep link opens the full card in the bot
    sent = await client.send(f"/start m{sairan_id}")
    card = last_message(sent)
    assert "Очищение дна" in card.text
    assert "🔔 Follow" in card.buttons
    sent = await client.send("/start m999999")
    assert "no longer exists" in last_message(sent).text


async def test_deep_link_for_a_newcomer_shows_the_card_then_the_setup(
    make_client: Callable[..., BotClient], session: AsyncSession, demo: int
) -> None:
    measure_id = (
        await session.execute(
            select(Measure.id).where(Measure.text.like("%дна водохранилища «Сайран»%"))
        )
    ).scalar_one()
    client = make_client(user_id=6401, language_code="kk")
    sent = await client.send(f"/start m{measure_id}")
    texts = [s.text for s in sent if s.text]
    assert any("Очищение дна" in t for t in texts)
    assert "Қазақша" in " ".join(last_message(sent).buttons)  # then the language chooser


async def test_inline_results_are_paged_with_next_offset(
    client: BotClient, session: AsyncSession
) -> None:
    await make_meeting(session, measures=45, text="Сайран {n}")
    sent = await client.inline("сайран")
    first = inline_answers(sent)[0]
    assert len(first.results) == 20
    assert first.next_offset == "20"
    query = InlineQuery(id="q2", from_user=client.tg_user, query="сайран", offset=first.next_offset)
    sent = await client.feed(Update(update_id=next(_update_ids), inline_query=query))
    second = inline_answers(sent)[0]
    assert len(second.results) == 20
    assert second.next_offset == "40"
    assert {r.id for r in first.results}.isdisjoint({r.id for r in second.results})
