"""The README's run command against a Bot API server: the real process answers /start in
ru, kk and en, then stops cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.fake_bot_api import FakeBotAPI

ROOT = Path(__file__).resolve().parent.parent
PROMPTS = {"ru": "Выберите язык", "kk": "Тілді таңдаңыз", "en": "Choose your language"}
DISTRICT = {"ru": "Выберите свой район", "kk": "Ауданыңызды таңдаңыз", "en": "Choose your district"}


async def test_bot_process_answers_start_in_three_languages(tmp_path: Path) -> None:
    api = FakeBotAPI()
    await api.start()
    env = {
        **os.environ,
        "BOT_TOKEN": "42:TEST-TOKEN",
        "TELEGRAM_API_URL": api.url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/bot.sqlite3",
        "LOG_LEVEL": "WARNING",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
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
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
        try:
            _out, err = await asyncio.wait_for(process.communicate(), 30)
        finally:
            await api.stop()
    assert process.returncode == 0, err.decode()
    assert b"Traceback" not in err
