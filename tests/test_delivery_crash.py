"""A delivery worker *process* killed with SIGKILL while it sends: its claim is a lease that runs
out, a restarted worker takes the row back and finishes the queue. Nothing is lost and at most
one message (the one in flight) goes out twice.

The worker runs as ``python -m bot deliver`` against a SQLite file and the fake Bot API; every
wait is on a condition, with a generous timeout."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.db import create_engine, create_session_pool, migrate
from models.entities import Notification
from models.settings import Settings
from scheduler.delivery import DeliveryWorker
from scheduler.pacing import VirtualClock
from scheduler.queue import enqueue
from tests.fake_bot_api import FakeBotAPI
from tests.processes import ROOT, bot_env

CHATS = [70_001 + n for n in range(40)]
LEASE = 5  # seconds: the smallest allowed, so the test does not wait long


async def until(condition: Callable[[], Awaitable[bool]], what: str, timeout: float = 90) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def _worker_env(database_url: str, api: FakeBotAPI) -> dict[str, str]:
    return bot_env(
        database_url,
        api.url,
        DELIVERY_LEASE_SECONDS=str(LEASE),
        RATE_LIMIT_PER_SECOND="20",
        QUIET_HOURS_START="0",
        QUIET_HOURS_END="0",
        LOG_LEVEL="INFO",
    )


async def _start_worker(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "deliver",
            cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out,
        )  # fmt: skip


async def test_worker_killed_while_sending_loses_nothing(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'crash.sqlite3'}"
    engine = create_engine(url)
    await migrate(engine)
    pool = create_session_pool(engine)
    async with pool() as session:
        for chat in CHATS:
            await enqueue(
                session, chat_id=chat, text=f"Message for {chat}", kind="test", quiet_hours=False
            )
        await session.commit()

    async def count(status: str) -> int:
        async with pool() as session:
            found = await session.execute(
                select(func.count()).select_from(Notification).where(Notification.status == status)
            )
            return int(found.scalar_one())

    api = FakeBotAPI()
    await api.start()
    env = _worker_env(url, api)
    log = tmp_path / "worker.log"
    first = second = None
    try:
        first = await _start_worker(env, log)

        async def some_sent() -> bool:
            return len(api.sent()) >= 10

        await until(some_sent, "the first worker to send some messages")
        api.hold = asyncio.Event()  # the next send reaches "Telegram" and hangs there

        async def in_flight() -> bool:
            return api.held >= 1

        await until(in_flight, "a send in flight")
        first.send_signal(signal.SIGKILL)
        assert await first.wait() == -signal.SIGKILL
        stuck = await count("sending")
        assert stuck == 1  # the row in flight is left claimed by the dead process
        api.hold.set()
        api.hold = None

        second = await _start_worker(env, log)

        async def all_sent() -> bool:
            return await count("sent") == len(CHATS)

        await until(all_sent, "every message to be sent after the restart")
        second.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(second.wait(), 60) == 0
    finally:
        for process in (first, second):
            if process is not None and process.returncode is None:
                process.kill()
                await process.wait()
        await api.stop()
        await engine.dispose()

    per_chat = Counter(int(c.params["chat_id"]) for c in api.sent())
    lost = [chat for chat in CHATS if per_chat[chat] == 0]
    duplicates = sum(n - 1 for n in per_chat.values() if n > 1)
    assert lost == []
    assert duplicates <= 1
    assert "Released 1 stale delivery claims" in log.read_text()


NOW = dt.datetime(2026, 6, 1, 6, 0, tzinfo=dt.UTC)


async def test_a_lease_that_ran_out_is_taken_back_and_a_live_one_is_not(
    session: AsyncSession,
    session_pool: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    """With the default lease (30 s): a claim whose lease ended a second ago goes back to the
    queue; one renewed a moment ago stays with its worker; renewing moves the lease on."""
    assert settings.delivery_lease_seconds == 30
    for chat, text in ((5001, "dead"), (5002, "alive")):
        await enqueue(session, chat_id=chat, text=text, kind="test", not_before=NOW)
    await session.commit()
    ends = {"dead": NOW - dt.timedelta(seconds=1), "alive": NOW + dt.timedelta(seconds=20)}
    for text, lease_until in ends.items():
        await session.execute(
            update(Notification)
            .where(Notification.text == text)
            .values(
                status="sending",
                claimed_by=text,
                claimed_at=NOW - dt.timedelta(seconds=40),
                lease_until=lease_until,
            )
        )
    await session.commit()
    clock = VirtualClock(NOW)
    worker = DeliveryWorker(
        None,  # type: ignore[arg-type]  # nothing is sent
        session_pool,
        settings,
        clock=clock,
        worker_id="alive",
    )
    assert await worker.release_stale() == 1
    assert await worker.renew_leases() == 1

    rows = {
        n.text: n
        for n in (
            await session.execute(select(Notification).execution_options(populate_existing=True))
        ).scalars()
    }
    assert rows["dead"].status == "pending" and rows["dead"].lease_until is None
    assert rows["alive"].status == "sending"
    assert rows["alive"].lease_until == NOW + dt.timedelta(seconds=30)


@pytest.mark.parametrize("value", ["4", "601", "soon"])
def test_the_lease_length_is_checked(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from models.settings import ConfigError, load_settings

    monkeypatch.setenv("DELIVERY_LEASE_SECONDS", value)
    with pytest.raises(ConfigError):
        load_settings()
