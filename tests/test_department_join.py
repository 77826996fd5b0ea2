"""Joining a department: the deep link in a private chat, /join in a group, single-use and
expiring tokens, leaving; and the ``kezdesu department`` sub-commands.

Helpers here (``invite``, ``join``, ``department_id``, ``member``) are used by the other
department tests too."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli import main as cli_main
from models.base import utcnow
from models.db import create_engine, create_session_pool
from models.departments import create_invitation
from models.entities import Department, DepartmentChat, DepartmentMember, Invitation, User
from tests.conftest import onboard
from tests.harness import BotClient, RecordingSession, last_message, messages

GROUP_ID = -100_555


async def department_id(session_pool: async_sessionmaker[AsyncSession], slug: str) -> int:
    async with session_pool() as session:
        result = await session.execute(select(Department.id).where(Department.slug == slug))
        return int(result.scalar_one())


async def invite(
    session_pool: async_sessionmaker[AsyncSession],
    slug: str,
    *,
    ttl_days: int = 7,
    now: dt.datetime | None = None,
) -> str:
    dep = await department_id(session_pool, slug)
    async with session_pool() as session:
        invitation = await create_invitation(
            session, dep, created_by_id=None, ttl_days=ttl_days, now=now
        )
        await session.commit()
        return invitation.token


async def member(
    make_client: Callable[..., BotClient],
    session_pool: async_sessionmaker[AsyncSession],
    slug: str,
    user_id: int,
    locale: str = "en",
) -> BotClient:
    """A new official who opened an invitation of the department in a private chat."""
    client = make_client(user_id=user_id, language_code=locale, first_name=f"Official{user_id}")
    await onboard(client, locale)
    token = await invite(session_pool, slug)
    sent = await client.send(f"/start i{token}")
    assert "Welcome" in last_message(sent).text or "Добро" in last_message(sent).text
    return client


def group_client(
    make_client: Callable[..., BotClient], user_id: int, chat_id: int = GROUP_ID
) -> BotClient:
    return make_client(
        user_id=user_id,
        language_code="en",
        chat_id=chat_id,
        chat_type="supergroup",
        chat_title="УЭиВ <staff> & co",
    )


async def _user(session: AsyncSession, tg_id: int) -> User:
    session.expire_all()
    return (await session.execute(select(User).where(User.tg_id == tg_id))).scalar_one()


async def test_private_join_by_deep_link(
    make_client: Callable[..., BotClient],
    session_pool: async_sessionmaker[AsyncSession],
    session: AsyncSession,
) -> None:
    client = make_client(user_id=3001, language_code="en")
    await onboard(client, "en")
    token = await invite(session_pool, "energy_water")
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token) and len(token) + 1 <= 64

    sent = await client.send(f"/start i{token}")
    shown = last_message(sent)
    assert "You are now a member of Almaty City Department of Energy and Water Supply" in shown.text
    assert "🏢 Our measures" in shown.buttons  # the main menu now has the officials' button

    user = await _user(session, 3001)
    dep = await department_id(session_pool, "energy_water")
    rows = (await session.execute(select(DepartmentMember))).scalars().all()
    assert [(r.department_id, r.user_id) for r in rows] == [(dep, user.id)]
    invitation = (await session.execute(select(Invitation))).scalar_one()
    assert invitation.used_at is not None and invitation.used_by_id == user.id

    # the same person opening the link again is told they are in, nothing breaks
    sent = await client.send(f"/start i{token}")
    assert "You are already in" in last_message(sent).text


async def test_join_before_choosing_language_sets_it_and_asks_the_district(
    make_client: Callable[..., BotClient],
    session_pool: async_sessionmaker[AsyncSession],
    session: AsyncSession,
) -> None:
    client = make_client(user_id=3002, language_code="kk")
    token = await invite(session_pool, "education")
    sent = await client.send(f"/start i{token}")
    texts = [m.text for m in messages(sent)]
    assert any("Қош келдіңіз" in t for t in texts)
    assert "Ауданыңызды таңдаңыз" in texts[-1]
    assert (await _user(session, 3002)).locale == "kk"


async def test_used_expired_and_unknown_tokens_get_clear_answers(
    make_client: Callable[..., BotClient],
    session_pool: async_sessionmaker[AsyncSession],
    session: AsyncSession,
) -> None:
    first = make_client(user_id=3003, language_code="en")
    await onboard(first, "en")
    token = await invite(session_pool, "energy_water")
    await first.send(f"/start i{token}")

    second = make_client(user_id=3004, language_code="ru")
    await onboard(second, "ru")
    sent = await second.send(f"/start i{token}")
    assert "уже использовано" in last_message(sent).text

    old = await invite(
        session_pool, "energy_water", now=utcnow() - dt.timedelta(days=8), ttl_days=7
    )
    sent = await second.send(f"/start i{old}")
    assert "Срок действия приглашения истёк" in last_message(sent).text

    sent = await second.send("/start iNoSuchToken123")
    assert "Приглашение недействительно" in last_message(sent).text
    sent = await second.send("/join")
    assert "/join" in last_message(sent).text

    user = await _user(session, 3004)
    count = await session.execute(
        select(DepartmentMember).where(DepartmentMember.user_id == user.id)
    )
    assert count.scalars().all() == []
    # the expired one was not spent
    expired = (
        await session.execute(select(Invitation).where(Invitation.token == old))
    ).scalar_one()
    assert expired.used_at is None


async def test_join_by_command_in_private_chat(
    make_client: Callable[..., BotClient],
    session_pool: async_sessionmaker[AsyncSession],
    session: AsyncSession,
) -> None:
    client = make_client(user_id=3005, language_code="en")
    await onboard(client, "en")
    token = await invite(session_pool, "culture")
    sent = await client.send(f"/join https://t.me/kezdesu_test_bot?start=i{token}")
    assert "You are now a member of" in last_message(sent).text


async def test_group_join_needs_a_group_administrator(
    make_client: Callable[..., BotClient],
    session_pool: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    bot_session: RecordingSession,
) -> None:
    token = await invite(session_pool, "energy_water")
    outsider = group_client(make_client, 3010)
    sent = await outsider.send(f"/join {token}")
    assert "Only an administrator of this group" in last_message(sent).text
    assert (await session.execute(select(DepartmentChat))).scalars().all() == []

    sent = await outsider.send("/join")
    assert "Send /join followed by the invitation code" in last_message(sent).text

    admin = group_client(make_client, 3011)
    bot_session.chat_admins.add((GROUP_ID, 3011))
    sent = await admin.send(f"/join {token}")
    assert "This group is now a chat of Almaty City Department of Energy" in last_message(sent).text
    chat = (await session.execute(select(DepartmentChat))).scalar_one()
    assert chat.chat_id == GROUP_ID and chat.title == "УЭиВ <staff> & co"
    assert chat.department_id == await department_id(session_pool, "energy_water")

    # a used token, and a fresh one for a group already bound
    sent = await admin.send(f"/join {token}")
    assert "already been used" in last_message(sent).text
    fresh = await invite(session_pool, "energy_water")
    sent = await admin.send(f"/join {fresh}")
    assert "already a chat of" in last_message(sent).text

    # the group sees its department's measures; /leave by a non-admin is refused
    sent = await outsider.send("/measures")
    assert (
        "Our measures: Almaty City Department of Energy and Water Supply" in last_message(sent).text
    )
    sent = await outsider.send("/leave")
    assert "Only an administrator of this group can unbind" in last_message(sent).text
    sent = await admin.send("/leave")
    assert "no longer a chat of" in last_message(sent).text
    session.expire_all()
    assert (await session.execute(select(DepartmentChat))).scalars().all() == []
    sent = await outsider.send("/measures")
    assert "not a chat of any department" in last_message(sent).text


async def test_member_leaves_and_loses_the_menu_button(
    make_client: Callable[..., BotClient],
    session_pool: async_sessionmaker[AsyncSession],
    session: AsyncSession,
) -> None:
    client = await member(make_client, session_pool, "public_health", 3020)
    sent = await client.send("/leave")
    sent = await client.click(last_message(sent), "Leave")
    shown = messages(sent)
    assert "You have left" in shown[0].text
    assert "🏢 Our measures" not in shown[-1].buttons
    assert (await session.execute(select(DepartmentMember))).scalars().all() == []
    sent = await client.send("/leave")
    assert "not a member of any department" in last_message(sent).text
    sent = await client.send("🏢 Our measures")
    assert "not a member of any department" in last_message(sent).text


def test_cli_invite_and_list(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    assert (
        cli_main(["department", "invite", "УЭиВ", "--days", "3", "--bot-username", "kz_bot"]) == 0
    )
    out = capsys.readouterr().out
    link = re.search(r"https://t\.me/kz_bot\?start=i([A-Za-z0-9_-]+)", out)
    assert link is not None
    assert f"/join {link.group(1)}" in out

    assert cli_main(["department", "invite", "NOPE"]) == 1
    assert "no department with code" in capsys.readouterr().out

    assert cli_main(["department", "list"]) == 0
    listing = capsys.readouterr().out
    line = next(row for row in listing.splitlines() if row.startswith("УЭиВ"))
    assert line.split()[1:4] == ["0", "0", "1"]

    async def expiry() -> dt.datetime:
        engine = create_engine(db_url)
        async with create_session_pool(engine)() as session:
            value = (await session.execute(select(Invitation.expires_at))).scalar_one()
        await engine.dispose()
        return value

    expires = asyncio.run(expiry())
    assert dt.timedelta(days=2, hours=23) < expires - utcnow() <= dt.timedelta(days=3)
