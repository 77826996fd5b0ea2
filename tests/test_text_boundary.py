"""One boundary for what people type: control characters (NUL first of all: PostgreSQL refuses
it) are removed before a text is checked or stored, a text with nothing to read in it is
refused with a clear answer, and the form keeps its place. Every test runs on SQLite and
PostgreSQL (``db_url``)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.entities import Meeting
from models.importer import read_plan_file
from models.text import TextProblem, TextRule, check_text, strip_controls
from tests.conftest import ADMIN_ID, onboard
from tests.harness import BotClient, last_message
from tests.test_questions_form import (
    EXPECT,
    add_meeting,
    all_questions,
    ask,
    assert_no_apology,
    go_to,
)

INVISIBLE = {
    "zero-width spaces": "\u200b" * 20,
    "a bidi override": "\u202e",
    "bidi marks and spaces": "\u200e \u200f\u2066\u2069 \u200b",
}
EMOJI_ONLY = "😀😀😀😀😀😀😀😀😀😀😀😀🔥🔥🔥"
QUESTION = "Во дворе дома на Толе би 85 третий месяц не работает уличное освещение."


def test_control_characters_are_removed_but_lines_and_tabs_stay() -> None:
    assert strip_controls("a\x00b\x07c\x1bd\x7fe\x85f") == "abcdef"
    assert strip_controls("one\r\ntwo\rthree\n\tfour") == "one\ntwo\nthree\n\tfour"
    rule = TextRule(minimum=3, maximum=50)
    assert check_text("\x00\x00 ab\x00c \x00", rule) == ("abc", None)
    assert check_text("\u200b" * 20, rule) == ("", TextProblem.EMPTY)
    assert check_text("🙂🙂🙂🙂", rule) == ("🙂🙂🙂🙂", TextProblem.NO_LETTERS)
    assert check_text("\u200ba\u200b", rule)[1] is TextProblem.TOO_SHORT
    # an optional field left with nothing visible is simply empty
    assert check_text("\u200b\x00", TextRule(minimum=0, maximum=50)) == ("", None)


async def test_question_with_nul_is_saved_without_it(
    client: BotClient, session: AsyncSession, session_pool: async_sessionmaker[AsyncSession]
) -> None:
    await add_meeting(session_pool)
    await onboard(client, "ru")
    sent = await ask(client, session, "Во дворе\x00 дома на Толе би 85\x00 нет света\x07.")
    assert_no_apology(sent)
    assert EXPECT["ru"]["receipt"] in last_message(sent).text
    [question] = await all_questions(session)
    assert question.text == "Во дворе дома на Толе би 85 нет света."


@pytest.mark.parametrize("invisible", list(INVISIBLE.values()), ids=list(INVISIBLE))
async def test_invisible_only_question_is_refused_and_the_form_kept(
    client: BotClient,
    session: AsyncSession,
    session_pool: async_sessionmaker[AsyncSession],
    invisible: str,
) -> None:
    await add_meeting(session_pool)
    await onboard(client, "en")
    await go_to(client, session, "text", "en")
    sent = await client.send(invisible)
    assert_no_apology(sent)
    assert "The message is empty" in last_message(sent).text
    # still at the text step: a real text goes on to the address
    sent = await client.send("The street lights of Tole bi 85 have not worked for months.")
    assert EXPECT["en"]["address"] in last_message(sent).text
    assert not await all_questions(session)


@pytest.mark.parametrize("locale", ["ru", "kk", "en"])
async def test_emoji_only_question_is_refused(
    client: BotClient,
    session: AsyncSession,
    session_pool: async_sessionmaker[AsyncSession],
    locale: str,
) -> None:
    await add_meeting(session_pool)
    await onboard(client, locale)
    await go_to(client, session, "text", locale)
    sent = await client.send(EMOJI_ONLY)
    answer = last_message(sent).text
    assert {
        "ru": "нет ни одной буквы или цифры",
        "kk": "бірде-бір әріп не сан жоқ",
        "en": "not a single letter or digit",
    }[locale] in answer
    sent = await client.send(QUESTION)
    assert EXPECT[locale]["address"] in last_message(sent).text


@pytest.fixture
async def admin(make_client: Callable[..., BotClient]) -> BotClient:
    client = make_client(user_id=ADMIN_ID, language_code="en", username="staff")
    await onboard(client, "en")
    return client


async def test_meeting_place_and_akim_need_three_visible_characters(
    admin: BotClient, session: AsyncSession
) -> None:
    sent = await admin.send("/admin")
    sent = await admin.click(last_message(sent), "Meetings")
    sent = await admin.click(last_message(sent), "New meeting")
    sent = await admin.click(last_message(sent), "Almaly")
    sent = await admin.send("15.06.2099 15:00")
    assert "Where does it take place" in last_message(sent).text
    for bad in ("Х", "\u200bД\u200b\u200b", "\x00", "🏛🏛🏛"):
        sent = await admin.send(bad)
        assert_no_apology(sent)
        reply = last_message(sent).text
        assert "too short" in reply or "empty" in reply or "not a single letter" in reply, reply
    sent = await admin.send("Дворец\x00 школьников")
    assert "Who holds the meeting" in last_message(sent).text
    sent = await admin.send("Д.")
    assert "Characters needed at least: 3" in last_message(sent).text
    sent = await admin.send("Досаев Е. А.")
    sent = await admin.click(last_message(sent), "Skip")
    assert "livestream" in last_message(sent).text
    sent = await admin.click(last_message(sent), "Skip")
    sent = await admin.click(last_message(sent), "Skip")
    preview = last_message(sent)
    assert "Дворец школьников" in preview.text
    sent = await admin.click(preview, "Save")
    assert_no_apology(sent)
    session.expire_all()
    meeting = (await session.execute(select(Meeting))).scalar_one()
    assert meeting.place == "Дворец школьников"
    assert meeting.akim == "Досаев Е. А."


async def test_announcement_with_nul_is_previewed_without_it(admin: BotClient) -> None:
    sent = await admin.send("/admin")
    sent = await admin.click(last_message(sent), "Announcement")
    prompt = last_message(sent)
    sent = await admin.click(prompt, prompt.buttons[0])
    sent = await admin.send("\u200b\u200b")
    assert "empty" in last_message(sent).text
    sent = await admin.send("Встреча\x00 переносится на пятницу.")
    preview = last_message(sent)
    assert "Встреча переносится на пятницу." in preview.text
    assert "\x00" not in preview.text


def test_imported_cells_lose_control_characters() -> None:
    plan = [
        {
            "number": "1",
            "problem": "Освещение\x00 двора",
            "measure": "Установить\x00 фонари\x1b",
            "deadline": "4 квартал 2022 года",
            "executors": "УЭиЖКХ",
        }
    ]
    [row] = read_plan_file("plan.json", json.dumps(plan).encode())
    assert row.problem == "Освещение двора"
    assert row.measure == "Установить фонари"
