"""Telegram unreachable at start (network down, a wrong TELEGRAM_API_URL): one clear line per
attempt, retries with a doubling delay under a cap, never a traceback; a token Telegram refuses
is one line and exit code 2."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from aiogram.methods import GetMe

from bot.webhook import wait_for_telegram
from models.settings import ConfigError, Settings, load_settings
from tests.harness import RecordingSession, make_bot
from tests.processes import bot_env, free_port, start_bot, stop_bot

LINE = "Telegram Bot API is unreachable at"


def _settings() -> Settings:
    return load_settings(
        _env_file=None, bot_token="42:TEST-TOKEN", telegram_api_url="http://127.0.0.1:9"
    )


async def test_retries_with_a_capped_backoff_then_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    session = RecordingSession()
    for _ in range(5):
        session.fail_next_network(GetMe)
    bot = make_bot(session)
    caplog.set_level(logging.WARNING, logger="bot.webhook")
    await wait_for_telegram(bot, _settings(), first_delay=0.001, max_delay=0.004)
    attempts = [r for r in caplog.records if r.getMessage().startswith(LINE)]
    assert len(attempts) == 5
    delays = [r.args[-1] for r in attempts if isinstance(r.args, tuple)]
    assert delays == [0.001, 0.002, 0.004, 0.004, 0.004]
    assert all("http://127.0.0.1:9" in r.getMessage() for r in attempts)
    assert not any(r.exc_info for r in caplog.records), "no traceback"
    assert "after 6 attempts" in caplog.records[-1].getMessage()


async def test_a_refused_token_is_a_config_error() -> None:
    session = RecordingSession()
    session.fail_next(GetMe, 401, "Unauthorized")
    with pytest.raises(ConfigError, match=r"^BOT_TOKEN is invalid: Telegram refused it"):
        await wait_for_telegram(make_bot(session), _settings(), first_delay=0.001)


async def test_bot_process_keeps_retrying_without_a_traceback(tmp_path: Path) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"  # a Bot API that never answers
    env = bot_env(f"sqlite+aiosqlite:///{tmp_path}/bot.sqlite3", nobody, WEB_PORT="0")
    process = await start_bot(env)
    assert process.stderr is not None
    lines: list[str] = []
    try:
        while sum(LINE in line for line in lines) < 2:
            raw = await asyncio.wait_for(process.stderr.readline(), 120)
            assert raw, f"the process ended: {lines}"
            lines.append(raw.decode())
        assert process.returncode is None, "it keeps retrying"
    finally:
        rest = await stop_bot(process, timeout=60)
    output = "".join(lines) + rest.decode()
    assert "Traceback" not in output
    attempts = [line for line in lines if LINE in line]
    assert "attempt 1, retrying in 1 s" in attempts[0]
    assert "attempt 2, retrying in 2 s" in attempts[1]
