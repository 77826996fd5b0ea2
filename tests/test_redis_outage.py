"""Redis going away: at start the bot refuses to run with one line naming REDIS_URL; mid-run the
person gets the translated apology (not silence), a webhook request answers 503 so Telegram
delivers the update again, and the form's state written before the loss is intact afterwards.

The outage is made with a TCP proxy in front of the test Redis (the shared server keeps running):
``cut()`` drops every connection and stops listening, ``restore()`` listens again."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from aiogram import Dispatcher
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.redis import RedisStorage
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from bot.app import create_dispatcher
from bot.storage import create_storage
from bot.webhook import create_app
from models.settings import Settings
from tests.conftest import REDIS_URL, onboard, redis_available
from tests.harness import BotClient, RecordingSession, alerts, last_message, make_bot
from tests.processes import bot_env, free_port, start_bot
from tests.test_redis import Survey, _survey_router

APOLOGY_EN = "Sorry, something went wrong on our side."
SECRET = "outage-Secret_1"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


class RedisProxy:
    """Forwards 127.0.0.1:<port> to the test Redis until cut."""

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 6379)
        self.port = free_port()
        self.url = urlunsplit(parts._replace(netloc=f"127.0.0.1:{self.port}"))
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def restore(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def cut(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in list(self.writers):
            writer.close()
        self.writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self.writers.update({writer, up_writer})

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


needs_redis = pytest.mark.skipif(
    not redis_available(), reason=f"Redis is not reachable at {REDIS_URL} (set TEST_REDIS_URL)"
)


@pytest.fixture
async def proxy() -> AsyncIterator[RedisProxy]:
    proxy = RedisProxy(REDIS_URL)
    await proxy.restore()
    yield proxy
    await proxy.cut()


@pytest.fixture
async def redis_dp(
    settings: Settings, session_pool: Any, i18n: Any, proxy: RedisProxy
) -> AsyncIterator[Dispatcher]:
    redis_settings = settings.model_copy(
        update={
            "redis_url": proxy.url,
            "webhook_url": "https://bot.example.kz/telegram/webhook",
            "webhook_secret": SecretStr(SECRET),
        }
    )
    prefix = f"kezdesu-outage-{uuid.uuid4().hex[:12]}"
    storage, isolation = create_storage(redis_settings, prefix=prefix)
    dp = create_dispatcher(
        redis_settings,
        session_pool,
        i18n,
        storage=storage,
        events_isolation=isolation,
        run_background=False,
    )
    dp.include_router(_survey_router())
    dp.sub_routers.insert(len(dp.sub_routers) - 2, dp.sub_routers.pop())  # before fallback
    yield dp
    if proxy.server is None:
        await proxy.restore()
    assert isinstance(storage, RedisStorage)
    keys = [key async for key in storage.redis.scan_iter(match=f"{prefix}:*")]
    if keys:
        await storage.redis.delete(*keys)
    await storage.close()


@needs_redis
async def test_redis_lost_mid_run_gets_an_apology_and_keeps_the_state(
    redis_dp: Dispatcher, proxy: RedisProxy
) -> None:
    client = BotClient(dp=redis_dp, bot=make_bot(RecordingSession()), user_id=6301)
    await onboard(client, "en")
    assert "Street?" in last_message(await client.send("/survey")).text
    assert "House?" in last_message(await client.send("Abay avenue")).text

    await proxy.cut()
    answer = await client.send("150")
    assert APOLOGY_EN in last_message(answer).text, "silence while Redis is away"
    # a button pressed meanwhile is answered too (an alert)
    assert any(APOLOGY_EN in alert for alert in alerts(await client.press("menu:main")))

    await proxy.restore()
    state = await redis_dp.storage.get_state(
        StorageKey(bot_id=42, chat_id=client.user_id, user_id=client.user_id)
    )
    assert state == Survey.house.state
    assert "Saved: Abay avenue, 150" in last_message(await client.send("150")).text


@needs_redis
async def test_webhook_answers_503_while_redis_is_away(
    redis_dp: Dispatcher, proxy: RedisProxy
) -> None:
    session = RecordingSession()
    bot = make_bot(session)
    settings: Settings = redis_dp["settings"]
    app = create_app(bot, redis_dp, settings, handle_in_background=False)
    update = {
        "update_id": 91,
        "message": {
            "message_id": 91,
            "date": 1_700_000_000,
            "chat": {"id": 6302, "type": "private", "first_name": "Aigerim"},
            "from": {"id": 6302, "is_bot": False, "first_name": "Aigerim", "language_code": "en"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    async with TestClient(TestServer(app, host="127.0.0.1")) as http:
        await proxy.cut()
        response = await http.post("/telegram/webhook", json=update, headers={HEADER: SECRET})
        assert response.status == 503, "Telegram must deliver the update again"
        assert not [r for r in session.requests if type(r.method).__name__ == "SendMessage"]
        health = await http.get("/healthz")
        assert health.status == 503
        assert (await health.json())["redis"].startswith("error")

        await proxy.restore()
        response = await http.post("/telegram/webhook", json=update, headers={HEADER: SECRET})
        assert response.status == 200
        sends = [r for r in session.requests if type(r.method).__name__ == "SendMessage"]
        assert sends and "Choose your language" in sends[-1].method.text


async def test_bot_refuses_to_start_when_redis_is_unreachable(tmp_path: Path) -> None:
    port = free_port()  # nobody listens there
    env = bot_env(
        f"sqlite+aiosqlite:///{tmp_path}/bot.sqlite3",
        f"http://127.0.0.1:{free_port()}",
        REDIS_URL=f"redis://:hunter2@127.0.0.1:{port}/0",
        WEB_PORT="0",
        LOG_LEVEL="INFO",
    )
    process = await start_bot(env)
    _out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 2
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("kezdesu: REDIS_URL is unreachable")
    assert "hunter2" not in lines[0], "the password must not be printed"
    assert not (tmp_path / "bot.sqlite3").exists(), "nothing touched before the check"
