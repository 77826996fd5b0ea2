"""Following: the card's follow button and the district page's, /following with unfollow
buttons, and one queued notification per follower when a followed measure changes."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import OpenMeasureCb
from bot.i18n import CatalogI18n
from models.entities import District, Follow, Measure, MeasureStatus, Notification, User
from models.measures import record_change
from scheduler.notifications.measures import measure_changed
from tests.conftest import onboard
from tests.harness import BotClient, alerts, last_message

FOLLOWING = {"ru": "🔔 Подписки", "kk": "🔔 Жазылымдар", "en": "🔔 Following"}


async def measure_id_like(session: AsyncSession, fragment: str) -> int:
    return (
        await session.execute(select(Measure.id).where(Measure.text.like(f"%{fragment}%")))
    ).scalar_one()


async def follows_of(session: AsyncSession, tg_id: int) -> list[Follow]:
    session.expire_all()
    result = await session.execute(
        select(Follow).join(User, User.id == Follow.user_id).where(User.tg_id == tg_id)
    )
    return list(result.scalars())


async def test_follow_and_unfollow_a_measure_from_its_card_in_each_language(
    make_client: Callable[..., BotClient], session: AsyncSession, demo: int
) -> None:
    buttons = {
        "ru": ("🔔 Подписаться", "🔕 Отписаться"),
        "kk": ("🔔 Жазылу", "🔕 Жазылымнан бас тарту"),
        "en": ("🔔 Follow", "🔕 Unfollow"),
    }
    for locale, (follow, unfollow) in buttons.items():
        await _follow_and_unfollow(make_client, session, locale, follow, unfollow)


async def _follow_and_unfollow(
    make_client: Callable[..., BotClient],
    session: AsyncSession,
    locale: str,
    follow: str,
    unfollow: str,
) -> None:
    client = make_client(user_id=7100 + ("ru", "kk", "en").index(locale), language_code=locale)
    await onboard(client, locale)
    measure_id = await measure_id_like(session, "детского сада №7")
    sent = await client.press(OpenMeasureCb(id=measure_id).pack())
    card = last_message(sent)
    assert follow in card.buttons

    stale = card
    sent = await client.click(card, follow)
    assert alerts(sent)  # a short confirmation
    card = last_message(sent)
    assert unfollow in card.buttons
    rows = await follows_of(session, client.user_id)
    assert [(f.measure_id, f.district_id) for f in rows] == [(measure_id, None)]

    await client.click(stale, follow)  # a double tap on the old button is harmless
    assert len(await follows_of(session, client.user_id)) == 1

    sent = await client.click(card, unfollow)
    assert follow in last_message(sent).buttons
    assert await follows_of(session, client.user_id) == []


async def test_follow_a_district_and_list_and_unfollow_everything(
    client: BotClient, session: AsyncSession, demo: int
) -> None:
    await onboard(client, "en")
    sent = await client.send("/following")
    assert "You do not follow anything yet" in last_message(sent).text

    sent = await client.send("📋 Commitments")
    sent = await client.click(last_message(sent), "📍")
    district_page = last_message(sent)
    sent = await client.click(district_page, "Follow this district")
    assert "🔕 Unfollow this district" in last_message(sent).buttons
    almaly_id = (
        await session.execute(select(District.id).where(District.slug == "almaly"))
    ).scalar_one()
    assert [f.district_id for f in await follows_of(session, client.user_id)] == [almaly_id]

    for fragment in ("детского сада №7", "дна водохранилища «Сайран»"):
        measure_id = await measure_id_like(session, fragment)
        sent = await client.press(OpenMeasureCb(id=measure_id).pack())
        await client.click(last_message(sent), "🔔 Follow")
    assert len(await follows_of(session, client.user_id)) == 3

    sent = await client.send(FOLLOWING["en"])
    listing = last_message(sent)
    assert "District: Almaly District" in listing.text or "District: Almaly" in listing.text
    assert "сейсмоусиления детского сада №7" in listing.text
    assert "Сайран" in listing.text
    assert listing.buttons.count("🔕 Unfollow") == 3

    sent = await client.click(listing, "Получение")  # open a followed card, then come back
    sent = await client.click(last_message(sent), "Back to what I follow")
    listing = last_message(sent)
    sent = await client.click(listing, "🔕 Unfollow")  # the first one: the district
    assert "Unfollowed" in alerts(sent)[0]
    remaining = await follows_of(session, client.user_id)
    assert len(remaining) == 2
    assert all(f.district_id is None for f in remaining)
    listing = last_message(sent)
    sent = await client.click(listing, "🔕 Unfollow")
    sent = await client.click(last_message(sent), "🔕 Unfollow")
    assert "You do not follow anything yet" in last_message(sent).text
    assert await follows_of(session, client.user_id) == []

    sent = await client.press("ru:m:999999:0")  # a stale unfollow changes nothing
    assert "not following" in alerts(sent)[0]


async def test_following_menu_button_in_each_language(
    make_client: Callable[..., BotClient], demo: int
) -> None:
    empty_texts = {
        "ru": "Вы пока ни на что не подписаны",
        "kk": "Сіз әзірге ештеңеге жазылмағансыз",
        "en": "You do not follow anything yet",
    }
    for locale, empty in empty_texts.items():
        client = make_client(user_id=7200 + ("ru", "kk", "en").index(locale), language_code=locale)
        await onboard(client, locale)
        sent = await client.send(FOLLOWING[locale])
        assert empty in last_message(sent).text
        assert len(last_message(sent).buttons) == 1  # browse commitments


async def test_status_change_queues_one_notification_per_follower(
    make_client: Callable[..., BotClient],
    session: AsyncSession,
    i18n: CatalogI18n,
    demo: int,
) -> None:
    measure_id = await measure_id_like(session, "детского сада №7")
    other_id = await measure_id_like(session, "дна водохранилища «Сайран»")
    followers = []
    for n, locale in enumerate(("ru", "kk", "en")):
        client = make_client(user_id=7300 + n, language_code=locale)
        await onboard(client, locale)
        followers.append(client)
    bystander = make_client(user_id=7399, language_code="ru")
    await onboard(bystander, "ru")
    for client in followers[:2]:
        sent = await client.press(OpenMeasureCb(id=measure_id).pack())
        await client.click(last_message(sent), "🔔")
    sent = await followers[2].press(OpenMeasureCb(id=other_id).pack())
    await followers[2].click(last_message(sent), "🔔")

    session.expire_all()
    measure = await session.get(Measure, measure_id)
    assert measure is not None
    update = await record_change(
        session, measure, author_id=None, department_id=None,
        status=MeasureStatus.IN_PROGRESS, comment="Начали работы",
    )  # fmt: skip
    queued = await measure_changed(session, i18n, measure, update)
    await session.commit()
    assert queued == 2

    rows = list((await session.execute(select(Notification))).scalars())
    assert sorted(r.chat_id for r in rows) == [7300, 7301]
    by_chat = {r.chat_id: r for r in rows}
    assert "Новости по обязательству" in by_chat[7300].text
    assert "Начали работы" in by_chat[7301].text
    assert f"om:{measure_id}" in (by_chat[7300].reply_markup or "")

    # the same update queued again (a retry) adds nothing
    assert await measure_changed(session, i18n, measure, update) == 0
    await session.commit()
    assert len(list((await session.execute(select(Notification))).scalars())) == 2
