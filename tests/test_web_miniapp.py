"""The Telegram side of the web: the Mini App's personal actions carry Telegram's initData
(valid, tampered, expired, missing), change the same rows as the bot's buttons, and the bot
sees them; the card's "Open on the web" button with and without WEB_PUBLIC_URL, in a private
chat and in a group; the menu button."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlencode

import pytest
from aiogram.methods import SetChatMenuButton
from aiogram.types import MenuButtonDefault, MenuButtonWebApp
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import create_dispatcher
from bot.callbacks import OpenMeasureCb
from bot.commands import set_menu_button
from models.entities import District, Follow, User
from models.settings import Settings
from tests.conftest import onboard
from tests.harness import TOKEN, BotClient, RecordingSession, last_message
from tests.web_support import World, web, web_settings, world

__all__ = ["web", "web_settings", "world"]  # fixtures

PERSON = {"id": 880_001, "first_name": "Мадина", "username": "madina_app", "language_code": "kk"}


def init_data(
    token: str = TOKEN, *, user: dict[str, Any] | None = None, age: dt.timedelta = dt.timedelta()
) -> str:
    """initData signed as Telegram signs it (HMAC-SHA256 keyed by the bot's token)."""
    fields = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps(user or PERSON, ensure_ascii=False, separators=(",", ":")),
        "auth_date": str(int((dt.datetime.now(dt.UTC) - age).timestamp())),
    }
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


async def post(client: TestClient[Any, Any], path: str, body: Any, status: int = 200) -> Any:
    response = await client.post(f"/app/api/{path}", json=body)
    assert response.status == status, (path, response.status, await response.text())
    assert response.headers["Cache-Control"] == "no-store"
    return await response.json()


async def follows_of(session: AsyncSession, tg_id: int) -> int:
    query = select(func.count(Follow.id)).join(User, User.id == Follow.user_id)
    return int((await session.execute(query.where(User.tg_id == tg_id))).scalar_one())


def tampered(data: str) -> str:
    return data.replace("%D0%9C%D0%B0", "%D0%90%D0%B0", 1)  # "Ма…" → "Аа…", hash kept


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda: None, "missing"),
        (lambda: "", "missing"),
        (lambda: 42, "missing"),
        (lambda: init_data("1:OTHER-BOT"), "another bot's signature"),
        (lambda: tampered(init_data()), "tampered"),
        (lambda: init_data().replace("hash=", "hash=0"), "a broken hash"),
        (lambda: init_data(age=dt.timedelta(hours=25)), "expired"),
        (lambda: init_data(age=-dt.timedelta(hours=1)), "from the future"),
        (lambda: "user=%7B%7D&hash=abc&auth_date=x", "garbage"),
    ],
)
async def test_bad_init_data_gets_401_and_changes_nothing(
    web: TestClient[Any, Any], world: World, session: AsyncSession, make: Any, why: str
) -> None:
    assert tampered(init_data()) != init_data(), "the test really changes the data"
    for path, body in (
        ("follow", {"measure_id": world.measure_ids[0], "on": True}),
        ("district", {"district": "medeu"}),
        ("state", {}),
    ):
        answer = await post(web, path, {**body, "initData": make()}, 401)
        assert answer["ok"] is False, why
    assert await follows_of(session, PERSON["id"]) == 0
    made = await session.execute(select(User).where(User.tg_id == PERSON["id"]))
    assert made.scalar_one_or_none() is None


async def test_follow_unfollow_and_my_district_through_the_mini_app(
    web: TestClient[Any, Any], world: World, session_pool: async_sessionmaker[AsyncSession]
) -> None:
    measure_id = world.measure_ids[3]
    state = await post(web, "state", {"initData": init_data(), "measure_id": measure_id,
                                      "district": "almaly"})  # fmt: skip
    assert state == {"ok": True, "message": "", "district": None, "following_measure": False,
                     "following_district": False}  # fmt: skip
    answer = await post(web, "follow", {"initData": init_data(), "measure_id": measure_id,
                                        "on": True, "lang": "kk"})  # fmt: skip
    assert "жазылдыңыз" in answer["message"].lower() or answer["message"].startswith("🔔")
    await post(web, "follow", {"initData": init_data(), "district": "almaly", "on": True})
    answer = await post(web, "district", {"initData": init_data(), "district": "medeu",
                                          "lang": "en"})  # fmt: skip
    assert answer["district"] == "medeu" and "Medeu" in answer["message"]
    state = await post(web, "state", {"initData": init_data(), "measure_id": measure_id,
                                      "district": "almaly"})  # fmt: skip
    assert state["district"] == "medeu" and state["following_measure"]
    assert state["following_district"]
    async with session_pool() as session:
        assert await follows_of(session, PERSON["id"]) == 2
        user = (await session.execute(select(User).where(User.tg_id == PERSON["id"]))).scalar_one()
        medeu = (
            await session.execute(select(District).where(District.slug == "medeu"))
        ).scalar_one()
        assert user.district_id == medeu.id
    await post(web, "follow", {"initData": init_data(), "measure_id": measure_id, "on": False})
    await post(web, "follow", {"initData": init_data(), "measure_id": measure_id, "on": False})
    async with session_pool() as session:
        assert await follows_of(session, PERSON["id"]) == 1


