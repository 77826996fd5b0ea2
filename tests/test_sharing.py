"""Sharing and discovery: «📤 Share» on cards (inline mode answers the one card), deep links to a
district and a meeting, the bot's description per language, and "Add to calendar" for the next
meeting as an .ics file that calendar apps read back at the right moment."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from aiogram.methods import SendDocument, SetMyDescription, SetMyShortDescription
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.calendar import CalendarEvent, event_ics
from bot.commands import DESCRIPTION, SHORT_DESCRIPTION, set_descriptions
from bot.i18n import CatalogI18n
from models.entities import Measure, Meeting, MeetingStatus
from tests.conftest import onboard
from tests.harness import (
    BOT_USERNAME,
    BotClient,
    RecordingSession,
    alerts,
    inline_answers,
    last_message,
    make_bot,
    messages,
)
from tests.test_questions_form import add_meeting

ALMATY = ZoneInfo("Asia/Almaty")


def share_queries(markup: object) -> list[str]:
    assert isinstance(markup, InlineKeyboardMarkup)
    return [
        b.switch_inline_query
        for row in markup.inline_keyboard
        for b in row
        if b.switch_inline_query is not None
    ]


def url_buttons(markup: object) -> list[str]:
    assert isinstance(markup, InlineKeyboardMarkup)
    return [b.url for row in markup.inline_keyboard for b in row if b.url]


async def test_share_a_commitment_card(demo: int, client: BotClient, session: AsyncSession) -> None:
    measure_id = (
        await session.execute(select(Measure.id).where(Measure.text.like("%мавзолея%")))
    ).scalar_one()
    await onboard(client, "en")
    sent = await client.send(f"/start m{measure_id}")
    card = next(m for m in messages(sent) if "мавзолея" in m.text)
    assert "📤 Share" in card.buttons
    assert share_queries(card.markup) == [f"m{measure_id}"]

    (answer,) = inline_answers(await client.inline(f"m{measure_id}"))
    (result,) = answer.results
    assert result.id == f"m{measure_id}"
    assert "мавзолея" in result.input_message_content.message_text  # type: ignore[union-attr]
    assert url_buttons(result.reply_markup) == [f"https://t.me/{BOT_USERNAME}?start=m{measure_id}"]
    (gone,) = inline_answers(await client.inline("m999999"))
    assert gone.results == []


async def test_district_deep_link_and_share(
    demo: int, make_client: Callable[..., BotClient]
) -> None:
    newcomer = make_client(user_id=9301, language_code="kk")
    sent = await newcomer.send("/start dalmaly")
    shown = messages(sent)
    assert "Алмалы ауданы" in shown[0].text  # the district, in the newcomer's language
    assert share_queries(shown[0].markup) == ["dalmaly"]
    assert any("Русский" in m.buttons for m in shown[1:])  # then set up as by /start

    resident = make_client(user_id=9302, language_code="en")
    await onboard(resident, "en")
    sent = await resident.send("/start dnowhere")
    assert "there is no such district" in last_message(sent).text
    (answer,) = inline_answers(await resident.inline("dalmaly"))
    (result,) = answer.results
    text = result.input_message_content.message_text  # type: ignore[union-attr]
    assert (
        "Almaly District: the akim's commitments" in text and "21 measures" in text
    )  # the plan's 12 and the 9 stated at the meeting
    assert url_buttons(result.reply_markup) == [f"https://t.me/{BOT_USERNAME}?start=dalmaly"]


async def test_meeting_deep_link_share_and_calendar(
    demo: int,
    client: BotClient,
    session: AsyncSession,
    session_pool: async_sessionmaker[AsyncSession],
) -> None:
    meeting_id = await add_meeting(
        session_pool, days=10, place="Дворец школьников; ул. Толе би, 85"
    )
    meeting = await session.get(Meeting, meeting_id)
    assert meeting is not None
    starts_at = meeting.starts_at
    await onboard(client, "ru")

    sent = await client.send("📅 Ближайшая встреча")
    card = last_message(sent)
    assert "🗓 Добавить в календарь" in card.buttons and "📤 Поделиться" in card.buttons
    assert share_queries(card.markup) == [f"mt{meeting_id}"]
    sent = await client.send(f"/start mt{meeting_id}")
    assert "Дворец школьников" in last_message(sent).text
    sent = await client.send(f"/start mt{demo}")  # a meeting that was held: its plan
    assert "Инженерные сети" in last_message(sent).text
    sent = await client.send("/start mt999999")
    assert "Этой встречи больше нет." in last_message(sent).text

    (answer,) = inline_answers(await client.inline(f"mt{meeting_id}"))
    (result,) = answer.results
    assert "Дворец школьников" in result.input_message_content.message_text  # type: ignore[union-attr]
    assert url_buttons(result.reply_markup) == [f"https://t.me/{BOT_USERNAME}?start=mt{meeting_id}"]

    sent = await client.click(card, "Добавить в календарь")
    (document,) = [s.method for s in sent if isinstance(s.method, SendDocument)]
    assert isinstance(document.document, BufferedInputFile)
    assert document.document.filename == f"meeting-{meeting_id}.ics"
    calendar = Calendar.from_ical(document.document.data)
    (event,) = calendar.walk("VEVENT")
    start = event.decoded("dtstart")
    assert start == starts_at and str(start.tzinfo) == "Asia/Almaty"
    assert event.decoded("dtend") - start == dt.timedelta(hours=2)
    assert str(event["location"]) == "Дворец школьников; ул. Толе би, 85"
    assert str(event["url"]) == "https://youtube.com/live/almaly"
    assert "Встреча акима с жителями" in str(event["summary"])
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["Asia/Almaty"]
    assert b"DTSTART;TZID=Asia/Almaty:" in document.document.data

    # a cancelled meeting's old button
    meeting.status = MeetingStatus.CANCELLED
    await session.commit()
    sent = await client.click(card, "Добавить в календарь")
    assert "больше не запланирована" in alerts(sent)[0]
    assert not any(isinstance(s.method, SendDocument) for s in sent)


def test_calendar_times_across_almatys_change_of_offset() -> None:
    """15:00 in Almaty was 09:00 UTC in June 2022 (UTC+6) and is 10:00 UTC since March 2024
    (UTC+5): the file's zone says so, and reads back to the same moments."""
    for starts_at in (
        dt.datetime(2022, 6, 23, 9, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 6, 15, 10, 0, tzinfo=dt.UTC),
    ):
        data = event_ics(
            CalendarEvent(uid="x@kezdesu", summary="Meeting", starts_at=starts_at),
            ALMATY,
            dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        )
        assert (
            b"DTSTART;TZID=Asia/Almaty:"
            + starts_at.astimezone(ALMATY).strftime("%Y%m%dT%H%M%S").encode()
            in data
        )
        assert b"T150000" in data
        (event,) = Calendar.from_ical(data).walk("VEVENT")
        assert event.decoded("dtstart") == starts_at


