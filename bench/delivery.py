"""Delivery throughput: the real delivery worker drains queued messages into a fake Bot API that
enforces Telegram's limits, and the achieved rate is reported as a fraction of the configured one.

    python -m bench.delivery                    # 10,000 messages on the virtual clock
    python -m bench.delivery --messages 500 --real-time

The fake Bot API (an in-process aiogram session) answers 429 with ``retry_after`` whenever a send
would exceed about 30 messages in any one-second window overall, 1 per second in a private chat or
20 per minute in a group, and records every accepted message.

**The clock.** 10,000 messages at 25/s take 400 s. By default the worker runs unchanged on a
*virtual clock*: every wait the rate limiter asks for advances virtual time at once, and the fake
API judges its limits on the same virtual time. Database work takes no virtual time, so the
virtual rate shows what the limiter achieves; the wall time and the database throughput printed
beside it show whether the real process can keep up (it can when that throughput exceeds the
configured rate). ``--real-time`` runs with real sleeps instead.

The messages: 90% private (to 2,500 residents, several each) and 10% to 50 group chats, shuffled.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import tempfile
import time
from collections import defaultdict, deque
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.enums import ParseMode
from aiogram.methods import SendMessage, TelegramMethod
from aiogram.types import Chat, Message
from aiogram.types import User as TgUser
from sqlalchemy import func, insert, select

from models.db import create_engine, create_session_pool, migrate
from models.entities import Notification, NotificationStatus
from models.settings import Settings
from scheduler.delivery import DeliveryWorker
from scheduler.pacing import Clock, SystemClock, VirtualClock

TOKEN = "42:BENCH-TOKEN"
ALMATY = ZoneInfo("Asia/Almaty")


class LimitedBotAPI(BaseSession):
    """A Bot API that answers 429 like Telegram when its limits are exceeded."""

    def __init__(
        self,
        clock: Clock,
        *,
        global_per_second: int = 30,
        private_interval: float = 1.0,
        group_per_minute: int = 20,
    ) -> None:
        super().__init__()
        self.clock = clock
        self.global_per_second = global_per_second
        self.private_interval = private_interval
        self.group_per_minute = group_per_minute
        self.recent: deque[float] = deque()
        self.last_private: dict[int, float] = {}
        self.group_times: dict[int, deque[float]] = defaultdict(deque)
        self.accepted: list[tuple[float, int, str]] = []
        self.too_many = 0
        self._ids = 0

    async def close(self) -> None:
        return None

    async def stream_content(  # type: ignore[override]
        self, url: str, headers: Any = None, timeout: int = 30, chunk_size: int = 65536,  # noqa: ASYNC109
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:  # fmt: skip
        yield b""

    def _refuse(self, bot: Bot, method: TelegramMethod[Any], retry_after: int) -> None:
        self.too_many += 1
        content = {
            "ok": False,
            "error_code": 429,
            "description": f"Too Many Requests: retry after {retry_after}",
            "parameters": {"retry_after": retry_after},
        }
        self.check_response(bot, method, 429, json.dumps(content))

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[Any],
        timeout: int | None = None,  # noqa: ASYNC109
    ) -> Any:
        if not isinstance(method, SendMessage):
            return True
        now = self.clock.monotonic()
        chat = int(method.chat_id)
        eps = 1e-9
        while self.recent and self.recent[0] <= now - 1.0 + eps:
            self.recent.popleft()
        if len(self.recent) >= self.global_per_second:
            self._refuse(bot, method, 1)
        if chat > 0:
            last = self.last_private.get(chat)
            if last is not None and now - last < self.private_interval - 1e-6:
                self._refuse(bot, method, 1)
            self.last_private[chat] = now
        else:
            times = self.group_times[chat]
            while times and times[0] <= now - 60.0 + eps:
                times.popleft()
            if len(times) >= self.group_per_minute:
                self._refuse(bot, method, 3)
            times.append(now)
        self.recent.append(now)
        self.accepted.append((now, chat, method.text))
        self._ids += 1
        return Message(
            message_id=self._ids,
            date=dt.datetime.now(dt.UTC),
            chat=Chat(id=chat, type="private" if chat > 0 else "supergroup"),
            from_user=TgUser(id=42, is_bot=True, first_name="Kezdesu"),
            text=method.text,
        )


def _chats(messages: int, seed: int) -> list[tuple[int, bool]]:
    rng = random.Random(seed)
    groups = messages // 10
    result = [(-1_000_000_000_000 - rng.randrange(50), True) for _ in range(groups)]
    result += [(10_000 + rng.randrange(2_500), False) for _ in range(messages - groups)]
    rng.shuffle(result)
    return result


async def run(
    messages: int = 10_000,
    *,
    rate: float = 25.0,
    real_time: bool = False,
    database_url: str | None = None,
    seed: int = 7,
    verbose: bool = False,
) -> dict[str, Any]:
    """Queue ``messages`` messages, drain them with the delivery worker, return the figures.

    ``database_url`` must point to an empty (migrated or new) database: the worker sends whatever
    is queued there.
    """
    run_id = f"{time.time_ns():x}"
    with tempfile.TemporaryDirectory(prefix="kezdesu-bench-") as tmp:
        url = database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'delivery.sqlite3'}"
        settings = Settings(
            bot_token=TOKEN,  # type: ignore[arg-type]
            database_url=url,
            rate_limit_per_second=rate,
            _env_file=None,  # type: ignore[call-arg]
        )
        noon = dt.datetime.combine(dt.datetime.now(ALMATY).date(), dt.time(12), ALMATY).astimezone(
            dt.UTC
        )
        clock: Clock = SystemClock() if real_time else VirtualClock(start=noon)
        start_at = dt.datetime.now(dt.UTC) if real_time else noon
        engine = create_engine(url)
        try:
            await migrate(engine)
            pool = create_session_pool(engine)
            async with pool() as session:
                rows = [
                    {
                        "chat_id": chat,
                        "is_group": is_group,
                        # quiet hours would only hold rows at night (tests/test_delivery.py)
                        "quiet_hours": False,
                        "text": f"Benchmark message <b>{n}</b>",
                        "kind": "bench",
                        "dedup_key": f"bench:{run_id}:{n}",
                        "status": NotificationStatus.PENDING,
                        "attempts": 0,
                        "not_before": start_at,
                        "created_at": start_at,
                    }
                    for n, (chat, is_group) in enumerate(_chats(messages, seed))
                ]
                for i in range(0, len(rows), 2_000):
                    await session.execute(insert(Notification), rows[i : i + 2_000])
                await session.commit()
            api = LimitedBotAPI(clock)
            bot = Bot(TOKEN, session=api, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
            worker = DeliveryWorker(bot, pool, settings, clock=clock, batch_size=200)
            wall_start = time.perf_counter()
            clock_start = clock.monotonic()
            if real_time:
                while True:
                    await worker.drain()
                    async with pool() as session:
                        left = await session.scalar(
                            select(func.count()).where(
                                Notification.status.in_(("pending", "sending"))
                            )
                        )
                    if not left:
                        break
                    await asyncio.sleep(0.05)
            else:
                await worker.drain()
            elapsed = clock.monotonic() - clock_start
            wall = time.perf_counter() - wall_start
            async with pool() as session:
                sent_rows = await session.scalar(
                    select(func.count()).where(Notification.status == NotificationStatus.SENT)
                )
        finally:
            await engine.dispose()
    delivered = len(api.accepted)
    distinct = len({text for _t, _c, text in api.accepted})
    achieved = delivered / elapsed if elapsed > 0 else float("inf")
    window_max = _max_in_window([t for t, _c, _x in api.accepted], 1.0)
    result = {
        "messages": messages,
        "delivered": delivered,
        "rows_sent": int(sent_rows or 0),
        "duplicates": delivered - distinct,
        "lost": messages - distinct,
        "http_429": api.too_many,
        "configured_per_second": rate,
        "achieved_per_second": round(achieved, 3),
        "ratio": round(achieved / rate, 4),
        "max_in_any_second": window_max,
        "clock": "real" if real_time else "virtual",
        "clock_seconds": round(elapsed, 2),
        "wall_seconds": round(wall, 2),
        "database_messages_per_second": round(delivered / wall, 1) if wall > 0 else None,
    }
    if verbose:
        print(report(result))
    return result


def _max_in_window(times: list[float], width: float) -> int:
    best, left = 0, 0
    for right, t in enumerate(times):
        while times[left] <= t - width:
            left += 1
        best = max(best, right - left + 1)
    return best


def report(r: dict[str, Any]) -> str:
    clock = (
        "virtual clock: the worker's waits advance virtual time; database work counts as zero"
        if r["clock"] == "virtual"
        else "real clock"
    )
    ok = r["ratio"] >= 0.95 and r["http_429"] == 0 and not r["lost"] and not r["duplicates"]
    return "\n".join(
        [
            f"Delivery: {r['messages']} queued messages drained by the real worker ({clock})",
            f"  configured limit : {r['configured_per_second']:.1f} msg/s",
            f"  achieved         : {r['achieved_per_second']:.2f} msg/s over "
            f"{r['clock_seconds']:.1f} s ({r['clock']})",
            f"  ratio            : {r['ratio']:.3f} of the configured limit (target >= 0.95)",
            f"  429 answers      : {r['http_429']}; lost: {r['lost']}; "
            f"duplicates: {r['duplicates']}; rows marked sent: {r['rows_sent']}",
            f"  busiest second   : {r['max_in_any_second']} messages (the fake API allows 30)",
            (
                f"  wall time        : {r['wall_seconds']:.1f} s, i.e. the worker and database "
                f"handle {r['database_messages_per_second']} msg/s without the limiter"
                if r["clock"] == "virtual"
                else f"  wall time        : {r['wall_seconds']:.1f} s"
            ),
            f"  verdict          : {'PASS' if ok else 'FAIL'}",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.delivery", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=25.0, help="RATE_LIMIT_PER_SECOND")
    parser.add_argument("--real-time", action="store_true", help="real sleeps (slow)")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    result = asyncio.run(
        run(
            args.messages,
            rate=args.rate,
            real_time=args.real_time,
            database_url=args.database_url,
        )
    )
    print(json.dumps(result, indent=2) if args.json else report(result))


if __name__ == "__main__":
    main()
