"""Webhook requests that are not updates: a body that is not JSON, or JSON that is not an
Update, gets a 400 with no traceback and no failing task left behind; the server takes posts on
the path of WEBHOOK_URL (WEBHOOK_PATH only for a bare host). Through the aiohttp server with the
real Dispatcher."""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Any

import pytest
from aiogram.methods import SendMessage
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from bot.app import create_dispatcher
from bot.webhook import check_webhook_settings, create_app, webhook_route_path
from models.settings import ConfigError, Settings, load_settings
from tests.harness import RecordingSession
from tests.test_webhook import HEADER, SECRET, _start_update

BAD_BODIES = [
    pytest.param(b"{not json", id="broken-json"),
    pytest.param(b"\xff\xfe\x00", id="not-utf8"),
    pytest.param(b"", id="empty"),
    pytest.param(b"[1, 2, 3]", id="a-list"),
    pytest.param(b'"hello"', id="a-string"),
    pytest.param(b'{"hello": "world"}', id="no-update-id"),
    pytest.param(b'{"update_id": "x"}', id="bad-update-id"),
    pytest.param(b'{"update_id": 5, "message": {"text": "hi"}}', id="broken-message"),
]


async def _wait_for_send(session: RecordingSession, chat_id: int) -> None:
    for _ in range(3000):
        if any(
            isinstance(r.method, SendMessage) and r.method.chat_id == chat_id
            for r in session.requests
        ):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"nothing was sent to {chat_id}")


def _settings(settings: Settings, url: str) -> Settings:
    return settings.model_copy(update={"webhook_url": url, "webhook_secret": SecretStr(SECRET)})


@pytest.mark.parametrize("background", [False, True], ids=["awaited", "background"])
@pytest.mark.parametrize("body", BAD_BODIES)
async def test_a_body_that_is_not_an_update_gets_400(
    settings: Settings,
    session_pool: Any,
    i18n: Any,
    bot: Any,
    bot_session: RecordingSession,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
    background: bool,
) -> None:
    webhook_settings = _settings(settings, "https://bot.example.kz/telegram/webhook")
    dp = create_dispatcher(webhook_settings, session_pool, i18n, run_background=False)
    app = create_app(bot, dp, webhook_settings, handle_in_background=background)
    caplog.set_level(logging.WARNING)
    async with TestClient(TestServer(app, host="127.0.0.1")) as http:
        response = await http.post(
            "/telegram/webhook",
            data=body,
            headers={HEADER: SECRET, "Content-Type": "application/json"},
        )
        assert response.status == 400
        assert "Bad Request" in await response.text()
        assert "Traceback" not in await response.text()
        # still serving real updates afterwards
        response = await http.post(
            "/telegram/webhook", json=_start_update(3, 5201), headers={HEADER: SECRET}
        )
        assert response.status == 200
        await _wait_for_send(bot_session, 5201)  # processed (in a task when in background)
    gc.collect()  # a task that failed unseen reports "Task exception was never retrieved" here
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
    assert not any(r.exc_info for r in caplog.records), "no traceback for a bad body"
    assert any("Webhook request refused" in r.getMessage() for r in caplog.records)


async def test_a_bad_body_without_the_secret_is_401_not_400(
    settings: Settings, session_pool: Any, i18n: Any, bot: Any
) -> None:
    webhook_settings = _settings(settings, "https://bot.example.kz/telegram/webhook")
    dp = create_dispatcher(webhook_settings, session_pool, i18n, run_background=False)
    app = create_app(bot, dp, webhook_settings, handle_in_background=False)
    async with TestClient(TestServer(app, host="127.0.0.1")) as http:
        response = await http.post("/telegram/webhook", data=b"{not json")
        assert response.status == 401


async def test_the_server_listens_on_the_path_of_webhook_url(
    settings: Settings, session_pool: Any, i18n: Any, bot: Any, bot_session: RecordingSession
) -> None:
    webhook_settings = _settings(settings, "https://bot.example.kz/bot")
    dp = create_dispatcher(webhook_settings, session_pool, i18n, run_background=False)
    app = create_app(bot, dp, webhook_settings, handle_in_background=False)
    async with TestClient(TestServer(app, host="127.0.0.1")) as http:
        response = await http.post("/bot", json=_start_update(4, 5202), headers={HEADER: SECRET})
        assert response.status == 200
        sends = [r.method for r in bot_session.requests if isinstance(r.method, SendMessage)]
        assert sends and int(sends[-1].chat_id) == 5202
        response = await http.post(
            "/telegram/webhook", json=_start_update(5, 5203), headers={HEADER: SECRET}
        )
        assert response.status == 404


def test_webhook_path_rule() -> None:
    base: dict[str, Any] = {"_env_file": None, "bot_token": "1:A", "webhook_secret": SECRET}
    assert webhook_route_path(load_settings(**base, webhook_url="https://x.kz/bot")) == "/bot"
    assert webhook_route_path(load_settings(**base, webhook_url="https://x.kz/a/b/")) == "/a/b/"
    bare = load_settings(**base, webhook_url="https://x.kz", webhook_path="/hook")
    assert webhook_route_path(bare) == "/hook"
    assert webhook_route_path(load_settings(**base, webhook_url="https://x.kz/")) == (
        "/telegram/webhook"
    )
    # the path of WEBHOOK_URL must not shadow the site's pages either
    with pytest.raises(ConfigError, match=r"^WEBHOOK_URL is invalid"):
        check_webhook_settings(load_settings(**base, webhook_url="https://x.kz/api/hook"))
    with pytest.raises(ConfigError, match=r"^WEBHOOK_PATH is invalid"):
        check_webhook_settings(
            load_settings(**base, webhook_url="https://x.kz", webhook_path="/healthz")
        )