async def test_descriptions_in_each_language(
    i18n: CatalogI18n, caplog: pytest.LogCaptureFixture
) -> None:
    session = RecordingSession()
    await set_descriptions(make_bot(session), i18n, "ru")
    long = {
        m.language_code: m.description
        for m in (s.method for s in session.requests)
        if isinstance(m, SetMyDescription)
    }
    short = {
        m.language_code: m.short_description
        for m in (s.method for s in session.requests)
        if isinstance(m, SetMyShortDescription)
    }
    assert set(long) == set(short) == {"ru", "kk", "en", None}
    for locale in ("ru", "kk", "en"):
        assert long[locale] == i18n.gettext(DESCRIPTION, locale=locale)
        assert short[locale] == i18n.gettext(SHORT_DESCRIPTION, locale=locale)
        assert len(long[locale] or "") <= 512 and len(short[locale] or "") <= 120
    assert long[None] == long["ru"]  # the default: the configured language
    assert "Kezdesu" in (long["kk"] or "") and long["kk"] != long["en"]

    refusing = RecordingSession()
    refusing.fail_next(SetMyDescription, 400, "Bad Request: not allowed")
    with caplog.at_level(logging.WARNING, logger="bot.commands"):
        await set_descriptions(make_bot(refusing), i18n, "en")
    assert any("refused the bot's description" in r.getMessage() for r in caplog.records)
    assert any(isinstance(s.method, SetMyShortDescription) for s in refusing.requests)