async def test_bad_mini_app_requests(web: TestClient[Any, Any], world: World) -> None:
    good = init_data()
    cases = [
        ("follow", {"initData": good, "measure_id": 999_999, "on": True}, 404),
        ("follow", {"initData": good, "measure_id": "1", "on": True}, 400),
        ("follow", {"initData": good, "measure_id": 2**40, "on": True}, 400),
        ("follow", {"initData": good, "measure_id": 1}, 400),
        ("follow", {"initData": good, "on": True}, 400),
        ("follow", {"initData": good, "measure_id": 1, "district": "almaly", "on": True}, 400),
        ("follow", {"initData": good, "district": "atlantis", "on": True}, 404),
        ("district", {"initData": good, "district": "atlantis"}, 404),
        ("district", {"initData": good}, 400),
        ("district", {"initData": good, "district": ["almaly"]}, 400),
    ]
    for path, body, status in cases:
        answer = await post(web, path, body, status)
        assert answer["ok"] is False and answer["message"], (path, body)
    for raw in (b"not json", b"[1, 2]", b"\xff\xfe", b"{" * 20_000):
        response = await web.post("/app/api/follow", data=raw)
        assert response.status in {400, 413}
    assert (await web.get("/app/api/follow")).status == 405


async def test_the_bot_sees_a_mini_app_follow_at_once(
    web: TestClient[Any, Any], world: World, make_client: Any
) -> None:
    client: BotClient = make_client(user_id=PERSON["id"])
    await onboard(client, "ru")
    await post(web, "follow", {"initData": init_data(), "measure_id": world.measure_ids[0],
                               "on": True})  # fmt: skip
    sent = await client.send("/following")
    assert "Модернизация" in last_message(sent).text


# --- the bot's card button and menu button -------------------------------------------------------


def _web_buttons(markup: Any) -> list[Any]:
    return [b for row in markup.inline_keyboard for b in row if b.web_app or b.url]


@pytest.fixture
def public_dp(settings: Settings, session_pool: async_sessionmaker[AsyncSession], i18n: Any) -> Any:
    public = settings.model_copy(update={"web_public_url": "https://kezdesu.example.kz"})
    return create_dispatcher(public, session_pool, i18n, run_background=False)


async def test_card_opens_on_the_web_in_private_chats_as_a_mini_app(
    public_dp: Any, bot: Any, world: World
) -> None:
    client = BotClient(dp=public_dp, bot=bot, user_id=5501)
    await onboard(client, "kk")
    card = last_message(await client.press(OpenMeasureCb(id=world.measure_ids[0]).pack()))
    (button,) = _web_buttons(card.markup)
    assert button.web_app.url == f"https://kezdesu.example.kz/m/{world.measure_ids[0]}?lang=kk"
    assert button.text == "🌐 Сайтта ашу" and button.url is None


async def test_card_in_a_group_gets_a_plain_link(public_dp: Any, bot: Any, world: World) -> None:
    group = BotClient(dp=public_dp, bot=bot, user_id=5502, chat_id=-100_777, chat_type="supergroup")
    card = last_message(await group.press(OpenMeasureCb(id=world.measure_ids[0]).pack()))
    (button,) = _web_buttons(card.markup)
    assert button.url == f"https://kezdesu.example.kz/m/{world.measure_ids[0]}?lang=ru"
    assert button.web_app is None


async def test_card_has_no_web_button_without_a_public_url(make_client: Any, world: World) -> None:
    client = make_client(user_id=5503)
    await onboard(client, "ru")
    card = last_message(await client.press(OpenMeasureCb(id=world.measure_ids[0]).pack()))
    assert _web_buttons(card.markup) == []


async def test_menu_button_opens_the_city_overview(bot: Any, i18n: Any) -> None:
    session: RecordingSession = bot.session
    await set_menu_button(bot, i18n, "ru", "https://kezdesu.example.kz")
    await set_menu_button(bot, i18n, "ru", None)
    first, second = [r.method for r in session.requests if isinstance(r.method, SetChatMenuButton)]
    assert isinstance(first.menu_button, MenuButtonWebApp)
    assert first.menu_button.web_app.url == "https://kezdesu.example.kz/"
    assert first.menu_button.text == "Обязательства"
    assert isinstance(second.menu_button, MenuButtonDefault)


async def test_a_shared_card_links_to_its_page(public_dp: Any, bot: Any, world: World) -> None:
    """Inline mode: a plain link (no Mini App buttons in inline messages), in the reader's
    language (no ?lang)."""
    from aiogram.methods import AnswerInlineQuery

    client = BotClient(dp=public_dp, bot=bot, user_id=5504)
    await onboard(client, "ru")
    sent = await client.inline("школ")
    (answer,) = [s.method for s in sent if isinstance(s.method, AnswerInlineQuery)]
    assert answer.results
    for article in answer.results:
        rows = article.reply_markup.inline_keyboard  # type: ignore[union-attr]
        assert rows[1][0].url == f"https://kezdesu.example.kz/m/{article.id[1:]}"
        assert rows[1][0].web_app is None
