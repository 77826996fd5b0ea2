"""The departments section of the admin panel: list, create a department, edit its names,
create an invitation, remove members and group chats."""

from __future__ import annotations

import re
from collections.abc import Callable

from aiogram.types import InlineKeyboardMarkup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.callbacks import AdminCb, AdminSection
from models.entities import Department, DepartmentChat, DepartmentMember
from tests.conftest import ADMIN_ID, onboard
from tests.harness import BotClient, alerts, last_message, messages
from tests.test_department_join import department_id, group_client, member

SECTION = AdminCb(section=AdminSection.DEPARTMENTS).pack()


async def admin_client(make_client: Callable[..., BotClient]) -> BotClient:
    admin = make_client(user_id=ADMIN_ID, language_code="en", first_name="Admin")
    await onboard(admin, "en")
    return admin


async def test_create_a_department_and_edit_its_names(
    make_client: Callable[..., BotClient], session: AsyncSession
) -> None:
    admin = await admin_client(make_client)
    sent = await admin.press(SECTION)
    listing = last_message(sent)
    assert "Departments" in listing.text and "УЭиВ" in listing.text
    markup = listing.markup
    assert isinstance(markup, InlineKeyboardMarkup)
    datas = [b.callback_data for row in markup.inline_keyboard for b in row]
    assert AdminCb(section=AdminSection.HOME).pack() in datas  # back to the panel
    assert "1/2" in listing.buttons  # 13 departments, 8 a page

    sent = await admin.click(listing, "New department")
    assert "Send its code" in last_message(sent).text
    sent = await admin.send("УЭиВ")
    assert "exists already" in last_message(sent).text
    sent = await admin.send("Х" * 101)
    assert "too long" in last_message(sent).text
    sent = await admin.send("УЦТ")
    assert "full name in Russian" in last_message(sent).text
    sent = await admin.send_content("photo")
    assert "text message" in last_message(sent).text
    await admin.send("Управление цифровых технологий")
    await admin.send("Цифрлық технологиялар басқармасы")
    sent = await admin.send("Digital Technologies Department")
    shown = messages(sent)
    assert "Department created." in shown[0].text
    view = shown[-1]
    assert "Department УЦТ" in view.text and "Digital Technologies Department" in view.text

    department = (
        await session.execute(select(Department).where(Department.code == "УЦТ"))
    ).scalar_one()
    assert department.name_kk == "Цифрлық технологиялар басқармасы"
    assert department.short_en == "Digital Technologies Department"

    sent = await admin.click(view, "Edit names")
    sent = await admin.click(last_message(sent), "Short (en)")
    assert "Now: Digital Technologies Department" in last_message(sent).text
    sent = await admin.send("D")
    assert "too short" in last_message(sent).text
    sent = await admin.send("Digital Tech <Dept>")
    assert "Digital Tech <Dept>" in last_message(sent).text
    session.expire_all()
    department = (
        await session.execute(select(Department).where(Department.code == "УЦТ"))
    ).scalar_one()
    assert department.short_en == "Digital Tech <Dept>"


async def test_invitation_then_remove_the_member_and_the_chat(
    make_client: Callable[..., BotClient],
    session_pool: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    demo: int,
) -> None:
    admin = await admin_client(make_client)
    dep = await department_id(session_pool, "energy_water")
    sent = await admin.press(f"da:v:{dep}:0")
    view = last_message(sent)
    assert "Members</b>" not in view.text  # rendered, not raw HTML
    assert "Members: 0" in view.text and "Open invitations: 0" in view.text

    sent = await admin.click(view, "New invitation")
    invitation = last_message(sent)
    assert "Invitation created." in alerts(sent)
    link = re.search(r"https://t\.me/kezdesu_test_bot\?start=(i[A-Za-z0-9_-]+)", invitation.text)
    assert link is not None
    token = link.group(1)[1:]
    assert f"/join {token}" in invitation.text

    official = make_client(user_id=6001, language_code="en", first_name="Ерлан")
    await onboard(official, "en")
    sent = await official.send(f"/start {link.group(1)}")
    assert "You are now a member" in last_message(sent).text
    group = group_client(make_client, 6002, chat_id=-100_600)
    group.session.chat_admins.add((-100_600, 6002))
    sent = await group.send(f"/join {token}")
    assert "already been used" in last_message(sent).text
    sent = await admin.click(view, "New invitation")
    token2 = re.search(r"/join ([A-Za-z0-9_-]+)", last_message(sent).text)
    assert token2 is not None
    await group.send(f"/join {token2.group(1)}")

    sent = await admin.press(f"da:v:{dep}:0")
    view = last_message(sent)
    assert "Members: 1" in view.text and "Ерлан" in view.text
    assert "Group chats: 1" in view.text

    sent = await admin.click(view, "Remove a member")
    sent = await admin.click(last_message(sent), "Ерлан")
    assert "Removed." in alerts(sent)
    assert (await session.execute(select(DepartmentMember))).scalars().all() == []
    # the removed official's buttons stop working
    sent = await official.send("🏢 Our measures")
    assert "not a member of any department" in last_message(sent).text

    sent = await admin.click(view, "Remove a chat")
    sent = await admin.click(last_message(sent), "УЭиВ")
    assert "Removed." in alerts(sent)
    assert (await session.execute(select(DepartmentChat))).scalars().all() == []
    sent = await group.send("/measures")
    assert "not a chat of any department" in last_message(sent).text

    # the admin's section also opens the department's measures and inbox
    sent = await admin.click(view, "Measures")
    assert "Our measures: Almaty City Department of Energy" in last_message(sent).text
    sent = await admin.press(f"da:v:{dep}:0")
    sent = await admin.click(last_message(sent), "Questions")
    assert "Residents' questions" in last_message(sent).text


async def test_official_member_list_is_shown_and_double_removal_is_harmless(
    make_client: Callable[..., BotClient],
    session_pool: async_sessionmaker[AsyncSession],
) -> None:
    admin = await admin_client(make_client)
    await member(make_client, session_pool, "police", 6010)
    dep = await department_id(session_pool, "police")
    sent = await admin.press(f"da:m:{dep}:0")
    members = last_message(sent)
    sent = await admin.click(members, "Official6010")
    assert "Removed." in alerts(sent)
    sent = await admin.click(members, "Official6010")  # the stale button again
    assert "Already removed." in alerts(sent)
