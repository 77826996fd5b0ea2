"""An announcement after «Send»: the button only records it; the announcements job queues its
messages in batches; the delivery worker sends them; once every one has been tried, the sender
gets a translated delivery report (sent, unreachable, failed)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from aiogram.methods import SendMessage
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import CatalogI18n
from models.entities import Announcement, District, Notification, User
from models.settings import Settings
from scheduler.announcements import advance_announcements
from scheduler.delivery import DeliveryWorker
from scheduler.jobs import announcements_job
from scheduler.pacing import VirtualClock
from tests.conftest import ADMIN_ID, onboard
from tests.harness import BotClient, RecordingSession, last_message, make_bot

ALMATY = ZoneInfo("Asia/Almaty")


def worker_clock() -> VirtualClock:
    """Tomorrow at noon in Almaty: every queued row is due, and no quiet hours."""
    tomorrow = dt.datetime.now(ALMATY).date() + dt.timedelta(days=1)
    return VirtualClock(start=dt.datetime.combine(tomorrow, dt.time(12), ALMATY))


@pytest.fixture
async def residents(session: AsyncSession) -> list[int]:
    almaly = (await session.execute(select(District).where(District.slug == "almaly"))).scalar_one()
    people = [User(tg_id=9100 + n, locale="ru", district_id=almaly.id) for n in range(5)]
    session.add_all(people)
    await session.commit()
    return [p.tg_id for p in people]


async def _count(session: AsyncSession, kind: str) -> int:
    found = await session.execute(
        select(func.count()).select_from(Notification).where(Notification.kind == kind)
    )
    return int(found.scalar_one())


@pytest.mark.parametrize(("locale", "report"), [
    ("en", ["Delivery report", "Sent: 4", "Unreachable (blocked the bot or left Telegram): 1",
            "Failed: 1"]),
    ("kk", ["жеткізу есебі", "Жіберілді: 4", "Сәтсіз: 1"]),
])  # fmt: skip
async def test_announcement_is_queued_in_batches_and_its_sender_gets_a_report(
    make_client: Callable[..., BotClient],
    session: AsyncSession,
    session_pool: async_sessionmaker[AsyncSession],
    settings: Settings,
    i18n: CatalogI18n,
    residents: list[int],
    locale: str,
    report: list[str],
) -> None:
    admin = make_client(user_id=ADMIN_ID, language_code=locale, username="staff")
    await onboard(admin, locale)  # the admin lives in Almaly too: 6 recipients
    sent = await admin.send("/admin")
    sent = await admin.click(last_message(sent), "📢")
    sent = await admin.click(last_message(sent), last_message(sent).buttons[1])  # a district
    sent = await admin.send("Встреча с акимом завтра в 15:00 <приходите>")
    sent = await admin.click(last_message(sent), "📨")
    assert "6" in last_message(sent).text
    # the button recorded the announcement and queued nothing
    assert await _count(session, "announcement") == 0
    assert (await session.execute(select(func.count()).select_from(Announcement))).scalar_one()

    progress = await advance_announcements(session_pool, i18n, dt.datetime.now(dt.UTC), batch=4)
    assert progress.queued == 6 and progress.reported == 0  # two batches: 4, then 2
    assert await _count(session, "announcement") == 6
    assert (await announcements_job(session_pool, i18n, settings))["queued"] == 0  # once

    telegram = RecordingSession()
    telegram.fail_next(SendMessage, 403, "Forbidden: bot was blocked by the user")
    telegram.fail_next(SendMessage, 400, "Bad Request: message is too long")
    worker = DeliveryWorker(make_bot(telegram), session_pool, settings, clock=worker_clock())
    await worker.drain()
    assert await _count(session, "announcement_report") == 0

    assert (await announcements_job(session_pool, i18n, settings))["reported"] == 1
    assert (await announcements_job(session_pool, i18n, settings))["reported"] == 0  # once
    await worker.drain()
    to_admin = [
        r.method.text
        for r in telegram.requests
        if isinstance(r.method, SendMessage) and r.method.chat_id == ADMIN_ID
    ]
    text = to_admin[-1]
    for part in report:
        assert part in text, text
    assert "Встреча с акимом завтра в 15:00 &lt;приходите&gt;" in text


async def test_an_announcement_not_yet_fully_tried_is_not_reported(
    session: AsyncSession,
    session_pool: async_sessionmaker[AsyncSession],
    settings: Settings,
    i18n: CatalogI18n,
    residents: list[int],
) -> None:
    session.add(
        Announcement(token="t0k3n", author_chat_id=ADMIN_ID, author_locale="ru", body="Тест")
    )
    await session.commit()
    await announcements_job(session_pool, i18n, settings)
    assert await _count(session, "announcement") == 5  # everyone: the five residents
    assert (await announcements_job(session_pool, i18n, settings))["reported"] == 0
