"""Peak memory of the bot process on the generated database.

The real ``python -m bot`` runs against the fake Bot API of the tests (long polling), on the
generated database, with its scheduler: residents open cards, search and start the question
form, the deadline-reminder catch-up job plans on the whole database and the delivery worker
sends. The peak resident set (``VmHWM`` from /proc, Linux) is read before it stops.

Baseline, measured in the same run the same way: an aiogram echo bot process, polling the same
fake server and fed the same updates.
"""

from __future__ import annotations

import asyncio
import random
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.generate import FIRST_TG_ID
from bot.callbacks import OpenMeasureCb
from tests.fake_bot_api import FakeBotAPI
from tests.processes import bot_env

ROOT = Path(__file__).resolve().parent.parent

ECHO_BOT = """
import asyncio, os
from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, Message

dp = Dispatcher()

@dp.message(F.text)
async def echo(message: Message) -> None:
    await message.answer(message.text)

@dp.callback_query()
async def button(query: CallbackQuery) -> None:
    await query.answer()
    await query.message.answer(query.data)

session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"]))
asyncio.run(dp.start_polling(Bot(os.environ["BOT_TOKEN"], session=session)))
"""


@dataclass
class Peak:
    rss_kib: int
    answered: int
    seconds: float

    @property
    def mib(self) -> float:
        return self.rss_kib / 1024


def _peak_rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


async def _run_process(
    args: list[str], env: dict[str, str], api: FakeBotAPI, users: int, measures: int, wait: float
) -> Peak:
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *args, cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    rnd = random.Random(3)
    try:
        pushed = 0
        for n in range(users):
            tg_id = FIRST_TG_ID + 200 + n
            api.push_message(tg_id, "/start")
            api.push_callback(tg_id, OpenMeasureCb(id=rnd.randint(1, measures)).pack(), 1)
            api.push_message(tg_id, rnd.choice(("ремонт Абая", "освещение", "школа", "водопровод")))
            api.push_message(tg_id, "/ask")
            pushed += 4
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            chats = {
                int(c.params.get("chat_id") or 0)
                for c in api.calls
                if c.method in {"sendMessage", "editMessageText"}
            }
            if sum(1 for n in range(users) if FIRST_TG_ID + 200 + n in chats) >= users:
                break
            if process.returncode is not None:
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(wait)  # the scheduler's catch-up planning and deliveries
        peak = _peak_rss_kib(process.pid)
        answered = len([c for c in api.calls if c.method in {"sendMessage", "editMessageText"}])
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(process.communicate(), 60)
        except TimeoutError:
            process.kill()
    return Peak(peak, answered, time.perf_counter() - started)


async def measure(
    url: str, *, users: int = 100, measures: int = 20_000, wait: float = 30.0
) -> tuple[Peak, Peak]:
    """(bot, echo baseline) peaks; ``wait`` seconds let the start-up jobs run (the deadline
    reminders' catch-up runs 20 s after start)."""
    results = []
    for kind in ("bot", "echo"):
        api = FakeBotAPI()
        await api.start()
        # the bot alone, as before the web side (and as the echo bot)
        env = bot_env(url, api.url, WEB_PORT="0")
        args = [sys.executable, "-m", "bot"] if kind == "bot" else [sys.executable, "-c", ECHO_BOT]
        try:
            results.append(
                await _run_process(args, env, api, users, measures, wait if kind == "bot" else 1.0)
            )
        finally:
            await api.stop()
    return results[0], results[1]


def lines(backend: str, bot: Peak, echo: Peak) -> list[str]:
    ratio = bot.rss_kib / echo.rss_kib if echo.rss_kib else 0.0
    return [
        f"  peak memory ({backend}): bot process {bot.mib:.0f} MiB, echo bot {echo.mib:.0f} MiB "
        f"→ {ratio:.2f}× ({bot.answered:,} messages sent by the bot, {echo.answered:,} by the echo)"
    ]
