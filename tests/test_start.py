"""First contact through the real Dispatcher: /start → language → district → main menu."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.entities import District, User
from tests.conftest import onboard
from tests.harness import BotClient, alerts, last_message, messages

MENU = {
    "ru": ["📋 Обязательства", "📅 Ближайшая встреча", "❓ Задать вопрос", "⚙️ Настройки"],
    "kk": ["📋 Міндеттемелер", "📅 Келесі кездесу", "❓ Сұрақ қою", "⚙️ Баптаулар"],
    "en": ["📋 Commitments", "📅 Next meeting", "❓ Ask a question", "⚙️ Settings"],
}
LANG_BUTTON = {"ru": "Русский", "kk": "Қазақша", "en": "English"}
DISTRICT_BUTTON = {"ru": "Алмалинский", "kk": "Алмалы", "en": "Almaly"}
ASK_DISTRICT = {
    "ru": "Выберите свой район",
    "kk": "Ауданыңызды таңдаңыз",
    "en": "Choose your district",
}


async def _profile(session: AsyncSession, tg_id: int) -> User:
    session.expire_all()
    return (await session.execute(select(User).where(User.tg_id == tg_id))).scalar_one()


@pytest.mark.parametrize("locale", ["ru", "kk", "en"])
async def test_start_language_district_main_menu(
    make_client: Callable[..., BotClient], session: AsyncSession, locale: str
) -> None:
    client = make_client(user_id=2000 + len(locale), language_code=locale)
    sent = await client.send("/start")
    prompt = last_message(sent)
    # the Telegram language preselects a button, marked with a check
    assert f"✅ {LANG_BUTTON[locale]}" in prompt.buttons
    assert set(prompt.buttons) >= {"Русский", "Қазақша", "English"} - {LANG_BUTTON[locale]}

    sent = await client.click(prompt, LANG_BUTTON[locale])
    districts = last_message(sent)
    assert ASK_DISTRICT[locale] in districts.text
    assert len(districts.buttons) == 8

    sent = await client.click(districts, DISTRICT_BUTTON[locale])
    shown = messages(sent)
    assert DISTRICT_BUTTON[locale] in shown[0].text  # "Your district: …" edited in place
    menu = shown[-1]
    for button in MENU[locale]:
        assert button in menu.buttons
    assert "Kezdesu" in menu.text

    user = await _profile(session, client.user_id)
    almaly = (await session.execute(select(District).where(District.slug == "almaly"))).scalar_one()
    assert user.locale == locale
    assert user.district_id == almaly.id
    assert user.full_name == "Айгерим Сейткали"


async def test_unknown_language_code_defaults_to_russian(
    make_client: Callable[..., BotClient],
) -> None:
    client = make_client(language_code="de")
    sent = await client.send("/start")
    assert "✅ Русский" in last_message(sent).buttons
    assert "Выберите язык" in last_message(sent).text


async def test_returning_user_gets_the_menu_directly(client: BotClient) -> None:
    await onboard(client, "en")
    sent = await client.send("/start")
    assert "📋 Commitments" in last_message(sent).buttons


async def test_settings_change_language_and_district(
    client: BotClient, session: AsyncSession
) -> None:
    await onboard(client, "ru")
    sent = await client.send("⚙️ Настройки")
    card = last_message(sent)
    assert "Язык: Русский" in card.text
    assert "Алмалинский район" in card.text

    sent = await client.click(card, "Язык")
    sent = await client.click(last_message(sent), "Қазақша")
    shown = messages(sent)
    assert "Тіл: Қазақша" in shown[0].text  # the settings card, now in Kazakh
    assert "⚙️ Баптаулар" in shown[-1].buttons  # a new main menu in Kazakh
    assert (await _profile(session, client.user_id)).locale == "kk"

    sent = await client.click(shown[0], "Аудан")
    sent = await client.click(last_message(sent), "Медеу")
    assert "Медеу" in last_message(sent).text
    user = await _profile(session, client.user_id)
    medeu = (await session.execute(select(District).where(District.slug == "medeu"))).scalar_one()
    assert user.district_id == medeu.id

    # the button of the old, Russian keyboard still works after the switch
    sent = await client.send("⚙️ Настройки")
    assert "Тіл: Қазақша" in last_message(sent).text


async def test_night_notifications_toggle(client: BotClient, session: AsyncSession) -> None:
    await onboard(client, "en")
    sent = await client.send("/settings")
    sent = await client.click(last_message(sent), "Night notifications: off")
    assert "Night notifications: on" in " ".join(last_message(sent).buttons)
    assert (await _profile(session, client.user_id)).night_pushes is True


async def test_help_in_each_language(make_client: Callable[..., BotClient]) -> None:
    for n, (locale, word) in enumerate(
        [("ru", "Как работает"), ("kk", "қалай жұмыс"), ("en", "How Kezdesu works")]
    ):
        client = make_client(user_id=3100 + n, language_code=locale)
        await onboard(client, locale)
        sent = await client.send("/help")
        assert word in last_message(sent).text
        assert "eOtinish" in last_message(sent).text


async def test_forged_and_stale_callbacks_change_nothing(
    client: BotClient, session: AsyncSession
) -> None:
    await onboard(client, "en")
    before = await _profile(session, client.user_id)
    district_before, locale_before = before.district_id, before.locale
    for data in ["dist:99999:t", "lang:xx:s", "garbage", "set:nope", "dist:abc:s", "x" * 64]:
        sent = await client.press(data)
        assert alerts(sent), f"no answer for {data!r}"
        assert "out of date" in alerts(sent)[0] or "no longer exists" in alerts(sent)[0]
    after = await _profile(session, client.user_id)
    assert (after.district_id, after.locale) == (district_before, locale_before)


async def test_unknown_input_is_answered(client: BotClient) -> None:
    await onboard(client, "en")
    sent = await client.send_content("sticker")
    assert "I understand text" in last_message(sent).text
    sent = await client.send("/nosuchcommand")
    assert "/help" in last_message(sent).text


async def test_cancel_outside_a_form(client: BotClient) -> None:
    await onboard(client, "en")
    sent = await client.send("/cancel")
    assert "nothing to cancel" in last_message(sent).text


async def test_deep_link_with_unknown_payload_acts_as_start(client: BotClient) -> None:
    sent = await client.send("/start zzz_unknown")
    assert "Выберите язык" in last_message(sent).text


async def test_writing_again_makes_a_blocked_user_reachable(
    make_client: Callable[..., BotClient], session: AsyncSession
) -> None:
    client = make_client(user_id=2100)
    await onboard(client, "en")
    user = await _profile(session, client.user_id)
    user.reachable = False  # the delivery worker got a 403 earlier
    await session.commit()
    await client.send("/help")
    assert (await _profile(session, client.user_id)).reachable is True
