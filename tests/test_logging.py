"""Structured logs: with LOG_FORMAT=json one JSON object per line, carrying the update's id; at
INFO and above never what a person typed, nor a Telegram id."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator

import pytest
from aiogram.methods import SendMessage
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.logs import log_handler
from models.settings import Settings
from scheduler.delivery import DeliveryWorker
from scheduler.queue import enqueue
from tests.conftest import onboard
from tests.harness import BotClient, RecordingSession, last_message, make_bot
from tests.test_announce_delivery import worker_clock

PERSON = 987_654_321
SECRET = "Мойсекретныйтекст"


class Captured:
    def __init__(self) -> None:
        self.info = io.StringIO()
        self.debug = io.StringIO()

    def lines(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.info.getvalue().splitlines()]


@pytest.fixture
def logs() -> Iterator[Captured]:
    """What the process would write on stderr with LOG_FORMAT=json: at INFO, and at DEBUG."""
    captured = Captured()
    at_info = log_handler("json", captured.info)
    at_info.setLevel(logging.INFO)
    at_debug = log_handler("json", captured.debug)
    at_debug.setLevel(logging.DEBUG)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(at_info)
    root.addHandler(at_debug)
    try:
        yield captured
    finally:
        root.removeHandler(at_info)
        root.removeHandler(at_debug)
        root.setLevel(level)


async def test_json_lines_carry_the_update_id_and_no_personal_data(
    make_client: Callable[..., BotClient], bot_session: RecordingSession, logs: Captured
) -> None:
    client = make_client(user_id=PERSON, language_code="en", first_name="Aigerim")
    await onboard(client, "en")
    await client.send(f"{SECRET} Сайран")  # a search: the text goes through the handlers
    bot_session.fail_next(SendMessage, 502, "Bad Gateway")
    sent = await client.send(f"{SECRET} Абай")  # its answer fails: an error is logged
    assert "Sorry, something went wrong" in last_message(sent).text

    lines = logs.lines()
    assert lines, "nothing was logged"
    for entry in lines:
        assert {"time", "level", "logger", "message"} <= set(entry)
    [error] = [e for e in lines if e["level"] == "ERROR"]
    match = re.search(r"update (\d+)", str(error["message"]))
    assert match is not None
    assert error["update_id"] == int(match.group(1))
    assert "Bad Gateway" in str(error["exception"])
    everything = logs.info.getvalue()
    assert SECRET not in everything
    assert str(PERSON) not in everything


async def test_the_delivery_worker_logs_no_chat_id_at_info(
    session: AsyncSession,
    session_pool: async_sessionmaker[AsyncSession],
    settings: Settings,
    logs: Captured,
) -> None:
    await enqueue(session, chat_id=PERSON, text=SECRET, kind="test", quiet_hours=False)
    await enqueue(session, chat_id=PERSON + 1, text=SECRET, kind="test", quiet_hours=False)
    await session.commit()
    telegram = RecordingSession()
    telegram.fail_next(SendMessage, 403, "Forbidden: bot was blocked by the user")
    telegram.fail_next(SendMessage, 429, "Too Many Requests: retry after 1", {"retry_after": 1})
    await DeliveryWorker(make_bot(telegram), session_pool, settings, clock=worker_clock()).drain()

    messages = [str(e["message"]) for e in logs.lines()]
    assert any("chat unreachable" in m for m in messages)
    assert any("429" in m for m in messages)
    assert str(PERSON) not in logs.info.getvalue()
    assert SECRET not in logs.info.getvalue()
    assert str(PERSON) in logs.debug.getvalue()  # kept for debugging, below INFO


def test_plain_format_stays_the_default() -> None:
    assert Settings(_env_file=None).log_format == "text"  # type: ignore[call-arg]
    stream = io.StringIO()
    handler = log_handler("text", stream)
    handler.handle(logging.makeLogRecord({"msg": "hello %s", "args": ("world",), "levelno": 20}))
    assert stream.getvalue().endswith("hello world\n")
    assert not stream.getvalue().startswith("{")


def test_log_format_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    from models.settings import ConfigError, load_settings

    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(ConfigError):
        load_settings()
