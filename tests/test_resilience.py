"""Faults around the bot: the Bot API failing in the middle of dialogues (timeouts, 5xx, 429)
and the database unavailable for a moment. The user gets an answer or the error is logged, no
exception escapes, nothing is stored half, and the next update works."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.db import create_engine
from models.entities import Question, User
from tests.conftest import onboard
from tests.harness import BotClient, RecordingSession, alerts, last_message, messages
from tests.test_questions_form import AGREE, ASK, NAME, SEND, add_meeting, category_label

APOLOGY = {"ru": "Извините", "kk": "Кешіріңіз", "en": "Sorry, something went wrong"}
QUESTION = "Во дворе дома на Толе би 85 третий месяц не работает уличное освещение."
FAULTS: list[tuple[str, int | None, str]] = [
    ("timeout", None, "network"),
    ("server error", 502, "Bad Gateway"),
    ("flood", 429, "Too Many Requests: retry after 3"),
]


def _fail(session: RecordingSession, method: type, status: int | None, description: str) -> None:
    if status is None:
        session.fail_next_network(method)
    elif status == 429:
        session.fail_next(method, status, description, {"retry_after": 3})
    else:
        session.fail_next(method, status, description)


async def _questions(session: AsyncSession) -> list[Question]:
    session.expire_all()
    return list((await session.execute(select(Question).order_by(Question.id))).scalars())


async def _walk_to_text_step(client: BotClient, session: AsyncSession) -> None:
    """/ask, the consent when asked, a category: the form waits for the question's text."""
    prompt = last_message(await client.send(ASK["ru"]))
    if any(b.startswith(AGREE) for b in prompt.buttons):
        prompt = last_message(await client.click(prompt, AGREE))
    await client.click(prompt, await category_label(session, "ru"))


async def _walk_to_preview(client: BotClient, session: AsyncSession) -> list:
    await _walk_to_text_step(client, session)
    prompt = last_message(await client.send(QUESTION))
    prompt = last_message(await client.send("ул. Толе би, 85"))
    return await client.click(prompt, NAME)


@pytest.mark.parametrize(("name", "status", "description"), FAULTS)
async def test_bot_api_fault_in_the_middle_of_the_question_form(
    make_client: Callable[..., BotClient],
    session: AsyncSession,
    session_pool: async_sessionmaker[AsyncSession],
    bot_session: RecordingSession,
    caplog: pytest.LogCaptureFixture,
    name: str,
    status: int | None,
    description: str,
) -> None:
    await add_meeting(session_pool, days=10, intake_days=8)
    client = make_client(user_id=8101, language_code="ru")
    await onboard(client, "ru")
    await _walk_to_text_step(client, session)

    # the prompt after the text step fails to arrive: the user is told, the form goes on
    _fail(bot_session, SendMessage, status, description)
    with caplog.at_level(logging.ERROR):
        sent = await client.send(QUESTION)  # no exception escapes
    assert any(r.levelno >= logging.ERROR for r in caplog.records), "the fault is logged"
    shown = [s.text for s in messages(sent) if s.result is not None]
    assert any(APOLOGY["ru"] in t for t in shown), shown
    assert await _questions(session) == [], "nothing stored before the user sends it"

    # the user answers again: the form continues to the end, one question stored, complete
    prompt = last_message(await client.send(QUESTION))
    if "адрес" not in prompt.text.lower():  # the text step was completed before the fault
        prompt = last_message(await client.send(QUESTION))
    prompt = last_message(await client.send("ул. Толе би, 85"))
    preview = last_message(await client.click(prompt, NAME))
    sent = await client.click(preview, SEND)
    questions = await _questions(session)
    assert len(questions) == 1
    assert questions[0].ref and questions[0].text == QUESTION
    assert not any(APOLOGY["ru"] in s.text for s in messages(sent))


@pytest.mark.parametrize(("name", "status", "description"), FAULTS)
async def test_bot_api_fault_when_the_question_is_sent(
    make_client: Callable[..., BotClient],
    session: AsyncSession,
    session_pool: async_sessionmaker[AsyncSession],
    bot_session: RecordingSession,
    caplog: pytest.LogCaptureFixture,
    name: str,
    status: int | None,
    description: str,
) -> None:
    """The receipt cannot be shown: the question is stored whole (committed before the
    receipt) or not at all, and pressing "send" again does not store it twice."""
    await add_meeting(session_pool, days=10, intake_days=8)
    client = make_client(user_id=8102, language_code="ru")
    await onboard(client, "ru")
    preview = last_message(await _walk_to_preview(client, session))
    for method in (EditMessageText, SendMessage):
        _fail(bot_session, method, status, description)
    with caplog.at_level(logging.ERROR):
        sent = await client.click(preview, SEND)
    assert sent, "the user is answered"
    questions = await _questions(session)
    assert len(questions) <= 1
    if questions:
        assert questions[0].ref and questions[0].text == QUESTION and questions[0].author_id
    bot_session.errors.clear()
    await client.click(preview, SEND)  # pressed again (the first answer never arrived)
    after = await _questions(session)
    assert len(after) == 1, "stored once"
    assert after[0].ref and after[0].text == QUESTION


