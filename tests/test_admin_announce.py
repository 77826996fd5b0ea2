"""Announcements: audience, text, preview with the recipient count, confirmation, queue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiogram.types import MessageEntity, Update
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import CatalogI18n
from models.entities import District, Notification, User
from scheduler.jobs import announcements_job
from tests.conftest import ADMIN_ID, onboard
from tests.harness import BotClient, _update_ids, alerts, last_message


@pytest.fixture
async def admin(make_client: Callable[..., BotClient]) -> BotClient:
    client = make_client(user_id=ADMIN_ID, language_code="en", username="staff")
    await onboard(client, "en")  # the admin lives in Almaly too
    return client


@pytest.fixture
async def residents(session: AsyncSession) -> dict[str, int]:
    almaly = (await session.execute(select(District).where(District.slug == "almaly"))).scalar_one()
    medeu = (await session.execute(select(District).where(District.slug == "medeu"))).scalar_one()
    people = {
        "ru": User(tg_id=8001, locale="ru", district_id=almaly.id),
        "kk": User(tg_id=8002, locale="kk", district_id=almaly.id),
        "medeu": User(tg_id=8003, locale="en", district_id=medeu.id),
        "blocked": User(tg_id=8004, locale="ru", district_id=almaly.id, reachable=False),
        "new": User(tg_id=8005),  # no language or district chosen yet
    }
    session.add_all(people.values())
    await session.commit()
    return {key: user.tg_id for key, user in people.items()}


async def queued(session: AsyncSession, pool: Any = None, i18n: Any = None) -> list[Notification]:
    """The queued messages; with ``pool`` and ``i18n``, after the announcements job ran."""
    if pool is not None:
        await announcements_job(pool, i18n, None)  # type: ignore[arg-type]
    session.expire_all()
    return list((await session.execute(select(Notification).order_by(Notification.id))).scalars())


async def test_district_announcement_preview_confirm_and_queue(
    admin: BotClient,
    session: AsyncSession,
    residents: dict[str, int],
    session_pool: async_sessionmaker[AsyncSession],
    i18n: CatalogI18n,
) -> None:
    sent = await admin.send("/admin")
    sent = await admin.click(last_message(sent), "Announcement")
    sent = await admin.click(last_message(sent), "Almaly")
    assert "Recipients: Almaly District" in last_message(sent).text
    sent = await admin.send_content("sticker")
    assert "send the announcement as text" in last_message(sent).text
    sent = await admin.send("x" * 3501)
    assert "Characters allowed: 3500; yours has: 3501" in last_message(sent).text

    text = "Встреча с акимом <b>завтра</b> в 15:00 & приходите, тема: <script>"
    sent = await admin.send(text)
    preview = last_message(sent)
    assert "Preview. Recipients: Almaly District; people: 3." in preview.text
    assert text in preview.text  # shown exactly as typed: the tags are text, not markup
    assert await queued(session) == []

    sent = await admin.click(preview, "Send")
    assert "being sent. Recipients: 3." in last_message(sent).text
    assert await queued(session) == []  # the button only records it
    rows = await queued(session, session_pool, i18n)
    assert sorted(n.chat_id for n in rows) == sorted([residents["ru"], residents["kk"], ADMIN_ID])
    assert all(n.kind == "announcement" for n in rows)
    assert all("&lt;b&gt;завтра&lt;/b&gt;" in n.text and "&amp; приходите" in n.text for n in rows)
    assert len({n.dedup_key for n in rows}) == 3
    by_chat = {n.chat_id: n.text for n in rows}
    assert by_chat[ADMIN_ID].startswith("📢 <b>Announcement from the akimat</b>")

    # a double tap sends nothing more
    sent = await admin.click(preview, "Send")
    assert "already sent or discarded" in alerts(sent)[0]
    assert len(await queued(session, session_pool, i18n)) == 3


async def test_everyone_and_discard(
    admin: BotClient,
    session: AsyncSession,
    residents: dict[str, int],
    session_pool: async_sessionmaker[AsyncSession],
    i18n: CatalogI18n,
) -> None:
    sent = await admin.send("/admin")
    sent = await admin.click(last_message(sent), "Announcement")
    sent = await admin.click(last_message(sent), "Everyone")
    sent = await admin.send("Сервис будет недоступен ночью.")
    preview = last_message(sent)
    assert "Recipients: everyone; people: 5." in preview.text  # the blocked resident is left out
    sent = await admin.click(preview, "Discard")
    assert "Nothing was sent" in last_message(sent).text
    sent = await admin.click(preview, "Send")
    assert alerts(sent)
    assert await queued(session) == []

    sent = await admin.send("/admin")
    sent = await admin.click(last_message(sent), "Announcement")
    sent = await admin.click(last_message(sent), "Everyone")
    sent = await admin.send("Сервис будет недоступен ночью.")
    await admin.click(last_message(sent), "Send")
    assert sorted(n.chat_id for n in await queued(session, session_pool, i18n)) == sorted(
        [ADMIN_ID, residents["ru"], residents["kk"], residents["medeu"], residents["new"]]
    )


async def test_residents_cannot_announce(
    make_client: Callable[..., BotClient], session: AsyncSession, residents: dict[str, int]
) -> None:
    resident = make_client(user_id=8100, language_code="en")
    await onboard(resident, "en")
    for data in ["adm:ann", "aa:a:0:", "aa:s:0:deadbeef0000"]:
        sent = await resident.press(data)
        assert alerts(sent) == ["Sorry, this is only for akimat staff."]
    sent = await resident.send("Hello everyone")
    assert "Preview" not in last_message(sent).text
    assert await queued(session) == []


async def test_telegram_formatting_is_kept_and_everything_else_escaped(
    admin: BotClient,
    session: AsyncSession,
    residents: dict[str, int],
    session_pool: async_sessionmaker[AsyncSession],
    i18n: CatalogI18n,
) -> None:
    sent = await admin.send("/admin")
    sent = await admin.click(last_message(sent), "Announcement")
    await admin.click(last_message(sent), "Medeu")
    text = "Важно: приём 5 < 6 & завтра"
    bold = MessageEntity(type="bold", offset=0, length=5)
    message = admin._message(text=text, entities=[bold])
    sent = await admin.feed(Update(update_id=next(_update_ids), message=message))
    assert "Recipients: Medeu District; people: 1." in last_message(sent).text
    await admin.click(last_message(sent), "Send")
    (row,) = await queued(session, session_pool, i18n)
    assert row.chat_id == residents["medeu"]
    assert row.text.endswith("<b>Важно</b>: приём 5 &lt; 6 &amp; завтра")
