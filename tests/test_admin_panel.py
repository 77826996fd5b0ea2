"""The admin panel: who sees it, its sections, and what everyone else gets."""

from __future__ import annotations

from collections.abc import Callable

from aiogram.types import InlineKeyboardMarkup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import AdminCb, AdminSection
from models.entities import User
from models.settings import Settings
from tests.conftest import ADMIN_ID, onboard
from tests.harness import BotClient, alerts, last_message, messages

PANEL_TITLE = {"ru": "Панель администратора", "kk": "Әкімші панелі", "en": "Admin panel"}


async def test_admin_opens_the_panel_in_their_language(
    make_client: Callable[..., BotClient], settings: Settings
) -> None:
    expected = [AdminCb(section=s).pack() for s in AdminSection if s is not AdminSection.HOME]
    for n, locale in enumerate(["ru", "kk", "en"]):
        admin_id = ADMIN_ID + n
        settings.admin_ids = frozenset({*settings.admin_ids, admin_id})
        admin = make_client(user_id=admin_id, language_code=locale)
        await onboard(admin, locale)
        sent = await admin.send("/admin")
        panel = last_message(sent)
        assert PANEL_TITLE[locale] in panel.text
        markup = panel.markup
        assert isinstance(markup, InlineKeyboardMarkup)
        data = [b.callback_data for row in markup.inline_keyboard for b in row]
        assert data == expected  # one button per section, each handled by the area owning it


async def test_menu_button_and_back_to_the_panel(make_client: Callable[..., BotClient]) -> None:
    admin = make_client(user_id=ADMIN_ID, language_code="en")
    await onboard(admin, "en")
    sent = await admin.send("/menu")
    assert "🛠 Admin panel" in last_message(sent).buttons
    sent = await admin.send("🛠 Admin panel")
    panel = last_message(sent)
    assert "Admin panel" in panel.text
    sent = await admin.click(panel, "Announcement")
    sent = await admin.click(last_message(sent), "Admin panel")
    assert "Choose a section" in last_message(sent).text


async def test_admin_command_inside_a_form_starts_afresh(
    make_client: Callable[..., BotClient],
) -> None:
    admin = make_client(user_id=ADMIN_ID, language_code="en")
    await onboard(admin, "en")
    sent = await admin.send("/admin")
    sent = await admin.click(last_message(sent), "Meetings")
    await admin.click(last_message(sent), "New meeting")
    sent = await admin.send("/admin")
    assert "Choose a section" in last_message(sent).text
    sent = await admin.send("23.06.2030 15:00")  # the form is gone: plain text is not a date
    assert all("Where does it take place" not in m.text for m in messages(sent))


async def test_granted_admin_from_the_database(
    make_client: Callable[..., BotClient], session: AsyncSession
) -> None:
    staff = make_client(user_id=6001, language_code="ru")
    await onboard(staff, "ru")
    sent = await staff.send("/admin")
    assert "Панель администратора" not in last_message(sent).text
    user = (await session.execute(select(User).where(User.tg_id == 6001))).scalar_one()
    user.is_admin = True
    await session.commit()
    sent = await staff.send("/admin")
    assert "Панель администратора" in last_message(sent).text


async def test_non_admin_sees_no_panel(make_client: Callable[..., BotClient]) -> None:
    resident = make_client(user_id=6002, language_code="en")
    await onboard(resident, "en")
    sent = await resident.send("/admin")
    assert [m.text for m in messages(sent)] == [
        "I do not know this command. Send /help to see what I can do."
    ]
    sent = await resident.send("/menu")
    assert "🛠 Admin panel" not in last_message(sent).buttons
    sent = await resident.send("🛠 Admin panel")
    assert all("Choose a section" not in m.text for m in messages(sent))
    for section in AdminSection:
        sent = await resident.press(AdminCb(section=section).pack())
        assert alerts(sent) == ["Sorry, this is only for akimat staff."], section
        assert not messages(sent)


async def test_an_admin_form_is_closed_when_the_role_is_withdrawn(
    make_client: Callable[..., BotClient], settings: Settings
) -> None:
    """Input to an admin form from someone who is no longer an admin is refused, and the form
    closed: the next text is an ordinary search."""
    staff_id = 6003
    settings.admin_ids = frozenset({*settings.admin_ids, staff_id})
    staff = make_client(user_id=staff_id, language_code="en")
    await onboard(staff, "en")
    for section, refusal in (
        ("Announcement", "Sorry, this is only for akimat staff."),
        ("Departments", "Sorry, only the akimat's staff can do this. Nothing was changed."),
    ):
        settings.admin_ids = frozenset({*settings.admin_ids, staff_id})
        sent = await staff.click(last_message(await staff.send("/admin")), section)
        if section == "Departments":
            sent = await staff.click(last_message(sent), "New department")
        else:
            sent = await staff.click(last_message(sent), "Everyone")
        assert "code" in last_message(sent).text or "Recipients" in last_message(sent).text
        settings.admin_ids = frozenset(settings.admin_ids - {staff_id})
        sent = await staff.send("Дорога Толе би")
        assert [m.text for m in messages(sent)] == [refusal], section
        sent = await staff.send("Дорога Толе би")
        assert refusal not in last_message(sent).text  # no form any more: a search
        assert "Дорога Толе би" in last_message(sent).text