@pytest.mark.parametrize(("name", "status", "description"), FAULTS)
async def test_bot_api_fault_on_a_button_answer(
    make_client: Callable[..., BotClient],
    session: AsyncSession,
    bot_session: RecordingSession,
    caplog: pytest.LogCaptureFixture,
    name: str,
    status: int | None,
    description: str,
) -> None:
    client = make_client(user_id=8103, language_code="kk")
    sent = await client.send("/start")
    _fail(bot_session, AnswerCallbackQuery, status, description)
    _fail(bot_session, EditMessageText, status, description)
    with caplog.at_level(logging.ERROR):
        await client.click(last_message(sent), "Қазақша")  # no exception escapes
    assert any(r.levelno >= logging.ERROR for r in caplog.records)
    user = (await session.execute(select(User).where(User.tg_id == 8103))).scalar_one()
    assert user.locale in (None, "kk"), "the language is stored whole or not at all"
    sent = await client.send("/start")  # the next update works: the language or the district
    assert "таңдаңыз" in last_message(sent).text
    assert APOLOGY["kk"] not in last_message(sent).text


def _dead_url(db_url: str, tmp_path: Path) -> str:
    if db_url.startswith("sqlite"):
        return f"sqlite+aiosqlite:///{tmp_path}"  # a directory: cannot be opened
    return "postgresql+asyncpg://postgres@127.0.0.1:9/none"  # nobody listens on port 9


@pytest.mark.parametrize("locale", ["ru", "kk", "en"])
async def test_database_unavailable_for_a_moment(
    make_client: Callable[..., BotClient],
    session: AsyncSession,
    session_pool: async_sessionmaker[AsyncSession],
    dp: object,
    db_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    locale: str,
) -> None:
    client = make_client(user_id=8104, language_code=locale)
    await onboard(client, locale)
    pool = client.dp["session_pool"]
    live = pool.kw["bind"]
    dead = create_engine(_dead_url(db_url, tmp_path))
    pool.configure(bind=dead)  # the database goes away
    try:
        with caplog.at_level(logging.ERROR):
            sent = await client.send("/help")
            assert APOLOGY[locale] in last_message(sent).text
            sent = await client.press("lang:en:s")
            assert APOLOGY[locale] in alerts(sent)[0]
        assert any("Database unavailable" in r.getMessage() for r in caplog.records)
    finally:
        pool.configure(bind=live)  # and comes back
        await dead.dispose()
    sent = await client.send("/help")
    assert "eOtinish" in last_message(sent).text
    assert APOLOGY[locale] not in last_message(sent).text
    users = (await session.execute(select(func.count()).select_from(User))).scalar_one()
    assert users == 1


async def test_connections_dropped_by_the_server_are_replaced(
    make_client: Callable[..., BotClient],
    session_pool: async_sessionmaker[AsyncSession],
    db_url: str,
) -> None:
    """PostgreSQL restarted (every connection killed): the pool notices and reconnects, and the
    user does not see an error."""
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite has no server connections to lose")
    client = make_client(user_id=8105, language_code="en")
    await onboard(client, "en")
    # Searches for words nobody searched before: each one reads the database (the profile is
    # served from the pool's cache, search matches are not cached yet).
    await client.send("Абай")
    await _terminate_other_sessions(db_url)
    sent = await client.send("Сайран")
    assert "Сайран" in last_message(sent).text and not alerts(sent)

    # Again, with time for the server's goodbye to reach the pooled connections first (asyncpg
    # then reports another operation in progress, not a closed connection).
    await client.send("Жандосова")
    await _terminate_other_sessions(db_url)
    await asyncio.sleep(0.3)
    sent = await client.send("Толе би")
    assert "Толе би" in last_message(sent).text and not alerts(sent)


async def _terminate_other_sessions(db_url: str) -> None:
    """What a PostgreSQL restart does to the bot's pooled connections."""
    admin = create_engine(db_url)
    async with admin.connect() as connection:
        await connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        await connection.commit()
    await admin.dispose()
