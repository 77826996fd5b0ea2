"""The delivery worker against a recording Bot API session, on a virtual clock.

The worker's sleeps advance a ``VirtualClock`` instead of waiting, so limits are checked on the
virtual timestamps of the requests (no wall-clock timing anywhere).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiogram import Bot
from aiogram.methods import SendMessage, SendPhoto, TelegramMethod
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.db import create_engine, create_session_pool
from models.entities import Department, DepartmentChat, Notification, NotificationStatus, User
from models.settings import Settings
from scheduler.delivery import DeliveryWorker
from scheduler.pacing import RateLimiter, VirtualClock
from scheduler.queue import enqueue
from tests.harness import RecordingSession, make_bot

ALMATY = ZoneInfo("Asia/Almaty")
NOON = dt.datetime(2026, 3, 10, 12, 0, tzinfo=ALMATY).astimezone(dt.UTC)


class TimedSession(RecordingSession):
    """Records the virtual time of each request; can cancel a task after the n-th send."""

    def __init__(self, clock: VirtualClock) -> None:
        super().__init__()
        self.clock = clock
        self.times: list[tuple[float, int, bool]] = []  # (time, chat, accepted)
        self.cancel_after: int | None = None
        self.cancel_task: asyncio.Task[Any] | None = None

    async def make_request(
        self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None
    ) -> Any:
        chat = int(getattr(method, "chat_id", 0) or 0)
        try:
            result = await super().make_request(bot, method, timeout)
        except Exception:
            self.times.append((self.clock.monotonic(), chat, False))
            raise
        self.times.append((self.clock.monotonic(), chat, True))
        accepted = sum(1 for t in self.times if t[2])
        if self.cancel_after is not None and accepted == self.cancel_after and self.cancel_task:
            self.cancel_task.cancel()
        return result

    def accepted(self) -> list[tuple[float, int]]:
        return [(t, c) for t, c, ok in self.times if ok]


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(start=NOON)


@pytest.fixture
def timed(clock: VirtualClock) -> TimedSession:
    return TimedSession(clock)


def make_worker(
    timed: TimedSession,
    session_pool: async_sessionmaker[AsyncSession],
    settings: Settings,
    clock: VirtualClock,
    **kwargs: Any,
) -> DeliveryWorker:
    return DeliveryWorker(make_bot(timed), session_pool, settings, clock=clock, **kwargs)


async def queue(
    session: AsyncSession, chat_id: int, text: str = "Hello", *, at: dt.datetime = NOON, **kw: Any
) -> None:
    await enqueue(session, chat_id=chat_id, text=text, kind="test", not_before=at, **kw)


async def statuses(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(Notification.status, func.count()).group_by(Notification.status)
    )
    return {str(s): int(n) for s, n in rows.all()}


async def row_for(session: AsyncSession, text: str) -> Notification:
    session.expire_all()
    return (
        await session.execute(select(Notification).where(Notification.text == text))
    ).scalar_one()


async def test_sends_text_markup_and_photo_and_marks_sent(
    session: AsyncSession, session_pool: Any, settings: Settings, clock: VirtualClock,
    timed: TimedSession,
) -> None:  # fmt: skip
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Open", callback_data="om:5")]]
    )
    await queue(session, 501, "<b>Bold</b> &amp; text", reply_markup=markup)
    await queue(session, 502, "A photo caption", photo="file-id-1")
    await session.commit()
    stats = await make_worker(timed, session_pool, settings, clock).drain()
    assert stats.sent == 2
    sends = [s.method for s in timed.requests]
    message = next(m for m in sends if isinstance(m, SendMessage))
    assert message.text == "<b>Bold</b> &amp; text"
    assert message.reply_markup == markup
    photo = next(m for m in sends if isinstance(m, SendPhoto))
    assert (photo.photo, photo.caption) == ("file-id-1", "A photo caption")
    row = await row_for(session, "A photo caption")
    assert row.status == NotificationStatus.SENT
    assert row.sent_at == NOON
    assert await statuses(session) == {"sent": 2}


async def test_429_waits_retry_after_and_resends_the_same_message(
    session: AsyncSession, session_pool: Any, settings: Settings, clock: VirtualClock,
    timed: TimedSession,
) -> None:  # fmt: skip
    await queue(session, 601, "Flooded")
    await session.commit()
    timed.fail_next(SendMessage, 429, "Too Many Requests: retry after 1", {"retry_after": 1})
    stats = await make_worker(timed, session_pool, settings, clock).drain()
    assert stats.retried_after_429 == 1
    assert stats.sent == 1
    assert [c for _t, c, _ok in timed.times] == [601, 601]
    assert 1.0 in clock.sleeps  # waited retry_after
    first, second = timed.times
    assert second[0] - first[0] >= 1.0
    row = await row_for(session, "Flooded")
    assert (row.status, row.attempts, row.last_error) == ("sent", 0, None)


async def test_403_marks_the_user_unreachable_and_drops_their_queue(
    session: AsyncSession, session_pool: Any, settings: Settings, clock: VirtualClock,
    timed: TimedSession,
) -> None:  # fmt: skip
    blocked = User(tg_id=7001, locale="ru")
    session.add(blocked)
    await session.flush()
    blocked_id = blocked.id
    for n in range(3):
        await queue(session, 7001, f"to the blocked {n}", user_id=blocked_id)
    await queue(session, 7002, "to someone else")
    await session.commit()
    timed.fail_next(SendMessage, 403, "Forbidden: bot was blocked by the user")
    stats = await make_worker(timed, session_pool, settings, clock).drain()
    assert stats.dropped == 3
    assert [c for _t, c, _ok in timed.times].count(7001) == 1  # tried once, then dropped
    session.expire_all()
    assert (await session.get(User, blocked_id)).reachable is False  # type: ignore[union-attr]
    dropped = await row_for(session, "to the blocked 0")
    assert dropped.status == "dropped"
    assert "blocked" in (dropped.last_error or "")
    assert await statuses(session) == {"dropped": 3, "sent": 1}


async def test_chat_not_found_marks_the_department_chat_unreachable(
    session: AsyncSession, session_pool: Any, settings: Settings, clock: VirtualClock,
    timed: TimedSession,
) -> None:  # fmt: skip
    department = (await session.execute(select(Department).limit(1))).scalar_one()
    chat = DepartmentChat(department_id=department.id, chat_id=-100777, locale="ru")
    session.add(chat)
    await session.flush()
    chat_pk = chat.id
    await queue(session, -100777, "to the group", is_group=True)
    await session.commit()
    timed.fail_next(SendMessage, 400, "Bad Request: chat not found")
    await make_worker(timed, session_pool, settings, clock).drain()
    session.expire_all()
    assert (await session.get(DepartmentChat, chat_pk)).reachable is False  # type: ignore[union-attr]
    assert (await row_for(session, "to the group")).status == "dropped"


async def test_network_error_and_500_retry_with_backoff(
    session: AsyncSession, session_pool: Any, settings: Settings, clock: VirtualClock,
    timed: TimedSession,
) -> None:  # fmt: skip
    await queue(session, 801, "Unlucky")
    await session.commit()
    timed.fail_next_network(SendMessage)
    timed.fail_next(SendMessage, 500, "Internal Server Error")
    worker = make_worker(timed, session_pool, settings, clock)

    await worker.drain()
    row = await row_for(session, "Unlucky")
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.not_before == NOON + dt.timedelta(seconds=5)
    assert "NetworkError" in (row.last_error or "")

    clock.advance(5)
    await worker.drain()
    row = await row_for(session, "Unlucky")
    assert (row.status, row.attempts) == ("pending", 2)
    assert row.not_before == NOON + dt.timedelta(seconds=5 + 10)  # exponential
    assert "Internal Server Error" in (row.last_error or "")

    clock.advance(10)
    await worker.drain()
    row = await row_for(session, "Unlucky")
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    assert len(timed.accepted()) == 1


async def test_gives_up_after_the_attempt_limit_and_keeps_the_error(
    session: AsyncSession, session_pool: Any, settings: Settings, clock: VirtualClock,
    timed: TimedSession,
) -> None:  # fmt: skip
    await queue(session, 802, "Doomed")
    await session.commit()
    for _ in range(3):
        timed.fail_next(SendMessage, 502, "Bad Gateway")
    worker = make_worker(timed, session_pool, settings, clock, max_attempts=3)
    for _ in range(3):
        await worker.drain()
        clock.advance(3600)
    row = await row_for(session, "Doomed")
    assert (row.status, row.attempts) == ("failed", 3)
    assert "Bad Gateway" in (row.last_error or "")
    assert timed.accepted() == []


async def test_a_message_telegram_refuses_fails_at_once(
    session: AsyncSession, session_pool: Any, settings: Settings, clock: VirtualClock,
    timed: TimedSession,
) -> None:  # fmt: skip
    await queue(session, 803, "<b>unclosed")
    await queue(session, 804, "fine")
    await session.commit()
    await make_worker(timed, session_pool, settings, clock).drain()
    row = await row_for(session, "<b>unclosed")
    assert (row.status, row.attempts) == ("failed", 1)
    assert "parse entities" in (row.last_error or "")
    assert (await row_for(session, "fine")).status == "sent"


async def test_quiet_hours_hold_residents_until_morning(
    session: AsyncSession, session_pool: Any, settings: Settings, timed: TimedSession
) -> None:
    night = dt.datetime(2026, 3, 10, 23, 30, tzinfo=ALMATY).astimezone(dt.UTC)
    clock = VirtualClock(start=night)
    timed.clock = clock
    sleeper = User(tg_id=9101, locale="ru")
    owl = User(tg_id=9102, locale="ru", night_pushes=True)
    session.add_all([sleeper, owl])
    await session.flush()
    await queue(session, 9101, "for the sleeper", user_id=sleeper.id, at=night)
    await queue(session, 9102, "for the night owl", user_id=owl.id, at=night)
    await queue(session, -100900, "for a group", is_group=True, at=night)
    await queue(session, 9103, "urgent, not held", quiet_hours=False, at=night)
    await session.commit()
    worker = make_worker(timed, session_pool, settings, clock)

    stats = await worker.drain()
    sent_to = {c for _t, c in timed.accepted()}
    assert sent_to == {9102, -100900, 9103}
    assert stats.held_for_quiet_hours == 1
    held = await row_for(session, "for the sleeper")
    morning = dt.datetime(2026, 3, 11, 8, 0, tzinfo=ALMATY).astimezone(dt.UTC)
    assert (held.status, held.not_before) == ("pending", morning)  # parked, not polled

    clock.advance((morning - night).total_seconds())
    await worker.drain()
    assert 9101 in {c for _t, c in timed.accepted()}
    assert (await row_for(session, "for the sleeper")).status == "sent"


async def test_per_chat_limits(
    session: AsyncSession, session_pool: Any, settings: Settings, clock: VirtualClock,
    timed: TimedSession,
) -> None:  # fmt: skip
    for n in range(4):
        await queue(session, 1111, f"private {n}")
        await queue(session, -1002222, f"group {n}", is_group=True)
    await queue(session, 3333, "another chat")
    await session.commit()
    stats = await make_worker(timed, session_pool, settings, clock).drain()
    assert stats.sent == 9
    private = [t for t, c in timed.accepted() if c == 1111]
    group = [t for t, c in timed.accepted() if c == -1002222]
    assert len(private) == 4
    assert len(group) == 4
    assert all(b - a >= 1.0 - 1e-6 for a, b in itertools.pairwise(private))
    assert all(b - a >= 3.0 - 1e-6 for a, b in itertools.pairwise(group))
    # (one every 3 s keeps a group within 20 per minute); the other chat did not wait for them
    assert next(t for t, c in timed.accepted() if c == 3333) < 1.0


async def test_global_limit(
    session: AsyncSession, session_pool: Any, settings: Settings, clock: VirtualClock,
    timed: TimedSession,
) -> None:  # fmt: skip
    for n in range(120):
        await queue(session, 20_000 + n, f"broadcast {n}")
    await session.commit()
    limiter = RateLimiter(10, clock, burst=2)
    stats = await make_worker(timed, session_pool, settings, clock, limiter=limiter).drain()
    assert stats.sent == 120
    times = [t for t, _c in timed.accepted()]
    for i, start in enumerate(times):
        in_window = sum(1 for t in times[i:] if t < start + 1.0)
        assert in_window <= 10 + 2  # rate + burst in any one-second window
    assert times[-1] >= (120 - 2) / 10 - 1e-6
    assert times[-1] <= (120 - 2) / 10 + 0.5  # and it does use the allowance


async def test_interrupted_delivery_loses_and_duplicates_nothing(
    db_url: str, session: AsyncSession, session_pool: Any, settings: Settings,
    clock: VirtualClock, timed: TimedSession,
) -> None:  # fmt: skip
    for n in range(30):
        await queue(session, 40_000 + n, f"message {n}")
    await session.commit()
    first = make_worker(timed, session_pool, settings, clock, batch_size=50)
    task = asyncio.create_task(first.drain())
    timed.cancel_after, timed.cancel_task = 7, task
    with pytest.raises(asyncio.CancelledError):
        await task
    counts = await statuses(session)
    assert counts.get("sent", 0) == len(timed.accepted()) >= 7
    assert counts.get("sending", 0) == 0  # the message in flight was recorded
    assert counts["pending"] == 30 - counts["sent"]

    # a restarted process (a new worker on a new engine) sends the rest
    engine = create_engine(db_url)
    try:
        second = make_worker(timed, create_session_pool(engine), settings, clock)
        await second.drain()
    finally:
        await engine.dispose()
    chats = sorted(c for _t, c in timed.accepted())
    assert chats == [40_000 + n for n in range(30)]  # every message exactly once
    assert await statuses(session) == {"sent": 30}


async def test_claims_of_a_dead_process_are_released_after_the_timeout(
    session: AsyncSession, session_pool: Any, settings: Settings, clock: VirtualClock,
    timed: TimedSession,
) -> None:  # fmt: skip
    await queue(session, 5001, "claimed by a dead process")
    await queue(session, 5002, "claimed by a live worker")
    await session.commit()
    await session.execute(
        update(Notification)
        .where(Notification.chat_id == 5001)
        .values(status="sending", claimed_by="dead", claimed_at=NOON - dt.timedelta(minutes=11))
    )
    await session.execute(
        update(Notification)
        .where(Notification.chat_id == 5002)
        .values(status="sending", claimed_by="alive", claimed_at=NOON - dt.timedelta(seconds=5))
    )
    await session.commit()
    stats = await make_worker(timed, session_pool, settings, clock).drain()
    assert stats.released_stale == 1
    assert [c for _t, c in timed.accepted()] == [5001]
    assert (await row_for(session, "claimed by a live worker")).status == "sending"


async def test_two_workers_at_once_send_each_message_once(
    db_url: str, session: AsyncSession, settings: Settings, timed: TimedSession
) -> None:
    for n in range(40):
        await queue(session, 60_000 + n, f"shared {n}")
    await session.commit()
    engines = [create_engine(db_url), create_engine(db_url)]
    try:
        workers = [
            DeliveryWorker(
                make_bot(timed), create_session_pool(e), settings, clock=VirtualClock(start=NOON)
            )
            for e in engines
        ]
        await asyncio.gather(*(w.drain() for w in workers))
    finally:
        for e in engines:
            await e.dispose()
    chats = sorted(c for _t, c in timed.accepted())
    assert chats == [60_000 + n for n in range(40)]
    assert await statuses(session) == {"sent": 40}
    assert all(w.stats.sent > 0 for w in workers) or sum(w.stats.sent for w in workers) == 40


async def test_group_upgraded_to_supergroup_follows_the_new_id(
    session: AsyncSession, session_pool: Any, settings: Settings, clock: VirtualClock,
    timed: TimedSession,
) -> None:  # fmt: skip
    department = (await session.execute(select(Department).limit(1))).scalar_one()
    chat = DepartmentChat(department_id=department.id, chat_id=-4455, locale="ru")
    session.add(chat)
    await session.flush()
    chat_pk = chat.id
    await queue(session, -4455, "to the old group", is_group=True)
    await session.commit()
    timed.fail_next(
        SendMessage, 400, "Bad Request: group chat was upgraded to a supergroup chat",
        {"migrate_to_chat_id": -1004455},
    )  # fmt: skip
    await make_worker(timed, session_pool, settings, clock).drain()
    assert timed.accepted()[0][1] == -1004455
    session.expire_all()
    assert (await session.get(DepartmentChat, chat_pk)).chat_id == -1004455  # type: ignore[union-attr]
    assert (await row_for(session, "to the old group")).status == "sent"


async def test_the_benchmark_fake_api_enforces_the_limits() -> None:
    from aiogram.exceptions import TelegramRetryAfter

    from bench.delivery import LimitedBotAPI

    clock = VirtualClock(start=NOON)
    api = LimitedBotAPI(clock)
    bot = make_bot(api)  # type: ignore[arg-type]
    await bot(SendMessage(chat_id=1, text="one"))
    with pytest.raises(TelegramRetryAfter):
        await bot(SendMessage(chat_id=1, text="too soon in the same chat"))
    for n in range(29):
        await bot(SendMessage(chat_id=100 + n, text="x"))
    with pytest.raises(TelegramRetryAfter):
        await bot(SendMessage(chat_id=999, text="the 31st in one second"))
    clock.advance(1.0)
    await bot(SendMessage(chat_id=1, text="a second later"))
    assert api.too_many == 2


async def test_the_delivery_benchmark_runs_without_429() -> None:
    from bench.delivery import run

    result = await run(300)
    assert result["http_429"] == 0
    assert result["lost"] == result["duplicates"] == 0
    assert result["rows_sent"] == 300
    assert result["max_in_any_second"] <= 30
    # A short run pays a few seconds of tail (its last messages wait for their chat's limit);
    # 10,000 messages reach 0.95 and more (python -m bench.delivery).
    assert result["ratio"] >= 0.6


class BlockingClock(VirtualClock):
    """Long waits block for real, so a test can stop the worker in the middle of one."""

    def __init__(self, start: dt.datetime) -> None:
        super().__init__(start)
        self.waiting = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        if seconds >= 5:
            self.waiting.set()
            await asyncio.Event().wait()
        await super().sleep(seconds)


async def test_stopped_while_waiting_out_a_429_the_message_goes_back_to_the_queue(
    session: AsyncSession, session_pool: Any, settings: Settings, timed: TimedSession
) -> None:
    await queue(session, 701, "Waiting out a flood")
    await session.commit()
    clock = BlockingClock(NOON)
    timed.fail_next(SendMessage, 429, "Too Many Requests: retry after 30", {"retry_after": 30})
    task = asyncio.create_task(make_worker(timed, session_pool, settings, clock).drain())
    await clock.waiting.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    row = await row_for(session, "Waiting out a flood")
    assert (row.status, row.claimed_by, row.attempts) == ("pending", None, 0)

    await make_worker(timed, session_pool, settings, VirtualClock(start=NOON)).drain()
    assert [c for _t, c in timed.accepted()] == [701]


async def test_a_very_long_429_puts_the_message_back_with_a_later_time(
    session: AsyncSession, session_pool: Any, settings: Settings, clock: VirtualClock,
    timed: TimedSession,
) -> None:  # fmt: skip
    await queue(session, 702, "Long flood")
    await session.commit()
    timed.fail_next(SendMessage, 429, "Too Many Requests: retry after 600", {"retry_after": 600})
    await make_worker(timed, session_pool, settings, clock).drain()
    row = await row_for(session, "Long flood")
    assert (row.status, row.attempts) == ("pending", 0)
    assert row.not_before == NOON + dt.timedelta(seconds=600)
