"""The README's run command against a Bot API server: the real process answers /start in
ru, kk and en, then stops cleanly."""

from __future__ import annotations

import signal
from pathlib import Path

from aiohttp import ClientSession

from tests.fake_bot_api import FakeBotAPI
from tests.processes import bot_env, free_port, start_bot, stop_bot

PROMPTS = {"ru": "Выберите язык", "kk": "Тілді таңдаңыз", "en": "Choose your language"}
DISTRICT = {"ru": "Выберите свой район", "kk": "Ауданыңызды таңдаңыз", "en": "Choose your district"}


async def test_bot_process_answers_start_in_three_languages(tmp_path: Path) -> None:
    """Long polling, with the web server beside it (WEB_HOST/WEB_PORT) and the Mini App's menu
    button set (WEB_PUBLIC_URL)."""
    api = FakeBotAPI()
    await api.start()
    port = free_port()
    env = bot_env(
        f"sqlite+aiosqlite:///{tmp_path}/bot.sqlite3",
        api.url,
        WEB_HOST="127.0.0.1",
        WEB_PORT=str(port),
        WEB_PUBLIC_URL="https://kezdesu.example.kz",
    )
    process = await start_bot(env)
    try:
        for n, locale in enumerate(PROMPTS):
            api.push_message(7000 + n, "/start", language_code=locale)
        for n, locale in enumerate(PROMPTS):
            chat = 7000 + n
            calls = await api.wait_for(
                lambda c, chat=chat: c.method == "sendMessage" and int(c.params["chat_id"]) == chat
            )
            assert PROMPTS[locale] in calls[0].params["text"]
            # press the preselected language: the district question comes in that language
            message_id = 1
            api.push_callback(chat, f"lang:{locale}:s", message_id, language_code=locale)
            edits = await api.wait_for(
                lambda c, chat=chat: (
                    c.method == "editMessageText" and int(c.params["chat_id"]) == chat
                )
            )
            assert DISTRICT[locale] in edits[0].params["text"]
        # the command menu was set for each language
        languages = {c.params.get("language_code") for c in api.sent("setMyCommands")}
        assert {"ru", "kk", "en"} <= languages
        # the menu button opens the city overview as a Mini App
        (menu,) = api.sent("setChatMenuButton")
        assert "https://kezdesu.example.kz/" in str(menu.params["menu_button"])
        # the same process serves the web side while polling
        async with ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200
            async with http.get(f"http://127.0.0.1:{port}/?lang=kk") as response:
                assert response.status == 200
                assert "Бүкіл қала" in await response.text()
    finally:
        try:
            err = await stop_bot(process, signal.SIGINT)
        finally:
            await api.stop()
    assert process.returncode == 0, err.decode()
    assert b"Traceback" not in err
