"""Webhook mode: the secret is checked on every request, updates reach the real Dispatcher, the
health check reports the database, and the real process sets its webhook and serves it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiogram.methods import SendMessage
from aiohttp import ClientSession
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import create_dispatcher
from bot.webhook import check_webhook_settings, create_app, public_webhook_url
from models.db import create_engine, create_session_pool
from models.entities import User
from models.settings import ConfigError, Settings, load_settings
from tests.fake_bot_api import FakeBotAPI
from tests.harness import RecordingSession
from tests.processes import bot_env, free_port, start_bot, stop_bot, wait_listening

SECRET = "s3cret-Token_42"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


def _start_update(update_id: int, user_id: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_700_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "Aigerim"},
            "from": {
                "id": user_id,
                "is_bot": False,
                "first_name": "Aigerim",
                "language_code": "kk",
            },
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


@pytest.fixture
def webhook_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "webhook_url": "https://bot.example.kz/telegram/webhook",
            "webhook_secret": SecretStr(SECRET),
        }
    )


@pytest.fixture
async def http(
    webhook_settings: Settings, session_pool: Any, i18n: Any, bot: Any
) -> AsyncIterator[TestClient[Any, Any]]:
    dp = create_dispatcher(webhook_settings, session_pool, i18n, run_background=False)
    app = create_app(bot, dp, webhook_settings, handle_in_background=False)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


async def _users(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(User))).scalar_one())


async def test_update_with_the_secret_is_processed(
    http: TestClient[Any, Any], bot_session: RecordingSession, session: AsyncSession
) -> None:
    response = await http.post(
        "/telegram/webhook", json=_start_update(1, 5101), headers={HEADER: SECRET}
    )
    assert response.status == 200
    sends = [s for s in bot_session.requests if isinstance(s.method, SendMessage)]
    assert sends and "Тілді таңдаңыз" in sends[0].text
    assert await _users(session) == 1
    # on start-up the webhook was set with the secret and only the update types in use
    from aiogram.methods import SetWebhook

    set_webhook = [s.method for s in bot_session.requests if isinstance(s.method, SetWebhook)]
    assert len(set_webhook) == 1
    assert set_webhook[0].url == "https://bot.example.kz/telegram/webhook"
    assert set_webhook[0].secret_token == SECRET
    assert set_webhook[0].drop_pending_updates is False
    allowed = set(set_webhook[0].allowed_updates or [])
    assert {"message", "callback_query"} <= allowed
    assert "poll" not in allowed


@pytest.mark.parametrize("headers", [{}, {HEADER: "wrong"}, {HEADER: SECRET + "x"}, {HEADER: ""}])
async def test_request_without_the_right_secret_is_refused(
    http: TestClient[Any, Any],
    bot_session: RecordingSession,
    session: AsyncSession,
    headers: dict[str, str],
) -> None:
    before = len(bot_session.requests)
    response = await http.post("/telegram/webhook", json=_start_update(2, 5102), headers=headers)
    assert response.status in {401, 403}
    assert len(bot_session.requests) == before, "a refused update must not be processed"
    assert await _users(session) == 0


async def test_only_post_on_the_webhook_path(http: TestClient[Any, Any]) -> None:
    assert (await http.get("/telegram/webhook")).status == 405
    assert (await http.post("/other", json={}, headers={HEADER: SECRET})).status == 404


async def test_health_reports_the_database(http: TestClient[Any, Any]) -> None:
    response = await http.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "database": "ok", "queue": "ok"}


async def test_health_is_503_when_the_database_is_down(
    webhook_settings: Settings, i18n: Any, bot: Any
) -> None:
    engine = create_engine(f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/none")
    dp = create_dispatcher(
        webhook_settings, create_session_pool(engine), i18n, run_background=False
    )
    app = create_app(bot, dp, webhook_settings.model_copy(update={"webhook_url": None}))
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        response = await client.get("/healthz")
        assert response.status == 503
        body = await response.json()
        assert body["status"] == "unavailable"
        assert body["database"].startswith("error")
    await engine.dispose()


def test_webhook_settings_are_checked_with_one_clear_line() -> None:
    base: dict[str, Any] = {"_env_file": None, "bot_token": "1:A"}
    with pytest.raises(ConfigError, match=r"^WEBHOOK_SECRET is not set"):
        check_webhook_settings(load_settings(**base, webhook_url="https://x.kz/hook"))
    with pytest.raises(ConfigError, match=r"^WEBHOOK_URL is invalid"):
        check_webhook_settings(
            load_settings(**base, webhook_url="http://x.kz/hook", webhook_secret=SECRET)
        )
    with pytest.raises(ConfigError, match=r"^WEBHOOK_SECRET is invalid"):
        check_webhook_settings(
            load_settings(**base, webhook_url="https://x.kz/hook", webhook_secret="a b!")
        )
    ok = load_settings(**base, webhook_url="https://x.kz", webhook_secret=SECRET)
    check_webhook_settings(ok)
    assert public_webhook_url(ok) == "https://x.kz/telegram/webhook"
    check_webhook_settings(load_settings(**base))  # polling: nothing to check


def _env(api: FakeBotAPI, tmp_path: Path, **extra: str) -> dict[str, str]:
    return bot_env(f"sqlite+aiosqlite:///{tmp_path}/bot.sqlite3", api.url, **extra)


async def test_bot_process_refuses_webhook_without_secret(tmp_path: Path) -> None:
    api = FakeBotAPI()
    await api.start()
    try:
        process = await start_bot(_env(api, tmp_path, WEBHOOK_URL="https://bot.example.kz/hook"))
        _out, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        await api.stop()
    assert process.returncode == 2
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1 and "WEBHOOK_SECRET is not set" in lines[0]
    assert not (tmp_path / "bot.sqlite3").exists(), "nothing touched before the check"


async def test_bot_process_serves_its_webhook(tmp_path: Path) -> None:
    api = FakeBotAPI()
    await api.start()
    port = free_port()
    env = _env(
        api,
        tmp_path,
        WEBHOOK_URL="https://bot.example.kz/tg",
        WEBHOOK_SECRET=SECRET,
        WEB_HOST="127.0.0.1",
        WEB_PORT=str(port),
        WEBHOOK_PATH="/tg",
    )
    process = await start_bot(env)
    try:
        await wait_listening(port, process)
        calls = await api.wait_for(lambda c: c.method == "setWebhook")
        assert calls[0].params["url"] == "https://bot.example.kz/tg"
        assert calls[0].params["secret_token"] == SECRET
        assert "getUpdates" not in {c.method for c in api.calls}
        base = f"http://127.0.0.1:{port}"
        async with ClientSession() as http:
            async with http.post(f"{base}/tg", json=_start_update(7, 5107)) as response:
                assert response.status == 401
            async with http.post(
                f"{base}/tg", json=_start_update(8, 5108), headers={HEADER: SECRET}
            ) as response:
                assert response.status == 200
            sent = await api.wait_for(
                lambda c: c.method == "sendMessage" and int(c.params["chat_id"]) == 5108
            )
            assert "Тілді таңдаңыз" in sent[0].params["text"]
            async with http.get(f"{base}/healthz") as response:
                assert response.status == 200
                assert (await response.json())["database"] == "ok"
        assert not api.sent("sendMessage", chat_id=5107), "refused update was processed"
    finally:
        try:
            err = await stop_bot(process)
        finally:
            await api.stop()
    assert process.returncode == 0, err.decode()
    assert b"Traceback" not in err
    assert "deleteWebhook" not in {c.method for c in api.calls}, "replicas keep the webhook"
